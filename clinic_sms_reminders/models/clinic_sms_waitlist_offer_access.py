from odoo import models

# One file per inherited model (DESIGN.md); pylint-odoo would have the
# classes of one model merged, which the integration of branches may do.


class ClinicSmsWaitlistOffer(models.Model):
    _inherit = "clinic.sms.waitlist.offer"  # pylint: disable=consider-merging-classes-inherited

    def action_accept(self):
        """Accepted by phone (R-9.3, R-8.2): only by the reception of the
        offer's clinic. The acceptance itself runs as the system (it locks the
        slot and books the appointment), so the caller's rights are checked
        here, before: a JSON-RPC call names any offer id."""
        self.check_access("read")
        return super().action_accept()
