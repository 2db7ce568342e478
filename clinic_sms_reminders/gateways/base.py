"""The gateway base class: one transport of SMS (R-7.2).

In the manner of Odoo's ``sms/tools/sms_api.py``: a provider record keeps the
configuration, and ``provider._get_gateway_class()`` picks the class that
speaks its transport. A gateway owns three things for its flavour:

* ``send(messages, deadline)``: hand rendered, paid messages over; returns
  ``{message id: result}`` (see ``ClinicSmsProvider._send_batch``);
* ``verify(kind, data)``: constant-time check of a webhook caller;
* ``dlr_events(data)`` / ``inbound_values(data)``: parse a webhook call.

``fetch_status(messages)`` asks the provider what became of messages whose
outcome is unknown, where it has a status API.

The methods that parse or verify webhooks read only ``webhook_secret``,
``password``, ``http_flavor`` and ``id`` of the provider, never the
database, so they can be checked without one.
"""

import json


class SmsGateway:
    #: whether /clinic_sms/dlr and /clinic_sms/inbound accept calls for it
    webhooks = False
    #: whether fetch_status can ask the provider about a message
    can_fetch_status = False

    def __init__(self, provider):
        self.provider = provider

    @property
    def env(self):
        return self.provider.env

    # -- sending -----------------------------------------------------------
    def send(self, messages, deadline=None):
        raise NotImplementedError

    def fetch_status(self, messages):
        return {}

    # -- webhooks ------------------------------------------------------------
    def webhook_params(self, httprequest):
        """The parameters covered by the signature: the body by default (a
        query string could be changed without breaking a body signature)."""
        return httprequest.form

    def verify(self, kind, data):
        return False

    def dlr_events(self, data):
        """[{reference and/or provider_message_id, status, refund, detail}]"""
        raise ValueError("This provider takes no delivery reports.")

    def inbound_values(self, data):
        """{external_id, from, to, text} of a received SMS."""
        raise ValueError("This provider takes no replies.")


def json_body(data):
    try:
        payload = json.loads(data["body"].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise ValueError("The body is not valid UTF-8 JSON.") from error
    if not isinstance(payload, dict):
        raise ValueError("The body must be a JSON object.")  # noqa: TRY004
    if "reports" in payload and not isinstance(payload["reports"], list):
        raise ValueError("reports must be a list.")
    payload.setdefault("reports", [])
    return payload


def clean_inbound(values):
    if not isinstance(values["from"], str) or not values["from"].strip():
        raise ValueError("A received SMS needs the sender's number.")
    for key in ("external_id", "to", "text"):
        if values[key] is not None and not isinstance(values[key], str):
            values[key] = str(values[key])
    return values
