from datetime import timedelta

from odoo import api, fields, models

# The clinic statuses of an appointment that still holds its slot.
HOLDING_STATUSES = ("scheduled", "confirmed", "out_of_reach")


class CalendarEvent(models.Model):
    """Freed slots go to the waitlist (R-9.3): an appointment cancelled,
    archived, deleted or moved later by at least the clinic's number of hours."""

    _inherit = "calendar.event"  # pylint: disable=consider-merging-classes-inherited

    clinic_waitlist_ids = fields.One2many(
        "clinic.sms.waitlist", "appointment_id", string="Waitlist Entries"
    )

    def _clinic_slot_values(self):
        """What the slot of these appointments is, before a change."""
        now = fields.Datetime.now()
        return {
            event.id: {
                "company": event._clinic_company(),
                "start": event.start,
                "stop": event.stop,
                "practitioner": event.clinic_practitioner_id,
                "services": event.clinic_service_ids,
                "office": event.clinic_office or False,
                "patient": event.clinic_patient_id,
                "event": event,
                "user": event.user_id,
            }
            for event in self
            if event.clinic_patient_id
            and event.active
            and event.clinic_status in HOLDING_STATUSES
            and event.start
            and event.start > now
        }

    def _clinic_free_slots(self, freed):
        if freed:
            self.env["clinic.sms.waitlist.slot"].sudo()._free(freed)

    @api.model_create_multi
    def create(self, vals_list):
        events = super().create(vals_list)
        if not self.env.context.get("clinic_waitlist_booking"):
            events._clinic_take_slots()
        return events

    def _clinic_take_slots(self):
        """Appointments booked (or moved, or restored) into a slot that is
        being offered take it: its offers are withdrawn ("slot taken")."""
        Slot = self.env["clinic.sms.waitlist.slot"].sudo()
        # the common case, also for bulk imports: no slot is being offered
        if not self or not Slot.search([("state", "=", "open")], limit=1):
            return
        holding = self._clinic_slot_values()
        if not holding:
            return
        slots = Slot.search(
            [
                ("state", "=", "open"),
                ("company_id", "in", list({v["company"].id for v in holding.values()})),
                ("start", "in", list({v["start"] for v in holding.values()})),
            ]
        )
        for values in holding.values():
            slot = slots.filtered(
                lambda s, v=values: (
                    s.state == "open"
                    and s.company_id == v["company"]
                    and s.start == v["start"]
                    and s.practitioner_id == v["practitioner"]
                )
            )
            slot._take(values["event"])

    def write(self, vals):
        if not {"start", "stop", "clinic_status", "active"}.intersection(vals):
            return super().write(vals)
        before = self._clinic_slot_values()
        res = super().write(vals)
        # holding a slot now, and not before (moved into it, restored)
        self.filtered(
            lambda e: e.id not in before or before[e.id]["start"] != e.start
        )._clinic_take_slots()
        freed = []
        for event in self.filtered(lambda e: e.id in before):
            slot = before[event.id]
            hours = slot["company"].clinic_sms_waitlist_move_hours
            if (
                not event.active
                or event.clinic_status not in HOLDING_STATUSES
                or (
                    event.start
                    and event.start - slot["start"] >= timedelta(hours=max(hours, 0))
                    and event.start != slot["start"]
                )
            ):
                freed.append(slot)
        self._clinic_free_slots(freed)
        return res

    def unlink(self):
        freed = list(self._clinic_slot_values().values())
        for slot in freed:
            slot["event"] = self.browse()
        res = super().unlink()
        self._clinic_free_slots(freed)
        return res

    def action_clinic_waitlist_add(self):
        """Put the patient of this appointment on the waitlist for an earlier
        slot with the same practitioner and services."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Add to the Waitlist"),
            "res_model": "clinic.sms.waitlist",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": {
                "default_partner_id": self.clinic_patient_id.id,
                "default_company_id": self._clinic_company().id,
                "default_practitioner_id": self.clinic_practitioner_id.id,
                "default_service_ids": [(6, 0, self.clinic_service_ids.ids)],
                "default_appointment_id": self.id,
            },
        }
