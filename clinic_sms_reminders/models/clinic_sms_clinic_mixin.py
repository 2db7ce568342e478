"""The clinic a record belongs to (R-8.2): one definition of ``company_id``
for the clinic's own records (rules, messages, mailings, schedules,
campaigns, notification settings, waitlist), each kept to its clinic by the
record rules in security/."""

from odoo import fields, models


class ClinicSmsClinicMixin(models.AbstractModel):
    _name = "clinic.sms.clinic.mixin"
    _description = "Record of one clinic"

    company_id = fields.Many2one(
        "res.company",
        string="Clinic",
        required=True,
        index=True,
        default=lambda self: self.env.company,
    )
