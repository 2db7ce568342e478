import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_utils";

// R-10.1 R-10.2 R-9.3: the dashboard opens without a pager and leads to the
// charts; the reports and the waitlist are in the SMS menu.
registry.category("web_tour.tours").add("clinic_sms_insight_tour", {
    url: "/odoo",
    steps: () => [
        stepUtils.showAppsMenuItem(),
        {
            content: "Open the SMS app",
            trigger: '.o_app[data-menu-xmlid="clinic_sms_reminders.menu_clinic_sms_root"]',
            run: "click",
        },
        {
            content: "The dashboard shows the 7-day forecast",
            trigger: ".o_form_view .o_field_widget.o_clinic_sms_forecast_count",
        },
        {
            content: "The days of credit left (nothing spent yet)",
            trigger: ".o_form_view .o_clinic_sms_no_spend",
        },
        {
            content: "The dashboard has no pager",
            trigger: ".o_control_panel:not(:has(.o_pager))",
        },
        {
            content: "Open the messages chart",
            trigger: ".o_form_view button[name='action_open_chart']:contains(Messages per Day)",
            run: "click",
        },
        {
            content: "A graph of the messages",
            trigger: ".o_graph_view .o_graph_renderer",
        },
        {
            content: "Open the reports menu",
            trigger: '.o_menu_sections [data-menu-xmlid="clinic_sms_reminders.menu_clinic_sms_reports"]',
            run: "click",
        },
        {
            content: "Open the attendance report",
            trigger: '.dropdown-item[data-menu-xmlid="clinic_sms_reminders.menu_clinic_sms_report_attendance"]',
            run: "click",
        },
        {
            content: "A pivot table of the attendance",
            trigger: ".o_pivot_view .o_pivot",
        },
        {
            content: "Open the appointments menu",
            trigger: '.o_menu_sections [data-menu-xmlid="clinic_sms_reminders.menu_clinic_sms_appointments_root"]',
            run: "click",
        },
        {
            content: "Open the waitlist",
            trigger: '.dropdown-item[data-menu-xmlid="clinic_sms_reminders.menu_clinic_sms_waitlist"]',
            run: "click",
        },
        {
            content: "The waiting patient is listed",
            trigger: ".o_list_view .o_data_row:contains(Amélie Roux)",
        },
    ],
});
