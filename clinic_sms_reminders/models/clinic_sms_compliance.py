"""Compliance (R-11): marketing caps and quiet days, automatic answers to
STOP/START/HELP in the outbox, and the GDPR export of one patient."""

import base64
import json
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, ValidationError
from odoo.tools import SQL

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
# marketing messages that count against the caps: on their way or out
CAPPED_STATES = ("sending", "sent", "delivered")


class ClinicSmsMessage(models.Model):
    _inherit = "clinic.sms.message"

    kind = fields.Selection(
        selection_add=AUTO_REPLY_KINDS,
        ondelete={kind: "cascade" for kind, _label in AUTO_REPLY_KINDS},
    )
    reason = fields.Selection(selection_add=HOLD_REASONS)

    # the clinic a reply answers: latest message to a number through a provider
    _provider_phone_index = models.Index("(provider_id, phone, id DESC)")

    def _clinic_hold_marketing(self, now):
        """Apply R-11.1/R-11.2 to these queued messages at once and return
        the ones that may go out now: a marketing message due at a forbidden
        moment stays queued with its new time and the reason it waits, one
        that is no longer worth sending is skipped with the reason. For the
        dispatcher (on a claimed batch) and the planners (on the rows they
        just queued). Two queries for the history and holidays, one UPDATE."""
        reasons = {}
        holds = self.env["res.company"]._clinic_marketing_hold(self, now, reasons)
        rows = {}
        for message in self:
            status, value = holds.get(message.id, (compliance.OK, None))
            if status == compliance.WAIT:
                rows[message.id] = ("queued", value, reasons[message.id])
            elif status == compliance.SKIP:
                rows[message.id] = ("skipped", message.scheduled_at, value)
        if rows:
            self.flush_recordset()
            ids = list(rows)
            self.env.cr.execute(
                SQL(
                    """
                    UPDATE clinic_sms_message AS m
                       SET state = v.state, scheduled_at = v.scheduled_at,
                           reason = v.reason, write_uid = %(uid)s,
                           write_date = %(now)s
                      FROM unnest(%(ids)s::int[], %(states)s::varchar[],
                                  %(times)s::timestamp[], %(reasons)s::varchar[])
                           AS v(id, state, scheduled_at, reason)
                     WHERE m.id = v.id
                    """,
                    uid=self.env.uid,
                    now=fields.Datetime.now(),
                    ids=ids,
                    states=[rows[i][0] for i in ids],
                    times=[rows[i][1] for i in ids],
                    reasons=[rows[i][2] for i in ids],
                )
            )
            self.browse(ids).invalidate_recordset(["state", "scheduled_at", "reason"])
        return self.browse(
            [message_id for message_id in self.ids if message_id not in rows]
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

    @api.model
    def _clinic_holidays(self, companies, low, high):
        """{company id: local dates of the global time off of its working
        hours calendar} between ``low`` and ``high`` (naive UTC), one query."""
        calendars = companies.resource_calendar_id
        leaves = (
            self.env["resource.calendar.leaves"]
            .sudo()
            .search_read(
                [
                    ("calendar_id", "in", calendars.ids),
                    ("resource_id", "=", False),
                    ("date_to", ">=", low),
                    ("date_from", "<=", high),
                ],
                ["calendar_id", "date_from", "date_to"],
            )
        )
        by_calendar = {}
        for leave in leaves:
            by_calendar.setdefault(leave["calendar_id"][0], []).append(
                (leave["date_from"], leave["date_to"])
            )
        return {
            company.id: compliance.holiday_dates(
                by_calendar.get(company.resource_calendar_id.id, []),
                company.resource_calendar_id.tz or company.clinic_sms_tz or "UTC",
            )
            for company in companies
        }

    @api.model
    def _clinic_marketing_hold(self, messages, now, wait_reasons=None):
        """The single entry point of R-11.1/R-11.2 for the dispatcher (at send
        time) and the planners: for each marketing message of ``messages``
        (other messages are absent from the result), ``("ok", None)``,
        ``("wait", next allowed naive UTC datetime)`` or ``("skip", reason
        code)``. A message is due at ``max(its scheduled time, now)``.

        Set-wise: a handful of queries whatever the number of messages
        (messages and partners read in batches, one query for the history of
        marketing messages, one for the holidays). Messages of one patient in
        the same call are counted against each other in order of due time.
        ``wait_reasons``, when given, is filled with the reason of each wait
        (``marketing_quiet`` or ``marketing_cap``)."""
        messages = messages.filtered(
            lambda m: compliance.is_marketing(m.kind, m.purpose)
        )
        if not messages:
            return {}
        companies = messages.company_id
        horizon = max(
            compliance.DEFAULT_HORIZON_DAYS, *compliance.HORIZON_DAYS.values()
        )
        holidays = self._clinic_holidays(
            companies, now - timedelta(days=1), now + timedelta(days=horizon + 1)
        )
        history = self._clinic_marketing_history(messages, now)
        result = {}
        ordered = messages.sorted(lambda m: (max(m.scheduled_at, now), m.id))
        for message in ordered:
            company = message.company_id
            tz_name = message._clinic_recipient_tz()
            policy = company._clinic_marketing_policy(
                holidays[company.id],
                compliance.HORIZON_DAYS.get(
                    message.kind, compliance.DEFAULT_HORIZON_DAYS
                ),
            )
            key = (company.id, message.partner_id.id or message.phone)
            sent = history.setdefault(key, [])
            due = max(message.scheduled_at, now)
            status, value = compliance.hold(due, tz_name, sent, policy)
            result[message.id] = (status, value)
            if status == compliance.WAIT and wait_reasons is not None:
                wait_reasons[message.id] = compliance.wait_reason(
                    due, tz_name, value, policy
                )
            if status != compliance.SKIP:
                sent.append(due if status == compliance.OK else value)
        return result

    @api.model
    def _clinic_marketing_history(self, messages, now):
        """{(company id, partner id or phone): [send times]} of the marketing
        messages of the last 7 days (and planned ones already on their way),
        other than ``messages``, in one query."""
        kinds = list(compliance.MARKETING_KINDS)
        messages.flush_recordset()
        self.env.cr.execute(
            SQL(
                """
                SELECT company_id, COALESCE(partner_id::text, phone),
                       COALESCE(sent_at, scheduled_at)
                  FROM clinic_sms_message
                 WHERE company_id = ANY(%(companies)s)
                   AND (partner_id = ANY(%(partners)s) OR phone = ANY(%(phones)s))
                   AND state IN %(states)s
                   AND (purpose = 'marketing' OR kind = ANY(%(kinds)s))
                   AND COALESCE(sent_at, scheduled_at) >= %(since)s
                   AND NOT id = ANY(%(ids)s)
                """,
                companies=messages.company_id.ids,
                partners=messages.partner_id.ids,
                phones=[m.phone for m in messages if m.phone and not m.partner_id],
                states=CAPPED_STATES,
                kinds=kinds,
                since=now - timedelta(days=8),
                ids=messages.ids,
            )
        )
        history = {}
        for company_id, who, moment in self.env.cr.fetchall():
            key = (company_id, int(who) if who.isdigit() else who)
            history.setdefault(key, []).append(moment)
        return history


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


class ClinicSmsGdprExport(models.Model):
    """One export of a patient's consent and message record (R-11.3, GDPR
    access request): who asked, when, for which clinics, and the file. The
    file is an attachment of this record, so only the SMS managers of those
    clinics can download it."""

    _name = "clinic.sms.gdpr.export"
    _description = "SMS GDPR Export"
    _order = "id desc"

    partner_id = fields.Many2one(
        "res.partner", string="Patient", required=True, ondelete="cascade"
    )
    company_id = fields.Many2one(
        "res.company",
        string="Clinic",
        required=True,
        default=lambda self: self.env.company,
    )
    company_ids = fields.Many2many("res.company", string="Clinics Covered")
    user_id = fields.Many2one(
        "res.users", string="Exported By", default=lambda self: self.env.user
    )
    data = fields.Binary(string="File", attachment=True, readonly=True)
    filename = fields.Char()

    @api.model
    def _export_partner(self, partner):
        """Build the JSON record of ``partner`` with what the current user may
        read (the clinics selected in the user's company switcher), store it
        on a new export row and return that row."""
        if not self.env.user.has_group("clinic_sms_reminders.group_clinic_sms_manager"):
            raise AccessError(
                self.env._("Only SMS managers can export a patient's SMS record.")
            )
        partner.check_access("read")
        companies = self.env.companies
        payload = self._export_payload(partner, companies)
        export = self.create(
            {
                "partner_id": partner.id,
                "company_id": self.env.company.id,
                "company_ids": [(6, 0, companies.ids)],
                "filename": f"sms-record-{partner.id}.json",
            }
        )
        # the binary is written by the system: the row itself is read-only
        export.sudo().data = base64.b64encode(
            json.dumps(payload, ensure_ascii=False, indent=1, default=str).encode()
        )
        return export

    @api.model
    def _export_payload(self, partner, companies):
        company_domain = [("company_id", "in", companies.ids)]
        logs = self.env["clinic.sms.consent.log"].search(
            [("partner_id", "=", partner.id), "|", ("company_id", "=", False)]
            + company_domain,
            order="id",
        )
        messages = self.env["clinic.sms.message"].search(
            [("partner_id", "=", partner.id)] + company_domain, order="id"
        )
        replies = self.env["clinic.sms.inbound"].search(
            [("partner_id", "=", partner.id)] + company_domain, order="id"
        )
        chain = self.env["clinic.sms.consent.log"]._verify_chain(partner)[partner.id]
        blacklisted = bool(
            partner.clinic_mobile
            and self.env["phone.blacklist"]
            .sudo()
            .search_count([("number", "=", partner.clinic_mobile)], limit=1)
        )
        return {
            "patient": {
                "id": partner.id,
                "name": partner.name,
                "mobile": partner.clinic_mobile or None,
                "language": partner.lang or None,
                "consents": {
                    "appointment": partner.clinic_consent_appointment,
                    "recall": partner.clinic_consent_recall,
                    "marketing": partner.clinic_consent_marketing,
                },
                "opted_out": blacklisted,
            },
            "generated_at": fields.Datetime.now(),
            "generated_by": self.env.user.name,
            "clinics": companies.mapped("name"),
            "consent_chain": {
                "intact": chain is None,
                "first_broken_row": chain[0].id if chain else None,
            },
            "consent_events": [
                {
                    "id": log.id,
                    "date": log.date,
                    "clinic": log.company_id.name or None,
                    "purpose": log.purpose,
                    "granted": log.granted,
                    "source": log.source,
                    "wording": log.wording or None,
                    "note": log.note or None,
                    "recorded_by": log.user_id.name or None,
                    "previous_hash": log.previous_hash or "",
                    "hash": log.hash,
                }
                for log in logs
            ],
            "messages": [
                {
                    "id": message.id,
                    "clinic": message.company_id.name,
                    "kind": message.kind,
                    "purpose": message.purpose,
                    "state": message.state,
                    "reason": message.reason or None,
                    "phone": message.phone or None,
                    "text": message.body or None,
                    "template": message.template_id.name or None,
                    "scheduled_at": message.scheduled_at,
                    "sent_at": message.sent_at or None,
                    "delivered_at": message.delivered_at or None,
                }
                for message in messages
            ],
            "replies": [
                {
                    "id": reply.id,
                    "clinic": reply.company_id.name or None,
                    "received_at": reply.received_at,
                    "from": reply.from_number,
                    "text": reply.text or None,
                    "action": reply.action or None,
                }
                for reply in replies
            ],
        }
