"""Life cycle of clinic appointments (R-1.2 to R-1.6, R-2.4, R-8.2): a
booking, change, archive or deletion plans the reminders, sends the
notifications it calls for, and cancels the queued messages it outdates."""

from odoo import api, fields, models

from .clinic_sms_notification import NO_SHOW_EARLIEST, NO_SHOW_LATEST


class CalendarEvent(models.Model):
    _inherit = "calendar.event"  # pylint: disable=consider-merging-classes-inherited

    @api.model_create_multi
    def create(self, vals_list):
        Partner = self.env["res.partner"]
        for vals in vals_list:
            patient = Partner.browse(vals.get("clinic_patient_id") or [])
            if not patient:
                continue
            if not vals.get("name"):
                services = self.env["product.product"].browse(
                    self._clinic_ids_of(vals.get("clinic_service_ids"))
                )
                vals["name"] = self._clinic_subject(patient, services)
            # patient and practitioner attend: the calendar shows the
            # appointment in their agenda, with its guests
            attendees = [patient.id]
            if vals.get("clinic_practitioner_id"):
                attendees.append(vals["clinic_practitioner_id"])
            vals["partner_ids"] = list(vals.get("partner_ids") or []) + [
                (4, partner_id) for partner_id in attendees
            ]
        events = super().create(vals_list)
        appointments = events.filtered("clinic_patient_id")
        if appointments:
            appointments._clinic_mark_patients()
            self.env["clinic.sms.recall"].sudo()._cancel_for_bookings(appointments)
            appointments._clinic_plan()
            now = fields.Datetime.now()
            appointments.filtered(
                lambda e: e.start > now and e.clinic_status != "cancelled"
            )._clinic_notify("confirmation")
        return events

    @api.model
    def _clinic_ids_of(self, commands):
        """Ids set by x2many ``commands`` (ids or (6,)/(4,) commands)."""
        ids = []
        for command in commands or []:
            if isinstance(command, int):
                ids.append(command)
            elif isinstance(command, list | tuple) and command:
                if command[0] == 6:
                    ids = list(command[2])
                elif command[0] == 4:
                    ids.append(command[1])
        return ids

    def _clinic_mark_patients(self):
        """Mark the patients of these appointments (R-8.2): the system does it,
        so a receptionist who may not edit contacts still books for a contact
        that is not a patient yet (form, import or RPC)."""
        self.clinic_patient_id.filtered(lambda p: not p.clinic_is_patient).sudo().write(
            {"clinic_is_patient": True}
        )

    def write(self, vals):
        tracked = {"start", "stop", "clinic_patient_id", "clinic_status", "active"}
        if not tracked.intersection(vals) and "clinic_service_ids" not in vals:
            return super().write(vals)
        before = {
            event.id: (event.active, event.start, event.clinic_status) for event in self
        }
        res = super().write(vals)
        self.filtered("clinic_patient_id")._clinic_notify_changes(before, vals)
        appointments = self.filtered("clinic_patient_id")
        if "clinic_patient_id" in vals:
            appointments._clinic_mark_patients()
        self.env["clinic.sms.recall"].sudo()._cancel_for_bookings(appointments)
        (self - appointments)._clinic_cancel_queued("appointment_cancelled")
        appointments._clinic_cancel_stale()
        # planning works per patient: their other appointments may regroup
        appointments._clinic_plan()
        return res

    def unlink(self):
        self._clinic_cancel_queued("appointment_cancelled")
        return super().unlink()

    def _clinic_notify(self, kind, key_suffix=""):
        return (
            self.env["clinic.sms.notification"]
            .sudo()
            ._notify(self, kind, key_suffix=key_suffix)
        )

    def _clinic_notify_changes(self, before, vals):
        """Notifications that follow a change (R-1.2 to R-1.6)."""
        now = fields.Datetime.now()
        stamp = now.strftime("%Y%m%d%H%M%S")
        # Done and no-show only on an explicit change by a user, never through
        # an import or a module update.
        explicit = not (
            self.env.context.get("import_file") or self.env.context.get("install_mode")
        )
        restored, moved = self.browse(), self.browse()
        by_status = {}
        for event in self:
            was_active, old_start, old_status = before[event.id]
            if not event.active:
                continue
            if not was_active:
                restored |= event  # restoring from the trash is a creation
                continue
            if (
                event.start != old_start
                and event.start > now
                and event.clinic_status in ("scheduled", "confirmed", "out_of_reach")
            ):
                moved |= event
            if event.clinic_status != old_status:
                by_status.setdefault(event.clinic_status, self.browse())
                by_status[event.clinic_status] |= event
        restored.filtered(lambda e: e.start > now)._clinic_notify(
            "confirmation", f":restored:{stamp}"
        )
        for event in moved:
            event._clinic_notify("reschedule", f":{event.start:%Y%m%d%H%M%S}")
        by_status.get("cancelled", self.browse()).filtered(
            lambda e: e.start > now
        )._clinic_notify("cancellation")
        if explicit:
            by_status.get("no_show", self.browse()).filtered(
                lambda e: e.start - NO_SHOW_EARLIEST <= now <= e.start + NO_SHOW_LATEST
            )._clinic_notify("no_show")
            by_status.get("done", self.browse())._clinic_notify("done")

    def _clinic_plan(self):
        """Plan the reminders of these appointments now rather than at the next
        planner run (short-notice appointments, reschedules)."""
        companies = self.clinic_company_id
        rules = (
            self.env["clinic.sms.rule"]
            .sudo()
            .search([("company_id", "in", companies.ids)])
        )
        rules._plan_reminders(events=self)

    def _clinic_cancel_queued(self, reason, domain=None):
        if not self:
            return
        messages = (
            self.env["clinic.sms.message"]
            .sudo()
            .search(
                [("appointment_id", "in", self.ids), ("state", "=", "queued")]
                + (domain or [])
            )
        )
        messages._set_state("cancelled", reason)

    def _clinic_cancel_stale(self):
        """Cancel queued messages that no longer match their appointment (R-2.4)."""
        for event in self:
            queued = event.clinic_sms_message_ids.filtered(
                lambda m: m.state == "queued"
            )
            if not event.active:
                queued._set_state("cancelled", "appointment_cancelled")
                continue
            cancellations = queued.filtered(lambda m: m.kind == "cancellation")
            if event.clinic_status == "cancelled":
                (queued - cancellations)._set_state(
                    "cancelled", "appointment_cancelled"
                )
                continue
            cancellations._set_state("cancelled", "appointment_status")
            reminders = queued.filtered(lambda m: m.kind == "reminder")
            reminders.filtered(
                lambda m, e=event: m.partner_id != e.clinic_patient_id
            )._set_state("cancelled", "appointment_cancelled")
            reminders.filtered(
                lambda m, e=event: (
                    m.state == "queued" and m.appointment_start != e.start
                )
            )._set_state("cancelled", "appointment_moved")
            reminders.filtered(
                lambda m, e=event: (
                    m.rule_id
                    and m.state == "queued"
                    and e.clinic_status not in m.rule_id._statuses()
                )
            )._set_state("cancelled", "appointment_status")
