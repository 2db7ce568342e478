"""Buttons of the SMS dashboard (R-8.1, R-10.1, R-10.2): open it, replenish
the wallet, and open the history, charts, forecast and opt-outs of the
clinic."""

from datetime import timedelta

from odoo import api, fields, models

from .clinic_sms_dashboard import FORECAST_DAYS, PACE_DAYS

# History search filters (views/clinic_sms_message_views.xml) the buttons open.
HISTORY_FILTERS = ("queued", "sent", "failed", "skipped")
# Charts the dashboard opens: button context ``chart`` -> (action xml id,
# context of the action).
CHARTS = {
    "messages": (
        "clinic_sms_reminders.clinic_sms_report_message_action",
        {
            "graph_groupbys": ["date:day", "kind"],
            "pivot_row_groupby": ["kind"],
            "search_default_last_30_days": 1,
        },
    ),
    "providers": (
        "clinic_sms_reminders.clinic_sms_report_message_action",
        {
            "graph_groupbys": ["provider_id"],
            "graph_measure": "delivered_rate",
            "pivot_row_groupby": ["provider_id"],
            "pivot_measures": ["message_count", "delivered_rate", "failure_rate"],
            "search_default_attempted": 1,
            "search_default_last_30_days": 1,
        },
    ),
    "spend": (
        "clinic_sms_reminders.clinic_sms_wallet_move_pie_action",
        {"search_default_spend": 1},
    ),
    "attendance": ("clinic_sms_reminders.clinic_sms_report_attendance_action", {}),
    "recall": ("clinic_sms_reminders.clinic_sms_report_recall_action", {}),
}


class ClinicSmsDashboard(models.TransientModel):
    _inherit = "clinic.sms.dashboard"

    @api.model
    def action_open_dashboard(self):
        """Menu entry: the dashboard of the current clinic, computed when it
        opens; it is not a saved record, so there is no pager."""
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("SMS Dashboard"),
            "res_model": self._name,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "current",
            "context": {"default_company_id": self.env.company.id},
        }

    def action_replenish(self):
        """Open the replenish wizard of the clinic's wallet (managers, R-6.2)."""
        self.ensure_one()
        wallet = (
            self.env["clinic.sms.wallet"]
            .sudo()
            ._ensure_for_companies(self.company_id)[self.company_id.id]
        )
        return self.env["clinic.sms.wallet"].browse(wallet.id).action_replenish()

    def action_open_history(self):
        """The SMS history, filtered on today and on the state in the button's
        context (``history_filter``: queued, sent, failed or skipped)."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "clinic_sms_reminders.clinic_sms_message_action"
        )
        history_filter = self.env.context.get("history_filter")
        context = {"search_default_today": 1}
        if history_filter in HISTORY_FILTERS:
            context[f"search_default_{history_filter}"] = 1
        if history_filter == "queued":
            # planned messages: not only today's
            context.pop("search_default_today")
        action["context"] = context
        action["domain"] = [("company_id", "=", self.company_id.id)]
        return action

    def action_open_chart(self):
        """A chart of the clinic (R-10.1, R-10.2): the button's context
        ``chart`` names it (messages, providers, spend, attendance, recall)."""
        self.ensure_one()
        xmlid, context = CHARTS.get(self.env.context.get("chart"), CHARTS["messages"])
        action = self.env["ir.actions.act_window"]._for_xml_id(xmlid)
        action["context"] = dict(context)
        action["domain"] = [("company_id", "=", self.company_id.id)]
        return action

    def action_open_forecast(self):
        """The planned messages of the next 7 days, per day and kind."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "clinic_sms_reminders.clinic_sms_report_message_action"
        )
        until = fields.Datetime.now() + timedelta(days=FORECAST_DAYS)
        action["name"] = self.env._("Next 7 Days")
        action["domain"] = [
            ("company_id", "=", self.company_id.id),
            ("state", "=", "queued"),
            ("date", "<", fields.Datetime.to_string(until)),
        ]
        action["context"] = {
            "graph_measure": "planned_units",
            "graph_groupbys": ["date:day", "kind"],
            "pivot_measures": ["message_count", "planned_units"],
        }
        return action

    def action_open_optouts(self):
        """Consent withdrawals and STOP replies of the last 30 days."""
        self.ensure_one()
        since = fields.Datetime.now() - timedelta(days=PACE_DAYS)
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Opt-outs"),
            "res_model": "clinic.sms.consent.log",
            "view_mode": "graph,list",
            "views": [(False, "graph"), (False, "list")],
            "domain": [
                ("company_id", "=", self.company_id.id),
                ("granted", "=", False),
                ("date", ">=", fields.Datetime.to_string(since)),
            ],
            "context": {"graph_groupbys": ["date:day", "purpose"]},
        }
