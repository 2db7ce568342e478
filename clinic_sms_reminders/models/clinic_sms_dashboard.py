from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from markupsafe import Markup

from odoo import api, fields, models

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
        """Menu entry: a fresh dashboard of the current clinic."""
        dashboard = self.create({"company_id": self.env.company.id})
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("SMS Dashboard"),
            "res_model": self._name,
            "res_id": dashboard.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "current",
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
