"""Twilio's Messages API, its status callbacks and its status lookups
(R-7.2, R-7.5)."""

import json
from urllib.parse import urlencode

from ..tools import signatures
from .base import clean_inbound
from .http_base import HttpGateway

TWILIO_DLR = {
    "delivered": ("delivered", False),
    "undelivered": ("undelivered", False),
    "failed": ("rejected", True),
    "sent": ("sent", False),
    "sending": ("sent", False),
    "queued": ("sent", False),
    "accepted": ("sent", False),
}
# Twilio's message statuses as a send result (fetch_status): failed and
# canceled never left Twilio; undelivered left and is not refunded.
TWILIO_SENT = {"accepted", "scheduled", "queued", "sending", "sent", "undelivered"}
TWILIO_DELIVERED = {"delivered", "read"}
TWILIO_FAILED = {"failed", "canceled"}
API_VERSION = "2010-04-01"


class TwilioGateway(HttpGateway):
    can_fetch_status = True

    def _messages_url(self, sid=None):
        provider = self.provider
        base = (provider.api_url or "https://api.twilio.com").rstrip("/")
        url = f"{base}/{API_VERSION}/Accounts/{provider.username}/Messages"
        return f"{url}/{sid}.json" if sid else f"{url}.json"

    def _auth(self):
        return (self.provider.username, self.provider.password or "")

    def status_callback(self, message):
        """The status callback URL names our message: a report arriving
        before Twilio's answer (and so before its SID is stored) still finds
        it. Twilio signs the whole URL, query string included."""
        return f"{self.callback_url('dlr')}?{urlencode({'ref': message.reference})}"

    def prepare(self, message):
        return {
            "method": "POST",
            "url": self._messages_url(),
            "data": {
                "To": message.phone,
                "From": self.sender_for(message),
                "Body": message.body,
                "StatusCallback": self.status_callback(message),
            },
            "auth": self._auth(),
        }

    def parse(self, message, response):
        return {
            "state": "sent",
            "provider_message_id": _payload(response).get("sid") or False,
            "reason": False,
        }

    # -- reconciliation --------------------------------------------------
    def fetch_status(self, messages):
        """What Twilio knows of ``messages`` (outcome unknown): by SID when we
        have it, else among the latest messages to the same number, matched
        by text. A successful lookup without a match means Twilio never took
        the message ('retry'); a failed lookup leaves the message out."""
        specs = []
        for message in messages:
            sid = message.provider_message_id
            if sid and sid.startswith(("SM", "MM")):
                specs.append({"method": "GET", "url": self._messages_url(sid)})
            else:
                specs.append(
                    {
                        "method": "GET",
                        "url": self._messages_url(),
                        "params": {"To": message.phone, "PageSize": 50},
                    }
                )
            specs[-1]["auth"] = self._auth()
        attempts = self.perform(specs, limited=False)
        results = {}
        for message, attempt in zip(messages, attempts, strict=True):
            response = attempt and attempt.response
            if response is None or response.status_code != 200:
                continue
            payload = _payload(response)
            if "messages" in payload:
                found = [
                    item
                    for item in payload.get("messages") or []
                    if isinstance(item, dict) and item.get("body") == message.body
                ]
                payload = found[0] if found else None
            result = self._status_result(payload)
            if result:
                results[message.id] = result
        return results

    def _status_result(self, payload):
        if payload is None:
            return {
                "state": "retry",
                "provider_message_id": False,
                "reason": self.env._("Twilio has no record of this message."),
            }
        status = payload.get("status")
        sid = payload.get("sid") or False
        if status in TWILIO_DELIVERED:
            state = "delivered"
        elif status in TWILIO_SENT:
            state = "sent"
        elif status in TWILIO_FAILED:
            state = "failed"
        else:
            return None
        reason = False
        if state == "failed" or status == "undelivered":
            reason = self.env._(
                "Twilio reports %(status)s (error %(code)s).",
                status=status,
                code=payload.get("error_code") or "-",
            )
        return {
            "state": state,
            "provider_message_id": sid,
            "reason": reason,
            "delivery_status": status,
        }

    # -- webhooks: POST parameters, signed with the whole URL -------------
    def verify(self, kind, data):
        return signatures.verify_twilio(
            self.provider.password or "",
            data["url"],
            data["params"],
            data["headers"].get("X-Twilio-Signature", ""),
        )

    def dlr_events(self, data):
        params = data["params"]
        status, refund = TWILIO_DLR.get(params.get("MessageStatus"), (None, False))
        event = {
            "provider_message_id": params.get("MessageSid"),
            "status": status,
            "refund": refund,
            "detail": params.get("ErrorCode"),
        }
        reference = (data.get("query") or {}).get("ref")
        if isinstance(reference, str) and reference:
            event["reference"] = reference
        return [event]

    def inbound_values(self, data):
        params = data["params"]
        return clean_inbound(
            {
                "external_id": params.get("MessageSid"),
                "from": params.get("From"),
                "to": params.get("To"),
                "text": params.get("Body"),
            }
        )


def _payload(response):
    try:
        payload = response.json()
    except (ValueError, json.JSONDecodeError):
        return {}
    return payload if isinstance(payload, dict) else {}
