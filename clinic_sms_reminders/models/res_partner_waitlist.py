from odoo import fields, models

# One file per inherited model (DESIGN.md); pylint-odoo would have the
# classes of one model merged, which the integration of branches may do.


class ResPartner(models.Model):
    _inherit = "res.partner"  # pylint: disable=consider-merging-classes-inherited

    clinic_waitlist_ids = fields.One2many(
        "clinic.sms.waitlist", "partner_id", string="Waitlist"
    )

    def action_clinic_waitlist(self):
        """The waitlist entries of this patient; a new one is for them."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "clinic_sms_reminders.clinic_sms_waitlist_action"
        )
        action["domain"] = [("partner_id", "=", self.id)]
        action["context"] = {"default_partner_id": self.id}
        return action
