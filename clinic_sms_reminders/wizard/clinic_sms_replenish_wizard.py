from odoo import fields, models


class ClinicSmsReplenishWizard(models.TransientModel):
    """Add purchased message units to a clinic's wallet (R-6.2, managers only)."""

    _name = "clinic.sms.replenish.wizard"
    _description = "Replenish SMS Units"

    wallet_id = fields.Many2one("clinic.sms.wallet", required=True)
    balance = fields.Integer(related="wallet_id.balance")
    units = fields.Integer(required=True, default=1000)
    note = fields.Char(help="Invoice or order reference.")

    def action_replenish(self):
        self.ensure_one()
        self.wallet_id._top_up(self.units, self.note)
        return {"type": "ir.actions.act_window_close"}
