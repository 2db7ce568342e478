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

// elements, the characters-left counter and the preview of a template.
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
            content: "Open the elements",
            trigger: ".o_form_view .o_field_widget[name='insert_placeholder'] .o_select_menu_toggler",
            run: "click",
        },
        {
            content: "Insert the patient name",
            trigger: ".o_select_menu_menu .o_select_menu_item:contains(Patient name)",
            run: "click",
        },
        {
            content: "The element is appended to the text",
            trigger: ".o_form_view .o_field_widget[name='body'] textarea:value(Hello {patient_name})",
        },
        {
            content: "The counter goes down",
            trigger: ".o_form_view .o_field_widget[name='worst_chars_left']:not(:contains(155))",
        },
        ...pickMany2one("preview_event_id", "Tour preview visit", ".o_form_view"),
        {
            content: "The preview shows the patient's name",
            trigger:
                ".o_form_view .o_field_widget[name='preview_body']:contains(Hello Tour Patient)",
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
    ],
});
