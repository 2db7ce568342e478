from odoo import fields, models

CONSENT_PURPOSES = [
    ("appointment", "Appointment messages"),
    ("recall", "Recall campaigns"),
    ("marketing", "Marketing"),
]
CONSENT_SOURCES = [
    ("user", "User"),
    ("import", "Import"),
    ("sms_reply", "SMS reply"),
    ("portal", "Portal"),
    ("system", "System"),
]


class ClinicSmsConsentLog(models.Model):
    """Proof of consent: one immutable row per change of a patient's consent."""

    _name = "clinic.sms.consent.log"
    _description = "SMS Consent Change"
    _order = "date desc, id desc"

    partner_id = fields.Many2one(
        "res.partner", string="Patient", required=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one(
        "res.company",
        string="Clinic",
        default=lambda self: self.env.company,
        index=True,
    )
    purpose = fields.Selection(CONSENT_PURPOSES, required=True)
    granted = fields.Boolean(help="True when consent was given, False when withdrawn.")
    source = fields.Selection(CONSENT_SOURCES, required=True, default="user")
    date = fields.Datetime(required=True, default=fields.Datetime.now, readonly=True)
    user_id = fields.Many2one(
        "res.users",
        string="Recorded By",
        default=lambda self: self.env.user,
        readonly=True,
    )
    note = fields.Char()
