import logging
from zoneinfo import ZoneInfo

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..tools import keywords

_logger = logging.getLogger(__name__)

WAITLIST_STATES = [
    ("waiting", "Waiting"),
    ("offered", "Offered"),
    ("booked", "Booked"),
    ("cancelled", "Cancelled"),
]
OFFER_STATES = [
    ("offered", "Offered"),
    ("accepted", "Accepted"),
    ("taken", "Taken by another patient"),
    ("expired", "Expired"),
]
SLOT_STATES = [("open", "Open"), ("booked", "Booked"), ("expired", "Expired")]
DEFAULT_OFFER_COUNT = 3
DEFAULT_MOVE_HOURS = 24


class ClinicSmsMessage(models.Model):
    _inherit = "clinic.sms.message"  # pylint: disable=consider-merging-classes-inherited

    kind = fields.Selection(
        selection_add=[
            ("waitlist_offer", "Waitlist offer"),
            ("waitlist_taken", "Waitlist slot taken"),
        ],
        ondelete={"waitlist_offer": "cascade", "waitlist_taken": "cascade"},
    )


class ClinicSmsTemplate(models.Model):
    _inherit = "clinic.sms.template"

    kind = fields.Selection(
        selection_add=[
            ("waitlist_offer", "Waitlist offer"),
            ("waitlist_taken", "Waitlist slot taken"),
        ],
        ondelete={"waitlist_offer": "cascade", "waitlist_taken": "cascade"},
    )


class ClinicSmsWaitlist(models.Model):
    """A patient waiting for an earlier slot with a practitioner or for a
    service (R-9.3). Entries are offered freed slots in ``sequence`` order."""

    _name = "clinic.sms.waitlist"
    _description = "Waitlist Entry"
    _order = "sequence, create_date, id"
    _rec_name = "partner_id"

    partner_id = fields.Many2one(
        "res.partner", string="Patient", required=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one(
        "res.company",
        string="Clinic",
        required=True,
        index=True,
        default=lambda self: self.env.company,
    )
    practitioner_id = fields.Many2one(
        "res.partner", help="Any practitioner when empty."
    )
    service_ids = fields.Many2many(
        "product.product",
        "clinic_sms_waitlist_product_rel",
        "waitlist_id",
        "product_id",
        string="Services",
        help="Any service when empty; otherwise a slot for one of these services.",
    )
    date_from = fields.Date(
        string="Earliest", help="The patient cannot come before this day."
    )
    date_to = fields.Date(string="Latest", help="A slot after this day is not wanted.")
    duration = fields.Float(
        default=0.5, help="Length of the appointment to book, in hours."
    )
    state = fields.Selection(
        WAITLIST_STATES, required=True, default="waiting", index=True, readonly=True
    )
    sequence = fields.Integer(default=10, help="Lower numbers are offered first.")
    appointment_id = fields.Many2one(
        "calendar.event",
        string="Current Appointment",
        ondelete="set null",
        help="The later appointment the patient would like to bring forward.",
    )
    booked_event_id = fields.Many2one(
        "calendar.event", string="Booked Appointment", readonly=True
    )
    offer_ids = fields.One2many("clinic.sms.waitlist.offer", "waitlist_id")
    offer_count = fields.Integer(compute="_compute_offer_count", string="Offers")
    note = fields.Char()

    @api.depends("offer_ids")
    def _compute_offer_count(self):
        for entry in self:
            entry.offer_count = len(entry.offer_ids)

    @api.constrains("date_from", "date_to")
    def _check_dates(self):
        for entry in self:
            if entry.date_from and entry.date_to and entry.date_from > entry.date_to:
                raise UserError(
                    self.env._("The earliest day must come before the latest day.")
                )

    def action_cancel(self):
        """The patient does not wait any more: their open offers expire."""
        self.write({"state": "cancelled"})
        # offers change through the waitlist's own methods only
        self.sudo().offer_ids.filtered(lambda o: o.state == "offered").write(
            {"state": "expired"}
        )
        return True

    def action_reset(self):
        self.filtered(lambda e: e.state == "cancelled").write({"state": "waiting"})
        return True

    def _sync_state(self):
        """Back to waiting when no offer is open any more."""
        for entry in self:
            if entry.state != "offered":
                continue
            if not entry.offer_ids.filtered(lambda o: o.state == "offered"):
                entry.state = "waiting"

    def _matches(self, slot):
        """Whether this entry wants ``slot`` (practitioner, service, days)."""
        self.ensure_one()
        if self.company_id != slot.company_id or self.partner_id == slot.patient_id:
            return False
        if self.practitioner_id and self.practitioner_id != slot.practitioner_id:
            return False
        if self.service_ids and not (self.service_ids & slot.service_ids):
            return False
        day = slot._local_day()
        if self.date_from and day < self.date_from:
            return False
        return not (self.date_to and day > self.date_to)


class ClinicSmsWaitlistSlot(models.Model):
    """A freed slot (company, practitioner, start), the row that is locked when
    patients accept it: one winner, whatever the number of workers."""

    _name = "clinic.sms.waitlist.slot"
    _description = "Freed Slot"
    _order = "start desc, id desc"
    _rec_name = "start"

    company_id = fields.Many2one("res.company", string="Clinic", required=True)
    start = fields.Datetime(required=True)
    stop = fields.Datetime(required=True)
    practitioner_id = fields.Many2one("res.partner")
    service_ids = fields.Many2many(
        "product.product",
        "clinic_sms_waitlist_slot_product_rel",
        "slot_id",
        "product_id",
        string="Services",
    )
    office = fields.Char()
    patient_id = fields.Many2one(
        "res.partner", string="Freed by", help="Patient of the appointment freed."
    )
    source_event_id = fields.Many2one(
        "calendar.event", string="Freed Appointment", ondelete="set null"
    )
    user_id = fields.Many2one("res.users", string="Organizer")
    state = fields.Selection(SLOT_STATES, required=True, default="open")
    booked_event_id = fields.Many2one(
        "calendar.event", string="Booked Appointment", ondelete="set null"
    )
    offer_ids = fields.One2many("clinic.sms.waitlist.offer", "slot_id")

    _slot_unique = models.UniqueIndex(
        "(company_id, COALESCE(practitioner_id, 0), start)",
        "This slot is already known.",
    )

    def _local_day(self):
        self.ensure_one()
        tz = ZoneInfo(self.company_id.clinic_sms_tz or "UTC")
        return self.start.replace(tzinfo=ZoneInfo("UTC")).astimezone(tz).date()

    @api.model
    def _free(self, freed, now=None):
        """Record freed slots and offer them. ``freed`` is a list of dicts
        (company, start, stop, practitioner, services, office, patient,
        event, user)."""
        now = now or fields.Datetime.now()
        slots = self.browse()
        for values in freed:
            if values["start"] <= now:
                continue
            slot = self.search(
                [
                    ("company_id", "=", values["company"].id),
                    ("practitioner_id", "=", values["practitioner"].id),
                    ("start", "=", values["start"]),
                ],
                limit=1,
            )
            vals = {
                "company_id": values["company"].id,
                "start": values["start"],
                "stop": values["stop"],
                "practitioner_id": values["practitioner"].id,
                "service_ids": [(6, 0, values["services"].ids)],
                "office": values["office"],
                "patient_id": values["patient"].id,
                "source_event_id": values["event"].id,
                "user_id": values["user"].id,
            }
            if not slot:
                slot = self.create(vals)
            elif slot.state == "open" or slot.booked_event_id == values["event"]:
                # booked through the waitlist, and freed again
                slot.write(dict(vals, state="open", booked_event_id=False))
            else:
                continue
            slots |= slot
        slots._offer(now)
        return slots

    def _lock(self):
        """Lock the slots' rows until the end of the transaction: concurrent
        acceptances (and bookings) of one slot are served one after the other."""
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "SELECT id FROM clinic_sms_waitlist_slot WHERE id IN %s FOR UPDATE",
                tuple(self.ids),
            )
        )
        self.env.invalidate_all()

    def _take(self, event, now=None):
        """``event`` was booked in these slots by other means than the
        waitlist: the patients offered them are told they are taken."""
        if not self:
            return
        self._lock()
        slots = self.filtered(lambda s: s.state == "open")
        slots.write({"state": "booked", "booked_event_id": event.id})
        offers = slots.offer_ids.filtered(lambda o: o.state == "offered")
        offers.write({"state": "taken"})
        offers.waitlist_id._sync_state()
        offers._queue_message("waitlist_taken", now)

    def _offer(self, now=None):
        """Offer each open slot to the next waiting patients, up to the
        clinic's number of offers at once; nobody is offered a slot twice."""
        now = now or fields.Datetime.now()
        Offer = self.env["clinic.sms.waitlist.offer"]
        created = Offer
        for slot in self.filtered(lambda s: s.state == "open" and s.start > now):
            open_count = len(slot.offer_ids.filtered(lambda o: o.state == "offered"))
            wanted = max(slot.company_id.clinic_sms_waitlist_offer_count, 1)
            if open_count >= wanted:
                continue
            already = slot.offer_ids.partner_id
            candidates = self.env["clinic.sms.waitlist"].search(
                [
                    ("company_id", "=", slot.company_id.id),
                    ("state", "=", "waiting"),
                    ("partner_id", "not in", already.ids),
                ]
            )
            chosen = self.env["clinic.sms.waitlist"]
            for entry in candidates:
                if len(chosen) >= wanted - open_count:
                    break
                if entry.partner_id not in chosen.partner_id and entry._matches(slot):
                    chosen |= entry
            if not chosen:
                continue
            created |= Offer.create(
                [
                    {
                        "slot_id": slot.id,
                        "waitlist_id": entry.id,
                        "partner_id": entry.partner_id.id,
                        "phone": entry.partner_id.clinic_mobile,
                    }
                    for entry in chosen
                ]
            )
            chosen.write({"state": "offered"})
        created._queue_message("waitlist_offer", now)
        return created


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
