from odoo import fields, models

from odoo.addons.clinic_sms_reminders.gateways import HttpGateway, base
from odoo.addons.clinic_sms_reminders.tools import signatures

STATES = {"DELIVRD": "delivered", "REJECTD": "rejected"}


class AcmeGateway(HttpGateway):
    """A JSON POST per message; reports signed with X-Acme-Signature."""

    def prepare(self, message):
        payload = {"reference": message.reference, "to": message.phone}
        payload.update(text=message.body, callback=self.callback_url("dlr"))
        return {"method": "POST", "url": self.provider.api_url, "json": payload}

    def verify(self, kind, data):
        sig = data["headers"].get("X-Acme-Signature", "")
        return signatures.verify_hmac(self.provider.webhook_secret, data["body"], sig)

    def dlr_events(self, data):
        report = base.json_body(data)  # ValueError (answered 400) if not JSON
        state = STATES.get(report.get("status"))
        ref = report.get("reference")
        return [{"reference": ref, "status": state, "refund": state == "rejected"}]


class ClinicSmsProvider(models.Model):
    _inherit = "clinic.sms.provider"

    provider_type = fields.Selection(
        selection_add=[("acme", "Acme SMS")], ondelete={"acme": "set default"}
    )

    def _get_gateway_class(self):
        if self.provider_type == "acme":
            return AcmeGateway
        return super()._get_gateway_class()
