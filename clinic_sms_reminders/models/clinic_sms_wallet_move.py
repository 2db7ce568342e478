from odoo import fields, models

from .clinic_sms_message import MESSAGE_KINDS


class ClinicSmsWalletMove(models.Model):
    """One line of a wallet's ledger (R-6.2): a top-up, the debit of a batch of
    messages of one kind, or a refund. ``units`` is signed."""

    _name = "clinic.sms.wallet.move"
    _description = "SMS Wallet Movement"
    _order = "date desc, id desc"

    wallet_id = fields.Many2one(
        "clinic.sms.wallet", required=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one(
        related="wallet_id.company_id", store=True, index=True, string="Clinic"
    )
    move_type = fields.Selection(
        [("topup", "Top-up"), ("debit", "Debit"), ("refund", "Refund")],
        string="Type",
        required=True,
    )
    units = fields.Integer(
        required=True, help="Positive for credits, negative for debits."
    )
    message_kind = fields.Selection(MESSAGE_KINDS)
    message_count = fields.Integer(string="Messages")
    date = fields.Datetime(required=True, default=fields.Datetime.now, index=True)
    user_id = fields.Many2one(
        "res.users", string="By", default=lambda self: self.env.user
    )
    note = fields.Char()
