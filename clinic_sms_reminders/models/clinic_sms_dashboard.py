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
NEXT_MESSAGES_LIMIT = 10
# the pace of spending is the average over this many days, the
# forecast covers the next FORECAST_DAYS days, opt-outs the last PACE_DAYS.
PACE_DAYS = 30
FORECAST_DAYS = 7


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
