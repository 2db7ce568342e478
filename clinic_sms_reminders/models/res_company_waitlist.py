from odoo import fields, models

from .clinic_sms_waitlist import DEFAULT_MOVE_HOURS, DEFAULT_OFFER_COUNT

# One file per inherited model (DESIGN.md); pylint-odoo would have the
# classes of one model merged, which the integration of branches may do.


class ResCompany(models.Model):
    """Waitlist settings of a clinic (R-9.3)."""

    _inherit = "res.company"  # pylint: disable=consider-merging-classes-inherited

    clinic_sms_waitlist_offer_count = fields.Integer(
        string="Waitlist Offers at Once",
        default=DEFAULT_OFFER_COUNT,
        help="How many waiting patients are offered a freed slot at the same time; "
        "the first to accept gets it (R-9.3).",
    )
    clinic_sms_waitlist_move_hours = fields.Integer(
        string="Waitlist: Moved Later By (hours)",
        default=DEFAULT_MOVE_HOURS,
        help="An appointment moved later by at least this many hours frees its "
        "slot for the waitlist.",
    )
