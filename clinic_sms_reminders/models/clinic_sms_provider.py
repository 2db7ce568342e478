import base64
import hmac
import json
import logging
import time
from urllib.parse import urlencode

import requests

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

from ..tools import segments, signatures

_logger = logging.getLogger(__name__)

# HTTP statuses worth another try later; any other 4xx is permanent.
TEMPORARY_STATUSES = {408, 425, 429, 500, 502, 503, 504}


# IAP answer states (see odoo/addons/sms/tools/sms_api.py) and what they mean here.
IAP_SENT = {"success", "processing", "duplicate_message"}
IAP_TEMPORARY = {"server_error", "insufficient_credit"}


# Delivery statuses of the gateways mapped onto (state, refund): a refund only
# when the gateway says the message never left.
KANNEL_DLR = {
    1: ("delivered", False),
    2: ("undelivered", False),
    4: ("sent", False),
    8: ("sent", False),
    16: ("rejected", True),
}
TWILIO_DLR = {
    "delivered": ("delivered", False),
    "undelivered": ("undelivered", False),
    "failed": ("rejected", True),
    "sent": ("sent", False),
    "sending": ("sent", False),
    "queued": ("sent", False),
    "accepted": ("sent", False),
}
GENERIC_DLR = {
    "delivered": ("delivered", False),
    "undelivered": ("undelivered", False),
    "expired": ("undelivered", False),
    "failed": ("rejected", True),
    "rejected": ("rejected", True),
    "sent": ("sent", False),
}
AMBIGUOUS = object()  # a request sent and never answered
SIGNATURE_MAX_AGE = 300  # seconds a generic webhook signature stays valid


class ClinicSmsProvider(models.Model):
    """A way out for SMS. Integrators add a type with ``selection_add`` and
    implement ``_<type>_send_batch`` (see readme/CONFIGURE.md)."""

    _name = "clinic.sms.provider"
    _description = "SMS Provider"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    provider_type = fields.Selection(
        [
            ("sandbox", "Sandbox (sends nothing)"),
            ("iap", "Odoo SMS (IAP)"),
            ("http", "HTTP gateway"),
        ],
        string="Type",
        required=True,
        default="sandbox",
    )
    active = fields.Boolean(default=True)
    sequence = fields.Integer(default=10)
    company_id = fields.Many2one(
        "res.company",
        string="Clinic",
        index=True,
        help="Leave empty to share this provider between all clinics.",
    )
    batch_size = fields.Integer(
        default=500, help="Messages handed to the provider per call."
    )
    timeout = fields.Float(
        string="Timeout (seconds)", default=10.0, help="Network timeout per call."
    )
    sandbox_auto_deliver = fields.Boolean(
        string="Simulate Delivery Reports",
        default=True,
        help="Sandbox only: mark accepted messages as delivered at once.",
    )
    message_count = fields.Integer(compute="_compute_message_count")
    http_flavor = fields.Selection(
        [
            ("twilio", "Twilio"),
            ("kannel", "Kannel"),
            ("json", "Generic JSON"),
            ("form", "Generic form POST"),
        ],
        string="Gateway",
        default="json",
    )
    api_url = fields.Char(
        string="API URL",
        help="Twilio: https://api.twilio.com; Kannel: "
        "http://host:13013/cgi-bin/sendsms; generic: the URL messages are posted to.",
    )
    username = fields.Char(help="Twilio Account SID, Kannel user, or generic API user.")
    password = fields.Char(
        groups="clinic_sms_reminders.group_clinic_sms_manager",
        help="Twilio Auth Token, Kannel password, or generic API key. Never shown to "
        "receptionists, never put in a URL or a log.",
    )
    webhook_secret = fields.Char(
        groups="clinic_sms_reminders.group_clinic_sms_manager",
        help="Shared secret that signs delivery reports and authenticates replies.",
    )
    callback_base_url = fields.Char(
        string="Callback Base URL",
        help="Address of this Odoo as the gateway reaches it, for delivery reports and "
        "replies; the database's web.base.url when empty.",
    )
    from_number = fields.Char(
        help="Sender number when the clinic has no alphanumeric sender name (Twilio).",
    )
    max_attempts = fields.Integer(
        default=5, help="Tries before a temporary failure becomes final."
    )

    _check_batch_size = models.Constraint(
        "CHECK (batch_size > 0)", "The batch size of a provider must be positive."
    )
    _check_max_attempts = models.Constraint(
        "CHECK (max_attempts > 0)", "A provider needs at least one attempt."
    )
    _check_timeout = models.Constraint(
        "CHECK (timeout > 0)", "The timeout of a provider must be positive."
    )

    def write(self, vals):
        result = super().write(vals)
        if "company_id" in vals:
            # record rules are checked before a write only: check them again so
            # that a provider cannot be handed to a clinic of others
            self.check_access("write")
        return result

    def _compute_message_count(self):
        counts = dict(
            self.env["clinic.sms.message"]._read_group(
                [("provider_id", "in", self.ids)], ["provider_id"], ["__count"]
            )
        )
        for provider in self:
            provider.message_count = counts.get(provider, 0)

    @api.model
    def _is_real_provider_type(self, provider_type):
        """Types that reach real phones; neutralised databases never use them."""
        return provider_type != "sandbox"

    def _callback_url(self, kind):
        """Public URL of this provider's webhook (kind: dlr or inbound)."""
        self.ensure_one()
        base = self.callback_base_url or self.env[
            "ir.config_parameter"
        ].sudo().get_param("web.base.url")
        return f"{base.rstrip('/')}/clinic_sms/{kind}/{self.id}"

    def _send_batch(self, messages, deadline=None):
        """Hand ``messages`` (clinic.sms.message, already rendered and paid for)
        to the provider.

        Returns a dict {message id: result} where result is a dict with keys
        ``state`` ('sent', 'delivered', 'retry' or 'failed'), ``provider_message_id``
        and ``reason`` (a human sentence for retry/failed).
        """
        self.ensure_one()
        if self._is_real_provider_type(self.provider_type) and self.env[
            "ir.config_parameter"
        ].sudo().get_param("database.is_neutralized"):
            # a copied, neutralised database never reaches real phones
            return {
                message.id: {
                    "state": "failed",
                    "reason": self.env._(
                        "This database is neutralised: only the sandbox sends."
                    ),
                }
                for message in messages
            }
        method = getattr(self, f"_{self.provider_type}_send_batch", None)
        if method is None:
            raise UserError(
                self.env._(
                    "The SMS provider type %(type)s cannot send messages.",
                    type=self.provider_type,
                )
            )
        return method(messages)

    def _sandbox_send_batch(self, messages):
        """Deliver nowhere: the outbox row itself is the record of what was sent."""
        state = "delivered" if self.sandbox_auto_deliver else "sent"
        _logger.info("SMS sandbox %s accepted %d message(s)", self.id, len(messages))
        return {
            message.id: {
                "state": state,
                "provider_message_id": f"sandbox-{message.reference}",
                "reason": False,
            }
            for message in messages
        }

    def action_view_messages(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "clinic_sms_reminders.clinic_sms_message_action"
        )
        action["domain"] = [("provider_id", "=", self.id)]
        return action

    # ------------------------------------------------------------------
    # HTTP gateways: Twilio, Kannel, generic JSON or form
    # ------------------------------------------------------------------

    def _http_send_batch(self, messages):
        self.ensure_one()
        sender = getattr(self, f"_http_{self.http_flavor}_send_batch")
        with requests.Session() as session:
            return sender(session, messages)

    # -- helpers ---------------------------------------------------------
    def _http_call(self, session, method, url, **kwargs):
        """One request; returns (response or None, reason when it failed)."""
        try:
            response = session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.ReadTimeout:  # sent, maybe accepted: never re-sent
            return AMBIGUOUS, self.env._("The gateway did not answer in time.")
        except requests.Timeout:
            return None, self.env._("The gateway did not answer in time.")
        except requests.RequestException as error:
            _logger.warning(
                "SMS gateway %s unreachable: %s", self.id, type(error).__name__
            )
            return None, self.env._("The gateway could not be reached.")
        return response, None

    def _http_outcome(self, response, reason):
        """'sent', 'retry', 'failed' or 'unknown' for an HTTP answer."""
        if response is AMBIGUOUS:
            return "unknown", reason
        if response is None:
            return "retry", reason
        if response.status_code < 300:
            return "sent", False
        detail = self.env._(
            "The gateway answered HTTP %(status)s: %(text)s",
            status=response.status_code,
            text=(response.text or "")[:200],
        )
        if response.status_code in TEMPORARY_STATUSES:
            return "retry", detail
        return "failed", detail

    def _reference_result(self, message, state, reason):
        """Result for gateways that know the message by our reference."""
        return {
            "state": state,
            "provider_message_id": message.reference if state == "sent" else False,
            "reason": reason,
        }

    def _sender_for(self, message):
        return message.company_id.clinic_sms_sender_name or self.from_number or ""

    # -- Kannel ------------------------------------------------------------
    def _kannel_dlr_url(self, message):
        signature = signatures.hmac_sha256_hex(
            self.webhook_secret or "", message.reference
        )
        query = urlencode({"ref": message.reference, "sig": signature})
        # %d is Kannel's placeholder for the delivery status, left unescaped
        return f"{self._callback_url('dlr')}?{query}&status=%d"

    def _http_kannel_send_batch(self, session, messages):
        """Kannel's sendsms with a POST: the text is the body and the other
        parameters are X-Kannel headers, so the password is in no URL."""
        results = {}
        for message in messages:
            info = segments.count(message.body)
            headers = {
                "Content-Type": "text/plain; charset=UTF-8",
                "X-Kannel-Username": self.username or "",
                "X-Kannel-Password": self.password or "",
                "X-Kannel-To": message.phone,
                "X-Kannel-From": self._sender_for(message),
                "X-Kannel-Coding": "2" if info.encoding == "ucs2" else "0",
                "X-Kannel-DLR-Mask": "31",
                "X-Kannel-DLR-Url": self._kannel_dlr_url(message),
            }
            response, reason = self._http_call(
                session,
                "POST",
                self.api_url,
                data=message.body.encode("utf-8"),
                headers=headers,
            )
            results[message.id] = self._reference_result(
                message, *self._http_outcome(response, reason)
            )
        return results

    # -- Twilio ------------------------------------------------------------
    def _http_twilio_send_batch(self, session, messages):
        base = (self.api_url or "https://api.twilio.com").rstrip("/")
        url = f"{base}/2010-04-01/Accounts/{self.username}/Messages.json"
        results = {}
        for message in messages:
            data = {
                "To": message.phone,
                "From": self._sender_for(message),
                "Body": message.body,
                "StatusCallback": self._callback_url("dlr"),
            }
            response, reason = self._http_call(
                session,
                "POST",
                url,
                data=data,
                auth=(self.username, self.password or ""),
            )
            state, reason = self._http_outcome(response, reason)
            sid = False
            if state == "sent":
                try:
                    sid = response.json().get("sid")
                except ValueError:
                    sid = False
            results[message.id] = {
                "state": state,
                "provider_message_id": sid,
                "reason": reason,
            }
        return results

    # -- generic JSON: one request per batch ------------------------------
    def _http_json_send_batch(self, session, messages):
        payload = {
            "messages": [
                {
                    "reference": message.reference,
                    "to": message.phone,
                    "from": self._sender_for(message),
                    "text": message.body,
                }
                for message in messages
            ],
            "callback_url": self._callback_url("dlr"),
        }
        headers = {"Authorization": f"Bearer {self.password or ''}"}
        response, reason = self._http_call(
            session, "POST", self.api_url, json=payload, headers=headers
        )
        state, reason = self._http_outcome(response, reason)
        if state != "sent":
            return {
                message.id: {"state": state, "reason": reason} for message in messages
            }
        try:
            answers = {
                item.get("reference"): item
                for item in response.json().get("results", [])
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
                }
            elif answer.get("status") == "accepted":
                results[message.id] = {
                    "state": "sent",
                    "provider_message_id": answer.get("id") or message.reference,
                }
            else:
                results[message.id] = {
                    "state": "retry" if answer.get("temporary") else "failed",
                    "reason": str(answer.get("error") or answer.get("status"))[:200],
                }
        return results

    # -- generic form: one request per message ---------------------------
    def _http_form_send_batch(self, session, messages):
        headers = {"Authorization": f"Bearer {self.password or ''}"}
        results = {}
        for message in messages:
            data = {
                "reference": message.reference,
                "to": message.phone,
                "from": self._sender_for(message),
                "text": message.body,
                "callback_url": self._callback_url("dlr"),
            }
            response, reason = self._http_call(
                session, "POST", self.api_url, data=data, headers=headers
            )
            results[message.id] = self._reference_result(
                message, *self._http_outcome(response, reason)
            )
        return results

    # ------------------------------------------------------------------
    # Webhooks: delivery reports and replies
    # ------------------------------------------------------------------

    def _webhook_params(self, httprequest):
        """The parameters of a webhook call, limited to what its signature
        covers: generic gateways sign the body only, so the query string of
        their calls is ignored (it could be changed without breaking the
        signature); Twilio posts its parameters and signs them with the whole
        URL, whose query string is not a parameter (counting it twice would
        refuse valid calls); Kannel names its message in the query string
        (R-7.5)."""
        self.ensure_one()
        if self.http_flavor in ("json", "form", "twilio"):
            return httprequest.form
        return httprequest.values

    def _webhook_verify(self, kind, data):
        """Constant-time check of the caller: signature or shared secret."""
        self.ensure_one()
        secret = self.webhook_secret or ""
        params, headers = data["params"], data["headers"]
        if self.http_flavor == "kannel":
            if kind == "dlr":
                return signatures.verify_hmac(
                    secret, params.get("ref", ""), params.get("sig", "")
                )
            return _basic_auth_matches(
                headers.get("Authorization", ""), "clinic", secret
            )
        if self.http_flavor == "twilio":
            return signatures.verify_twilio(
                self.password or "",
                data["url"],
                params,
                headers.get("X-Twilio-Signature", ""),
            )
        timestamp = headers.get("X-Clinic-Timestamp", "")
        if (
            not (timestamp.isascii() and timestamp.isdigit())
            or abs(time.time() - int(timestamp)) > SIGNATURE_MAX_AGE
        ):
            return False
        return signatures.verify_hmac(
            secret,
            timestamp.encode() + b"." + data["body"],
            headers.get("X-Clinic-Signature", ""),
        )

    def _webhook_dlr_events(self, data):
        """[{reference | provider_message_id, status, refund, detail}]"""
        self.ensure_one()
        params = data["params"]
        if self.http_flavor == "kannel":
            status, refund = KANNEL_DLR.get(_int(params.get("status")), (None, False))
            return [
                {"reference": params.get("ref"), "status": status, "refund": refund}
            ]
        if self.http_flavor == "twilio":
            status, refund = TWILIO_DLR.get(params.get("MessageStatus"), (None, False))
            return [
                {
                    "provider_message_id": params.get("MessageSid"),
                    "status": status,
                    "refund": refund,
                    "detail": params.get("ErrorCode"),
                }
            ]
        reports = (
            _json_body(data)["reports"] if self.http_flavor == "json" else [params]
        )
        events = []
        for report in reports:
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

    def _webhook_inbound_values(self, data):
        """{external_id, from, to, text} of a received SMS."""
        self.ensure_one()
        params = data["params"]
        if self.http_flavor == "twilio":
            values = {
                "external_id": params.get("MessageSid"),
                "from": params.get("From"),
                "to": params.get("To"),
                "text": params.get("Body"),
            }
        else:
            source = _json_body(data) if self.http_flavor == "json" else params
            values = {
                "external_id": source.get("id"),
                "from": source.get("from"),
                "to": source.get("to"),
                "text": source.get("text"),
            }
        if not isinstance(values["from"], str) or not values["from"].strip():
            raise ValueError("A received SMS needs the sender's number.")
        for key in ("external_id", "to", "text"):
            if values[key] is not None and not isinstance(values[key], str):
                values[key] = str(values[key])
        return values

    def _webhook_dlr(self, data):
        """Apply delivery reports; returns how many messages they matched."""
        return self.env["clinic.sms.message"]._apply_delivery_reports(
            self, self._webhook_dlr_events(data)
        )

    def _webhook_inbound(self, data):
        values = self._webhook_inbound_values(data)
        signature = data["headers"].get("X-Clinic-Signature", "")
        if not values.get("external_id") and self.http_flavor in ("json", "form"):
            # without an id of its own, a signed call is named by its signature
            # (timestamp and body): a replay within the signature's lifetime is
            # received once
            values["external_id"] = signature and f"sig:{signature[:64]}"
        return self.env["clinic.sms.inbound"]._receive(self, values)

    # ------------------------------------------------------------------
    # Odoo IAP (the sms module's API class; IAP drops duplicate uuids)
    # ------------------------------------------------------------------

    def _iap_send_batch(self, messages):
        self.ensure_one()
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
                }
            else:
                results[message.id] = {
                    "state": "retry"
                    if state in IAP_TEMPORARY or state is None
                    else "failed",
                    "reason": self.env._("Odoo SMS answered: %(state)s", state=state),
                }
        return results


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _json_body(data):
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


def _basic_auth_matches(header, user, secret):
    if not secret or not header.startswith("Basic "):
        return False
    try:
        decoded = base64.b64decode(header[6:], validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return False
    expected = f"{user}:{secret}".encode()
    return hmac.compare_digest(decoded.encode(), expected)
