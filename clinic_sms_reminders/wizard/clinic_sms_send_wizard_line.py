"""One recipient of the Send SMS wizard's review step (R-5.4): included or
not, why not, and the text and units it would get."""

from odoo import fields, models

from ..models.clinic_sms_message import REASONS


class ClinicSmsSendWizardLine(models.TransientModel):
    _name = "clinic.sms.send.wizard.line"
    _description = "Send SMS: recipient"
    _order = "included desc, id"

    wizard_id = fields.Many2one(
        "clinic.sms.send.wizard", required=True, ondelete="cascade"
    )
    partner_id = fields.Many2one("res.partner", string="Recipient", required=True)
    phone = fields.Char()
    included = fields.Boolean(string="Will Receive")
    reason = fields.Selection(REASONS, string="Why Not")
    text = fields.Text()
    units = fields.Integer()
