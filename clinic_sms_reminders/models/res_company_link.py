from odoo import fields, models

DEFAULT_LINK_CUTOFF_HOURS = 24
DEFAULT_UNDO_MINUTES = 3

# One file per inherited model (DESIGN.md); pylint-odoo would have the
# classes of one model merged, which the integration of branches may do.


class ResCompany(models.Model):
    """Settings of the patient's personal link (R-9.1) and of the undo
    window of automatic messages (R-9.4)."""

    _inherit = "res.company"  # pylint: disable=consider-merging-classes-inherited

    clinic_sms_link_cutoff_hours = fields.Integer(
        string="Personal Link: Cancel Until (hours before)",
        default=DEFAULT_LINK_CUTOFF_HOURS,
        help="Patients may cancel through their personal link until this many "
        "hours before the appointment; later, the page asks them to call the "
        "clinic (R-9.1).",
    )
    clinic_sms_undo_minutes = fields.Integer(
        string="Undo Window (minutes)",
        default=DEFAULT_UNDO_MINUTES,
        help="Confirmation, change and cancellation messages wait this many "
        "minutes: a change undone or corrected meanwhile sends nothing or only "
        "the last word (R-9.4).",
    )
