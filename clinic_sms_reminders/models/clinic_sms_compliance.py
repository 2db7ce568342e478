"""Compliance (R-11): the kinds of automatic answers to STOP/START/HELP in
the outbox, the reasons a marketing message waits, and the clinic's
marketing caps and quiet days. Applying the caps is in
clinic_sms_compliance_hold.py, the GDPR export in clinic_sms_gdpr_export.py."""

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..tools import compliance, quiet_hours

AUTO_REPLY_KINDS = [
    ("stop_reply", "STOP confirmation"),
    ("start_reply", "START confirmation"),
    ("help_reply", "HELP answer"),
]
HOLD_REASONS = [
    ("marketing_cap", "Marketing frequency cap reached"),
    ("marketing_quiet", "No allowed marketing day or hour"),
]


class ClinicSmsMessage(models.Model):
    _inherit = "clinic.sms.message"

    kind = fields.Selection(
        selection_add=AUTO_REPLY_KINDS,
        ondelete={kind: "cascade" for kind, _label in AUTO_REPLY_KINDS},
    )
    reason = fields.Selection(selection_add=HOLD_REASONS)

    # the clinic a reply answers: latest message to a number through a
    # provider; a planned message has no provider yet (not indexed until it
    # is sent)
    _provider_phone_index = models.Index(
        "(provider_id, phone, id DESC) WHERE provider_id IS NOT NULL"
    )

    def _clinic_recipient_tz(self):
        self.ensure_one()
        company_tz = self.company_id.clinic_sms_tz or "UTC"
        tz_name = self.partner_id.tz or company_tz
        return tz_name if quiet_hours.is_known_zone(tz_name) else company_tz

    def _clinic_blacklist_exempt(self):
        """The messages of ``self`` that go out to a blacklisted number: the
        single confirmation of an opt-out (R-4.2; carriers require it, and it
        is queued once, only when the STOP blacklisted the number)."""
        return self.filtered(lambda message: message.kind == "stop_reply")


class ClinicSmsWalletMove(models.Model):
    _inherit = "clinic.sms.wallet.move"

    message_kind = fields.Selection(
        selection_add=AUTO_REPLY_KINDS,
        ondelete={kind: "set null" for kind, _label in AUTO_REPLY_KINDS},
    )


class ResCompany(models.Model):
    # compliance settings kept together with the rules they drive
    _inherit = "res.company"  # pylint: disable=consider-merging-classes-inherited

    clinic_sms_marketing_daily_cap = fields.Integer(
        string="Marketing SMS per Day",
        default=1,
        help="At most this many marketing messages per patient and local day "
        "(0: no cap).",
    )
    clinic_sms_marketing_weekly_cap = fields.Integer(
        string="Marketing SMS per Week",
        default=3,
        help="At most this many marketing messages per patient in any 7 days "
        "(0: no cap).",
    )
    clinic_sms_marketing_start = fields.Float(
        string="Marketing Window Start",
        default=10.0,
        help="Marketing messages are sent from this local hour (recipient's time).",
    )
    clinic_sms_marketing_end = fields.Float(
        string="Marketing Window End",
        default=20.0,
        help="Marketing messages are sent before this local hour (recipient's time).",
    )
    clinic_sms_marketing_sundays = fields.Boolean(
        string="Marketing on Sundays",
        help="Send marketing messages on Sundays too (off by default).",
    )
    clinic_sms_marketing_holidays = fields.Boolean(
        string="Marketing on Public Holidays",
        help="Send marketing messages on the public holidays of the clinic's "
        "working hours calendar too (off by default).",
    )

    @api.constrains(
        "clinic_sms_marketing_start",
        "clinic_sms_marketing_end",
        "clinic_sms_marketing_daily_cap",
        "clinic_sms_marketing_weekly_cap",
    )
    def _check_clinic_sms_marketing(self):
        for company in self:
            start, end = (
                company.clinic_sms_marketing_start,
                company.clinic_sms_marketing_end,
            )
            if not (0 <= start < end <= 24):
                raise ValidationError(
                    self.env._(
                        "The marketing window must start before it ends, between "
                        "00:00 and 24:00."
                    )
                )
            if (
                company.clinic_sms_marketing_daily_cap < 0
                or company.clinic_sms_marketing_weekly_cap < 0
            ):
                raise ValidationError(self.env._("Marketing caps cannot be negative."))

    def _clinic_marketing_policy(self, holidays, horizon_days):
        self.ensure_one()
        return compliance.MarketingPolicy(
            daily_cap=self.clinic_sms_marketing_daily_cap,
            weekly_cap=self.clinic_sms_marketing_weekly_cap,
            window_start=quiet_hours.float_to_time(self.clinic_sms_marketing_start),
            window_end=quiet_hours.float_to_time(self.clinic_sms_marketing_end),
            rest_weekdays=frozenset() if self.clinic_sms_marketing_sundays else {6},
            holidays=frozenset() if self.clinic_sms_marketing_holidays else holidays,
            horizon_days=horizon_days,
        )


class ResConfigSettings(models.TransientModel):
    # compliance settings kept together with the rules they drive
    _inherit = "res.config.settings"  # pylint: disable=consider-merging-classes-inherited

    clinic_sms_marketing_daily_cap = fields.Integer(
        related="company_id.clinic_sms_marketing_daily_cap", readonly=False
    )
    clinic_sms_marketing_weekly_cap = fields.Integer(
        related="company_id.clinic_sms_marketing_weekly_cap", readonly=False
    )
    clinic_sms_marketing_start = fields.Float(
        related="company_id.clinic_sms_marketing_start", readonly=False
    )
    clinic_sms_marketing_end = fields.Float(
        related="company_id.clinic_sms_marketing_end", readonly=False
    )
    clinic_sms_marketing_sundays = fields.Boolean(
        related="company_id.clinic_sms_marketing_sundays", readonly=False
    )
    clinic_sms_marketing_holidays = fields.Boolean(
        related="company_id.clinic_sms_marketing_holidays", readonly=False
    )
