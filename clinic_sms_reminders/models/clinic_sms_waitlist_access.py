from odoo import api, models
from odoo.exceptions import ValidationError

# What the waitlist lets a user reach, kept apart from its mechanics.
# One file per inherited model (DESIGN.md); pylint-odoo would have the
# classes of one model merged, which the integration of branches may do.


class ClinicSmsWaitlist(models.Model):
    _inherit = "clinic.sms.waitlist"  # pylint: disable=consider-merging-classes-inherited

    @api.constrains("company_id", "partner_id", "practitioner_id", "appointment_id")
    def _check_clinic_people(self):
        """An entry holds its clinic's people (R-9.3, R-8.2): a contact or an
        appointment of another clinic would be offered this clinic's slots by
        SMS, and the number the offer went to read by this clinic."""
        for entry in self.sudo():
            clinics = entry.company_id.parent_ids
            people = entry.partner_id | entry.practitioner_id
            appointment_clinic = entry.appointment_id.clinic_company_id
            if any(p.company_id and p.company_id not in clinics for p in people) or (
                appointment_clinic and appointment_clinic != entry.company_id
            ):
                raise ValidationError(
                    self.env._(
                        "A waitlist entry holds the patient, practitioner and "
                        "appointment of its own clinic only."
                    )
                )


class ClinicSmsWaitlistOffer(models.Model):
    _inherit = "clinic.sms.waitlist.offer"  # pylint: disable=consider-merging-classes-inherited

    def action_accept(self):
        """Accepted by phone (R-9.3, R-8.2): only by the reception of the
        offer's clinic. The acceptance itself runs as the system (it locks the
        slot and books the appointment), so the caller's rights are checked
        here, before: a JSON-RPC call names any offer id."""
        self.check_access("read")
        return super().action_accept()
