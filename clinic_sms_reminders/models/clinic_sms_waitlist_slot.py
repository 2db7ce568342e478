"""Freed slots of the waitlist (R-9.3): recorded when an appointment is
cancelled or moved, offered to the next waiting patients, and locked when
they accept so that one patient wins."""

from zoneinfo import ZoneInfo

from odoo import api, fields, models
from odoo.tools import SQL

SLOT_STATES = [("open", "Open"), ("booked", "Booked"), ("expired", "Expired")]


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
