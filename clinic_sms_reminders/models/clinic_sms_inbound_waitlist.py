from odoo import fields, models


class ClinicSmsInbound(models.Model):
    """Replies to waitlist offers (R-9.3)."""

    _inherit = "clinic.sms.inbound"

    action = fields.Selection(
        selection_add=[("waitlist", "Answered a waitlist offer")],
        ondelete={"waitlist": "set null"},
    )

    def _clinic_waitlist_accept(self, number):
        """OUI/YES to an open waitlist offer: accept it (the slot is booked, or
        the patient is told it is taken). True when the reply was about an
        offer, so that it does not also confirm another appointment."""
        self.ensure_one()
        offer = self.env["clinic.sms.waitlist.offer"]._offer_for_reply(
            self.company_id, number, self.text
        )
        if not offer:
            return False
        event = offer._accept()
        self.write(
            {
                "action": "waitlist",
                "partner_id": offer.partner_id.id,
                "appointment_id": event.id or offer.booked_event_id.id or False,
            }
        )
        return True
