from odoo import api, fields, models


class ClinicSmsWalletMove(models.Model):
    """Spend as positive units (R-6.2): a debit of 3 units is a spend of 3, a
    refund of 1 unit a spend of -1, a top-up no spend; graphs and pies of the
    debit statistics read right."""

    _inherit = "clinic.sms.wallet.move"  # pylint: disable=consider-merging-classes-inherited

    message_kind = fields.Selection(
        selection_add=[
            ("waitlist_offer", "Waitlist offer"),
            ("waitlist_taken", "Waitlist slot taken"),
        ],
        ondelete={"waitlist_offer": "set null", "waitlist_taken": "set null"},
    )

    units_spent = fields.Integer(
        compute="_compute_units_spent",
        store=True,
        help="Debited units, less the units refunded; top-ups count zero.",
    )

    @api.depends("move_type", "units")
    def _compute_units_spent(self):
        for move in self:
            move.units_spent = (
                -move.units if move.move_type in ("debit", "refund") else 0
            )
