from odoo import api, fields, models

from ..tools import placeholders


class ClinicSmsTemplatePreview(models.TransientModel):
    """Preview a template on a real appointment (R-3.5) for SMS users, who may
    not edit templates (R-8.2): the template form's own preview needs write
    access, this wizard only reads."""

    _name = "clinic.sms.template.preview"
    _description = "Preview an SMS Template"

    template_id = fields.Many2one("clinic.sms.template", required=True)
    event_id = fields.Many2one(
        "calendar.event",
        string="Appointment",
        domain="[('clinic_patient_id', '!=', False)]",
    )
    body = fields.Text(compute="_compute_body", string="Preview")

    @api.depends("template_id", "event_id")
    def _compute_body(self):
        for wizard in self:
            event = wizard.event_id
            if not event or not wizard.template_id:
                wizard.body = False
                continue
            try:
                wizard.body = wizard.template_id._render(
                    event.clinic_patient_id, event, event._clinic_company()
                )
            except placeholders.PlaceholderError as error:
                wizard.body = str(error)
