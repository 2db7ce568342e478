from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from ..tools import quiet_hours

DELAY_PRESETS = [
    ("30", "1 month (30 days)"),
    ("90", "3 months (90 days)"),
    ("180", "6 months (180 days)"),
    ("custom", "Other number of days"),
]
CHANNELS = [
    ("sms", "SMS"),
    ("email", "Email"),
    ("prefer_sms", "Prefer SMS (email when no valid mobile)"),
    ("prefer_email", "Prefer email (SMS when no valid email)"),
]
# Recalls of appointments done longer ago than this are not sent late (e.g. when
# a campaign is created or the addon installed).
RECALL_CATCH_UP = timedelta(days=7)


class ClinicSmsRecall(models.Model):
    """Recall campaign ("recurring appointments", R-5.1): N days after an
    appointment with one of the services is marked Done, invite the patient to
    book again, unless they already have a future appointment for it."""

    _name = "clinic.sms.recall"
    _inherit = "clinic.sms.clinic.mixin"
    _description = "Recall Campaign"
    _order = "name, id"

    name = fields.Char(required=True, translate=True)
    active = fields.Boolean(default=True)
    service_ids = fields.Many2many(
        "product.product",
        "clinic_sms_recall_product_rel",
        string="Services",
        required=True,
    )
    delay_preset = fields.Selection(DELAY_PRESETS, required=True, default="180")
    delay_days = fields.Integer(
        compute="_compute_delay_days", store=True, readonly=False, precompute=True
    )
    channel = fields.Selection(CHANNELS, required=True, default="sms")
    require_recall_consent = fields.Boolean(string="Recall consent", default=True)
    require_marketing_consent = fields.Boolean(string="Marketing consent")
    template_id = fields.Many2one(
        "clinic.sms.template",
        required=True,
        domain="[('kind', '=', 'recall'), ('company_id', 'in', [company_id, False])]",
        default=lambda self: self.env.ref(
            "clinic_sms_reminders.template_recall", raise_if_not_found=False
        ),
    )
    message_ids = fields.One2many("clinic.sms.message", "recall_id", string="Messages")
    message_count = fields.Integer(compute="_compute_message_count")

    _check_delay = models.Constraint(
        "CHECK (delay_days > 0)", "The delay of a recall must be at least one day."
    )

    @api.depends("delay_preset")
    def _compute_delay_days(self):
        for recall in self:
            if recall.delay_preset != "custom":
                recall.delay_days = int(recall.delay_preset)
            elif not recall.delay_days:
                recall.delay_days = 30

    @api.constrains("require_recall_consent", "require_marketing_consent")
    def _check_consents(self):
        for recall in self:
            if not (recall.require_recall_consent or recall.require_marketing_consent):
                raise ValidationError(
                    self.env._("A recall campaign requires at least one consent.")
                )

    def _compute_message_count(self):
        counts = dict(
            self.env["clinic.sms.message"]._read_group(
                [("recall_id", "in", self.ids)], ["recall_id"], ["__count"]
            )
        )
        for recall in self:
            recall.message_count = counts.get(recall, 0)

    def action_view_messages(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "clinic_sms_reminders.clinic_sms_message_action"
        )
        action["domain"] = [("recall_id", "=", self.id)]
        return action

    def _purpose(self):
        return "marketing" if self.require_marketing_consent else "recall"

    def _plan_recalls(self, now=None):
        """Queue the due recalls set-wise (one query per campaign); the key is
        (campaign, appointment done, patient). Returns the number planned."""
        now = now or fields.Datetime.now()
        self.env.flush_all()
        rows = []
        for recall in self:
            rows += recall._recall_rows(now)
        return self.env["clinic.sms.message"]._insert_queued(rows)

    def _recall_rows(self, now):
        self.ensure_one()
        company = self.company_id
        delay = timedelta(days=self.delay_days)
        key = SQL(
            "concat('recall:', %s::int, ':', e.id, ':', e.clinic_patient_id)", self.id
        )
        self.env.cr.execute(
            SQL(
                """
                SELECT e.id, e.start, e.clinic_patient_id, p.clinic_mobile,
                       NULLIF(p.email, ''),
                       COALESCE(NULLIF(p.tz, ''), %(company_tz)s), %(key)s,
                       EXISTS (
                           SELECT 1 FROM calendar_event f
                             JOIN calendar_event_product_product_rel fr
                               ON fr.calendar_event_id = f.id
                            WHERE f.clinic_patient_id = e.clinic_patient_id
                              AND f.active AND f.start > %(now)s
                              AND f.clinic_status IN ('scheduled', 'confirmed',
                                                      'out_of_reach')
                              AND fr.product_product_id = ANY(%(services)s))
                  FROM calendar_event e
                  JOIN res_partner p ON p.id = e.clinic_patient_id
                 WHERE e.clinic_status = 'done'
                   AND e.clinic_company_id = %(company)s
                   AND e.start + %(delay)s <= %(now)s
                   AND e.start + %(delay)s > %(oldest)s
                   AND EXISTS (SELECT 1 FROM calendar_event_product_product_rel r
                                WHERE r.calendar_event_id = e.id
                                  AND r.product_product_id = ANY(%(services)s))
                   AND NOT EXISTS (SELECT 1 FROM clinic_sms_message m
                                    WHERE m.idempotency_key = %(key)s
                                      AND m.state != 'cancelled')
                """,
                company_tz=company.clinic_sms_tz or "UTC",
                key=key,
                now=now,
                oldest=now - RECALL_CATCH_UP,
                delay=delay,
                company=company.id,
                services=self.service_ids.ids,
            )
        )
        window = company._clinic_sms_window()
        rows = []
        for (
            event_id,
            start,
            partner_id,
            mobile,
            email,
            tz_name,
            key_value,
            booked,
        ) in self.env.cr.fetchall():
            channel = self._channel_for(mobile, email)
            reason = "recall_booked" if booked else (False if channel else "no_channel")
            if not quiet_hours.is_known_zone(tz_name):
                tz_name = company.clinic_sms_tz or "UTC"
            send_at = quiet_hours.shift_into_window(
                max(start + timedelta(days=self.delay_days), now),
                tz_name,
                window[0],
                window[1],
                now,
                now + RECALL_CATCH_UP,
            )
            rows.append(
                {
                    "kind": "recall",
                    "purpose": self._purpose(),
                    "channel": channel or "sms",
                    "company_id": company.id,
                    "template_id": self.template_id.id,
                    "appointment_id": event_id,
                    "partner_id": partner_id,
                    "phone": mobile,
                    "idempotency_key": key_value,
                    "scheduled_at": send_at or now,
                    "state": "skipped" if reason else "queued",
                    "reason": reason or None,
                    "recall_id": self.id,
                }
            )
        return rows

    def _booked_reason(self, partner, now):
        """ "recall_booked" when ``partner`` has a future appointment for one
        of the campaign's services, checked again at the moment of sending
        (R-5.1); else False."""
        self.ensure_one()
        booked = (
            self.env["calendar.event"]
            .sudo()
            .search_count(
                [
                    ("clinic_patient_id", "=", partner.id),
                    ("clinic_company_id", "=", self.company_id.id),
                    ("start", ">", now),
                    ("clinic_status", "in", ["scheduled", "confirmed", "out_of_reach"]),
                    ("clinic_service_ids", "in", self.service_ids.ids),
                ],
                limit=1,
            )
        )
        return "recall_booked" if booked else False

    @api.model
    def _cancel_for_bookings(self, events):
        """A booking cancels the patient's queued recalls of the campaigns of
        its services (R-5.1)."""
        now = fields.Datetime.now()
        events = events.filtered(
            lambda e: (
                e.clinic_patient_id
                and e.active
                and e.start > now
                and e.clinic_service_ids
                and e.clinic_status in ("scheduled", "confirmed", "out_of_reach")
            )
        )
        if not events:
            return
        queued = (
            self.env["clinic.sms.message"]
            .sudo()
            .search(
                [
                    ("kind", "=", "recall"),
                    ("state", "=", "queued"),
                    ("partner_id", "in", events.clinic_patient_id.ids),
                    ("recall_id", "!=", False),
                ]
            )
        )
        if not queued:
            return
        booked = {}
        for event in events:
            key = (event.clinic_patient_id.id, event._clinic_company().id)
            booked.setdefault(key, set()).update(event.clinic_service_ids.ids)
        queued.filtered(
            lambda m: (
                set(m.recall_id.service_ids.ids)
                & booked.get((m.partner_id.id, m.company_id.id), set())
            )
        )._set_state("cancelled", "recall_booked")

    def _channel_for(self, mobile, email):
        if self.channel == "sms":
            return "sms" if mobile else False
        if self.channel == "email":
            return "email" if email else False
        first, second = (
            ("sms", "email") if self.channel == "prefer_sms" else ("email", "sms")
        )
        available = {"sms": bool(mobile), "email": bool(email)}
        if available[first]:
            return first
        return second if available[second] else False
