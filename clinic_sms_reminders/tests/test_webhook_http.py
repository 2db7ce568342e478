import base64

from odoo.tests import HttpCase, tagged

from odoo.addons.clinic_sms_reminders.gateways.kannel import DLR_MASK, dlr_signature
from odoo.addons.clinic_sms_reminders.tools import signatures


@tagged("post_install", "-at_install")
class TestWebhookRoutes(HttpCase):
    """The public endpoints through real HTTP (R-7.5, R-7.6)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.provider = cls.env["clinic.sms.provider"].create(
            {
                "name": "Kannel",
                "provider_type": "http",
                "http_flavor": "kannel",
                "api_url": "http://127.0.0.1:13013/cgi-bin/sendsms",
                "webhook_secret": "hook-secret",
            }
        )
        cls.message = cls.env["clinic.sms.message"].create(
            {
                "kind": "reminder",
                "idempotency_key": "webhook-test",
                "state": "sent",
                "provider_id": cls.provider.id,
                "phone": "+33612345678",
                "body": "Hello",
            }
        )

    def _dlr_url(self, status, secret="hook-secret", ref=None):
        ref = ref or self.message.reference
        signature = dlr_signature(secret, self.provider.id, DLR_MASK, ref)
        query = f"ref={ref}&mask={DLR_MASK}&sig={signature}&status={status}"
        return f"/clinic_sms/dlr/{self.provider.id}?{query}"

    def test_dlr_route(self):
        """R-7.5: signed DLR accepted (200), forged refused (403), unknown
        provider (404), oversized (413); refused calls change nothing."""
        self.assertEqual(
            self.url_open(self._dlr_url(1, secret="forged")).status_code, 403
        )
        self.assertEqual(self.message.state, "sent")
        self.assertEqual(self.url_open("/clinic_sms/dlr/999999?ref=x").status_code, 404)
        big = self.url_open(self._dlr_url(1), data=b"x" * (65 * 1024))
        self.assertEqual(big.status_code, 413)
        # a status Kannel was not asked to report is refused
        for status in (99, 8):
            self.assertEqual(self.url_open(self._dlr_url(status)).status_code, 403)
        unknown = self._dlr_url(1, ref="0" * 32)
        self.assertEqual(self.url_open(unknown).status_code, 404)
        self.assertEqual(self.message.state, "sent")
        self.assertEqual(self.url_open(self._dlr_url(1)).status_code, 200)
        self.message.invalidate_recordset()
        self.assertEqual(self.message.state, "delivered")

    def test_inbound_route(self):
        """R-7.5 R-4.2: inbound needs the shared secret; STOP blacklists."""
        query = "from=%2B33612345678&text=STOP&id=42"
        url = f"/clinic_sms/inbound/{self.provider.id}?{query}"
        self.assertEqual(self.url_open(url).status_code, 403)
        wrong = {"Authorization": "Basic " + base64.b64encode(b"clinic:nope").decode()}
        self.assertEqual(self.url_open(url, headers=wrong).status_code, 403)
        blacklist = self.env["phone.blacklist"].sudo()
        self.assertFalse(blacklist.search([("number", "=", "+33612345678")]))
        good = {
            "Authorization": "Basic " + base64.b64encode(b"clinic:hook-secret").decode()
        }
        self.assertEqual(self.url_open(url, headers=good).status_code, 200)
        self.assertTrue(blacklist.search([("number", "=", "+33612345678")]))
        # replayed: accepted, nothing new
        self.assertEqual(self.url_open(url, headers=good).status_code, 200)
        inbound = self.env["clinic.sms.inbound"].search(
            [("provider_id", "=", self.provider.id)]
        )
        self.assertEqual(len(inbound), 1)

    def test_twilio_routes_sign_url_and_post_parameters(self):
        """R-7.5 R-7.6: Twilio signs the full callback URL (query string
        included) and the POST parameters only: a callback URL with a query
        string is accepted, a parameter added to the URL after signing or a
        POST parameter changed is refused, and nothing changes then."""
        twilio = self.env["clinic.sms.provider"].create(
            {
                "name": "Twilio",
                "provider_type": "http",
                "http_flavor": "twilio",
                "api_url": "http://127.0.0.1:9/2010-04-01",
                "username": "AC123",
                "password": "tw-token",
                "callback_base_url": self.base_url(),
            }
        )
        message = self.message.copy(
            {
                "idempotency_key": "webhook-twilio",
                "provider_id": twilio.id,
                "provider_message_id": "SM0001",
                "state": "sent",
            }
        )
        path = f"/clinic_sms/dlr/{twilio.id}?clinic=cabinet"
        form = {"MessageSid": "SM0001", "MessageStatus": "delivered"}

        def post(url_path, data, signed_url=None, signed_form=None):
            signature = signatures.twilio_signature(
                "tw-token",
                signed_url or self.base_url() + url_path,
                signed_form or data,
            )
            return self.url_open(
                url_path, data=data, headers={"X-Twilio-Signature": signature}
            )

        tampered = post(
            path + "&MessageStatus=failed", form, signed_url=self.base_url() + path
        )
        self.assertEqual(tampered.status_code, 403)
        changed = post(path, {**form, "MessageStatus": "undelivered"}, signed_form=form)
        self.assertEqual(changed.status_code, 403)
        message.invalidate_recordset()
        self.assertEqual(message.state, "sent")
        self.assertEqual(post(path, form).status_code, 200)
        message.invalidate_recordset()
        self.assertEqual(message.state, "delivered")

        inbound_path = f"/clinic_sms/inbound/{twilio.id}?clinic=cabinet"
        reply = {
            "MessageSid": "SM0002",
            "From": "+33612345679",
            "To": "+33700000000",
            "Body": "Hello",
        }
        self.assertEqual(post(inbound_path, reply).status_code, 200)
        received = self.env["clinic.sms.inbound"].search(
            [("provider_id", "=", twilio.id)]
        )
        self.assertEqual((received.external_id, received.text), ("SM0002", "Hello"))

    def test_twilio_report_before_the_sid_is_stored(self):
        """R-7.5: Twilio's status callback URL carries our reference (signed
        with the URL): a report arriving before Twilio's answer was recorded
        (no SID yet) still finds its message, instead of 404."""
        twilio = self.env["clinic.sms.provider"].create(
            {
                "name": "Twilio",
                "provider_type": "http",
                "http_flavor": "twilio",
                "username": "AC123",
                "password": "tw-token",
                "callback_base_url": self.base_url(),
            }
        )
        message = self.message.copy(
            {"idempotency_key": "twilio-early", "provider_id": twilio.id}
        )
        message.state = "sending"
        callback = twilio._get_gateway().status_callback(message)
        self.assertIn(f"ref={message.reference}", callback)
        form = {"MessageSid": "SM0009", "MessageStatus": "delivered"}
        signature = signatures.twilio_signature("tw-token", callback, form)
        path = callback[len(self.base_url()) :]
        forged_path = path.replace(message.reference, self.message.reference)
        forged = self.url_open(
            forged_path, data=form, headers={"X-Twilio-Signature": signature}
        )
        self.assertEqual(forged.status_code, 403)
        answer = self.url_open(
            path, data=form, headers={"X-Twilio-Signature": signature}
        )
        self.assertEqual(answer.status_code, 200)
        message.invalidate_recordset()
        self.assertEqual(message.state, "delivered")
