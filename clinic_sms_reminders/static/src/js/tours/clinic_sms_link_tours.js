import { registry } from "@web/core/registry";

// on a phone, the patient opens their personal link, confirms the
// appointment, then cancels it (before the clinic's cut-off).
registry.category("web_tour.tours").add("clinic_sms_link_tour", {
    steps: () => [
        {
            content: "The page shows the appointment's date and time",
            trigger: ".o_clinic_link .o_clinic_link_when .o_clinic_link_time",
        },
        {
            content: "The practitioner",
            trigger: ".o_clinic_link_practitioner:contains(Dr Hugo Lefèvre)",
        },
        {
            content: "The page fits the phone's width (no sideways scrolling)",
            trigger: ".o_clinic_link button.o_clinic_link_confirm",
            run() {
                const root = document.documentElement;
                if (window.innerWidth > 420) {
                    throw new Error(`not a phone viewport: ${window.innerWidth}px`);
                }
                if (root.scrollWidth > window.innerWidth) {
                    throw new Error(
                        `page ${root.scrollWidth}px wide on a ${window.innerWidth}px screen`
                    );
                }
            },
        },
        {
            content: "Confirm the appointment",
            trigger: "button.o_clinic_link_confirm",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The appointment is confirmed",
            trigger: ".o_clinic_link_notice.alert-success",
        },
        {
            content: "Confirming again is not offered",
            trigger: ".o_clinic_link:not(:has(button.o_clinic_link_confirm))",
        },
        {
            content: "Cancel the appointment",
            trigger: "button.o_clinic_link_cancel",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The appointment is cancelled, nothing more to do",
            trigger: ".o_clinic_link_notice.alert-warning",
        },
        {
            content: "No button left",
            trigger: ".o_clinic_link:not(:has(button))",
        },
    ],
});
