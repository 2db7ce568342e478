from calendar import isleap
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.fields import Domain
from odoo.tools import SQL

from odoo.addons.base.models.res_partner import _tz_get

from ..tools import quiet_hours


class ResCompany(models.Model):
    _inherit = "res.company"

    clinic_sms_sender_name = fields.Char(
        string="SMS Sender Name",
        size=11,
        help="Alphanumeric sender shown on the patient's phone (at most 11 "
        "characters). Leave empty to use the provider's default number.",
    )
    clinic_sms_provider_id = fields.Many2one(
        "clinic.sms.provider",
        string="SMS Provider",
        help="Provider used to send this clinic's messages. When empty, the first "
        "active provider of the clinic (or shared by all clinics) is used.",
    )
    clinic_sms_tz = fields.Selection(
        _tz_get,
        string="Clinic Time Zone",
        default=lambda self: self.env.user.tz or "Europe/Paris",
        help="Used for patients without a time zone of their own.",
    )
    clinic_sms_quiet_start = fields.Float(
        string="Sending Window Start",
        default=9.0,
        help="Reminders are only sent from this local hour (recipient's time zone).",
    )
    clinic_sms_quiet_end = fields.Float(
        string="Sending Window End",
        default=19.0,
        help="Reminders are only sent before this local hour (recipient's time zone).",
    )
    clinic_sms_group_gap_hours = fields.Float(
        string="Grouping Gap (hours)",
        default=2.0,
        help="Appointments of one patient separated by less than this get a single "
        "reminder citing the first start time.",
    )
    clinic_sms_max_parts = fields.Integer(
        string="Maximum SMS Parts",
        default=1,
        help="1 = standard SMS (160 characters); 2 = extended SMS (up to 306 "
        "characters, billed as 2 units).",
    )
    clinic_sms_smart_encoding = fields.Boolean(
        string="Smart Encoding",
        default=True,
        help="Replace typographic characters (curly quotes, dashes, ellipsis, "
        "non-breaking spaces) by their GSM-7 look-alike to avoid the 70-character "
        "Unicode limit.",
    )
    clinic_sms_short_number = fields.Char(
        string="STOP Short Number",
        help="Number patients reply STOP to; appended to marketing messages.",
    )
    clinic_sms_auto_cancel = fields.Boolean(
        string="Cancel on Reply",
        help="Cancel the appointment at once when the patient answers with a "
        "cancellation keyword, instead of asking the reception to call back.",
    )
    clinic_sms_low_balance_threshold = fields.Integer(
        string="Low Balance Threshold",
        default=50,
        help="Managers are alerted when the message-unit balance falls below this.",
    )
    clinic_sms_birthday_active = fields.Boolean(
        string="Birthday Greetings",
        help="Greet patients by SMS on their birthday (marketing consent required).",
    )
    clinic_sms_birthday_template_id = fields.Many2one(
        "clinic.sms.template",
        string="Birthday Template",
        domain="[('kind', '=', 'birthday')]",
    )
    clinic_sms_birthday_hour = fields.Float(
        string="Birthday Send Time",
        default=10.0,
        help="Local time (patient's time zone) at which greetings are sent.",
    )
    clinic_sms_wallet_id = fields.Many2one(
        "clinic.sms.wallet",
        string="SMS Wallet",
        compute="_compute_clinic_sms_wallet_id",
    )

    @api.constrains("clinic_sms_sender_name")
    def _check_clinic_sms_sender_name(self):
        for company in self:
            name = company.clinic_sms_sender_name
            if name and (len(name) > 11 or not name.isascii() or not name.isalnum()):
                raise ValidationError(
                    self.env._(
                        "The SMS sender name must be 1 to 11 letters or digits, "
                        "without spaces or accents (got %(name)s).",
                        name=name,
                    )
                )

    @api.constrains("clinic_sms_quiet_start", "clinic_sms_quiet_end")
    def _check_clinic_sms_window(self):
        for company in self:
            start, end = company.clinic_sms_quiet_start, company.clinic_sms_quiet_end
            if not (0 <= start < end <= 24):
                raise ValidationError(
                    self.env._(
                        "The SMS sending window must start before it ends, "
                        "between 00:00 and 24:00."
                    )
                )

    @api.constrains("clinic_sms_max_parts")
    def _check_clinic_sms_max_parts(self):
        for company in self:
            if not 1 <= company.clinic_sms_max_parts <= 10:
                raise ValidationError(
                    self.env._(
                        "The maximum number of SMS parts must be between 1 and 10."
                    )
                )

    def _compute_clinic_sms_wallet_id(self):
        wallets = self.env["clinic.sms.wallet"].sudo()._get_for_companies(self)
        for company in self:
            company.clinic_sms_wallet_id = wallets[company.id]

    def _clinic_sms_get_provider(self):
        """Provider that sends for this company (explicit choice, else fallback)."""
        self.ensure_one()
        if self.clinic_sms_provider_id.active:
            return self.clinic_sms_provider_id
        return (
            self.env["clinic.sms.provider"]
            .sudo()
            .search(
                [("company_id", "in", [self.id, False])],
                order="company_id, sequence, id",
                limit=1,
            )
        )

    def _clinic_sms_search_partners(self, domain):
        """The contacts matching ``domain`` that are this clinic's, for the
        messages it sends to many at once (mass mailings, client groups of
        scheduled reminders): contacts of the clinic, and shared contacts
        unless they are patients of other clinics only (R-8.2: a clinic never
        texts another clinic's patients). Searched with the caller's rights."""
        self.ensure_one()
        events = self.env["calendar.event"].sudo().with_context(active_test=False)
        here = events._search(
            [("clinic_patient_id", "!=", False), ("clinic_company_id", "=", self.id)]
        )
        elsewhere = events._search(
            [
                ("clinic_patient_id", "!=", False),
                ("clinic_company_id", "!=", False),
                ("clinic_company_id", "!=", self.id),
            ]
        )
        shared = Domain("company_id", "=", False) & (
            Domain("id", "any!", here.select("clinic_patient_id"))
            | Domain("id", "not any!", elsewhere.select("clinic_patient_id"))
        )
        return self.env["res.partner"].search(
            Domain(domain) & (Domain("company_id", "=", self.id) | shared)
        )

    @api.model_create_multi
    def create(self, vals_list):
        companies = super().create(vals_list)
        self.env["clinic.sms.wallet"].sudo()._ensure_for_companies(companies)
        self.env["clinic.sms.notification"].sudo()._ensure_for_companies(companies)
        return companies

    def _clinic_sms_window(self):
        """(start, end) local wall times of the clinic's sending window."""
        self.ensure_one()
        return (
            quiet_hours.float_to_time(self.clinic_sms_quiet_start),
            quiet_hours.float_to_time(self.clinic_sms_quiet_end),
        )

    def _clinic_plan_birthdays(self, now=None):
        """Queue today's birthday greetings (R-5.2): once a year per patient of
        the clinic (a patient with an appointment there), at the clinic's send
        time in the patient's time zone; 29 February birthdays are greeted on
        28 February in non-leap years."""
        now = now or fields.Datetime.now()
        self.env.flush_all()
        rows = []
        for company in self.filtered("clinic_sms_birthday_active"):
            template = company.clinic_sms_birthday_template_id or self.env.ref(
                "clinic_sms_reminders.template_birthday", raise_if_not_found=False
            )
            if not template:
                continue
            rows += company._clinic_birthday_rows(now, template)
        return self.env["clinic.sms.message"]._insert_queued(rows)

    def _clinic_birthday_rows(self, now, template):
        self.ensure_one()
        company_tz = self.clinic_sms_tz or "UTC"
        today = now.replace(tzinfo=UTC).astimezone(ZoneInfo(company_tz)).date()
        leap_day_today = today.month == 2 and today.day == 28 and not isleap(today.year)
        self.env.cr.execute(
            SQL(
                """
                SELECT p.id, p.clinic_mobile, COALESCE(NULLIF(p.tz, ''), %(tz)s)
                  FROM res_partner p
                 WHERE p.active AND p.birthdate_date IS NOT NULL
                   AND ((extract(month FROM p.birthdate_date) = %(month)s
                         AND extract(day FROM p.birthdate_date) = %(day)s)
                        OR (%(leap)s AND extract(month FROM p.birthdate_date) = 2
                            AND extract(day FROM p.birthdate_date) = 29))
                   AND EXISTS (SELECT 1 FROM calendar_event e
                                WHERE e.clinic_patient_id = p.id
                                  AND e.clinic_company_id = %(company)s)
                """,
                tz=company_tz,
                month=today.month,
                day=today.day,
                leap=leap_day_today,
                company=self.id,
            )
        )
        hour = quiet_hours.float_to_time(self.clinic_sms_birthday_hour)
        rows = []
        window = self._clinic_sms_window()
        for partner_id, mobile, tz_name in self.env.cr.fetchall():
            if not quiet_hours.is_known_zone(tz_name):
                tz_name = company_tz
            zone = ZoneInfo(tz_name or "UTC")
            local = datetime.combine(today, hour, tzinfo=zone)
            planned = local.astimezone(UTC).replace(tzinfo=None)
            # the birthday is over at midnight in the patient's zone
            midnight = datetime.combine(today + timedelta(days=1), time(0), zone)
            deadline = midnight.astimezone(UTC).replace(tzinfo=None)
            # inside the sending window of the patient's zone, even when the
            # planner runs late; never the next day
            send_at = quiet_hours.shift_into_window(
                max(planned, now), tz_name, window[0], window[1], now, deadline
            )
            rows.append(
                {
                    "kind": "birthday",
                    "purpose": "marketing",
                    "company_id": self.id,
                    "template_id": template.id,
                    "partner_id": partner_id,
                    "phone": mobile,
                    "idempotency_key": f"birthday:{self.id}:{partner_id}:{today.year}",
                    "scheduled_at": send_at or now,
                    "state": "queued" if send_at else "skipped",
                    "reason": None if send_at else "birthday_passed",
                }
            )
        return rows
