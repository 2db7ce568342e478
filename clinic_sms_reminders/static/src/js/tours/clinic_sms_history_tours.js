import { registry } from "@web/core/registry";

const ROWS = ".o_list_view .o_data_row";

// : an SMS manager finds a patient's messages in the History, the
// sent one first, and sends the failed one again from the list.
registry.category("web_tour.tours").add("clinic_sms_history_resend_tour", {
    steps: () => [
        {
            content: "Search the patient's messages",
            trigger: ".o_searchview_input",
            run: "edit History Tour Patient",
        },
        {
            content: "Search them by recipient",
            trigger: ".o_searchview_autocomplete .o-dropdown-item:contains(Recipient)",
            run: "click",
        },
        {
            content: "Filtered on the patient",
            trigger: ".o_searchview_facet:contains(History Tour Patient)",
        },
        {
            content: "The sent message first, though the failed one was planned later",
            trigger: `${ROWS}:first-child:contains(Delivered):contains(Your test results are ready)`,
        },
        {
            content: "Then the failed one, with its reason",
            trigger: `${ROWS}:nth-child(2):contains(Failed):contains(Rejected by the provider)`,
        },
        {
            content: "No technical key in the list",
            trigger: ".o_list_view:not(:has(th[data-name='idempotency_key'], th[data-name='reference']))",
        },
        {
            content: "Select the failed message",
            trigger: `${ROWS}:contains(Failed) .o_list_record_selector input`,
            run: "click",
        },
        {
            content: "Resend it from the list",
            trigger: ".o_selection_container button[name='action_resend_selected']",
            run: "click",
        },
        {
            content: "Resending asks first",
            trigger: ".modal .modal-body:contains(Send the selected messages again?)",
        },
        {
            content: "Confirm",
            trigger: ".modal .modal-footer .btn-primary",
            run: "click",
        },
        {
            content: "The manager is told it is queued",
            trigger: ".o_notification:contains(1 message(s) queued to be sent again)",
        },
        {
            content: "The list shows the new message, queued",
            trigger: `${ROWS}:contains(Queued):contains(Your results could not be sent)`,
        },
    ],
});
