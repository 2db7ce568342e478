"""Gateways that need no HTTP of ours: the sandbox and Odoo's IAP."""

import logging

from odoo.exceptions import AccessError, UserError

from .base import SmsGateway

_logger = logging.getLogger(__name__)

# IAP answer states (see odoo/addons/sms/tools/sms_api.py) and what they mean.
IAP_SENT = {"success", "processing", "duplicate_message"}
IAP_TEMPORARY = {"server_error", "insufficient_credit"}


class SandboxGateway(SmsGateway):
    """Delivers nowhere: the outbox row itself is the record of what was sent."""

    def send(self, messages, deadline=None):
        provider = self.provider
        state = "delivered" if provider.sandbox_auto_deliver else "sent"
        _logger.info(
            "SMS sandbox %s accepted %d message(s)", provider.id, len(messages)
        )
        return {
            message.id: {
                "state": state,
                "provider_message_id": f"sandbox-{message.reference}",
                "reason": False,
            }
            for message in messages
        }


class IapGateway(SmsGateway):
    """Odoo's SMS service, through the sms module's API class; IAP drops
    duplicate uuids, so a message sent twice reaches the phone once."""

    def send(self, messages, deadline=None):
        payload = [
            {
                "content": message.body,
                "numbers": [{"uuid": message.reference, "number": message.phone}],
            }
            for message in messages
        ]
        # imported here: the sms addon is only importable once Odoo has set up
        # its addons path, and only this provider type needs it
        from odoo.addons.sms.tools.sms_api import SmsApi

        api = SmsApi(self.env)
        api._set_company(messages.company_id[:1])
        try:
            answers = api._send_sms_batch(payload)
        except (AccessError, UserError, OSError) as error:
            _logger.warning("Odoo IAP SMS unavailable: %s", type(error).__name__)
            reason = self.env._("Odoo's SMS service could not be reached.")
            return {
                message.id: {"state": "retry", "reason": reason} for message in messages
            }
        by_uuid = {answer.get("uuid"): answer.get("state") for answer in answers or []}
        results = {}
        for message in messages:
            state = by_uuid.get(message.reference)
            if state in IAP_SENT:
                results[message.id] = {
                    "state": "sent",
                    "provider_message_id": message.reference,
                    "reason": False,
                }
            else:
                results[message.id] = {
                    "state": "retry"
                    if state in IAP_TEMPORARY or state is None
                    else "failed",
                    "reason": self.env._("Odoo SMS answered: %(state)s", state=state),
                }
        return results
