import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_utils";

/** Start of an appointment three days ahead at 10:00, as typed in en_US. */
function appointmentStart() {
    const day = new Date();
    day.setDate(day.getDate() + 3);
    const month = String(day.getMonth() + 1).padStart(2, "0");
    const date = String(day.getDate()).padStart(2, "0");
    return `${month}/${date}/${day.getFullYear()} 10:00:00`;
}

function openSmsApp() {
    return [
        stepUtils.showAppsMenuItem(),
        {
            content: "Open the SMS app",
            trigger: '.o_app[data-menu-xmlid="clinic_sms_reminders.menu_clinic_sms_root"]',
            run: "click",
        },
        {
            content: "The SMS app opens on its dashboard",
            trigger: ".o_form_view .o_field_widget.o_clinic_sms_balance",
        },
    ];
}

/** Steps that open a menu of the SMS app's top bar, or an entry of one of its dropdowns. */
function openMenu(xmlid, content, parent = null) {
    if (!parent) {
        return [
            {
                content,
                trigger: `.o_menu_sections [data-menu-xmlid="clinic_sms_reminders.${xmlid}"]`,
                run: "click",
            },
        ];
    }
    return [
        {
            content: `${content}: open its menu`,
            trigger: `.o_menu_sections [data-menu-xmlid="clinic_sms_reminders.${parent}"]`,
            run: "click",
        },
        {
            content,
            trigger: `.dropdown-item[data-menu-xmlid="clinic_sms_reminders.${xmlid}"]`,
            run: "click",
        },
    ];
}

function pickMany2one(fieldName, text, root = "") {
    return [
        {
            content: `Type ${text} in ${fieldName}`,
            trigger: `${root} .o_field_widget[name='${fieldName}'] input`,
            run: `edit ${text}`,
        },
        {
            content: `Pick ${text}`,
            trigger: `.o-autocomplete--dropdown-menu .o-autocomplete--dropdown-item a:contains(${text})`,
            run: "click",
        },
    ];
}

// R-2.x: a receptionist books an appointment and sees the confirmation SMS.
registry.category("web_tour.tours").add("clinic_sms_book_appointment_tour", {
    url: "/odoo",
    steps: () => [
        ...openSmsApp(),
        ...openMenu("menu_clinic_sms_appointments", "Open the appointments", "menu_clinic_sms_appointments_root"),
        {
            content: "Create an appointment",
            trigger: ".o_list_view .o_list_button_add",
            run: "click",
        },
        {
            content: "Name the appointment",
            trigger: ".o_form_view .o_field_widget[name='name'] input",
            run: "edit Tour check-up",
        },
        {
            content: "Open the start date",
            trigger: ".o_form_view .o_field_widget[name='start'] button[data-field='start']",
            run: "click",
        },
        {
            content: "Set its start",
            trigger: ".o_form_view .o_field_widget[name='start'] input[data-field='start']",
            run: `edit ${appointmentStart()}`,
        },
        ...pickMany2one("clinic_patient_id", "Tour Patient", ".o_form_view"),
        {
            content: "Save the appointment",
            trigger: ".o_form_view .o_form_button_save",
            run: "click",
        },
        {
            content: "Saved",
            trigger: ".o_form_view .o_form_saved",
        },
        {
            content: "Open the SMS tab",
            trigger: ".o_notebook .nav-link[name='clinic_sms']",
            run: "click",
        },
        {
            content: "The confirmation is queued",
            trigger:
                ".o_field_widget[name='clinic_sms_message_ids'] .o_data_row:contains(Confirmation):contains(Queued)",
        },
    ],
});

/**
 * Texts the template tour types and the counter it must read for each, as
 * the server counts them: tests/test_template.py::test_counter_values_of_the_tour
 * asserts the same numbers from clinic.sms.template._compute_counter.
 */
const TOUR_TEXTS = {
    short: { text: "Hello , see you soon", left: 140, parts: 1, encoding: "GSM-7" },
    unicode: {
        text: "Bonne fête ! Bonne fête ! Bonne fête ! Bonne fête ! Bonne fête ! Bonne fête !",
        left: 57,
        parts: 2,
        encoding: "Unicode (UCS-2)",
    },
    element: {
        text: "Hello {patient_first_name}, see you soon",
        left: 30,
        parts: 1,
        encoding: "Unicode (UCS-2)",
    },
};

const BODY = ".o_form_view .o_field_widget[name='body'] textarea";

/** Fails unless the text still has the focus: the counter followed the typing, not a blur. */
function stillTyping() {
    const textarea = document.querySelector(BODY);
    if (document.activeElement !== textarea) {
        throw new Error("The text lost the focus: the counter must follow the typing");
    }
}

function counterShows({ left, parts, encoding }, content) {
    return [
        {
            content: `${content}: ${left} characters left`,
            trigger: `.o_form_view .o_field_widget[name='worst_chars_left']:text(${left})`,
            run: stillTyping,
        },
        {
            content: `${content}: ${parts} part(s)`,
            trigger: `.o_form_view .o_field_widget[name='worst_parts']:text(${parts})`,
        },
        {
            content: `${content}: ${encoding}`,
            trigger: `.o_form_view .o_field_widget[name='worst_encoding']:contains(${encoding})`,
        },
    ];
}

// the counter follows the typing, elements go in at the cursor and the
// preview renders the text being edited.
registry.category("web_tour.tours").add("clinic_sms_template_preview_tour", {
    url: "/odoo",
    steps: () => [
        ...openSmsApp(),
        ...openMenu("menu_clinic_sms_templates", "Open the templates"),
        {
            content: "Open the tour template",
            trigger: ".o_list_view .o_data_row td:contains(Tour Template)",
            run: "click",
        },
        {
            content: "155 characters left for 'Hello'",
            trigger: ".o_form_view .o_field_widget[name='worst_chars_left']:contains(155)",
        },
        {
            content: "Type a short text (the text keeps the focus)",
            trigger: BODY,
            run: `edit ${TOUR_TEXTS.short.text}`,
        },
        ...counterShows(TOUR_TEXTS.short, "While typing a short text"),
        {
            content: "No warning for a text that fits",
            trigger: ".o_form_view:not(:has(.o_clinic_sms_too_long))",
        },
        {
            content: "Type a text in Unicode that needs two parts",
            trigger: BODY,
            run: `edit ${TOUR_TEXTS.unicode.text}`,
        },
        ...counterShows(TOUR_TEXTS.unicode, "While typing a long Unicode text"),
        {
            content: "The warning says it is too long, while typing",
            trigger: ".o_form_view .o_clinic_sms_too_long",
            run: stillTyping,
        },
        {
            content: "Type the short text again",
            trigger: BODY,
            run: `edit ${TOUR_TEXTS.short.text}`,
        },
        ...counterShows(TOUR_TEXTS.short, "Back to the short text"),
        {
            content: "The warning is gone",
            trigger: ".o_form_view:not(:has(.o_clinic_sms_too_long))",
        },
        {
            content: "Put the cursor after 'Hello '",
            trigger: BODY,
            run() {
                this.anchor.focus();
                this.anchor.setSelectionRange(6, 6);
            },
        },
        {
            content: "Insert the patient's first name",
            trigger: ".o_form_view select.o_clinic_sms_elements",
            run: "select patient_first_name",
        },
        {
            content: "The element is inserted at the cursor, not appended",
            trigger: `${BODY}:value(${TOUR_TEXTS.element.text})`,
        },
        {
            content: "The counter counts the element at its longest",
            trigger: `.o_form_view .o_field_widget[name='worst_chars_left']:text(${TOUR_TEXTS.element.left})`,
        },
        {
            content: "The counter says which encoding",
            trigger: `.o_form_view .o_field_widget[name='worst_encoding']:contains(${TOUR_TEXTS.element.encoding})`,
        },
        ...pickMany2one("preview_event_id", "Tour preview visit", ".o_form_view"),
        {
            content: "The preview shows the text being edited, for the patient",
            trigger:
                ".o_form_view .o_field_widget[name='preview_body']:contains(Hello Tour, see you soon)",
        },
        {
            content: "Leave the template unchanged",
            trigger: ".o_form_view .o_form_button_cancel",
            run: "click",
        },
        {
            content: "Back to the saved text",
            trigger: ".o_form_view .o_field_widget[name='worst_chars_left']:contains(155)",
        },
        {
            content: "The saved text is shown again",
            trigger: `${BODY}:value(Hello):not(:value(see you))`,
        },
    ],
});

// the Send SMS wizard shows who is excluded and why before sending.
registry.category("web_tour.tours").add("clinic_sms_send_wizard_tour", {
    url: "/odoo",
    steps: () => [
        ...openSmsApp(),
        ...openMenu("menu_clinic_sms_send", "Open Send SMS"),
        ...pickMany2one("template_id", "Tour Template", ".modal"),
        ...pickMany2one("partner_ids", "Tour Patient", ".modal"),
        {
            content: "The first patient is a recipient",
            trigger: ".modal .o_field_widget[name='partner_ids'] .o_tag:contains(Tour Patient)",
        },
        ...pickMany2one("partner_ids", "Tour No Mobile", ".modal"),
        {
            content: "Review",
            trigger: ".modal .modal-footer button[name='action_review']",
            run: "click",
        },
        {
            content: "The patient with a mobile will receive it",
            trigger:
                ".modal .o_field_widget[name='line_ids'] .o_data_row:contains(Tour Patient):not(:contains(No mobile number))",
        },
        {
            content: "The patient without mobile is excluded with the reason",
            trigger:
                ".modal .o_field_widget[name='line_ids'] .o_data_row:contains(Tour No Mobile):contains(No mobile number)",
        },
        {
            content: "Send is offered",
            trigger: ".modal .modal-footer button[name='action_send']",
        },
    ],
});

// : a manager replenishes the wallet from the dashboard.
registry.category("web_tour.tours").add("clinic_sms_replenish_tour", {
    url: "/odoo",
    steps: () => [
        ...openSmsApp(),
        {
            content: "The balance before",
            trigger: ".o_field_widget.o_clinic_sms_balance:contains(100)",
        },
        {
            content: "Replenish",
            trigger: ".o_form_view .o_form_statusbar button[name='action_replenish']",
            run: "click",
        },
        {
            content: "Units to add",
            trigger: ".modal .o_field_widget[name='units'] input",
            run: "edit 250",
        },
        {
            content: "Confirm",
            trigger: ".modal .modal-footer button[name='action_replenish']",
            run: "click",
        },
        {
            content: "The balance went up",
            trigger: "body:not(:has(.modal)) .o_field_widget.o_clinic_sms_balance:contains(350)",
        },
        ...openMenu("menu_clinic_sms_wallet_topups", "Open the top-ups", "menu_clinic_sms_reports"),
        {
            content: "The top-up is listed with its units",
            trigger: ".o_list_view .o_data_row td[name='units']:text(250)",
        },
        {
            content: "Only top-ups are listed: no debit of messages",
            trigger: ".o_list_view:not(:has(.o_data_row td[name='units']:contains(-)))",
        },
    ],
});

/** The date of appointmentStart() as en_US writes it in a display name. */
function appointmentDate() {
    return appointmentStart().split(" ")[0];
}

// a receptionist schedules a reminder, stops it after a confirmation
// and resumes it.
registry.category("web_tour.tours").add("clinic_sms_schedule_stop_resume_tour", {
    url: "/odoo",
    steps: () => [
        ...openSmsApp(),
        ...openMenu("menu_clinic_sms_schedules", "Open the scheduled reminders", "menu_clinic_sms_campaigns"),
        {
            content: "Schedule a reminder",
            trigger: ".o_list_view .o_list_button_add",
            run: "click",
        },
        {
            content: "No Stop on a reminder that is not saved",
            trigger: ".o_form_view .o_form_statusbar:not(:has(button[name='action_stop']))",
        },
        ...pickMany2one("partner_id", "Tour Patient", ".o_form_view"),
        {
            content: "Write the text",
            trigger: ".o_form_view .o_field_widget[name='custom_text'] input",
            run: "edit Your glasses are ready.",
        },
        {
            content: "Set the date and time",
            trigger: ".o_form_view .o_field_widget[name='date_time'] input",
            run: `edit ${appointmentStart()}`,
        },
        {
            content: "Save the reminder",
            trigger: ".o_form_view .o_form_button_save",
            run: "click",
        },
        {
            content: "Named after the client and the local date",
            trigger: `.o_form_view .oe_title:contains(Tour Patient - ${appointmentDate()})`,
        },
        {
            content: "Stop it",
            trigger: ".o_form_view .o_form_statusbar button[name='action_stop']",
            run: "click",
        },
        {
            content: "Stopping asks for a confirmation",
            trigger: ".modal .modal-body:contains(Stop this scheduled reminder?)",
        },
        {
            content: "Confirm",
            trigger: ".modal .modal-footer .btn-primary",
            run: "click",
        },
        {
            content: "Stopped: the way back is offered",
            trigger: "body:not(:has(.modal)) .o_form_view .o_form_statusbar button[name='action_resume']",
        },
        {
            content: "Resume it",
            trigger: ".o_form_view .o_form_statusbar button[name='action_resume']",
            run: "click",
        },
        {
            content: "Pending again: Stop is back",
            trigger: ".o_form_view .o_form_statusbar button[name='action_stop']",
        },
    ],
});
