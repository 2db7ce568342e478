from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from markupsafe import Markup

from odoo import api, fields, models

from ..tools import segments

# Dashboard counters: field name -> message states it counts.
STATE_COUNTERS = {
    "today_sent_count": ("sent", "delivered"),
    "today_failed_count": ("failed",),
    "today_skipped_count": ("skipped", "cancelled"),
    "today_queued_count": ("queued", "sending"),
}
# History search filters (views/clinic_sms_message_views.xml) the buttons open.
HISTORY_FILTERS = ("queued", "sent", "failed", "skipped")
NEXT_MESSAGES_LIMIT = 10
# the pace of spending is the average over this many days, the
# forecast covers the next FORECAST_DAYS days, opt-outs the last PACE_DAYS.
PACE_DAYS = 30
FORECAST_DAYS = 7
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
    """SMS dashboard of the current clinic (R-8.1): balance, today's messages
    per state and kind, and the next planned messages. Everything is computed
    on the server when the dashboard is opened or reloaded."""

    _name = "clinic.sms.dashboard"
    _description = "SMS Dashboard"
    _rec_name = "company_id"

    company_id = fields.Many2one(
        "res.company",
        string="Clinic",
        required=True,
        readonly=True,
        default=lambda self: self.env.company,
    )
    wallet_id = fields.Many2one("clinic.sms.wallet", compute="_compute_wallet")
    balance = fields.Integer(compute="_compute_wallet")
    low_balance_threshold = fields.Integer(
        compute="_compute_wallet", string="Alert Threshold"
    )
    is_low = fields.Boolean(compute="_compute_wallet", string="Low Balance")
    today_sent_count = fields.Integer(compute="_compute_today", string="Sent")
    today_failed_count = fields.Integer(compute="_compute_today", string="Failed")
    today_skipped_count = fields.Integer(
        compute="_compute_today", string="Skipped or Cancelled"
    )
    today_queued_count = fields.Integer(compute="_compute_today", string="Queued")
    today_total_count = fields.Integer(compute="_compute_today", string="Total")
    today_kind_summary = fields.Html(
        compute="_compute_today", string="Today per Kind", sanitize=False
    )
    units_spent_30d = fields.Integer(
        compute="_compute_pace", string="Units Spent (30 days)"
    )
    daily_spend = fields.Float(
        compute="_compute_pace", string="Units per Day", digits=(16, 1)
    )
    credit_days_left = fields.Integer(
        compute="_compute_pace",
        string="Days of Credit Left",
        help="Balance divided by the average units spent per day over the last "
        "30 days.",
    )
    credit_no_spend = fields.Boolean(
        compute="_compute_pace",
        string="No Spend",
        help="Nothing was spent in the last 30 days: the credit lasts at this pace.",
    )
    forecast_message_count = fields.Integer(
        compute="_compute_forecast", string="Planned Messages (7 days)"
    )
    forecast_units = fields.Integer(
        compute="_compute_forecast",
        string="Planned Units (7 days)",
        help="Estimated from each message's text, else from its template.",
    )
    optout_count = fields.Integer(
        compute="_compute_optouts",
        string="Opt-outs (30 days)",
        help="Patients who withdrew a consent or replied STOP in the last 30 days.",
    )
    next_message_ids = fields.Many2many(
        "clinic.sms.message",
        compute="_compute_next_messages",
        string="Next Planned Messages",
    )

    @api.depends("company_id")
    def _compute_wallet(self):
        for dashboard in self:
            wallet = dashboard.company_id.clinic_sms_wallet_id
            dashboard.wallet_id = wallet
            dashboard.balance = wallet.balance
            dashboard.low_balance_threshold = (
                dashboard.company_id.clinic_sms_low_balance_threshold
            )
            dashboard.is_low = (
                dashboard.balance
                < dashboard.company_id.clinic_sms_low_balance_threshold
            )

    def _today_bounds(self):
        """Start and end of the user's today, as naive UTC datetimes."""
        tz = ZoneInfo(self.env.user.tz or self.company_id.clinic_sms_tz or "UTC")
        today = fields.Datetime.now().replace(tzinfo=ZoneInfo("UTC")).astimezone(tz)
        start = datetime.combine(today.date(), time.min, tzinfo=tz)
        end = start + timedelta(days=1)
        return (
            start.astimezone(ZoneInfo("UTC")).replace(tzinfo=None),
            end.astimezone(ZoneInfo("UTC")).replace(tzinfo=None),
        )

    def _today_domain(self):
        start, end = self._today_bounds()
        return [
            ("company_id", "=", self.company_id.id),
            ("scheduled_at", ">=", start),
            ("scheduled_at", "<", end),
        ]

    @api.depends("company_id")
    def _compute_today(self):
        Message = self.env["clinic.sms.message"]
        kind_labels = dict(Message._fields["kind"]._description_selection(self.env))
        for dashboard in self:
            groups = Message._read_group(
                dashboard._today_domain(), ["kind", "state"], ["__count"]
            )
            per_state, per_kind = {}, {}
            for kind, state, count in groups:
                per_state[state] = per_state.get(state, 0) + count
                per_kind[kind] = per_kind.get(kind, 0) + count
            for fname, states in STATE_COUNTERS.items():
                dashboard[fname] = sum(per_state.get(state, 0) for state in states)
            dashboard.today_total_count = sum(per_state.values())
            rows = Markup("").join(
                Markup("<tr><td>%s</td><td class='text-end'>%s</td></tr>")
                % (kind_labels.get(kind, kind), count)
                for kind, count in sorted(per_kind.items(), key=lambda kv: -kv[1])
            )
            dashboard.today_kind_summary = (
                Markup(
                    "<table class='table table-sm o_clinic_sms_kinds'><tbody>%s"
                    "</tbody></table>"
                )
                % rows
                if rows
                else Markup("<p class='text-muted'>%s</p>")
                % self.env._("No message today.")
            )

    @api.depends("company_id")
    def _compute_pace(self):
        since = fields.Datetime.now() - timedelta(days=PACE_DAYS)
        spent = dict(
            self.env["clinic.sms.wallet.move"]._read_group(
                [
                    ("company_id", "in", self.company_id.ids),
                    ("date", ">=", since),
                    ("move_type", "in", ("debit", "refund")),
                ],
                ["company_id"],
                ["units_spent:sum"],
            )
        )
        for dashboard in self:
            units = max(spent.get(dashboard.company_id, 0), 0)
            dashboard.units_spent_30d = units
            dashboard.daily_spend = units / PACE_DAYS
            dashboard.credit_no_spend = not units
            dashboard.credit_days_left = (
                int(
                    dashboard.company_id.clinic_sms_wallet_id.balance
                    * PACE_DAYS
                    / units
                )
                if units
                else 0
            )

    @api.depends("company_id")
    def _compute_forecast(self):
        Message = self.env["clinic.sms.message"]
        until = fields.Datetime.now() + timedelta(days=FORECAST_DAYS)
        for dashboard in self:
            company = dashboard.company_id
            queued = Message.search(
                [
                    ("company_id", "=", company.id),
                    ("state", "=", "queued"),
                    ("scheduled_at", "<", until),
                    ("channel", "=", "sms"),
                ]
            )
            dashboard.forecast_message_count = len(queued)
            dashboard.forecast_units = dashboard._estimate_units(queued)

    def _estimate_units(self, messages):
        """Units ``messages`` will cost: their text when rendered, else their
        template's worst case (one unit without either)."""
        company = self.company_id
        smart = company.clinic_sms_smart_encoding
        per_template = {}
        total = 0
        for message in messages:
            if message.body:
                total += segments.count(message.body, smart=smart).parts
            elif message.template_id:
                template = message.template_id
                if template not in per_template:
                    per_template[template] = max(
                        template.with_company(company).worst_parts, 1
                    )
                total += per_template[template]
            else:
                total += 1
        return total

    @api.depends("company_id")
    def _compute_optouts(self):
        since = fields.Datetime.now() - timedelta(days=PACE_DAYS)
        counts = dict(
            self.env["clinic.sms.consent.log"]._read_group(
                [
                    ("company_id", "in", self.company_id.ids),
                    ("granted", "=", False),
                    ("date", ">=", since),
                ],
                ["company_id"],
                ["partner_id:count_distinct"],
            )
        )
        for dashboard in self:
            dashboard.optout_count = counts.get(dashboard.company_id, 0)

    @api.depends("company_id")
    def _compute_next_messages(self):
        Message = self.env["clinic.sms.message"]
        for dashboard in self:
            dashboard.next_message_ids = Message.search(
                [
                    ("company_id", "=", dashboard.company_id.id),
                    ("state", "=", "queued"),
                ],
                order="scheduled_at, id",
                limit=NEXT_MESSAGES_LIMIT,
            )

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
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
