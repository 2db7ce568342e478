"""Hostile and bad input: each gets a clear refusal, and nothing is changed or
lost (R-1.7, R-3.1, R-3.4, R-7.5).

Fills the gaps of test_patient, test_template, test_delivery and
test_webhook_http; the random webhook fuzzing of test_reliability_stress is
complemented here by properties about *signed* calls (a valid signature
verifies, any altered byte does not) that run without a database.
"""

import json
import logging
import time
from datetime import datetime, timedelta

from werkzeug.datastructures import Headers, MultiDict

from odoo.exceptions import ValidationError
from odoo.tests import HttpCase, tagged

from odoo.addons.clinic_sms_reminders.gateways import (
    GENERIC_DLR,
    HTTP_GATEWAYS,
    KANNEL_DLR,
    TWILIO_DLR,
)
from odoo.addons.clinic_sms_reminders.gateways.kannel import DLR_MASK, dlr_signature
from odoo.addons.clinic_sms_reminders.models.clinic_sms_provider import (
    ClinicSmsProvider,
)
from odoo.addons.clinic_sms_reminders.tools import signatures

from .common import ClinicSmsCase

ARABIC_HELLO = "\u0645\u0631\u062d\u0628\u0627\u060c \u0645\u0648\u0639\u062f\u0643"
_logger = logging.getLogger(__name__)
CODE_LIKE = ("{{ 7*7 }}", "${7*7}", '<t t-esc="1+1"/>', "<script>alert(1)</script>")


class TestHostilePhones(ClinicSmsCase):
    """R-1.7 R-5.5: phone numbers as people really type (or paste) them."""

    def test_bad_numbers_refused_with_reason(self):
        """R-1.7: empty, letters, too long, another country's national number,
        landlines and special numbers are refused with a stable reason; a
        foreign mobile written with its prefix is accepted."""
        cases = {
            "   ": (False, "missing"),
            "abcdef": (False, "invalid"),
            "06 AB CD EF GH": (False, "invalid"),
            "06 12 34 56 78 90 12 34 56 78": (False, "too_long"),
            "0" * 300: (False, "too_long"),
            "0470 12 34 56": (False, "not_mobile"),  # Belgian mobile, read as French
            "01 44 55 66 77": (False, "not_mobile"),
            "0800 123 456": (False, "not_mobile"),
            "09 12 34 56 78": (False, "not_mobile"),
            "+32 470 12 34 56": ("+32470123456", False),
            "+1 415 555 2671": ("+14155552671", False),
        }
        fr = self.env.ref("base.fr").id
        partners = self.env["res.partner"].create(
            [
                {"name": f"P{i}", "phone": raw, "country_id": fr}
                for i, raw in enumerate(cases)
            ]
        )
        got = {
            raw: (partner.clinic_mobile, partner.clinic_mobile_error)
            for raw, partner in zip(cases, partners, strict=True)
        }
        self.assertEqual(got, cases)

    def test_formatted_variants_are_one_number(self):
        """R-1.7 R-5.5: every formatting of one mobile (spaces, dots, dashes,
        NBSP, tabs, 00/+33 prefixes, '(0)', tel: URI, full-width and
        Arabic-Indic digits) is one E.164 number: the send wizard includes it
        once, lists the others as duplicates, and costs one unit."""
        variants = [
            "06 12 34 56 78",
            "06.12.34.56.78",
            "06-12-34-56-78 ",
            "06\u00a012\u00a034\u00a056\u00a078",
            "\t0612345678\n",
            "+33 (0)6 12 34 56 78",
            "0033 6 12 34 56 78",
            "tel:+33612345678",
            "\uff10\uff16\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18",
            "\u0660\u0666\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668",
        ]
        fr = self.env.ref("base.fr").id
        partners = self.env["res.partner"].create(
            [
                {"name": f"Variant {i}", "phone": raw, "country_id": fr}
                for i, raw in enumerate(variants)
            ]
        )
        self.assertEqual(set(partners.mapped("clinic_mobile")), {"+33612345678"})
        template = self.env["clinic.sms.template"].create(
            {
                "name": "Private",
                "kind": "private",
                "company_id": self.company.id,
                "body": "Hello {patient_first_name}",
            }
        )
        wizard = self.env["clinic.sms.send.wizard"].create(
            {
                "company_id": self.company.id,
                "template_id": template.id,
                "partner_ids": [(6, 0, partners.ids)],
            }
        )
        wizard.action_review()
        reasons = wizard.line_ids.sorted(lambda line: line.partner_id.id).mapped(
            "reason"
        )
        self.assertEqual(reasons, [False] + ["duplicate"] * (len(variants) - 1))
        self.assertEqual(wizard.units_needed, 1)
        action = wizard.action_send()
        mailing = self.env["clinic.sms.mailing"].browse(action["res_id"])
        self.assertEqual(mailing.message_ids.phone, "+33612345678")
        self.assertEqual(mailing.excluded_count, len(variants) - 1)

    def test_bad_numbers_never_queued(self):
        """R-1.7 R-5.5: a mailing to hostile numbers only queues the valid
        mobile; the others are kept as exclusions with their reason."""
        fr = self.env.ref("base.fr").id
        bad = self.env["res.partner"].create(
            [
                {"name": "Letters", "phone": "call me", "country_id": fr},
                {"name": "Long", "phone": "9" * 40, "country_id": fr},
                {"name": "Landline", "phone": "01 44 55 66 77", "country_id": fr},
            ]
        )
        template = self.env["clinic.sms.template"].create(
            {
                "name": "P",
                "kind": "private",
                "company_id": self.company.id,
                "body": "Hi",
            }
        )
        wizard = self.env["clinic.sms.send.wizard"].create(
            {
                "company_id": self.company.id,
                "template_id": template.id,
                "partner_ids": [(6, 0, (bad | self.patient).ids)],
            }
        )
        wizard.action_review()
        self.assertEqual(
            {line.partner_id.name: line.reason for line in wizard.line_ids},
            {
                "Letters": "invalid_number",
                "Long": "invalid_number",
                "Landline": "invalid_number",
                "Jane Doe": False,
            },
        )
        mailing = self.env["clinic.sms.mailing"].browse(wizard.action_send()["res_id"])
        self.assertEqual(mailing.message_ids.partner_id, self.patient)
        for name in ("Letters", "Long", "Landline"):
            self.assertIn(name, mailing.exclusion_summary)


class TestHostileTemplates(ClinicSmsCase):
    """R-3.1 R-3.3 R-3.4: what staff, translators or patients may put in a
    text is shown literally and never evaluated."""

    def _template(self, body, **values):
        return self.env["clinic.sms.template"].create(
            {"name": "Hostile", "kind": "private", "company_id": self.company.id}
            | {"body": body}
            | values
        )

    def test_code_like_bodies_refused_with_clear_message(self):
        """R-3.1: template syntaxes ({{ }}, ${ }, {% %}, attributes) are
        refused at save with a sentence saying they are never evaluated, and
        the saved body is unchanged."""
        body = self.template.body
        for hostile, expected in (
            ("Hi {{ 7*7 }}", "looks like code"),
            ("Hi ${7*7}", "looks like code"),
            ("Hi {% if 1 %}x{% endif %}", "looks like code"),
            ("Hi {patient_name.__class__}", "never evaluated"),
            ("Hi {7*7}", "never evaluated"),
            ("Hi {unknown_thing}", "Unknown placeholder"),
        ):
            with self.subTest(hostile), self.assertRaises(ValidationError) as error:
                self.template.body = hostile
            self.assertIn(expected, str(error.exception))
            self.assertIn(self.template.name, str(error.exception))
            self.template.invalidate_recordset()
            self.assertEqual(self.template.body, body)
        unknown = "Hi {unknown_thing}"
        with self.assertRaises(ValidationError) as error:
            self._template(unknown)
        self.assertIn("{patient_first_name}", str(error.exception))

    def test_two_thousand_characters_refused(self):
        """R-3.4: a 2,000 character body is refused with the parts it needs and
        the clinic's maximum, even with extended (2-part) SMS; nothing saved."""
        count = self.env["clinic.sms.template"].search_count([])
        for max_parts in (1, 2):
            self.company.clinic_sms_max_parts = max_parts
            with self.subTest(max_parts=max_parts):
                with self.assertRaises(ValidationError) as error:
                    self._template("x" * 2000)
                message = str(error.exception)
                self.assertIn("14 SMS parts", message)
                self.assertIn("2000 characters", message)
                self.assertIn(f"the clinic allows {max_parts}", message)
                with self.assertRaises(ValidationError):
                    self.template.body = "é" * 2000
        self.assertEqual(self.env["clinic.sms.template"].search_count([]), count)
        self.template.invalidate_recordset()
        self.assertIn("{patient_first_name}", self.template.body)

    def test_emoji_and_right_to_left_text(self):
        """R-3.3 R-2.7: emoji and Arabic or Hebrew texts are kept intact,
        counted as UCS-2 (an emoji is 2 UTF-16 units), and placeholders inside
        right-to-left text are filled."""
        self.patient.name = "\u05d3\u05e0\u05d4 \u05db\u05d4\u05df"  # Hebrew
        event = self._appointment()
        for body, expected in (
            (
                "Bonjour {patient_first_name} \U0001f389",
                "Bonjour \u05d3\u05e0\u05d4 \U0001f389",
            ),
            (
                f"{ARABIC_HELLO} {{patient_first_name}}",
                f"{ARABIC_HELLO} \u05d3\u05e0\u05d4",
            ),
            ("\u202e{office}\u202c", "\u202eB12\u202c"),
        ):
            with self.subTest(body=body):
                template = self._template(body)
                self.assertEqual(template.worst_encoding, "ucs2")
                text = template._render(self.patient, event, self.company)
                self.assertEqual(text, expected)
        emoji = self._template("\U0001f389" * 35)
        self.assertEqual((emoji.worst_length, emoji.worst_parts), (70, 1))
        with self.assertRaises(ValidationError):
            self._template("\U0001f389" * 36)

    def test_markup_in_bodies_and_names_stays_literal(self):
        """R-3.1 R-5.7: QWeb, HTML and template syntax in a body or in a
        patient's name is rendered literally, never evaluated (no 49, no 2),
        a placeholder inside a name is not expanded, and the chatter note of
        the sent SMS shows the text escaped."""
        self.patient.name = "{date} ${7*7}"
        body = 'Hi {patient_name} <t t-esc="1+1"/> <script>alert(1)</script>'
        template = self._template(body)
        event = self._appointment()
        text = template._render(self.patient, event, self.company)
        self.assertEqual(
            text, 'Hi {date} ${7*7} <t t-esc="1+1"/> <script>alert(1)</script>'
        )
        for name in CODE_LIKE + ("%(name)s {0} %s", "{{ 7*7 }}<b>x</b>"):
            with self.subTest(name=name):
                self.patient.name = name
                rendered = template._render(self.patient, event, self.company)
                self.assertTrue(rendered.startswith(f"Hi {name[:25]} <t t-esc="))
                self.assertNotIn("49", rendered)
        self.patient.name = "<script>alert(1)</script>"
        message = self.env["clinic.sms.message"].create(
            {
                "kind": "private",
                "company_id": self.company.id,
                "partner_id": self.patient.id,
                "template_id": template.id,
                "phone": "+33612345678",
                "idempotency_key": "hostile-markup",
                # within the sending window whatever the hour of the run
                "scheduled_at": datetime(2030, 6, 4, 9, 0),
            }
        )
        self._dispatch(message.scheduled_at + timedelta(seconds=1))
        self.assertEqual(message.state, "delivered")
        self.assertIn("<script>alert(1)</script> <t t-esc", message.body)
        note = self.patient.message_ids[0].body
        # the case note names the template, never repeats the text
        self.assertNotIn("alert(1)", note)
        self.assertNotIn("<script>", note)
        self.assertNotIn("<t t-esc", note)


@tagged("post_install", "-at_install")
class TestHostileWebhooks(HttpCase):
    """R-7.5: hostile calls through real HTTP to the generic gateways (the
    Kannel route is covered by test_webhook_http)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env["res.company"].create({"name": "Hostile clinic"})
        Provider = cls.env["clinic.sms.provider"]
        common = {
            "provider_type": "http",
            "api_url": "http://127.0.0.1:9/sms",
            "callback_base_url": "http://127.0.0.1:8069",
            "company_id": cls.company.id,
            "webhook_secret": "hostile-secret",
        }
        cls.json_provider = Provider.create(
            dict(common, name="JSON", http_flavor="json")
        )
        cls.form_provider = Provider.create(
            dict(common, name="Form", http_flavor="form")
        )
        Message = cls.env["clinic.sms.message"]
        cls.json_message, cls.form_message = Message.create(
            [
                {
                    "kind": "private",
                    "company_id": cls.company.id,
                    "idempotency_key": f"hostile-{provider.http_flavor}",
                    "state": "sent",
                    "provider_id": provider.id,
                    "phone": "+33612345678",
                    "body": "Hello",
                }
                for provider in (cls.json_provider, cls.form_provider)
            ]
        )

    def _post(
        self, provider, kind, body, content_type, stamp=None, secret=None, query=""
    ):
        stamp = str(int(time.time())) if stamp is None else stamp
        signature = signatures.hmac_sha256_hex(
            secret or "hostile-secret", stamp.encode() + b"." + body
        )
        headers = {
            "Content-Type": content_type,
            "X-Clinic-Timestamp": stamp,
            "X-Clinic-Signature": signature,
        }
        url = f"/clinic_sms/{kind}/{provider.id}{query}"
        return self.url_open(url, data=body, headers=headers)

    def _json(self, payload):
        return json.dumps(payload).encode()

    def _state(self):
        self.env.invalidate_all()
        return {
            "messages": (self.json_message | self.form_message).read(
                ["state", "reason", "delivered_at"]
            ),
            "inbound": self.env["clinic.sms.inbound"].search_count([]),
        }

    def test_refused_calls_change_nothing(self):
        """R-7.5: missing, forged, replayed (old or future timestamp) and
        wrong-secret signatures answer 403; invalid UTF-8, JSON sent as a form
        and a form sent as JSON answer 400; unknown message ids answer 404;
        a body over the limit answers 413. None of them changes anything."""
        ref = self.json_message.reference
        report = self._json({"reports": [{"reference": ref, "status": "failed"}]})
        form_report = f"reference={self.form_message.reference}&status=failed".encode()
        old = str(int(time.time()) - 3600)
        future = str(int(time.time()) + 3600)
        json_type, form_type = "application/json", "application/x-www-form-urlencoded"
        P, F = self.json_provider, self.form_provider
        before = self._state()
        cases = [
            (
                "missing signature",
                403,
                lambda: self.url_open(
                    f"/clinic_sms/dlr/{P.id}",
                    data=report,
                    headers={"Content-Type": json_type},
                ),
            ),
            (
                "replayed (old)",
                403,
                lambda: self._post(P, "dlr", report, json_type, stamp=old),
            ),
            (
                "future timestamp",
                403,
                lambda: self._post(P, "dlr", report, json_type, stamp=future),
            ),
            (
                "non-ASCII digits",
                403,
                lambda: self._post(P, "dlr", report, json_type, stamp="\u00b2"),
            ),
            (
                "wrong secret",
                403,
                lambda: self._post(P, "dlr", report, json_type, secret="guess"),
            ),
            (
                "form wrong secret",
                403,
                lambda: self._post(F, "dlr", form_report, form_type, secret="guess"),
            ),
            (
                "invalid UTF-8",
                400,
                lambda: self._post(P, "dlr", b'{"reports": [\xff\xfe]}', json_type),
            ),
            (
                "invalid UTF-8 inbound",
                400,
                lambda: self._post(P, "inbound", b"\xc3\x28", json_type),
            ),
            (
                "JSON sent as form",
                400,
                lambda: self._post(P, "dlr", form_report, form_type),
            ),
            ("form sent as JSON", 400, lambda: self._post(F, "dlr", report, json_type)),
            (
                "inbound form sent as JSON",
                400,
                lambda: self._post(
                    F,
                    "inbound",
                    self._json({"from": "+33612345678", "text": "STOP"}),
                    json_type,
                ),
            ),
            (
                "unknown message",
                404,
                lambda: self._post(
                    P,
                    "dlr",
                    self._json(
                        {"reports": [{"reference": "0" * 32, "status": "failed"}]}
                    ),
                    json_type,
                ),
            ),
            (
                "form unknown message",
                404,
                lambda: self._post(
                    F, "dlr", b"reference=%FF%FE&status=failed", form_type
                ),
            ),
            (
                "oversized",
                413,
                lambda: self._post(P, "dlr", b" " * (64 * 1024 + 1), json_type),
            ),
        ]
        for label, status, call in cases:
            with self.subTest(label):
                response = call()
                self.assertEqual(response.status_code, status, response.text)
                self.assertEqual(self._state(), before)

    def test_signed_form_reads_only_the_signed_body(self):
        """R-7.5: a generic form gateway signs its body; parameters added to
        the URL of a captured call (unsigned) are ignored, so they cannot turn
        a 'delivered' report into a refunded failure."""
        body = f"reference={self.form_message.reference}&status=delivered".encode()
        response = self._post(
            self.form_provider,
            "dlr",
            body,
            "application/x-www-form-urlencoded",
            query=f"?status=failed&reference={self.json_message.reference}",
        )
        self.assertEqual(response.status_code, 200)
        self.env.invalidate_all()
        self.assertEqual(self.form_message.state, "delivered")
        self.assertEqual(self.json_message.state, "sent")

    def test_replayed_inbound_is_received_once(self):
        """R-7.5 R-7.6: the same signed reply posted twice (within the time
        window) is recorded and acted on once."""
        for values in (
            {"id": "hostile-1", "from": "+33699887766", "text": "Hello"},
            # no id of its own: the call is named by its signature
            {"from": "+33699887755", "text": "No id"},
        ):
            body = self._json(values)
            stamp = str(int(time.time()))  # a replay is the very same call
            for _attempt in range(2):
                response = self._post(
                    self.json_provider, "inbound", body, "application/json", stamp
                )
                self.assertEqual(response.status_code, 200)
            received = self.env["clinic.sms.inbound"].search(
                [
                    ("provider_id", "=", self.json_provider.id),
                    ("from_number", "=", values["from"]),
                ]
            )
            self.assertEqual(len(received), 1)
            self.assertEqual(received.text, values["text"])


# ----------------------------------------------------------------------
# Properties of the webhook parsers, without a database
# ----------------------------------------------------------------------
class FakeProvider:
    """What the webhook methods read of a provider record."""

    id = 1

    def __init__(self, flavor):
        self.http_flavor = flavor
        self.webhook_secret = "fuzz-secret"
        self.password = "fuzz-token"

    def ensure_one(self):
        return self

    def _get_gateway(self):
        return HTTP_GATEWAYS[self.http_flavor](self)


FLAVORS = ("kannel", "twilio", "json", "form")
KNOWN_STATES = {
    state
    for table in (KANNEL_DLR, TWILIO_DLR, GENERIC_DLR)
    for state, _r in table.values()
}
CALLBACK = "http://127.0.0.1:8069/clinic_sms/dlr/1"


def _data(params=(), headers=(), body=b"", url=CALLBACK):
    return {
        "url": url,
        "params": MultiDict(list(params)),
        "headers": Headers(list(headers)),
        "body": body,
    }


def _generic_headers(body, stamp, secret="fuzz-secret"):
    signature = signatures.hmac_sha256_hex(secret, stamp.encode() + b"." + body)
    return [("X-Clinic-Timestamp", stamp), ("X-Clinic-Signature", signature)]


def test_r75_webhook_parsers_properties():
    """R-7.5: over >= 1,000 generated calls, _webhook_verify answers a bool and
    never raises; _webhook_dlr_events and _webhook_inbound_values raise nothing
    but ValueError (answered 400) and return only known states and text; a
    correctly signed call verifies and the same call with one altered byte,
    parameter or timestamp does not."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    cases = {"random": 0, "signed": 0}
    refusals = {"refused": 0}
    bounded = settings(
        max_examples=700,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    text = st.text(max_size=30)
    json_bodies = st.one_of(
        st.binary(max_size=80),
        st.builds(
            lambda reports: json.dumps({"reports": reports}).encode(),
            st.lists(
                st.dictionaries(
                    st.sampled_from(["reference", "status", "error"]),
                    st.none()
                    | text
                    | st.sampled_from(sorted(GENERIC_DLR))
                    | st.integers(),
                    max_size=3,
                ),
                max_size=3,
            ),
        ),
        st.builds(
            lambda values: json.dumps(values).encode(),
            st.dictionaries(
                st.sampled_from(["id", "from", "to", "text"]),
                st.none() | text | st.integers() | st.lists(text, max_size=2),
                max_size=4,
            ),
        ),
    )
    params = st.lists(
        st.tuples(
            st.sampled_from(
                [
                    "ref",
                    "sig",
                    "status",
                    "MessageSid",
                    "MessageStatus",
                    "From",
                    "Body",
                    "reference",
                    "from",
                    "text",
                    "id",
                ]
            )
            | text,
            text | st.sampled_from(["1", "16", "delivered", "failed", "+33612345678"]),
        ),
        max_size=6,
    )
    headers = st.lists(
        st.tuples(
            st.sampled_from(
                [
                    "X-Clinic-Timestamp",
                    "X-Clinic-Signature",
                    "X-Twilio-Signature",
                    "Authorization",
                ]
            ),
            st.text(
                st.characters(
                    min_codepoint=32, max_codepoint=0x10FFFF, exclude_categories=["Cs"]
                ),
                max_size=40,
            )
            | st.just(str(int(time.time()))),
        ),
        max_size=4,
    )

    @bounded
    @given(
        flavor=st.sampled_from(FLAVORS),
        kind=st.sampled_from(["dlr", "inbound"]),
        params=params,
        headers=headers,
        body=json_bodies,
    )
    def random_call(flavor, kind, params, headers, body):
        cases["random"] += 1
        provider = FakeProvider(flavor)
        data = _data(params, headers, body)
        verified = ClinicSmsProvider._webhook_verify(provider, kind, data)
        assert verified in (True, False), verified
        try:
            if kind == "dlr":
                events = ClinicSmsProvider._webhook_dlr_events(provider, data)
                for event in events:
                    assert event["status"] in KNOWN_STATES | {None}, event
                    assert event["refund"] in (True, False), event
            else:
                values = ClinicSmsProvider._webhook_inbound_values(provider, data)
                assert isinstance(values["from"], str) and values["from"].strip()
                for key in ("external_id", "to", "text"):
                    assert values[key] is None or isinstance(values[key], str), values
        except ValueError:
            refusals["refused"] += 1

    @settings(
        max_examples=400,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        flavor=st.sampled_from(FLAVORS),
        body=st.binary(min_size=1, max_size=60),
        ref=st.text(min_size=1, max_size=20),
        values=st.dictionaries(
            st.sampled_from(["MessageSid", "MessageStatus", "To", "Body"]),
            text,
            min_size=1,
        ),
        position=st.integers(min_value=0, max_value=10_000),
        skew=st.integers(min_value=-250, max_value=250),
    )
    def signed_call(flavor, body, ref, values, position, skew):
        cases["signed"] += 1
        provider = FakeProvider(flavor)
        verify = ClinicSmsProvider._webhook_verify
        if flavor in ("json", "form"):
            stamp = str(int(time.time()) + skew)
            good = _data(headers=_generic_headers(body, stamp), body=body)
            assert verify(provider, "dlr", good)
            index = position % len(body)
            altered = body[:index] + bytes([body[index] ^ 1]) + body[index + 1 :]
            forged = _data(headers=_generic_headers(body, stamp), body=altered)
            assert not verify(provider, "dlr", forged)
            stale = str(int(time.time()) - 400 - abs(skew))
            assert not verify(
                provider, "dlr", _data(headers=_generic_headers(body, stale), body=body)
            )
        elif flavor == "kannel":
            sig = dlr_signature("fuzz-secret", 1, DLR_MASK, ref)
            mask = ("mask", str(DLR_MASK))
            call = [("ref", ref), mask, ("sig", sig), ("status", "1")]
            assert verify(provider, "dlr", _data(call))
            other = ref + "x"
            assert not verify(provider, "dlr", _data([("ref", other), *call[1:]]))
            wrong = dlr_signature("fuzz-secreT", 1, DLR_MASK, ref)
            assert not verify(
                provider, "dlr", _data([*call[:2], ("sig", wrong), call[3]])
            )
        else:
            items = sorted(values.items())
            sig = signatures.twilio_signature("fuzz-token", CALLBACK, dict(items))
            header = [("X-Twilio-Signature", sig)]
            assert verify(provider, "dlr", _data(items, header))
            name = items[position % len(items)][0]
            changed = [(n, v + "1" if n == name else v) for n, v in items]
            assert not verify(provider, "dlr", _data(changed, header))
            assert not verify(provider, "dlr", _data(items, header, url=CALLBACK + "0"))

    random_call()
    signed_call()
    total = sum(cases.values())
    _logger.info("webhook property cases: %s total=%s %s", cases, total, refusals)
    assert total >= 1000, cases
    # the generated calls exercise both outcomes, not only refusals
    assert 0 < refusals["refused"] < cases["random"], refusals
