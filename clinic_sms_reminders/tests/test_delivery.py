import base64
import time
from datetime import timedelta
from unittest.mock import patch

import requests
from urllib3.exceptions import MaxRetryError

from odoo.addons.clinic_sms_reminders.gateways.kannel import DLR_MASK, dlr_signature
from odoo.addons.clinic_sms_reminders.models.clinic_sms_message import retry_delay
from odoo.addons.clinic_sms_reminders.tools import signatures

from .common import ClinicSmsCase


class FakeResponse:
    def __init__(self, status=202, text="0: Accepted for delivery", payload=None):
        self.status_code = status
        self.text = text
        self._payload = payload

    def json(self):
        if self._payload is None:
            raise ValueError("no JSON")
        return self._payload


class DeliveryCase(ClinicSmsCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.clinic_sms_sender_name = "CliniqueTst"
        cls.kannel = cls.env["clinic.sms.provider"].create(
            {
                "name": "Kannel",
                "company_id": cls.company.id,
                "provider_type": "http",
                "http_flavor": "kannel",
                "api_url": "http://127.0.0.1:13013/cgi-bin/sendsms",
                "username": "clinic",
                "password": "kannel-pass",
                "webhook_secret": "hook-secret",
                "callback_base_url": "http://127.0.0.1:8069",
            }
        )
        cls.company.clinic_sms_provider_id = cls.kannel

    def _due(self, **values):
        event = self._appointment(**values)
        return self._messages(event)

    def _send(self, message, responses):
        calls = []

        def fake_request(session, method, url, **kwargs):
            calls.append((method, url, kwargs))
            answer = responses.pop(0) if len(responses) > 1 else responses[0]
            if isinstance(answer, Exception):
                raise answer
            return answer

        with patch.object(requests.Session, "request", fake_request):
            self._dispatch(message.scheduled_at)
        return calls


class TestHttpProviders(DeliveryCase):
    def test_kannel_request(self):
        """R-7.2 R-7.7 R-3.3: Kannel sendsms with sender, coding and DLR URL;
        the password travels in a header, never in a URL."""
        self.template.body = "Fête {patient_first_name} {date}"
        message = self._due()
        calls = self._send(message, [FakeResponse()])
        self.assertEqual(len(calls), 1)
        method, url, kwargs = calls[0]
        headers = kwargs["headers"]
        self.assertEqual((method, url), ("POST", self.kannel.api_url))
        self.assertNotIn("kannel-pass", url)
        self.assertEqual(headers["X-Kannel-Password"], "kannel-pass")
        self.assertEqual(headers["X-Kannel-To"], "+33612345678")
        self.assertEqual(headers["X-Kannel-From"], "CliniqueTst")
        self.assertEqual(headers["X-Kannel-Coding"], "2")
        self.assertEqual(kwargs["data"].decode(), message.body)
        self.assertIn(f"ref={message.reference}", headers["X-Kannel-DLR-Url"])
        self.assertTrue(headers["X-Kannel-DLR-Url"].endswith("&status=%d"))
        self.assertEqual(headers["X-Kannel-DLR-Mask"], str(DLR_MASK))
        self.assertEqual(kwargs.get("timeout"), self.kannel.timeout)
        self.assertEqual(message.state, "sent")
        self.assertEqual(message.provider_message_id, message.reference)

    def test_temporary_failures_retry_with_backoff(self):
        """R-7.4: timeouts, HTTP 429 and 5xx are retried with exponential
        back-off up to the provider's maximum; the units are refunded meanwhile."""
        message = self._due()
        balance = self.wallet.balance
        self._send(message, [requests.ConnectTimeout()])
        self.assertEqual(
            (message.state, message.reason), ("queued", "provider_temporary")
        )
        self.assertEqual(message.attempt_count, 1)
        first_retry = message.scheduled_at
        self.assertEqual(self.wallet.balance, balance)
        self._send(message, [FakeResponse(429, "Too many requests")])
        self.assertEqual(message.state, "queued")
        self.assertEqual(message.scheduled_at - first_retry, retry_delay(2))
        self.assertIn("429", message.reason_detail)
        self.kannel.max_attempts = 3
        self._send(message, [FakeResponse(503, "Unavailable")])
        self.assertEqual(
            (message.state, message.reason), ("failed", "provider_temporary")
        )
        self.assertEqual(message.attempt_count, 3)
        self.assertEqual(self.wallet.balance, balance)
        self.assertEqual(
            [retry_delay(n) for n in (1, 2, 3, 10)],
            [
                timedelta(minutes=1),
                timedelta(minutes=2),
                timedelta(minutes=4),
                timedelta(hours=1),
            ],
        )

    def test_permanent_failure_not_retried(self):
        """R-7.4: a refusal (4xx) fails at once with the gateway's reason."""
        message = self._due()
        self._send(message, [FakeResponse(400, "Invalid destination")])
        self.assertEqual(
            (message.state, message.reason), ("failed", "provider_rejected")
        )
        self.assertIn("Invalid destination", message.reason_detail)
        self.assertEqual(message.attempt_count, 1)

    def test_connection_error_is_temporary(self):
        """R-7.4: a connection that could not be opened (refused, DNS) is
        temporary: nothing was sent."""
        message = self._due()
        refused = MaxRetryError(None, self.kannel.api_url, reason=ConnectionError())
        self._send(message, [requests.ConnectionError(refused)])
        self.assertEqual(message.state, "queued")

    def test_twilio_and_json_providers(self):
        """R-7.2: Twilio Messages API and a generic JSON batch."""
        twilio = self.kannel.copy(
            {
                "http_flavor": "twilio",
                "api_url": "http://127.0.0.1:9999",
                "username": "AC1",
            }
        )
        self.company.clinic_sms_provider_id = twilio
        message = self._due()
        calls = self._send(message, [FakeResponse(201, "", {"sid": "SM123"})])
        _method, url, kwargs = calls[0]
        self.assertEqual(
            url, "http://127.0.0.1:9999/2010-04-01/Accounts/AC1/Messages.json"
        )
        self.assertEqual(kwargs["data"]["From"], "CliniqueTst")
        self.assertEqual(kwargs["auth"], ("AC1", "kannel-pass"))
        self.assertEqual(message.provider_message_id, "SM123")
        generic = self.kannel.copy(
            {"http_flavor": "json", "api_url": "http://127.0.0.1:9998/sms"}
        )
        self.company.clinic_sms_provider_id = generic
        other = self._due(clinic_patient_id=self.patient.copy({"name": "Ann Other"}).id)
        answer = {
            "results": [
                {"reference": other.reference, "status": "rejected", "error": "bad"}
            ]
        }
        calls = self._send(other, [FakeResponse(200, "", answer)])
        self.assertEqual(
            calls[0][2]["json"]["messages"][0]["reference"], other.reference
        )
        self.assertEqual(calls[0][2]["headers"]["Authorization"], "Bearer kannel-pass")
        self.assertEqual((other.state, other.reason_detail), ("failed", "bad"))

    def test_neutralized_database_never_sends_for_real(self):
        """R-7.9: a neutralised database never calls a real provider, and the
        neutralisation script leaves only the sandbox active."""
        self.env["ir.config_parameter"].sudo().set_param(
            "database.is_neutralized", True
        )
        message = self._due()
        calls = self._send(message, [FakeResponse()])
        self.assertFalse(calls)
        self.assertEqual(message.state, "failed")
        from odoo.modules.neutralize import get_neutralization_queries

        for query in get_neutralization_queries(["clinic_sms_reminders"]):
            self.env.cr.execute(query)
        self.env.invalidate_all()
        self.assertFalse(self.kannel.active)
        self.assertEqual(
            self.company._clinic_sms_get_provider().provider_type, "sandbox"
        )


class TestWebhooks(DeliveryCase):
    def _data(self, params, headers=None, body=b"", url="http://127.0.0.1:8069/x"):
        return {"url": url, "params": params, "headers": headers or {}, "body": body}

    def _sent_message(self):
        message = self._due()
        self._send(message, [FakeResponse()])
        self.assertEqual(message.state, "sent")
        return message

    def _kannel_dlr(self, message, status, secret="hook-secret"):
        signature = dlr_signature(secret, self.kannel.id, DLR_MASK, message.reference)
        return self._data(
            {
                "ref": message.reference,
                "mask": str(DLR_MASK),
                "sig": signature,
                "status": str(status),
            }
        )

    def test_kannel_delivery_report(self):
        """R-7.5: a signed DLR marks the message delivered; replaying it changes
        nothing; a forged one is refused."""
        message = self._sent_message()
        forged = self._kannel_dlr(message, 1, secret="wrong")
        self.assertFalse(self.kannel._webhook_verify("dlr", forged))
        data = self._kannel_dlr(message, 1)
        self.assertTrue(self.kannel._webhook_verify("dlr", data))
        self.assertEqual(self.kannel._webhook_dlr(data), 1)
        self.assertEqual(message.state, "delivered")
        delivered_at = message.delivered_at
        self.kannel._webhook_dlr(data)
        self.assertEqual(
            (message.state, message.delivered_at), ("delivered", delivered_at)
        )

    def test_dlr_rejection_refunds(self):
        """R-7.5 R-6.3: a DLR saying the message never left refunds its unit;
        undelivered does not."""
        balance = self.wallet.balance
        message = self._sent_message()
        self.kannel._webhook_dlr(self._kannel_dlr(message, 16))
        self.assertEqual(
            (message.state, message.reason), ("failed", "provider_rejected")
        )
        self.assertEqual(self.wallet.balance, balance)
        other = self._due(clinic_patient_id=self.patient.copy().id)
        self._send(other, [FakeResponse()])
        self.kannel._webhook_dlr(self._kannel_dlr(other, 2))
        self.assertEqual((other.state, other.reason), ("failed", "undelivered"))
        self.assertEqual(self.wallet.balance, balance - 1)

    def test_failure_report_after_delivery_changes_nothing(self):
        """R-7.5 R-6.3: a report only moves a message forward: a failure report
        arriving after the delivery report (late, replayed or out of order)
        neither fails the delivered message nor refunds its unit."""
        balance = self.wallet.balance
        message = self._sent_message()
        self.kannel._webhook_dlr(self._kannel_dlr(message, 1))
        self.assertEqual(message.state, "delivered")
        for status in (16, 2):
            self.assertEqual(
                self.kannel._webhook_dlr(self._kannel_dlr(message, status)), 1
            )
            self.assertEqual((message.state, message.reason), ("delivered", False))
        self.assertEqual(self.wallet.balance, balance - 1)

    def test_dlr_of_another_provider_changes_nothing(self):
        """R-7.5: a DLR through another clinic's provider matches nothing."""
        message = self._sent_message()
        other_company = self.env["res.company"].create({"name": "Other"})
        stranger = self.kannel.copy({"company_id": other_company.id})
        data = self._kannel_dlr(message, 1)
        self.assertEqual(stranger._webhook_dlr(data), 0)
        self.assertEqual(message.state, "sent")

    def test_malformed_reports_raise_validation_error(self):
        """R-7.5: malformed calls raise ValueError (answered 400) and change nothing."""
        message = self._sent_message()
        for params in ({"ref": message.reference, "status": "99"}, {"status": "1"}):
            with self.assertRaises(ValueError):
                self.kannel._webhook_dlr(self._data(params))
        generic = self.kannel.copy({"http_flavor": "json"})
        for body in (
            b"\xff\xfe",
            b"[1, 2]",
            b'{"reports": 3}',
            b'{"reports": ["x"]}',
            b'{"reports": [{"reference": "r1", "status": ["delivered"]}]}',
            b'{"reports": [{"reference": {"a": 1}, "status": "delivered"}]}',
        ):
            with self.assertRaises(ValueError):
                generic._webhook_dlr(self._data({}, body=body))
        self.assertEqual(message.state, "sent")

    def test_kannel_report_url_binds_provider_statuses_and_message(self):
        """R-7.5: a Kannel report URL is signed for its provider, the statuses
        asked for and the message; Kannel fills in the status. Whoever holds
        a logged URL cannot use it elsewhere: the former reference-only
        signature, the URL sent to another provider sharing the secret, a
        widened mask, or a status Kannel was not asked to report (4, 8,
        combinations) are all refused."""
        message = self._sent_message()
        for status in (1, 2, 16):
            data = self._kannel_dlr(message, status)
            self.assertTrue(self.kannel._webhook_verify("dlr", data), status)
        for status in (0, 3, 4, 8, 17, 31, 32, "x"):
            data = self._kannel_dlr(message, status)
            self.assertFalse(self.kannel._webhook_verify("dlr", data), status)
        legacy = self._data(
            {
                "ref": message.reference,
                "sig": signatures.hmac_sha256_hex("hook-secret", message.reference),
                "status": "16",
            }
        )
        self.assertFalse(self.kannel._webhook_verify("dlr", legacy))
        widened = self._kannel_dlr(message, 8)
        widened["params"]["mask"] = "31"
        self.assertFalse(self.kannel._webhook_verify("dlr", widened))
        sibling = self.kannel.copy({"company_id": self.company.id})
        self.assertFalse(sibling._webhook_verify("dlr", self._kannel_dlr(message, 16)))
        self.assertEqual(message.state, "sent")

    def test_twilio_signature(self):
        """R-7.5: Twilio callbacks are checked with X-Twilio-Signature."""
        twilio = self.kannel.copy({"http_flavor": "twilio"})
        url = twilio._callback_url("dlr")
        params = {"MessageSid": "SM1", "MessageStatus": "delivered"}
        good = signatures.twilio_signature("kannel-pass", url, params)
        self.assertTrue(
            twilio._webhook_verify(
                "dlr", self._data(params, {"X-Twilio-Signature": good}, url=url)
            )
        )
        params_forged = dict(params, MessageStatus="failed")
        self.assertFalse(
            twilio._webhook_verify(
                "dlr", self._data(params_forged, {"X-Twilio-Signature": good}, url=url)
            )
        )

    def test_generic_signature_refuses_replays(self):
        """R-7.5: generic webhooks sign timestamp and body; old timestamps
        (replays) are refused."""
        generic = self.kannel.copy({"http_flavor": "json"})
        body = b'{"reports": []}'
        now = str(int(time.time()))
        old = str(int(time.time()) - 3600)

        def headers(stamp):
            signature = signatures.hmac_sha256_hex(
                "hook-secret", stamp.encode() + b"." + body
            )
            return {"X-Clinic-Timestamp": stamp, "X-Clinic-Signature": signature}

        self.assertTrue(
            generic._webhook_verify("dlr", self._data({}, headers(now), body))
        )
        self.assertFalse(
            generic._webhook_verify("dlr", self._data({}, headers(old), body))
        )
        self.assertFalse(generic._webhook_verify("dlr", self._data({}, {}, body)))

    def test_kannel_inbound_basic_auth(self):
        """R-7.5: Kannel replies authenticate with the shared secret."""
        good = "Basic " + base64.b64encode(b"clinic:hook-secret").decode()
        bad = "Basic " + base64.b64encode(b"clinic:guess").decode()
        self.assertTrue(
            self.kannel._webhook_verify(
                "inbound", self._data({}, {"Authorization": good})
            )
        )
        self.assertFalse(
            self.kannel._webhook_verify(
                "inbound", self._data({}, {"Authorization": bad})
            )
        )
        self.assertFalse(self.kannel._webhook_verify("inbound", self._data({}, {})))


class TestReplies(DeliveryCase):
    def _reply(self, text, external_id="1", sender="+33612345678"):
        data = {
            "url": "",
            "params": {"from": sender, "to": "36180", "text": text, "id": external_id},
            "headers": {},
            "body": b"",
        }
        return self.kannel._webhook_inbound(data)

    def _blacklisted(self, number="+33612345678"):
        return bool(
            self.env["phone.blacklist"].sudo().search([("number", "=", number)])
        )

    def _answers(self, kind):
        return self.env["clinic.sms.message"].search(
            [("company_id", "=", self.company.id), ("kind", "=", kind)]
        )

    def test_confirmation_keyword_confirms(self):
        """R-7.6: OUI confirms the patient's next appointment; a replay is ignored."""
        event = self._appointment()
        inbound = self._reply("Oui merci")
        self.assertEqual(event.clinic_status, "confirmed")
        self.assertEqual((inbound.action, inbound.appointment_id), ("confirm", event))
        self.assertIsNone(self._reply("Oui merci"))

    def test_cancellation_keyword_creates_activity(self):
        """R-7.6: NON creates an activity for the reception, or cancels when the
        clinic chose so."""
        event = self._appointment()
        inbound = self._reply("NON")
        self.assertEqual(inbound.action, "cancel")
        self.assertEqual(event.clinic_status, "scheduled")
        self.assertTrue(self.patient.activity_ids)
        self.company.clinic_sms_auto_cancel = True
        self._reply("annuler", external_id="2")
        self.assertEqual(event.clinic_status, "cancelled")

    def test_reply_text_shown_literally_in_notes(self):
        """R-7.6 R-8.2: a patient's reply is shown as text in the reception's
        activity, never as HTML; the case note does not repeat it (the text
        stays in the clinic's Received SMS)."""
        self._appointment()
        inbound = self._reply("NON <> & <>")
        self.assertEqual(inbound.action, "cancel")
        note = str(self.patient.activity_ids[-1:].note)
        self.assertIn("NON &lt;&gt; &amp; &lt;&gt;", note)
        html = "<b>now</b> <img src=x onerror=alert(1)>"
        free = self._reply(html, external_id="2")
        self.assertEqual((free.action, free.text), ("logged", html))
        notes = self.patient.message_ids.filtered(
            lambda m: "SMS received" in str(m.body)
        )
        self.assertEqual(len(notes), 2)
        for message in notes:
            self.assertNotIn("onerror", str(message.body))
            self.assertIn("Clinique Test", str(message.body))

    def test_stop_blacklists_and_next_message_skipped(self):
        """R-4.2 R-7.6: STOP blacklists the number, logs the withdrawal with
        the words received and sent, queues ONE confirmation that goes out to
        the blacklisted number, and the next planned message is skipped."""
        self.patient.clinic_consent_marketing = True
        event = self._appointment()
        message = self._messages(event)
        inbound = self._reply("STOP")
        self.assertEqual(inbound.action, "stop")
        self.assertTrue(self._blacklisted())
        event_log = self.patient.clinic_consent_log_ids.filtered(
            lambda entry: entry.purpose == "all"
        )
        self.assertEqual((event_log.granted, event_log.source), (False, "sms_reply"))
        self.assertIn("SMS received: STOP", event_log.wording)
        self.assertFalse(self.patient.clinic_consent_marketing)
        confirmation = self._answers("stop_reply")
        self.assertEqual(len(confirmation), 1)
        self.assertEqual(
            (confirmation.phone, confirmation.purpose),
            ("+33612345678", "essential"),
        )
        self.assertEqual(confirmation.partner_id.clinic_mobile, "+33612345678")
        # in the patient's language; the proof keeps the answer sent
        self.assertTrue(confirmation.body.startswith("Clinique Test"))
        self.assertIn("START", confirmation.body)
        self.assertIn(confirmation.body, event_log.wording)
        # a second STOP (or an auto-responder) gets no second confirmation
        again = self._reply("stop", external_id="2")
        self.assertEqual(again.action, "stop")
        self.assertEqual(len(self._answers("stop_reply")), 1)
        self._send(message, [FakeResponse()])
        self.assertEqual((message.state, message.reason), ("skipped", "blacklisted"))
        self.assertEqual(confirmation.state, "sent")
        self.assertEqual(confirmation.units, 1)

    def test_start_subscribes_again(self):
        """R-4.2: START lifts the opt-out, gives back what the STOP withdrew,
        is logged in the consent chain and confirmed by SMS."""
        self.patient.clinic_consent_marketing = True
        self._reply("STOP")
        inbound = self._reply("Start", external_id="2")
        self.assertEqual(inbound.action, "start")
        self.assertFalse(self._blacklisted())
        self.assertTrue(self.patient.clinic_consent_marketing)
        self.assertTrue(self.patient.clinic_consent_recall)
        events = self.patient.clinic_consent_log_ids.filtered(
            lambda entry: entry.purpose == "all"
        ).sorted("id")
        self.assertEqual(events.mapped("granted"), [False, True])
        self.assertEqual(events[1].inbound_id, inbound)
        answer = self._answers("start_reply")
        self.assertEqual(len(answer), 1)
        self.assertIn("STOP", answer.body)
        self.assertIn(answer.body, events[1].wording)

    def test_help_answers_with_clinic_name_and_phone(self):
        """R-4.2: HELP/AIDE answers with the clinic's name and phone, in the
        patient's language, at most once an hour; never to an opted-out
        number."""
        self.company.phone = "+33 1 44 55 66 77"
        self.patient.lang = "fr_FR"
        inbound = self._reply("Aide svp")
        self.assertEqual(inbound.action, "help")
        answer = self._answers("help_reply")
        self.assertEqual(len(answer), 1)
        self.assertIn("Clinique Test", answer.body)
        self.assertIn("+33 1 44 55 66 77", answer.body)
        self._reply("HELP", external_id="2")
        self.assertEqual(len(self._answers("help_reply")), 1)
        self._reply("STOP", external_id="3")
        self._answers("help_reply").unlink()
        self._reply("HELP", external_id="4")
        self.assertFalse(self._answers("help_reply"))

    def test_keywords_inside_free_text_do_nothing(self):
        """R-4.2 R-7.6 (issue 16, 9): "Yes, I will stop by" does not opt out,
        "C'est impossible" does not confirm, "N'oubliez pas" does not cancel:
        they are free text for the reception."""
        event = self._appointment()
        replies = [
            self._reply("Yes, I will stop by", external_id="1"),
            self._reply("C'est impossible", external_id="2"),
            self._reply("N'oubliez pas", external_id="3"),
        ]
        self.assertEqual([r.action for r in replies], ["logged"] * 3)
        self.assertFalse(self._blacklisted())
        self.assertEqual(event.clinic_status, "scheduled")
        self.assertFalse(self.patient.activity_ids)
        self.assertFalse(self.patient.clinic_consent_log_ids)

    def test_unknown_reply_logged_on_patient(self):
        """R-7.6: anything else is logged on the patient's chatter; unknown
        senders are kept as unmatched."""
        before = len(self.patient.message_ids)
        inbound = self._reply("What time is it?")
        self.assertEqual(inbound.action, "logged")
        self.assertGreater(len(self.patient.message_ids), before)
        stranger = self._reply("hello", external_id="9", sender="+33699999999")
        self.assertEqual(stranger.action, "unmatched")
        with self.assertRaises(ValueError):
            self._reply("no sender", external_id="10", sender="")


class TestIapAndSecrets(DeliveryCase):
    def test_iap_provider_uses_odoo_sms_api(self):
        """R-7.2: the IAP provider goes through Odoo's SmsApi with the message
        reference as IAP's uuid (IAP drops duplicates)."""
        iap = self.env["clinic.sms.provider"].create(
            {"name": "Odoo SMS", "provider_type": "iap", "company_id": self.company.id}
        )
        self.company.clinic_sms_provider_id = iap
        message = self._due()
        sent = []

        def fake_batch(api, payload, delivery_reports_url=False):
            sent.extend(payload)
            return [{"uuid": payload[0]["numbers"][0]["uuid"], "state": "success"}]

        with patch(
            "odoo.addons.sms.tools.sms_api.SmsApi._send_sms_batch",
            autospec=True,
            side_effect=fake_batch,
        ):
            self._dispatch(message.scheduled_at)
        self.assertEqual(
            sent[0]["numbers"], [{"uuid": message.reference, "number": "+33612345678"}]
        )
        self.assertEqual(sent[0]["content"], message.body)
        self.assertEqual(message.state, "sent")

    def test_secrets_for_managers_only(self):
        """R-7.2 R-8.2: provider secrets are readable by SMS managers only."""
        from odoo.exceptions import AccessError

        from .common import make_user

        reception = make_user(
            self.env,
            "reception_s",
            "clinic_sms_reminders.group_clinic_sms_user",
            self.company,
        )
        manager = make_user(
            self.env,
            "manager_s",
            "clinic_sms_reminders.group_clinic_sms_manager",
            self.company,
        )
        self.kannel.with_user(reception).read(["name", "api_url"])
        with self.assertRaises(AccessError):
            self.kannel.with_user(reception).read(["password"])
        with self.assertRaises(AccessError):
            self.kannel.with_user(reception).read(["webhook_secret"])
        self.assertEqual(self.kannel.with_user(manager).password, "kannel-pass")


class TestEmptyText(DeliveryCase):
    def test_empty_text_never_sent(self):
        """R-7.4 R-6.1: a message without text fails with a reason and costs nothing."""
        message = self.env["clinic.sms.message"].create(
            {
                "kind": "private",
                "company_id": self.company.id,
                "partner_id": self.patient.id,
                "phone": "+33612345678",
                "idempotency_key": "empty-text",
                "body": "  ",
            }
        )
        calls = self._send(message, [FakeResponse()])
        self.assertFalse(calls)
        self.assertEqual((message.state, message.reason), ("failed", "render_error"))
        self.assertEqual(self.wallet.balance, 100)
