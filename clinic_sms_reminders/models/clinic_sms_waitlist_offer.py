"""Waitlist offers (R-9.3): the SMS that offers a freed slot to one waiting
patient or tells them it is taken, and the acceptance (by SMS reply or at
the reception) that books the slot for the first patient only."""

import logging

from odoo import api, fields, models

from ..tools import keywords

_logger = logging.getLogger(__name__)

OFFER_STATES = [
    ("offered", "Offered"),
    ("accepted", "Accepted"),
    ("taken", "Taken by another patient"),
    ("expired", "Expired"),
]


class ClinicSmsWaitlistOffer(models.Model):
    """A freed slot offered to one waiting patient by SMS (R-9.3)."""

    _name = "clinic.sms.waitlist.offer"
    _description = "Waitlist Offer"
    _order = "create_date desc, id desc"
    _rec_name = "partner_id"

    slot_id = fields.Many2one(
        "clinic.sms.waitlist.slot",
        string="Freed Slot",
        required=True,
        index=True,
        ondelete="cascade",
    )
    waitlist_id = fields.Many2one(
        "clinic.sms.waitlist", required=True, index=True, ondelete="cascade"
    )
    partner_id = fields.Many2one("res.partner", string="Patient", required=True)
    phone = fields.Char(index="btree_not_null", help="Number the offer was sent to.")
    company_id = fields.Many2one(
        related="slot_id.company_id", store=True, index=True, string="Clinic"
    )
    slot_start = fields.Datetime(related="slot_id.start", store=True, string="Slot")
    slot_stop = fields.Datetime(related="slot_id.stop", string="Slot End")
    practitioner_id = fields.Many2one(related="slot_id.practitioner_id")
    service_ids = fields.Many2many(related="slot_id.service_ids")
    source_event_id = fields.Many2one(related="slot_id.source_event_id")
    state = fields.Selection(
        OFFER_STATES, required=True, default="offered", index=True, readonly=True
    )
    accepted_at = fields.Datetime(readonly=True)
    booked_event_id = fields.Many2one(
        "calendar.event", string="Booked Appointment", readonly=True
    )

    _slot_partner_unique = models.UniqueIndex(
        "(slot_id, partner_id)", "This patient was already offered this slot."
    )

    # ------------------------------------------------------------------
    # Messages
    # ------------------------------------------------------------------
    def _template(self, kind, company):
        return self.env["clinic.sms.template"].search(
            [("kind", "=", kind), ("company_id", "in", [company.id, False])],
            order="company_id, sequence, id",
            limit=1,
        )

    def _queue_message(self, kind, now=None):
        """Queue the offer or "slot taken" SMS of these offers through the
        outbox; the text is rendered now, for the slot (not an appointment)."""
        now = now or fields.Datetime.now()
        rows = []
        for offer in self:
            slot = offer.slot_id
            template = offer._template(kind, slot.company_id)
            if not template:
                continue
            placeholder_event = self.env["calendar.event"].new(
                {
                    "start": slot.start,
                    "stop": slot.stop,
                    "clinic_practitioner_id": slot.practitioner_id.id,
                    "clinic_service_ids": [(6, 0, slot.service_ids.ids)],
                    "clinic_office": slot.office,
                }
            )
            try:
                body = template._render(
                    offer.partner_id, placeholder_event, slot.company_id
                )
            except ValueError:
                _logger.exception("Waitlist template %s cannot be rendered", template)
                body = False
            rows.append(
                {
                    "kind": kind,
                    "purpose": "appointment",
                    "company_id": slot.company_id.id,
                    "template_id": template.id,
                    "partner_id": offer.partner_id.id,
                    "phone": offer.partner_id.clinic_mobile,
                    "idempotency_key": f"{kind}:{offer.id}",
                    "scheduled_at": now,
                    "state": "queued",
                    "body": body,
                }
            )
        if not rows:
            return 0
        self.env.flush_all()
        inserted = self.env["clinic.sms.message"].sudo()._insert_queued(rows)
        if inserted:
            self.env.ref(
                "clinic_sms_reminders.ir_cron_clinic_sms_dispatch"
            ).sudo()._trigger()
        return inserted

    # ------------------------------------------------------------------
    # Acceptance
    # ------------------------------------------------------------------
    def _accept(self, now=None):
        """The patient accepts: the first acceptance books the slot, the others
        are told it is taken. Returns the booked appointment, or an empty
        recordset when the slot was no longer available."""
        self.ensure_one()
        now = now or fields.Datetime.now()
        offer = self.sudo()
        offer.slot_id._lock()
        slot = offer.slot_id
        Event = self.env["calendar.event"]
        if offer.state != "offered":
            return Event
        if slot.state != "open" or slot.start <= now:
            offer.state = "taken" if slot.state == "booked" else "expired"
            offer.waitlist_id._sync_state()
            if offer.state == "taken":
                offer._queue_message("waitlist_taken", now)
            return Event
        event = offer._book()
        offer.write(
            {"state": "accepted", "accepted_at": now, "booked_event_id": event.id}
        )
        offer.waitlist_id.write({"state": "booked", "booked_event_id": event.id})
        slot.write({"state": "booked", "booked_event_id": event.id})
        # the winner's offers of other slots are withdrawn
        (
            offer.waitlist_id.offer_ids.filtered(lambda o: o.state == "offered") - offer
        ).write({"state": "expired"})
        others = slot.offer_ids.filtered(lambda o: o.state == "offered") - offer
        others.write({"state": "taken"})
        others.waitlist_id._sync_state()
        others._queue_message("waitlist_taken", now)
        return event

    def _book(self):
        """The new appointment of the patient in the slot."""
        slot = self.slot_id
        patient = self.partner_id
        attendees = slot.practitioner_id | patient
        services = slot.service_ids or self.waitlist_id.service_ids[:1]
        name = ", ".join(services.mapped("name")) or self.env._("Appointment")
        return (
            self.env["calendar.event"]
            .with_company(slot.company_id)
            .with_context(clinic_waitlist_booking=True)
            .create(
                {
                    "name": name,
                    "start": slot.start,
                    "stop": slot.stop,
                    "user_id": slot.user_id.id or self.env.user.id,
                    "clinic_patient_id": patient.id,
                    "clinic_practitioner_id": slot.practitioner_id.id,
                    "clinic_service_ids": [(6, 0, services.ids)],
                    "clinic_office": slot.office,
                    "clinic_company_id": slot.company_id.id,
                    "partner_ids": [(6, 0, attendees.ids)],
                }
            )
        )

    def action_accept(self):
        """Reception button: the patient accepted by phone."""
        for offer in self:
            offer._accept()
        return True

    @api.model
    def _accept_from_reply(self, company, number, text):
        """An SMS reply of ``number`` to ``company``: when it is a confirmation
        keyword (OUI, YES...) and the number has an open offer, accept the
        latest offer. True when the reply was about an offer (booked or
        taken), so that it is not also read as an appointment confirmation."""
        offer = self._offer_for_reply(company, number, text)
        if not offer:
            return False
        offer._accept()
        return True

    @api.model
    def _offer_for_reply(self, company, number, text):
        """The open offer a reply ``text`` of ``number`` accepts, if any: the
        latest one sent to that number by ``company``."""
        if not number or keywords.classify_reply(text or "") != keywords.CONFIRM:
            return self.browse()
        domain = [("state", "=", "offered"), ("phone", "=", number)]
        if company:
            domain.append(("company_id", "=", company.id))
        return self.sudo().search(domain, order="create_date desc, id desc", limit=1)

    @api.model
    def _cron_expire(self, now=None):
        """Offers of slots that have started expire; their patients wait again."""
        now = now or fields.Datetime.now()
        offers = self.search([("state", "=", "offered"), ("slot_start", "<=", now)])
        offers.write({"state": "expired"})
        offers.waitlist_id._sync_state()
        self.env["clinic.sms.waitlist.slot"].search(
            [("state", "=", "open"), ("start", "<=", now)]
        ).write({"state": "expired"})
        return len(offers)
