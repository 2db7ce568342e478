"""Generic gateways: a JSON batch or one form POST per message, webhooks
signed with ``X-Clinic-Timestamp`` and ``X-Clinic-Signature`` (R-7.2,
R-7.5)."""

import time

from ..tools import signatures
from .base import clean_inbound, json_body
from .http_base import HttpGateway

GENERIC_DLR = {
    "delivered": ("delivered", False),
    "undelivered": ("undelivered", False),
    "expired": ("undelivered", False),
    "failed": ("rejected", True),
    "rejected": ("rejected", True),
    "sent": ("sent", False),
}
SIGNATURE_MAX_AGE = 300  # seconds a generic webhook signature stays valid


class GenericGateway(HttpGateway):
    """Webhooks shared by the generic flavours; they sign the body only."""

    def _headers(self):
        return {"Authorization": f"Bearer {self.provider.password or ''}"}

    def verify(self, kind, data):
        headers = data["headers"]
        timestamp = headers.get("X-Clinic-Timestamp", "")
        if (
            not (timestamp.isascii() and timestamp.isdigit())
            or abs(time.time() - int(timestamp)) > SIGNATURE_MAX_AGE
        ):
            return False
        return signatures.verify_hmac(
            self.provider.webhook_secret or "",
            timestamp.encode() + b"." + data["body"],
            headers.get("X-Clinic-Signature", ""),
        )

    def _reports(self, data):
        return [data["params"]]

    def _inbound_source(self, data):
        return data["params"]

    def dlr_events(self, data):
        events = []
        for report in self._reports(data):
            if not isinstance(report, dict) or not all(
                isinstance(report.get(key), str | None)
                for key in ("reference", "status")
            ):
                raise ValueError(
                    "A delivery report must be an object with text values."
                )
            status, refund = GENERIC_DLR.get(report.get("status"), (None, False))
            events.append(
                {
                    "reference": report.get("reference"),
                    "status": status,
                    "refund": refund,
                    "detail": report.get("error"),
                }
            )
        return events

    def inbound_values(self, data):
        source = self._inbound_source(data)
        values = clean_inbound(
            {
                "external_id": source.get("id"),
                "from": source.get("from"),
                "to": source.get("to"),
                "text": source.get("text"),
            }
        )
        signature = data["headers"].get("X-Clinic-Signature", "")
        if not values["external_id"] and signature:
            # without an id of its own, a signed call is named by its
            # signature (timestamp and body): a replay within the signature's
            # lifetime is received once
            values["external_id"] = f"sig:{signature[:64]}"
        return values


class FormGateway(GenericGateway):
    """One form POST per message."""

    def prepare(self, message):
        return {
            "method": "POST",
            "url": self.provider.api_url,
            "data": {
                "reference": message.reference,
                "to": message.phone,
                "from": self.sender_for(message),
                "text": message.body,
                "callback_url": self.callback_url("dlr"),
            },
            "headers": self._headers(),
        }


class JsonGateway(GenericGateway):
    """One JSON request for the whole batch, answered per message."""

    def _reports(self, data):
        return json_body(data)["reports"]

    def _inbound_source(self, data):
        return json_body(data)

    def send(self, messages, deadline=None):
        start, granted = self.reserve(len(messages), deadline)
        messages = messages[:granted]
        if not messages:
            return {}
        payload = {
            "messages": [
                {
                    "reference": message.reference,
                    "to": message.phone,
                    "from": self.sender_for(message),
                    "text": message.body,
                }
                for message in messages
            ],
            "callback_url": self.callback_url("dlr"),
        }
        spec = {
            "method": "POST",
            "url": self.provider.api_url,
            "json": payload,
            "headers": self._headers(),
        }
        [attempt] = self.perform([spec], deadline, reservation=(start, 1))
        if attempt is None:
            return {}
        if attempt.error is not None or attempt.response.status_code >= 300:
            first = self.result(messages[:1], attempt)
            results = {message.id: dict(first) for message in messages}
            self.honour_retry_after(results)
            return results
        try:
            answers = {
                item.get("reference"): item
                for item in attempt.response.json().get("results", [])
                if isinstance(item, dict)
            }
        except (ValueError, AttributeError):
            answers = {}
        results = {}
        for message in messages:
            answer = answers.get(message.reference)
            if answer is None:
                # accepted as a whole without a per-message answer
                results[message.id] = {
                    "state": "sent",
                    "provider_message_id": message.reference,
                    "reason": False,
                }
            elif answer.get("status") == "accepted":
                results[message.id] = {
                    "state": "sent",
                    "provider_message_id": answer.get("id") or message.reference,
                    "reason": False,
                }
            else:
                results[message.id] = {
                    "state": "retry" if answer.get("temporary") else "failed",
                    "provider_message_id": False,
                    "reason": str(answer.get("error") or answer.get("status"))[:200],
                }
        return results
