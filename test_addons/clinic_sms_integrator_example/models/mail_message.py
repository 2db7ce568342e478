"""Another addon's ``mail.message``: a column of its own with a default, and
the case notes seen through the extension point (``create`` is not called
for them)."""

from odoo import fields, models


class MailMessage(models.Model):
    _inherit = "mail.message"

    acme_channel = fields.Char(default="chatter")
    acme_seen = fields.Boolean()

    def _clinic_sms_case_notes_logged(self):
        self.write({"acme_seen": True})
        return super()._clinic_sms_case_notes_logged()
