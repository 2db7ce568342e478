"""Kannel's sendsms and its delivery reports (R-7.2, R-7.5)."""

import base64
import hmac

from ..tools import segments, signatures
from .base import clean_inbound
from .http_base import HttpGateway

# Kannel's delivery statuses mapped onto (state, refund): a refund only when
# the message never left.
KANNEL_DLR = {
    1: ("delivered", False),
    2: ("undelivered", False),
    4: ("sent", False),
    8: ("sent", False),
    16: ("rejected", True),
}
# The statuses asked for: the final ones only (delivered, undelivered,
# refused by the SMSC). Each report then ends the message's story, so a
# report URL seen in a log can only repeat what already happened: any other
# status is refused, and a message past its final state never changes.
DLR_MASK = 1 | 2 | 16


def dlr_signature(secret, provider_id, mask, reference):
    """Signature of a report URL: it binds the provider, the statuses asked
    for, and the message (Kannel fills in the status itself)."""
    return signatures.hmac_sha256_hex(
        secret or "", f"kannel-dlr:{provider_id}:{mask}:{reference}"
    )


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class KannelGateway(HttpGateway):
    """sendsms with a POST: the text is the body and the other parameters are
    X-Kannel headers, so the password is in no URL."""

    def dlr_url(self, message):
        provider = self.provider
        signature = dlr_signature(
            provider.webhook_secret, provider.id, DLR_MASK, message.reference
        )
        # %d is Kannel's placeholder for the delivery status, left unescaped
        return (
            f"{self.callback_url('dlr')}?ref={message.reference}&mask={DLR_MASK}"
            f"&sig={signature}&status=%d"
        )

    def prepare(self, message):
        provider = self.provider
        info = segments.count(message.body)
        headers = {
            "Content-Type": "text/plain; charset=UTF-8",
            "X-Kannel-Username": provider.username or "",
            "X-Kannel-Password": provider.password or "",
            "X-Kannel-To": message.phone,
            "X-Kannel-From": self.sender_for(message),
            "X-Kannel-Coding": "2" if info.encoding == "ucs2" else "0",
            "X-Kannel-DLR-Mask": str(DLR_MASK),
            "X-Kannel-DLR-Url": self.dlr_url(message),
        }
        return {
            "method": "POST",
            "url": provider.api_url,
            "data": message.body.encode("utf-8"),
            "headers": headers,
        }

    # -- webhooks: Kannel names its message in the query string ------------
    def webhook_params(self, httprequest):
        return httprequest.values

    def verify(self, kind, data):
        provider = self.provider
        params = data["params"]
        if kind != "dlr":
            return basic_auth_matches(
                data["headers"].get("Authorization", ""),
                "clinic",
                provider.webhook_secret,
            )
        mask = _int(params.get("mask"))
        status = _int(params.get("status"))
        reference = params.get("ref", "")
        if mask is None or not isinstance(reference, str):
            return False
        valid = signatures.verify_hmac(
            provider.webhook_secret or "",
            f"kannel-dlr:{provider.id}:{mask}:{reference}",
            params.get("sig", ""),
        )
        # only a status Kannel was asked to report: one bit of the signed mask
        return valid and status in KANNEL_DLR and bool(status & mask & DLR_MASK)

    def dlr_events(self, data):
        params = data["params"]
        status, refund = KANNEL_DLR.get(_int(params.get("status")), (None, False))
        return [{"reference": params.get("ref"), "status": status, "refund": refund}]

    def inbound_values(self, data):
        params = data["params"]
        return clean_inbound(
            {
                "external_id": params.get("id"),
                "from": params.get("from"),
                "to": params.get("to"),
                "text": params.get("text"),
            }
        )


def basic_auth_matches(header, user, secret):
    if not secret or not isinstance(header, str) or not header.startswith("Basic "):
        return False
    try:
        decoded = base64.b64decode(header[6:], validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return False
    expected = f"{user}:{secret}".encode()
    return hmac.compare_digest(decoded.encode(), expected)
