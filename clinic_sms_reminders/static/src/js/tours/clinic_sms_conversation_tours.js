import { registry } from "@web/core/registry";

// the reception sees the unread reply in the systray, opens the
// inbox and the patient's thread, types an answer and sends it.
registry.category("web_tour.tours").add("clinic_sms_conversation_tour", {
    url: "/odoo",
    steps: () => [
        {
            content: "The systray counts one conversation with an unread reply",
            trigger: ".o_clinic_sms_conversation_systray .o_clinic_sms_conversation_counter:contains(1)",
        },
        {
            content: "Open the conversations inbox from the systray",
            trigger: ".o_clinic_sms_conversation_systray button",
            run: "click",
        },
        {
            content: "Open the patient's thread (unread, in bold)",
            trigger: ".o_list_view .o_data_row.fw-bold td[name='partner_id']:contains(Lucie Bernard)",
            run: "click",
        },
        {
            content: "The thread shows the patient's reply",
            trigger: ".o_form_view .o_clinic_sms_conversation_thread:contains(Can I come at 11 instead?)",
        },
        {
            content: "Type the answer",
            trigger: ".o_form_view .o_field_widget[name='reply_text'] textarea",
            run: "edit Yes, 11:00 is fine. See you tomorrow.",
        },
        {
            content: "Leave the answer box: the counter shows what it costs",
            trigger: ".o_form_view .o_field_widget[name='phone']",
            run: "click",
        },
        {
            content: "One unit for the answer",
            trigger: ".o_form_view .o_field_widget[name='reply_parts']:contains(1)",
        },
        {
            content: "Send the answer",
            trigger: ".o_form_view button[name='action_send_reply']",
            run: "click",
        },
        {
            content: "The answer is in the thread, the box is empty",
            trigger: ".o_form_view .o_clinic_sms_conversation_thread:contains(11:00 is fine)",
        },
        {
            content: "Nothing unread any more",
            trigger: ".o_clinic_sms_conversation_systray:not(:has(.o_clinic_sms_conversation_counter))",
        },
    ],
});
