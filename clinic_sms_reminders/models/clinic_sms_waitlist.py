"""The waitlist (R-9.3): patients waiting for an earlier slot, what each
one wants, and the message kinds of the offers. Freed slots are in
clinic_sms_waitlist_slot.py, the offers sent for them in
clinic_sms_waitlist_offer.py."""

from odoo import api, fields, models
from odoo.exceptions import UserError

WAITLIST_STATES = [
    ("waiting", "Waiting"),
    ("offered", "Offered"),
    ("booked", "Booked"),
    ("cancelled", "Cancelled"),
]
DEFAULT_OFFER_COUNT = 3
DEFAULT_MOVE_HOURS = 24


class ClinicSmsMessage(models.Model):
    _inherit = "clinic.sms.message"  # pylint: disable=consider-merging-classes-inherited

    kind = fields.Selection(
        selection_add=[
            ("waitlist_offer", "Waitlist offer"),
            ("waitlist_taken", "Waitlist slot taken"),
        ],
        ondelete={"waitlist_offer": "cascade", "waitlist_taken": "cascade"},
    )


class ClinicSmsTemplate(models.Model):
    _inherit = "clinic.sms.template"

    kind = fields.Selection(
        selection_add=[
            ("waitlist_offer", "Waitlist offer"),
            ("waitlist_taken", "Waitlist slot taken"),
        ],
        ondelete={"waitlist_offer": "cascade", "waitlist_taken": "cascade"},
    )


class ClinicSmsWaitlist(models.Model):
    """A patient waiting for an earlier slot with a practitioner or for a
    service (R-9.3). Entries are offered freed slots in ``sequence`` order."""

    _name = "clinic.sms.waitlist"
    _inherit = "clinic.sms.clinic.mixin"
    _description = "Waitlist Entry"
    _order = "sequence, create_date, id"
    _rec_name = "partner_id"

    partner_id = fields.Many2one(
        "res.partner", string="Patient", required=True, index=True, ondelete="cascade"
    )
    practitioner_id = fields.Many2one(
        "res.partner", help="Any practitioner when empty."
    )
    service_ids = fields.Many2many(
        "product.product",
        "clinic_sms_waitlist_product_rel",
        "waitlist_id",
        "product_id",
        string="Services",
        help="Any service when empty; otherwise a slot for one of these services.",
    )
    date_from = fields.Date(
        string="Earliest", help="The patient cannot come before this day."
    )
    date_to = fields.Date(string="Latest", help="A slot after this day is not wanted.")
    duration = fields.Float(
        default=0.5, help="Length of the appointment to book, in hours."
    )
    state = fields.Selection(
        WAITLIST_STATES, required=True, default="waiting", index=True, readonly=True
    )
    sequence = fields.Integer(default=10, help="Lower numbers are offered first.")
    appointment_id = fields.Many2one(
        "calendar.event",
        string="Current Appointment",
        ondelete="set null",
        help="The later appointment the patient would like to bring forward.",
    )
    booked_event_id = fields.Many2one(
        "calendar.event", string="Booked Appointment", readonly=True
    )
    offer_ids = fields.One2many("clinic.sms.waitlist.offer", "waitlist_id")
    offer_count = fields.Integer(compute="_compute_offer_count", string="Offers")
    note = fields.Char()

    @api.depends("offer_ids")
    def _compute_offer_count(self):
        for entry in self:
            entry.offer_count = len(entry.offer_ids)

    @api.constrains("date_from", "date_to")
    def _check_dates(self):
        for entry in self:
            if entry.date_from and entry.date_to and entry.date_from > entry.date_to:
                raise UserError(
                    self.env._("The earliest day must come before the latest day.")
                )

    def action_cancel(self):
        """The patient does not wait any more: their open offers expire."""
        self.write({"state": "cancelled"})
        # offers change through the waitlist's own methods only
        self.sudo().offer_ids.filtered(lambda o: o.state == "offered").write(
            {"state": "expired"}
        )
        return True

    def action_reset(self):
        self.filtered(lambda e: e.state == "cancelled").write({"state": "waiting"})
        return True

    def _sync_state(self):
        """Back to waiting when no offer is open any more."""
        for entry in self:
            if entry.state != "offered":
                continue
            if not entry.offer_ids.filtered(lambda o: o.state == "offered"):
                entry.state = "waiting"

    def _matches(self, slot):
        """Whether this entry wants ``slot`` (practitioner, service, days)."""
        self.ensure_one()
        if self.company_id != slot.company_id or self.partner_id == slot.patient_id:
            return False
        if self.practitioner_id and self.practitioner_id != slot.practitioner_id:
            return False
        if self.service_ids and not (self.service_ids & slot.service_ids):
            return False
        day = slot._local_day()
        if self.date_from and day < self.date_from:
            return False
        return not (self.date_to and day > self.date_to)
