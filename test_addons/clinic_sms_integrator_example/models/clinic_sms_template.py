from odoo import models


class ClinicSmsTemplate(models.Model):
    """A placeholder of the integrator's: the patient's file number."""

    _inherit = "clinic.sms.template"

    def _placeholder_definitions(self):
        return {**super()._placeholder_definitions(), "patient_ref": 12}

    def _placeholder_labels(self):
        return {**super()._placeholder_labels(), "patient_ref": self.env._("File no.")}

    def _placeholder_values(self, partner, event, company):
        values = super()._placeholder_values(partner, event, company)
        values["patient_ref"] = partner.ref or ""
        return values
