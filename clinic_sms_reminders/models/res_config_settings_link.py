from odoo import fields, models

# One file per inherited model (DESIGN.md); pylint-odoo would have the
# classes of one model merged, which the integration of branches may do.


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"  # pylint: disable=consider-merging-classes-inherited

    clinic_sms_link_cutoff_hours = fields.Integer(
        related="company_id.clinic_sms_link_cutoff_hours", readonly=False
    )
    clinic_sms_undo_minutes = fields.Integer(
        related="company_id.clinic_sms_undo_minutes", readonly=False
    )
