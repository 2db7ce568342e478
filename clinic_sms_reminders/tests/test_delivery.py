import base64
import time
from datetime import datetime, timedelta
from unittest.mock import patch

import requests
from urllib3.exceptions import MaxRetryError

from odoo.exceptions import AccessError, UserError
from odoo.tools import config

from odoo.addons.clinic_sms_reminders.gateways.kannel import DLR_MASK, dlr_signature
from odoo.addons.clinic_sms_reminders.models.clinic_sms_dispatcher import (
    HARD_LIMIT_SHARE,
)
from odoo.addons.clinic_sms_reminders.models.clinic_sms_message import retry_delay
from odoo.addons.clinic_sms_reminders.tools import signatures

from .common import ClinicSmsCase, make_user, paris


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

    def test_answer_to_stop_goes_out_at_once_at_night(self):
        """R-2.3 R-4.2: the STOP confirmation is caused right now by the
        patient: at 23:30 it goes out at once, where a retry or a campaign
        would wait for the morning."""
        self._reply("STOP")
        answer = self._answers("stop_reply")
        night = paris(2026, 3, 10, 23, 30)
        answer._write_rows({answer.id: {"scheduled_at": night}})
        self._send(answer, [FakeResponse()])
        self.assertEqual((answer.state, answer.reason), ("sent", False))

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
                # within the sending window whatever the hour of the run
                "scheduled_at": datetime(2030, 6, 4, 9, 0),
            }
        )
        calls = self._send(message, [FakeResponse()])
        self.assertFalse(calls)
        self.assertEqual((message.state, message.reason), ("failed", "render_error"))
        self.assertEqual(self.wallet.balance, 100)


class TestDispatchRaces(DeliveryCase):
    """R-7.3 R-7.10 R-2.3 R-4.2: the races of real gateways, each reproduced."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.clinic_sms_provider_id = cls.provider  # the sandbox
        cls.provider.batch_size = 1

    def _queue(self, count=1, **values):
        Message = self.env["clinic.sms.message"]
        rows = []
        for index in range(count):
            row = {
                "kind": "private",
                "purpose": "essential",
                "company_id": self.company.id,
                "partner_id": self.patient.id,
                "phone": "+33612345678",
                "idempotency_key": f"race:{self._testMethodName}:{index}",
                "scheduled_at": paris(2026, 3, 10, 11, 0),
                "body": f"Votre ordonnance n°{index} est prête.",
            }
            row.update(values)
            rows.append(row)
        Message._insert_queued(rows)
        return Message.search(
            [("idempotency_key", "like", f"race:{self._testMethodName}:")],
            order="id",
        )

    def _gateway(self, answer):
        """The sandbox's _send_batch replaced by ``answer(messages)``."""
        calls = []

        def send_batch(provider, messages, deadline=None):
            calls.append((messages.ids, deadline))
            return answer(messages)

        return calls, patch.object(
            type(self.provider), "_send_batch", send_batch, create=False
        )

    def _report(self, message, status, **extra):
        event = {"reference": message.reference, "status": status, **extra}
        return self.env["clinic.sms.message"]._apply_delivery_reports(
            self.provider, [event]
        )

    def test_delivery_report_before_send_result_is_kept(self):
        """The gateway's DLR arrives (by our reference) before its answer to
        the send request: the message stays delivered, learns the provider's
        id, is debited once and gets one case note."""
        message = self._queue()
        balance = self.wallet.balance
        notes = self.patient.message_ids

        def answer(messages):
            self.assertEqual(self._report(messages, "delivered"), 1)
            return {
                m.id: {"state": "sent", "provider_message_id": "gw-1"} for m in messages
            }

        _calls, gateway = self._gateway(answer)
        with gateway:
            self._dispatch(message.scheduled_at)
        self.assertEqual(message.state, "delivered")
        self.assertEqual(message.provider_message_id, "gw-1")
        self.assertEqual(self.wallet.balance, balance - 1)
        self.assertEqual(len(self.patient.message_ids - notes), 1)

    def test_delivered_then_timeout_is_not_sent_again(self):
        """Delivered (DLR), then the client's timeout reports a retry or an
        unknown outcome: neither re-queues, refunds nor re-sends it."""
        first, second = self._queue(2)
        balance = self.wallet.balance

        def answer(messages):
            self._report(messages, "delivered")
            state = "retry" if messages == first else "unknown"
            return {
                m.id: {"state": state, "reason": "Read timed out"} for m in messages
            }

        calls, gateway = self._gateway(answer)
        with gateway:
            self._dispatch(first.scheduled_at)
            self._dispatch(first.scheduled_at + timedelta(hours=2))
        self.assertEqual(len(calls), 2, "each message handed over once")
        self.assertEqual((first | second).mapped("state"), ["delivered"] * 2)
        self.assertEqual(self.wallet.balance, balance - 2)

    def test_ambiguous_outcome_unknown_reconciled_or_resent_by_a_manager(self):
        """A timeout after the gateway may have accepted: 'unknown', kept paid,
        never re-sent by the dispatcher; the reconciliation asks the status
        API ({} = cannot know); a manager (not a receptionist) resends."""
        one, two = self._queue(2)
        balance = self.wallet.balance

        def answer(messages):
            return {
                m.id: {"state": "unknown", "reason": "Read timed out"} for m in messages
            }

        calls, gateway = self._gateway(answer)
        with gateway:
            self._dispatch(one.scheduled_at)
            self._dispatch(one.scheduled_at + timedelta(hours=3))
        self.assertEqual(len(calls), 2)
        self.assertEqual((one | two).mapped("state"), ["unknown"] * 2)
        self.assertEqual(
            (one.reason, one.reason_detail), ("ambiguous", "Read timed out")
        )
        self.assertEqual(self.wallet.balance, balance - 2)
        Dispatcher = self.env["clinic.sms.outcome"]
        provider_class = type(self.provider)

        def fetch_status(provider, messages):
            return {one.id: {"state": "delivered", "provider_message_id": "gw-9"}}

        with patch.object(provider_class, "_fetch_status", fetch_status, create=True):
            self.assertEqual(Dispatcher._reconcile(), (0, 1))
        self.assertEqual((one.state, one.provider_message_id), ("delivered", "gw-9"))
        with patch.object(
            provider_class, "_fetch_status", lambda p, m: {}, create=True
        ):
            self.assertEqual(Dispatcher._reconcile(), (0, 0))
        self.assertEqual(two.state, "unknown")
        receptionist = make_user(
            self.env,
            "reception.lyon",
            "base.group_user,clinic_sms_reminders.group_clinic_sms_user",
            self.company,
        )
        manager = make_user(
            self.env,
            "manager.lyon",
            "base.group_user,clinic_sms_reminders.group_clinic_sms_manager",
            self.company,
        )
        with self.assertRaises(AccessError):
            two.with_user(receptionist).action_resend()
        two.with_user(manager).action_resend()
        self.assertEqual((two.resent_by_id, two.state), (manager, "unknown"))
        again = self.env["clinic.sms.message"].search([("resend_of_id", "=", two.id)])
        self.assertEqual((again.state, again.body), ("queued", two.body))
        self.assertEqual(again.create_uid, manager)
        with self.assertRaises(UserError):
            one.with_user(manager).action_resend()

    def test_stuck_sending_becomes_unknown(self):
        """A worker stopped mid-send: past the bound, the rows it had handed
        to the provider become 'unknown' with that reason; the rest of its
        batch, never handed over, goes back to the queue, refunded; recent
        rows are left to their worker."""
        old, never, recent = self._queue(3)
        balance = self.wallet.balance
        now = self.env.cr.now()
        old._write_rows(
            {
                message.id: {"state": "sending", "units": 1, "attempt_count": 1}
                for message in old | never | recent
            }
        )
        self.wallet._add_units(-3)
        self.env.cr.execute(
            "UPDATE clinic_sms_message SET sending_since = v.since, write_date = %s"
            " FROM (VALUES (%s, %s::timestamp), (%s, NULL), (%s, %s)) AS v(id, since)"
            " WHERE clinic_sms_message.id = v.id",
            [
                now - timedelta(minutes=12),
                old.id,
                now - timedelta(minutes=11),
                never.id,
                recent.id,
                now - timedelta(minutes=2),
            ],
        )
        self.env["clinic.sms.message"].invalidate_model()
        self.assertEqual(self.env["clinic.sms.outcome"]._reconcile(), (2, 0))
        self.assertEqual((old.state, old.reason), ("unknown", "worker_stopped"))
        self.assertEqual((never.state, never.attempt_count), ("queued", 0))
        self.assertEqual(recent.state, "sending")
        self.assertEqual(self.wallet.balance, balance - 2)

    def test_window_holds_at_dispatch(self):
        """R-2.3: a retry, a backlog and a birthday due at 21:30 in Paris wait
        for 09:00 the next morning; a reminder whose appointment starts before
        that is skipped; a confirmation caused right now goes out at once."""
        self.patient.clinic_consent_marketing = True
        night = paris(2026, 3, 10, 21, 30)
        retry, birthday = self._queue(2)
        retry._write_rows({retry.id: {"attempt_count": 1, "scheduled_at": night}})
        birthday._write_rows(
            {
                birthday.id: {
                    "kind": "birthday",
                    "purpose": "marketing",
                    "scheduled_at": night,
                }
            }
        )
        confirmation = self._queue(
            kind="confirmation",
            idempotency_key=f"race:{self._testMethodName}:c",
            scheduled_at=night,
        )[-1]
        early = self._appointment(
            start=paris(2026, 3, 11, 8, 30), stop=paris(2026, 3, 11, 9, 0)
        )
        reminder = self._queue(
            kind="reminder",
            purpose="appointment",
            appointment_id=early.id,
            appointment_start=early.start,
            idempotency_key=f"race:{self._testMethodName}:r",
            scheduled_at=night - timedelta(hours=3),
        )[-1]
        self._dispatch(night)
        self.assertEqual(confirmation.state, "delivered")
        for message in retry | birthday:
            self.assertEqual(
                (message.state, message.reason, message.scheduled_at),
                ("queued", "outside_window", paris(2026, 3, 11, 9, 0)),
            )
        self.assertEqual(
            (reminder.state, reminder.reason), ("skipped", "no_allowed_minute")
        )
        self._dispatch(paris(2026, 3, 11, 9, 0))
        self.assertEqual(retry.state, "delivered")
        # marketing waits for its own hours, 10:00-20:00
        self.assertEqual(
            (birthday.state, birthday.reason, birthday.scheduled_at),
            ("queued", "marketing_quiet", paris(2026, 3, 11, 10, 0)),
        )
        self._dispatch(paris(2026, 3, 11, 10, 0))
        self.assertEqual(birthday.state, "delivered")

    def test_window_at_dispatch_in_the_clinics_zone_without_the_patients(self):
        """R-2.3: a patient with no time zone of their own (most of them) is
        judged at dispatch in the clinic's zone, as the planner planned it, not
        in UTC: in winter 09:00 in Paris (08:00 UTC) goes out, 19:30 in Paris
        (18:30 UTC, inside the window in UTC) waits for the next morning."""
        self.patient.tz = False
        opening, late = self._queue(2)
        opening._write_rows({opening.id: {"scheduled_at": paris(2026, 12, 5, 9, 0)}})
        late._write_rows({late.id: {"scheduled_at": paris(2026, 12, 5, 19, 30)}})
        self._dispatch(paris(2026, 12, 5, 9, 0))
        self.assertEqual((opening.state, opening.reason), ("delivered", False))
        self._dispatch(paris(2026, 12, 5, 19, 30))
        self.assertEqual(
            (late.state, late.reason, late.scheduled_at),
            ("queued", "outside_window", paris(2026, 12, 6, 9, 0)),
        )

    def test_deadline_bounds_the_batch(self):
        """R-7.10: under a cron with a 10 s hard limit, each chunk gets the
        deadline; a chunk that cannot start before it is not attempted, and a
        message the provider left out was not attempted either: both are back
        in the queue, refunded, the attempt not counted."""
        messages = self._queue(4)
        balance = self.wallet.balance
        clock = [1000.0]

        def answer(chunk):
            clock[0] += 4
            if chunk == messages[1]:
                return {}  # the provider ran out of time before this one
            return {
                m.id: {"state": "sent", "provider_message_id": m.reference}
                for m in chunk
            }

        calls, gateway = self._gateway(answer)
        dispatcher = self.env["clinic.sms.dispatcher"].with_context(
            cron_end_time=clock[0] + 10
        )
        module = "odoo.addons.clinic_sms_reminders.models.clinic_sms_dispatcher"
        with (
            gateway,
            patch(f"{module}.time.monotonic", lambda: clock[0]),
            patch.dict(config.options, {"limit_time_real_cron": 10}),
            patch.object(self.env.cr, "commit", lambda: None),
        ):
            dispatcher._dispatch_due(now=messages[0].scheduled_at, commit=True)
        deadline = 1000.0 + 10 * HARD_LIMIT_SHARE
        self.assertEqual(
            calls, [(messages[0].ids, deadline), (messages[1].ids, deadline)]
        )
        self.assertEqual(messages[0].state, "sent")
        for message in messages[1:]:
            self.assertEqual((message.state, message.attempt_count), ("queued", 0))
        self.assertEqual(self.wallet.balance, balance - 1)

    def test_messages_left_out_by_the_provider_do_not_spin(self):
        """R-7.10: a gateway that keeps leaving messages out of its answer
        (not attempted) gets each of them once per run: they wait in the
        queue, refunded, and the dispatcher moves on instead of claiming
        them again and again (it looped for ever before)."""
        messages = self._queue(3)
        balance = self.wallet.balance
        calls, gateway = self._gateway(lambda chunk: {})
        with gateway:
            self._dispatch(messages[0].scheduled_at)
        self.assertEqual(sorted(i for ids, _d in calls for i in ids), messages.ids)
        for message in messages:
            self.assertEqual((message.state, message.attempt_count), ("queued", 0))
        self.assertEqual(self.wallet.balance, balance)

    def test_blacklist_wins_for_essential_messages(self):
        """R-4.2: an opted-out number gets nothing, even an essential message."""
        self.env["phone.blacklist"].sudo()._add(["+33612345678"])
        message = self._queue()
        self._dispatch(message.scheduled_at)
        self.assertEqual((message.state, message.reason), ("skipped", "blacklisted"))

    def test_sms_users_cannot_write_messages(self):
        """R-8.2: a receptionist reads messages but changes them only through
        actions; a direct write of their state or text is refused."""
        message = self._queue()
        receptionist = make_user(
            self.env,
            "reception.nice",
            "base.group_user,clinic_sms_reminders.group_clinic_sms_user",
            self.company,
        )
        mine = message.with_user(receptionist)
        self.assertEqual(mine.state, "queued")
        for vals in ({"state": "sent"}, {"body": "Autre texte"}):
            with self.assertRaises(AccessError):
                mine.write(vals)
        self.assertEqual(message.body, "Votre ordonnance n°0 est prête.")

    def test_read_timeout_after_sending_is_unknown(self):
        """R-7.3: the request went out and no answer came back in time (the
        gateway may have accepted it): unknown, never sent a second time."""
        self.company.clinic_sms_provider_id = self.kannel
        message = self._due()
        calls = self._send(message, [requests.ReadTimeout("read timed out")])
        self.assertEqual((message.state, message.reason), ("unknown", "ambiguous"))
        calls += self._send(message, [FakeResponse()])
        self.assertEqual(len(calls), 1)
        self.assertEqual(message.state, "unknown")
