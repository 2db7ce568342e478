from datetime import timedelta

from odoo import api, fields, models

from ..tools import grouping

NOTIFICATION_KINDS = [
    ("confirmation", "Confirmation on creation"),
    ("reschedule", "Change of time"),
    ("cancellation", "Cancellation"),
    ("no_show", "No-show"),
    ("done", "Thank you (done)"),
]
# a no-show message only when marked no earlier than 15 minutes before
# the start, and for past appointments at most 24 hours after it.
NO_SHOW_EARLIEST = timedelta(minutes=15)
NO_SHOW_LATEST = timedelta(hours=24)


# automatic messages about a change wait this window, so that a change
# undone or corrected within it sends nothing or only the last word.
UNDO_KINDS = ("confirmation", "reschedule", "cancellation")
# states of a message that went out (or may have)
WENT_OUT = ("sending", "sent", "delivered")


class ClinicSmsNotification(models.Model):
    """Per-clinic switch and template of each appointment notification (R-1.2)."""

    _name = "clinic.sms.notification"
    _description = "Appointment Notification"
    _order = "company_id, sequence, id"
    _rec_name = "kind"

    company_id = fields.Many2one(
        "res.company",
        string="Clinic",
        required=True,
        index=True,
        default=lambda self: self.env.company,
        ondelete="cascade",
    )
    kind = fields.Selection(NOTIFICATION_KINDS, required=True)
    active = fields.Boolean(
        string="Enabled", default=False, help="Send this notification to patients."
    )
    sequence = fields.Integer(default=10)
    template_id = fields.Many2one(
        "clinic.sms.template",
        domain="[('company_id', 'in', [company_id, False])]",
        help="Text sent; the default template of the kind when empty.",
    )

    _company_kind_unique = models.UniqueIndex(
        "(company_id, kind)", "Each clinic has one setting per notification kind."
    )

    @api.model
    def _ensure_for_companies(self, companies):
        """Create the missing settings, disabled, with the default templates."""
        existing = {
            (n.company_id.id, n.kind)
            for n in self.with_context(active_test=False).search(
                [("company_id", "in", companies.ids)]
            )
        }
        vals_list = [
            {"company_id": company.id, "kind": kind, "sequence": sequence}
            for company in companies
            for sequence, (kind, _label) in enumerate(NOTIFICATION_KINDS)
            if (company.id, kind) not in existing
        ]
        return self.create(vals_list)

    def _template(self):
        self.ensure_one()
        if self.template_id:
            return self.template_id
        return self.env["clinic.sms.template"].search(
            [
                ("kind", "=", self.kind),
                ("company_id", "in", [self.company_id.id, False]),
            ],
            order="company_id, sequence, id",
            limit=1,
        )

    @api.model
    def _undo_window(self, company, kind):
        """How long an automatic ``kind`` message waits in the queue (R-9.4)."""
        if kind not in UNDO_KINDS:
            return timedelta(0)
        return timedelta(minutes=max(company.clinic_sms_undo_minutes, 0))

    @api.model
    def _undo_replaced(self, events, kind, now):
        """The ``events`` that still need a ``kind`` message, once the
        messages of earlier changes still in their undo window are cancelled
        or replaced (R-9.4):

        * a cancellation while the booking's confirmation has not left: the
          confirmation is cancelled (with the appointment), nothing is sent;
        * a move while the confirmation has not left: the confirmation gives
          the new time, no change message;
        * a move while an earlier change message has not left: it is
          replaced by this one, or by nothing when the appointment is back at
          the time the patient was last told.
        """
        if not events or kind == "confirmation":
            return events
        Message = self.env["clinic.sms.message"].sudo()
        pending = Message.search(
            [
                ("appointment_id", "in", events.ids),
                ("kind", "in", ("confirmation", "reschedule")),
                ("state", "=", "queued"),
                ("scheduled_at", ">", now),
            ]
        )
        keep = events.browse()
        for event in events:
            mine = pending.filtered(lambda m, e=event: m.appointment_id == e)
            confirmation = mine.filtered(lambda m: m.kind == "confirmation")
            if confirmation:
                continue
            if kind == "reschedule":
                mine._set_state("cancelled", "appointment_moved")
                told = Message.search(
                    [
                        ("appointment_id", "=", event.id),
                        ("kind", "in", ("confirmation", "reschedule")),
                        ("state", "in", WENT_OUT),
                    ],
                    order="id desc",
                    limit=1,
                )
                if told and told.appointment_start == event.start:
                    continue
            keep |= event
        return keep

    @api.model
    def _enabled_for(self, companies, kind):
        """{company id: notification} of the enabled settings of ``kind``."""
        settings = self.search(
            [("company_id", "in", companies.ids), ("kind", "=", kind)]
        )
        return {setting.company_id.id: setting for setting in settings}

    @api.model
    def _notify(self, events, kind, now=None, key_suffix=""):
        """Queue ``kind`` messages for ``events`` (clinic appointments), one per
        patient group for confirmations (R-1.4), due at once."""
        now = now or fields.Datetime.now()
        events = events.filtered(lambda e: e.clinic_patient_id and e.active)
        if kind in UNDO_KINDS:
            events = self._undo_replaced(events, kind, now)
        settings = self._enabled_for(events.clinic_company_id, kind)
        rows = []
        for company, company_events in events.grouped("clinic_company_id").items():
            setting = settings.get(company.id)
            template = setting and setting._template()
            if not template:
                continue
            firsts = company_events
            if kind == "confirmation":
                gap = timedelta(hours=company.clinic_sms_group_gap_hours)
                groups = grouping.group_appointments(
                    [
                        (e.clinic_patient_id.id, e.start, e.stop, e.id)
                        for e in company_events
                    ],
                    gap,
                )
                firsts = self.env["calendar.event"].browse([g[0][3] for g in groups])
            for event in firsts:
                key = f"{kind}:{event.id}:{event.clinic_patient_id.id}{key_suffix}"
                rows.append(
                    {
                        "kind": kind,
                        "purpose": "appointment",
                        "company_id": company.id,
                        "template_id": template.id,
                        "appointment_id": event.id,
                        "appointment_start": event.start,
                        "partner_id": event.clinic_patient_id.id,
                        "phone": event.clinic_patient_id.clinic_mobile,
                        "idempotency_key": key,
                        "scheduled_at": now + self._undo_window(company, kind),
                        "state": "queued",
                    }
                )
        self.env.flush_all()
        inserted = self.env["clinic.sms.message"]._insert_queued(rows)
        if inserted:
            self.env.ref(
                "clinic_sms_reminders.ir_cron_clinic_sms_dispatch"
            ).sudo()._trigger()
        return inserted
