"""Who may do what (R-8.2), and nobody may forge a webhook call (R-7.5).

One table of expected outcomes, one loop: each cell runs the action as that
user and asserts either its real effect or an AccessError with nothing
changed. Then the same questions across clinics: a user of clinic A never
reads, sends, previews, replenishes or configures anything of clinic B.
"""

import base64
import json
import time
from datetime import datetime, timedelta
from typing import ClassVar

from odoo.exceptions import AccessError
from odoo.tests import Form, HttpCase, new_test_user, tagged

from odoo.addons.clinic_sms_reminders.tools import signatures

from .common import ClinicSmsCase, make_user

PROFILES = ("public", "portal", "internal", "sms_user", "sms_manager")
SMS_USERS = frozenset({"sms_user", "sms_manager"})
MANAGERS = frozenset({"sms_manager"})

# action -> profiles that may do it; every other profile gets AccessError and
# nothing changes.
EXPECTED = {
    "read_history": SMS_USERS,
    "send_with_wizard": SMS_USERS,
    # messages are read-only for everyone: they are made by the addon's
    # own paths (wizard, planning), never written by hand
    "queue_message": frozenset(),
    "preview_template": SMS_USERS,
    "replenish_with_wizard": MANAGERS,
    "wallet_top_up": MANAGERS,
    "configure_provider": MANAGERS,
    "create_provider": MANAGERS,
    "read_provider_secrets": MANAGERS,
    "edit_template": MANAGERS,
    # the Settings screen is Odoo's administrators' (base.group_system) only
    "change_settings": frozenset(),
}


class AccessCase(ClinicSmsCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.users = {
            "public": cls.env.ref("base.public_user"),
            "portal": new_test_user(
                cls.env,
                login="acc_portal",
                groups="base.group_portal",
                company_id=cls.company.id,
                company_ids=[(6, 0, cls.company.ids)],
            ),
            "internal": make_user(
                cls.env, "acc_internal", "base.group_user", cls.company
            ),
            "sms_user": make_user(
                cls.env,
                "acc_sms_user",
                "clinic_sms_reminders.group_clinic_sms_user",
                cls.company,
            ),
            "sms_manager": make_user(
                cls.env,
                "acc_sms_manager",
                "clinic_sms_reminders.group_clinic_sms_manager",
                cls.company,
            ),
        }
        cls.gateway = cls.env["clinic.sms.provider"].create(
            {
                "name": "Gateway A",
                "company_id": cls.company.id,
                "provider_type": "http",
                "http_flavor": "json",
                "api_url": "http://127.0.0.1:9/sms",
                "password": "api-key-a",
                "webhook_secret": "secret-a",
            }
        )
        cls.event = cls._appointment(cls)
        cls.message = cls.env["clinic.sms.message"].search(
            [("appointment_id", "=", cls.event.id)]
        )


class TestAccessMatrix(AccessCase):
    """R-8.2: the full matrix groups x actions, from one table."""

    # -- snapshots: what a refused action must leave untouched ----------------
    def _snapshot(self):
        Message = self.env["clinic.sms.message"].sudo()
        self.env.invalidate_all()
        return {
            "messages": Message.search_count([]),
            "mailings": self.env["clinic.sms.mailing"].sudo().search_count([]),
            "balance": self.wallet.sudo().balance,
            "ledger": len(self.wallet.sudo().move_ids),
            "providers": self.env["clinic.sms.provider"]
            .sudo()
            .with_context(active_test=False)
            .search_count([]),
            "batch_size": self.gateway.sudo().batch_size,
            "body": self.template.sudo().body,
            "max_parts": self.company.sudo().clinic_sms_max_parts,
        }

    # -- the actions, as ``user``; each returns nothing and asserts its effect --
    def _read_history(self, user):
        values = self.message.with_user(user).read(["body", "state", "phone"])
        self.assertEqual(values[0]["phone"], "+33612345678")
        found = self.env["clinic.sms.message"].with_user(user).search([])
        self.assertIn(self.message, found)

    def _send_with_wizard(self, user):
        wizard = (
            self.env["clinic.sms.send.wizard"]
            .with_user(user)
            .create(
                {
                    "company_id": self.company.id,
                    "content": "text",
                    "custom_text": "Your prescription is ready at the clinic.",
                    "partner_ids": [(6, 0, self.patient.ids)],
                }
            )
        )
        wizard.action_review()
        action = wizard.action_send()
        mailing = self.env["clinic.sms.mailing"].browse(action["res_id"])
        self.assertEqual(mailing.message_ids.partner_id, self.patient)
        self.assertEqual(mailing.message_ids.state, "queued")
        self.assertIn("prescription is ready", mailing.message_ids.body)

    def _queue_message(self, user):
        message = (
            self.env["clinic.sms.message"]
            .with_user(user)
            .create(
                {
                    "kind": "private",
                    "company_id": self.company.id,
                    "partner_id": self.patient.id,
                    "phone": "+33612345678",
                    "idempotency_key": f"matrix:{user.login}",
                    "body": "Queued by hand",
                }
            )
        )
        self.assertEqual(message.sudo().state, "queued")

    def _preview_template(self, user):
        # as the template form's Preview button does (the form itself is
        # read-only for SMS users, who may not edit templates)
        form = Form(
            self.env["clinic.sms.template.preview"]
            .with_user(user)
            .with_context(default_template_id=self.template.id)
        )
        form.event_id = self.event
        self.assertIn("Hello Jane, see you on", form.body)
        self.assertIn("Dr Claire Martin", form.body)

    def _replenish_with_wizard(self, user):
        before = self.wallet.sudo().balance
        wizard = (
            self.env["clinic.sms.replenish.wizard"]
            .with_user(user)
            .create({"wallet_id": self.wallet.id, "units": 10, "note": "matrix"})
        )
        wizard.action_replenish()
        self.wallet.invalidate_recordset()
        self.assertEqual(self.wallet.sudo().balance, before + 10)

    def _wallet_top_up(self, user):
        before = self.wallet.sudo().balance
        self.wallet.with_user(user)._top_up(5, "matrix")
        self.wallet.invalidate_recordset()
        self.assertEqual(self.wallet.sudo().balance, before + 5)

    def _configure_provider(self, user):
        self.gateway.with_user(user).write({"batch_size": 7, "webhook_secret": "new"})
        self.assertEqual(self.gateway.sudo().batch_size, 7)
        self.gateway.sudo().write({"batch_size": 500, "webhook_secret": "secret-a"})

    def _create_provider(self, user):
        provider = (
            self.env["clinic.sms.provider"]
            .with_user(user)
            .create({"name": "Another sandbox", "company_id": self.company.id})
        )
        self.assertEqual(provider.sudo().provider_type, "sandbox")
        provider.sudo().unlink()

    def _read_provider_secrets(self, user):
        values = self.gateway.with_user(user).read(["password", "webhook_secret"])
        self.assertEqual(
            (values[0]["password"], values[0]["webhook_secret"]),
            ("api-key-a", "secret-a"),
        )

    def _edit_template(self, user):
        body = self.template.body
        self.template.with_user(user).write({"body": body + " Bye."})
        self.assertTrue(self.template.sudo().body.endswith(" Bye."))
        self.template.sudo().body = body

    def _change_settings(self, user):
        settings = (
            self.env["res.config.settings"]
            .with_user(user)
            .create({"clinic_sms_max_parts": 2})
        )
        settings.execute()

    def test_matrix(self):
        """R-8.2 R-6.2 R-7.2 R-3.5 R-5.5 R-7.8: every group x every action, as
        the EXPECTED table says; a refusal is an AccessError and changes
        nothing (no message, no mailing, no unit, no provider change)."""
        refusals = 0
        for action, allowed in EXPECTED.items():
            for profile in PROFILES:
                user = self.users[profile]
                run = getattr(self, f"_{action}")
                with self.subTest(action=action, profile=profile):
                    if profile in allowed:
                        run(user)
                        continue
                    before = self._snapshot()
                    with self.assertRaises(AccessError):
                        run(user)
                    self.assertEqual(self._snapshot(), before)
                    refusals += 1
        # the table really refuses something to everyone but the manager
        self.assertEqual(
            refusals,
            sum(len(set(PROFILES) - allowed) for allowed in EXPECTED.values()),
        )

    def test_table_matches_the_groups(self):
        """R-8.2: the matrix's profiles are what they claim to be, so the table
        above tests the real groups."""
        user_group = "clinic_sms_reminders.group_clinic_sms_user"
        manager_group = "clinic_sms_reminders.group_clinic_sms_manager"
        has = {
            profile: (user.has_group(user_group), user.has_group(manager_group))
            for profile, user in self.users.items()
        }
        self.assertEqual(
            has,
            {
                "public": (False, False),
                "portal": (False, False),
                "internal": (False, False),
                "sms_user": (True, False),
                "sms_manager": (True, True),
            },
        )
        self.assertTrue(self.users["public"]._is_public())
        self.assertTrue(self.users["portal"].share)

    def test_history_is_never_deleted_by_users(self):
        """R-7.8 R-8.2: no group deletes history (only the superuser could)."""
        for profile in PROFILES:
            with self.subTest(profile=profile), self.assertRaises(AccessError):
                self.message.with_user(self.users[profile]).unlink()
        self.assertTrue(self.message.exists())

    def test_message_cannot_be_moved_to_a_clinic_of_others(self):
        """R-8.2 R-6.1: an SMS user cannot move a queued message of their clinic
        to a clinic they do not belong to (it would be sent through, and billed
        to, that clinic's provider and wallet)."""
        other = self.env["res.company"].create({"name": "Clinic elsewhere"})
        with self.assertRaises(AccessError):
            self.message.with_user(self.users["sms_user"]).write(
                {"company_id": other.id}
            )
        self.assertEqual(self.message.company_id, self.company)


class TestMultiCompanyIsolation(AccessCase):
    """R-8.2: an SMS user (or manager) of clinic A sees and touches nothing
    of clinic B."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.env["res.company"].create(
            {"name": "Clinique B", "country_id": cls.env.ref("base.fr").id}
        )
        cls.env.user.company_ids |= cls.company_b
        cls.wallet_b = cls.company_b.clinic_sms_wallet_id
        cls.wallet_b._top_up(50, "tests")
        cls.provider_b = cls.env["clinic.sms.provider"].create(
            {
                "name": "Gateway B",
                "company_id": cls.company_b.id,
                "provider_type": "http",
                "http_flavor": "json",
                "api_url": "http://127.0.0.1:9/sms",
                "password": "api-key-b",
                "webhook_secret": "secret-b",
            }
        )
        cls.template_b = cls.env["clinic.sms.template"].create(
            {
                "name": "B reminder",
                "kind": "private",
                "company_id": cls.company_b.id,
                "body": "Clinic B says hello {patient_first_name}",
            }
        )
        cls.patient_b = cls.env["res.partner"].create(
            {
                "name": "Bob B",
                "phone": "06 98 76 54 32",
                "country_id": cls.env.ref("base.fr").id,
                "company_id": cls.company_b.id,
            }
        )
        cls.event_b = cls._appointment(
            cls,
            clinic_company_id=cls.company_b.id,
            clinic_patient_id=cls.patient_b.id,
            partner_ids=[(6, 0, cls.patient_b.ids)],
        )
        cls.mailing_b = cls.env["clinic.sms.mailing"].create(
            {
                "name": "B mailing",
                "company_id": cls.company_b.id,
                "template_id": cls.template_b.id,
            }
        )
        cls.message_b = cls.env["clinic.sms.message"].create(
            {
                "kind": "private",
                "company_id": cls.company_b.id,
                "partner_id": cls.patient_b.id,
                "phone": "+33698765432",
                "idempotency_key": "isolation-b",
                "state": "sent",
                "provider_id": cls.provider_b.id,
                "mailing_id": cls.mailing_b.id,
                "body": "Secret B text",
            }
        )
        cls.inbound_b = cls.env["clinic.sms.inbound"].create(
            {
                "provider_id": cls.provider_b.id,
                "company_id": cls.company_b.id,
                "from_number": "+33698765432",
                "text": "B reply",
            }
        )

    def _state_of_b(self):
        self.env.invalidate_all()
        Message = self.env["clinic.sms.message"].sudo()
        return {
            "messages": Message.search_count([("company_id", "=", self.company_b.id)]),
            "mailings": self.env["clinic.sms.mailing"]
            .sudo()
            .search_count([("company_id", "=", self.company_b.id)]),
            "balance": self.wallet_b.sudo().balance,
            "ledger": len(self.wallet_b.sudo().move_ids),
            "message": self.message_b.sudo().read(["state", "body", "company_id"]),
            "provider": self.provider_b.sudo().read(
                ["batch_size", "webhook_secret", "company_id"]
            ),
            "template": self.template_b.sudo().body,
        }

    def test_records_of_another_clinic_are_invisible(self):
        """R-8.2: messages, wallets, wallet ledger, templates, providers,
        mailings, inbound SMS and appointments of clinic B are neither found
        nor readable by clinic A's SMS user or manager."""
        records_b = {
            "clinic.sms.message": self.message_b,
            "clinic.sms.wallet": self.wallet_b,
            "clinic.sms.wallet.move": self.wallet_b.move_ids,
            "clinic.sms.template": self.template_b,
            "clinic.sms.provider": self.provider_b,
            "clinic.sms.mailing": self.mailing_b,
            "clinic.sms.inbound": self.inbound_b,
            "calendar.event": self.event_b,
        }
        for profile in ("sms_user", "sms_manager"):
            user = self.users[profile]
            for model, record in records_b.items():
                with self.subTest(profile=profile, model=model):
                    self.assertTrue(record)
                    found = self.env[model].with_user(user).search([])
                    self.assertFalse(found & record)
                    with self.assertRaises(AccessError):
                        record.with_user(user).read(["display_name"])
            # and clinic A's own records stay visible, so the rules are not
            # simply refusing everything
            self.assertIn(
                self.message, self.env["clinic.sms.message"].with_user(user).search([])
            )

    def test_cannot_send_for_another_clinic(self):
        """R-8.2 R-5.5: clinic A's SMS user cannot queue messages for clinic B,
        neither through the wizard (B as clinic, or B's template) nor directly;
        nothing is created for B."""
        user = self.users["sms_user"]
        before = self._state_of_b()
        Wizard = self.env["clinic.sms.send.wizard"].with_user(user)
        attempts = {
            "clinic B": {
                "company_id": self.company_b.id,
                "template_id": self.template.id,
            },
            "template B": {
                "company_id": self.company.id,
                "template_id": self.template_b.id,
            },
        }
        for label, values in attempts.items():
            with self.subTest(label), self.assertRaises(AccessError):
                wizard = Wizard.create(
                    dict(values, partner_ids=[(6, 0, self.patient.ids)])
                )
                wizard.action_review()
                wizard.action_send()
        with self.assertRaises(AccessError):
            self.env["clinic.sms.message"].with_user(user).create(
                {
                    "kind": "private",
                    "company_id": self.company_b.id,
                    "partner_id": self.patient.id,
                    "phone": "+33612345678",
                    "idempotency_key": "isolation-forged",
                    "body": "for B",
                }
            )
        self.assertEqual(self._state_of_b(), before)

    def test_cannot_preview_another_clinic(self):
        """R-8.2 R-3.5: no preview of clinic B's template, nor of a clinic A
        template on clinic B's appointment (it would leak B's patient)."""
        Preview = self.env["clinic.sms.template.preview"]
        for profile in ("sms_user", "sms_manager"):
            user = self.users[profile]
            for label, template, event in (
                ("template B", self.template_b, self.event),
                ("appointment B", self.template, self.event_b),
            ):
                with (
                    self.subTest(profile=profile, case=label),
                    self.assertRaises(AccessError),
                ):
                    preview = Preview.with_user(user).create(
                        {"template_id": template.id, "event_id": event.id}
                    )
                    self.assertFalse(preview.body)
            # their own clinic's preview works
            preview = Preview.with_user(user).create(
                {"template_id": self.template.id, "event_id": self.event.id}
            )
            self.assertIn("Hello Jane", preview.body)

    def test_cannot_replenish_another_clinic(self):
        """R-8.2 R-6.2: even clinic A's SMS manager cannot add units to clinic
        B's wallet (wizard or top-up), and no ledger line appears."""
        before = self._state_of_b()
        for profile in ("sms_user", "sms_manager"):
            user = self.users[profile]
            with self.subTest(profile=profile, path="wizard"):
                with self.assertRaises(AccessError):
                    self.env["clinic.sms.replenish.wizard"].with_user(user).create(
                        {"wallet_id": self.wallet_b.id, "units": 1000}
                    ).action_replenish()
                self.assertEqual(self._state_of_b(), before)
            with self.subTest(profile=profile, path="top-up"):
                with self.assertRaises(AccessError):
                    self.wallet_b.with_user(user)._top_up(1000)
                self.assertEqual(self._state_of_b(), before)
        # the same manager still replenishes their own clinic
        self.wallet.with_user(self.users["sms_manager"])._top_up(1)

    def test_cannot_configure_another_clinic(self):
        """R-8.2 R-7.2: clinic A's SMS manager neither reads nor changes clinic
        B's provider (secrets included) nor B's templates."""
        manager = self.users["sms_manager"]
        before = self._state_of_b()
        for label, attempt in {
            "read secrets": lambda: self.provider_b.with_user(manager).read(
                ["webhook_secret", "password"]
            ),
            "write provider": lambda: self.provider_b.with_user(manager).write(
                {"webhook_secret": "stolen", "api_url": "http://127.0.0.1:1/"}
            ),
            "write template": lambda: self.template_b.with_user(manager).write(
                {"body": "Hijacked"}
            ),
            "move provider": lambda: self.gateway.with_user(manager).write(
                {"company_id": self.company_b.id}
            ),
        }.items():
            with self.subTest(label), self.assertRaises(AccessError):
                attempt()
        self.assertEqual(self._state_of_b(), before)
        self.assertEqual(self.gateway.company_id, self.company)


@tagged("post_install", "-at_install")
class TestWebhookAccess(HttpCase):
    """R-7.5 R-8.2: the public webhooks refuse unsigned or forged calls
    whoever calls them (anonymous or logged in as any group), and a clinic's
    provider cannot report on another clinic's message."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Company = cls.env["res.company"]
        cls.company_a = Company.create({"name": "Webhook clinic A"})
        cls.company_b = Company.create({"name": "Webhook clinic B"})
        companies = cls.company_a | cls.company_b
        cls.logins = {
            "public": None,
            "portal": ("acc_wh_portal", "base.group_portal"),
            "internal": ("acc_wh_internal", "base.group_user"),
            "sms_user": ("acc_wh_user", "clinic_sms_reminders.group_clinic_sms_user"),
            "sms_manager": (
                "acc_wh_manager",
                "clinic_sms_reminders.group_clinic_sms_manager",
            ),
        }
        for spec in cls.logins.values():
            if spec:
                new_test_user(
                    cls.env,
                    login=spec[0],
                    groups=spec[1],
                    company_id=cls.company_a.id,
                    company_ids=[(6, 0, companies.ids)],
                )
        Provider = cls.env["clinic.sms.provider"]
        common = {
            "provider_type": "http",
            "api_url": "http://127.0.0.1:9/sms",
            "callback_base_url": "http://127.0.0.1:8069",
        }
        cls.kannel_a = Provider.create(
            dict(
                common,
                name="Kannel A",
                http_flavor="kannel",
                company_id=cls.company_a.id,
                webhook_secret="secret-a",
            )
        )
        cls.json_a = Provider.create(
            dict(
                common,
                name="JSON A",
                http_flavor="json",
                company_id=cls.company_a.id,
                webhook_secret="secret-a",
            )
        )
        cls.json_b = Provider.create(
            dict(
                common,
                name="JSON B",
                http_flavor="json",
                company_id=cls.company_b.id,
                webhook_secret="secret-b",
            )
        )
        Message = cls.env["clinic.sms.message"]
        cls.kannel_message = Message.create(
            {
                "kind": "private",
                "company_id": cls.company_a.id,
                "idempotency_key": "acc-webhook-kannel",
                "state": "sent",
                "provider_id": cls.kannel_a.id,
                "phone": "+33612345678",
                "body": "Hello",
            }
        )
        cls.json_message = Message.create(
            {
                "kind": "private",
                "company_id": cls.company_a.id,
                "idempotency_key": "acc-webhook-json",
                "state": "sent",
                "provider_id": cls.json_a.id,
                "phone": "+33612345678",
                "body": "Hello",
            }
        )

    def _signed_json(self, secret, payload):
        body = json.dumps(payload).encode()
        stamp = str(int(time.time()))
        signature = signatures.hmac_sha256_hex(secret, stamp.encode() + b"." + body)
        headers = {
            "Content-Type": "application/json",
            "X-Clinic-Timestamp": stamp,
            "X-Clinic-Signature": signature,
        }
        return body, headers

    def _forged_calls(self):
        """(label, url, data, headers): none of them is properly signed."""
        ref = self.kannel_message.reference
        kannel_dlr = f"/clinic_sms/dlr/{self.kannel_a.id}"
        good_sig = signatures.hmac_sha256_hex("secret-a", ref)
        json_dlr = f"/clinic_sms/dlr/{self.json_a.id}"
        json_in = f"/clinic_sms/inbound/{self.json_a.id}"
        report = {"reports": [{"reference": self.json_message.reference}]}
        report["reports"][0]["status"] = "failed"
        body_b, headers_b = self._signed_json("secret-b", report)
        body_a, headers_a = self._signed_json("secret-a", report)
        inbound = {"from": "+33612345678", "text": "STOP", "id": "acc-1"}
        in_body, in_headers = self._signed_json("secret-b", inbound)
        basic = base64.b64encode(b"clinic:guess").decode()
        return [
            ("kannel unsigned", f"{kannel_dlr}?ref={ref}&status=16", None, {}),
            (
                "kannel wrong secret",
                (
                    f"{kannel_dlr}?ref={ref}&status=16"
                    f"&sig={signatures.hmac_sha256_hex('secret-b', ref)}"
                ),
                None,
                {},
            ),
            (
                "kannel signature of another reference",
                (
                    f"{kannel_dlr}?ref={self.json_message.reference}&status=16"
                    f"&sig={good_sig}"
                ),
                None,
                {},
            ),
            (
                "kannel inbound wrong password",
                f"/clinic_sms/inbound/{self.kannel_a.id}?from=%2B33612345678&text=STOP",
                None,
                {"Authorization": f"Basic {basic}"},
            ),
            (
                "json unsigned",
                json_dlr,
                body_a,
                {"Content-Type": "application/json"},
            ),
            ("json signed by clinic B", json_dlr, body_b, headers_b),
            (
                "json signature of another body",
                json_dlr,
                body_a.replace(b"failed", b"expired"),
                headers_a,
            ),
            ("json inbound signed by clinic B", json_in, in_body, in_headers),
        ]

    def _state(self):
        self.env.invalidate_all()
        messages = self.kannel_message | self.json_message
        return {
            "messages": messages.read(["state", "reason", "delivered_at"]),
            "inbound": self.env["clinic.sms.inbound"].search_count([]),
            "blacklisted": self.env["phone.blacklist"]
            .sudo()
            .search_count([("number", "=", "+33612345678")]),
        }

    def test_forged_calls_refused_for_everyone(self):
        """R-7.5 R-8.2: unsigned or forged DLR and inbound calls answer 403 and
        change nothing, anonymous or logged in as portal, internal, SMS user or
        SMS manager: a session grants nothing on these routes."""
        before = self._state()
        calls = self._forged_calls()
        for profile, spec in self.logins.items():
            if spec:
                self.authenticate(spec[0], spec[0])
            else:
                self.assertIsNone(self.session)  # anonymous: first in the list
            for label, url, data, headers in calls:
                with self.subTest(profile=profile, call=label):
                    response = self.url_open(url, data=data, headers=headers)
                    self.assertEqual(response.status_code, 403, response.text)
            self.assertEqual(self._state(), before)

    def test_dlr_of_another_clinic_cannot_touch_a_message(self):
        """R-7.5 R-8.2: a correctly signed DLR of clinic B's provider naming
        clinic A's message matches nothing (404); A's message and wallet stay
        as they were. The same report through A's provider applies."""
        before = self._state()
        report = {
            "reports": [{"reference": self.json_message.reference, "status": "failed"}]
        }
        body, headers = self._signed_json("secret-b", report)
        response = self.url_open(
            f"/clinic_sms/dlr/{self.json_b.id}", data=body, headers=headers
        )
        self.assertEqual(response.status_code, 404)
        self.assertEqual(self._state(), before)
        body, headers = self._signed_json("secret-a", report)
        response = self.url_open(
            f"/clinic_sms/dlr/{self.json_a.id}", data=body, headers=headers
        )
        self.assertEqual(response.status_code, 200)
        self.json_message.invalidate_recordset()
        self.assertEqual(self.json_message.state, "failed")


# ---------------------------------------------------------------------------
# The same questions over HTTP, as an integrator asks them: JSON-2
# (POST /json/2/<model>/<method>, an API key per user), against the running
# server, for every profile, every model and action, own / other / shared.
# ---------------------------------------------------------------------------

RPC_PROFILES = (
    "public",
    "portal",
    "internal",
    "sms_user",
    "sms_manager",
    "manager_b",
    "admin_all",
)
# what each profile's groups reach: nothing, internal user, SMS user, manager
RPC_LEVEL = {
    "public": 0,
    "portal": 0,
    "internal": 1,
    "sms_user": 2,
    "sms_manager": 3,
    "manager_b": 3,
    "admin_all": 3,
}
INTERNAL, USER, MANAGER = 1, 2, 3


@tagged("post_install", "-at_install")
class RpcCase(HttpCase):
    """Two clinics A and B, each with its own records, users of every profile
    with an API key, and a JSON-2 client."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        Company = cls.env["res.company"]
        fr = cls.env.ref("base.fr")
        cls.company_a = Company.create({"name": "Cabinet Pasteur", "country_id": fr.id})
        cls.company_b = Company.create({"name": "Clinique Curie", "country_id": fr.id})
        cls.env.user.company_ids |= cls.company_a | cls.company_b
        every = Company.with_context(active_test=False).search([])
        specs = {
            "portal": ("base.group_portal", cls.company_a, cls.company_a),
            "internal": ("base.group_user", cls.company_a, cls.company_a),
            "sms_user": (
                "clinic_sms_reminders.group_clinic_sms_user",
                cls.company_a,
                cls.company_a,
            ),
            "sms_manager": (
                "clinic_sms_reminders.group_clinic_sms_manager",
                cls.company_a,
                cls.company_a,
            ),
            "manager_b": (
                "clinic_sms_reminders.group_clinic_sms_manager",
                cls.company_b,
                cls.company_b,
            ),
            "admin_all": (
                "clinic_sms_reminders.group_clinic_sms_manager",
                cls.company_a,
                every,
            ),
        }
        cls.users, cls.keys = {}, {"public": None}
        for profile, (groups, company, companies) in specs.items():
            user = new_test_user(
                cls.env,
                login=f"rpc_{profile}",
                groups=groups,
                company_id=company.id,
                company_ids=[(6, 0, companies.ids)],
            )
            cls.users[profile] = user
            cls.keys[profile] = (
                cls.env["res.users.apikeys"]
                .with_user(user)
                .sudo()
                ._generate(None, "integration", None)
            )
        cls.patient = cls.env["res.partner"].create(
            {
                "name": "Jeanne Moreau",
                "phone": "06 12 34 56 78",
                "country_id": fr.id,
                "lang": "en_US",
            }
        )
        cls.practitioner = cls.env["res.partner"].create({"name": "Dr Paul Petit"})
        cls.service = cls.env["product.product"].create({"name": "Scaling"})
        cls.clinic = {}
        for company in cls.company_a | cls.company_b:
            provider = cls.env["clinic.sms.provider"].create(
                {"name": f"Sandbox {company.name}", "company_id": company.id}
            )
            company.clinic_sms_provider_id = provider
            company.clinic_sms_wallet_id._top_up(100, "tests")
            template = cls.env["clinic.sms.template"].create(
                {
                    "name": f"Note {company.name}",
                    "kind": "private",
                    "company_id": company.id,
                    "body": f"{company.name}: hello {{patient_first_name}}",
                }
            )
            cls.clinic[company] = {"provider": provider, "template": template}
        cls.shared_template = cls.env.ref("clinic_sms_reminders.template_confirmation")
        cls.shared_provider = cls.env.ref("clinic_sms_reminders.provider_sandbox")

    # -- the client ----------------------------------------------------------
    def rpc(self, profile, model, method, ids=None, companies=None, **kwargs):
        """POST /json/2/<model>/<method> as ``profile``, in ``companies`` (the
        company switcher's selection; default: all the user's): (status,
        result)."""
        context = {"lang": "en_US"}
        if companies:
            context["allowed_company_ids"] = companies.ids
        payload = dict(kwargs, context=context)
        if ids is not None:
            payload["ids"] = ids
        headers = {"Content-Type": "application/json"}
        if self.keys[profile]:
            headers["Authorization"] = f"bearer {self.keys[profile]}"
        response = self.url_open(
            f"/json/2/{model}/{method}", data=json.dumps(payload), headers=headers
        )
        return response.status_code, response.json()

    def rpc_create_then(self, profile, model, vals, method, companies=None, **kw):
        """Create a ``model`` record (a wizard) as ``profile``, then, when that
        worked, call ``method`` on it: the last answer."""
        answer = self.rpc(
            profile, model, "create", vals_list=[vals], companies=companies
        )
        if answer[0] != 200:
            return answer
        return self.rpc(
            profile, model, method, ids=answer[1], companies=companies, **kw
        )

    def assertRefused(self, profile, answer):
        status, body = answer
        self.assertEqual(status, 401 if profile == "public" else 403, body)

    def assertAllowed(self, answer):
        status, body = answer
        self.assertEqual(status, 200, body)
        return body

    def own_and_other(self, profile):
        if profile == "manager_b":
            return self.company_b, self.company_a
        return self.company_a, self.company_b

    # -- records of a clinic (False: shared by all clinics), made by the system
    def _appointment(self, company):
        start = datetime.now().replace(microsecond=0) + timedelta(days=3)
        return self.env["calendar.event"].create(
            {
                "name": "Check-up",
                "start": start,
                "stop": start + timedelta(minutes=30),
                "clinic_patient_id": self.patient.id,
                "clinic_practitioner_id": self.practitioner.id,
                "clinic_company_id": company.id,
                "partner_ids": [(6, 0, self.patient.ids)],
            }
        )


def _vals(case, model, company):
    """Values that create a valid ``model`` record of ``company`` (False:
    shared)."""
    cid = company.id if company else False
    template = case.clinic[company]["template"] if company else case.shared_template
    return {
        "clinic.sms.message": {
            "kind": "private",
            "company_id": cid,
            "partner_id": case.patient.id,
            "phone": "+33612345678",
            "idempotency_key": f"rpc:{cid}:{time.monotonic_ns()}",
            "body": "Your results are ready.",
        },
        "clinic.sms.template": {
            "name": "Holiday closure",
            "kind": "private",
            "company_id": cid,
            "body": "{clinic_name} is closed on Monday.",
        },
        "clinic.sms.rule": {
            "name": "48 hours before",
            "company_id": cid,
            "template_id": template.id,
            "trigger": "before_start",
            "delay": 48,
            "delay_unit": "hours",
        },
        "clinic.sms.provider": {"name": "Gateway", "company_id": cid},
        "clinic.sms.wallet": {"company_id": cid, "balance": 424242},
        "clinic.sms.wallet.move": {
            "wallet_id": company.clinic_sms_wallet_id.id if company else False,
            "move_type": "topup",
            "units": 424242,
        },
        "clinic.sms.mailing": {
            "name": "Closure notice",
            "company_id": cid,
            "template_id": template.id,
        },
        "clinic.sms.schedule": {
            "company_id": cid,
            "partner_id": case.patient.id,
            "custom_text": "Your prescription is ready.",
            "date_time": "2030-03-20 09:00:00",
        },
        "clinic.sms.recall": {
            "name": "Scaling recall",
            "company_id": cid,
            "service_ids": [(6, 0, case.service.ids)],
            "template_id": case.env.ref("clinic_sms_reminders.template_recall").id,
        },
    }[model]


def _make(case, model, company):
    """A fresh ``model`` record of ``company`` (False: shared), as the system
    makes it (so that a write or delete cell never depends on another)."""
    env = case.env
    if model == "clinic.sms.wallet":
        return company.clinic_sms_wallet_id
    if model == "clinic.sms.wallet.move":
        return company.clinic_sms_wallet_id._top_up(1, "matrix")
    if model == "clinic.sms.notification":
        return (
            env[model]
            .with_context(active_test=False)
            .search([("company_id", "=", company.id)], limit=1)
        )
    if model == "clinic.sms.inbound":
        return env[model].create(
            {
                "provider_id": case.clinic[company]["provider"].id,
                "company_id": company.id,
                "from_number": "+33612345678",
                "text": "Thanks",
            }
        )
    if model == "calendar.event":
        return case._appointment(company)
    return env[model].create(_vals(case, model, company))


# model -> minimum level per operation (None: nobody, whatever the clinic),
# the value a write sets, and whether the model has records shared by all
# clinics. The wallet's balance is never written, not even by a manager: it
# changes through the ledger only.
RPC_MODELS = {
    "clinic.sms.message": {
        "read": USER,
        "write": None,
        "create": None,
        "unlink": None,
        "vals": {"state": "sent", "body": "Changed"},
    },
    "clinic.sms.template": {
        "read": USER,
        "write": MANAGER,
        "create": MANAGER,
        "unlink": MANAGER,
        "vals": {"body": "Hijacked {clinic_name}"},
        "shared": True,
    },
    "clinic.sms.rule": {
        "read": USER,
        "write": MANAGER,
        "create": MANAGER,
        "unlink": MANAGER,
        "vals": {"delay": 12},
    },
    "clinic.sms.provider": {
        "read": USER,
        "write": MANAGER,
        "create": MANAGER,
        "unlink": MANAGER,
        "vals": {"provider_type": "http", "api_url": "http://127.0.0.1:9/steal"},
        "shared": True,
    },
    "clinic.sms.wallet": {
        "read": USER,
        "write": None,
        "create": None,
        "unlink": None,
        "vals": {"balance": 424242},
    },
    "clinic.sms.wallet.move": {
        "read": USER,
        "write": None,
        "create": None,
        "unlink": None,
        "vals": {"units": 424242},
    },
    "clinic.sms.notification": {
        "read": USER,
        "write": MANAGER,
        "unlink": MANAGER,
        "vals": {"active": True},
    },
    "clinic.sms.inbound": {
        "read": USER,
        "write": None,
        "unlink": None,
        "vals": {"text": "Forged"},
    },
    "clinic.sms.mailing": {
        "read": USER,
        "write": MANAGER,
        "create": USER,
        "unlink": MANAGER,
        "vals": {"name": "Renamed"},
    },
    "clinic.sms.schedule": {
        "read": USER,
        "write": USER,
        "create": USER,
        "unlink": USER,
        "vals": {"custom_text": "Changed text"},
    },
    "clinic.sms.recall": {
        "read": USER,
        "write": MANAGER,
        "create": MANAGER,
        "unlink": MANAGER,
        "vals": {"delay_days": 30},
    },
    "calendar.event": {"read": INTERNAL, "write": INTERNAL, "vals": {"name": "Moved"}},
}


def _expected(profile, need, operation, clinic):
    """May ``profile`` do ``operation`` on a record of ``clinic`` (own, other,
    shared) of a model whose ``operation`` needs level ``need``?"""
    if need is None or RPC_LEVEL[profile] < need:
        return False
    if clinic == "global":
        # a model without clinic: the groups decide alone
        return True
    if clinic == "other":
        return profile == "admin_all"
    if clinic == "shared":
        return operation == "read" or profile == "admin_all"
    return True


# action -> (minimum level, clinics it runs on); duplicating a shared
# template is allowed to a clinic's manager: the copy is their clinic's
RPC_ACTIONS = {
    "send_wizard": (USER, ("own", "other")),
    "replenish": (MANAGER, ("own", "other")),
    "preview": (USER, ("own", "other")),
    "stop_schedule": (USER, ("own", "other")),
    "dashboard": (USER, ("own", "other")),
    "confirm_appointment": (USER, ("own", "other")),
    "copy_shared_template": (MANAGER, ("shared",)),
}


class RpcMatrixCase(RpcCase):
    """The cells of an RPC matrix: ``MODELS`` (model -> minimum level per
    operation, the values a write sets, which clinics), ``ACTIONS`` (action ->
    minimum level, clinics; ``_action_<name>(profile, company)`` returns the
    answer and a check of its effect), and how records are made."""

    MODELS: ClassVar[dict] = {}
    ACTIONS: ClassVar[dict] = {}
    # actions on an appointment whose own-clinic cell, for an internal user,
    # the booking permissions decide
    BOOKING_ACTIONS = frozenset()

    def _vals(self, model, company):
        raise NotImplementedError

    def _make(self, model, company):
        raise NotImplementedError

    def _state_of(self, company):
        raise NotImplementedError

    def _snapshot(self, record):
        self.env.invalidate_all()
        record = record.sudo().with_context(active_test=False)
        if not record.exists():
            return None
        fields = [
            name
            for name, field in record._fields.items()
            if field.store and field.type not in ("one2many", "many2many", "binary")
        ]
        return record.read(fields)

    def _crud_cell(self, profile, model, operation, clinic):
        spec = self.MODELS[model]
        own, other = self.own_and_other(profile)
        company = {"own": own, "other": other}.get(clinic, False)
        allowed = _expected(profile, spec.get(operation), operation, clinic)
        if operation == "create":
            vals = self._vals(model, company)
            before = self.env[model].sudo().with_context(active_test=False)
            before = before.search_count([])
            answer = self.rpc(profile, model, "create", vals_list=[vals])
            if allowed:
                record = self.env[model].sudo().browse(self.assertAllowed(answer))
                self.assertEqual(record.company_id, company or record.company_id)
                if not company:
                    self.assertFalse(record.company_id)
            else:
                self.assertRefused(profile, answer)
                after = self.env[model].sudo().with_context(active_test=False)
                self.assertEqual(after.search_count([]), before)
            return
        record = self._make(model, company)
        before = self._snapshot(record)
        if operation == "read":
            answer = self.rpc(
                profile, model, "read", ids=record.ids, fields=["display_name"]
            )
            if allowed:
                values = self.assertAllowed(answer)
                self.assertEqual([row["id"] for row in values], record.ids)
            else:
                self.assertRefused(profile, answer)
            return
        if operation == "write":
            answer = self.rpc(
                profile, model, "write", ids=record.ids, vals=spec["vals"]
            )
            if allowed:
                self.assertAllowed(answer)
                self.assertNotEqual(self._snapshot(record), before)
                return
        else:
            answer = self.rpc(profile, model, "unlink", ids=record.ids)
            if allowed:
                self.assertAllowed(answer)
                self.assertFalse(record.exists())
                return
        self.assertRefused(profile, answer)
        self.assertEqual(self._snapshot(record), before)

    def _action_cell(self, profile, action, clinic):
        own, other = self.own_and_other(profile)
        company = other if clinic == "other" else own
        need = self.ACTIONS[action][0]
        allowed = _expected(
            profile, need, "read" if clinic == "shared" else "action", clinic
        )
        # what the action works on, made before the state it must not change
        prepare = getattr(self, f"_prepare_{action}", None)
        args = (prepare(company),) if prepare else ()
        state = self._state_of(company)
        answer, check = getattr(self, f"_action_{action}")(profile, company, *args)
        if action in self.BOOKING_ACTIONS and (profile, clinic) == ("internal", "own"):
            # an internal user without SMS rights on an appointment of their
            # clinic: the booking permissions decide, either way
            # consistently
            allowed = answer[0] == 200
        if allowed:
            self.assertAllowed(answer)
            check()
        else:
            self.assertRefused(profile, answer)
            self.assertEqual(self._state_of(company), state)

    def _run_matrix(self):
        """Every cell of ``MODELS`` and ``ACTIONS``: ({"crud": n, "actions":
        n}, number of model operations)."""
        cells = {"crud": 0, "actions": 0}
        for model, spec in self.MODELS.items():
            clinics = spec.get("clinics") or (
                ("own", "other", "shared") if spec.get("shared") else ("own", "other")
            )
            for operation in ("read", "write", "create", "unlink"):
                if operation not in spec:
                    continue
                for clinic in clinics:
                    for profile in RPC_PROFILES:
                        with self.subTest(
                            model=model, op=operation, clinic=clinic, profile=profile
                        ):
                            self._crud_cell(profile, model, operation, clinic)
                        cells["crud"] += 1
        for action, (_need, clinics) in self.ACTIONS.items():
            for clinic in clinics:
                for profile in RPC_PROFILES:
                    with self.subTest(action=action, clinic=clinic, profile=profile):
                        self._action_cell(profile, action, clinic)
                    cells["actions"] += 1
        operations = sum(
            len({"read", "write", "create", "unlink"} & set(spec))
            for spec in self.MODELS.values()
        )
        # the size of the matrix is part of the report
        print(  # pylint: disable=print-used
            f"\n{type(self).__name__}: {len(RPC_PROFILES)} profiles x "
            f"({operations} model operations on {len(self.MODELS)} models + "
            f"{len(self.ACTIONS)} actions) x own/other/shared clinics = "
            f"{cells['crud']} + {cells['actions']} = "
            f"{cells['crud'] + cells['actions']} cells over JSON-2"
        )
        return cells, operations


class TestRpcAccessMatrix(RpcMatrixCase):
    """R-8.2 R-6.2 R-7.2: profiles x (CRUD of every model of the addon, its
    buttons and wizards) x clinics (own / other / shared), as real users over
    JSON-2 against the running server. A refusal is a 401/403 that changes
    nothing; an allowance has its real effect. The models added later are in
    test_access_matrix_new_models."""

    MODELS = RPC_MODELS
    ACTIONS = RPC_ACTIONS
    BOOKING_ACTIONS = frozenset({"confirm_appointment"})

    def _vals(self, model, company):
        return _vals(self, model, company)

    def _make(self, model, company):
        return _make(self, model, company)

    # -- buttons and wizards ---------------------------------------------------
    def _action_send_wizard(self, profile, company):
        """Send SMS wizard: create, Next (review), Send."""
        answer = self.rpc(
            profile,
            "clinic.sms.send.wizard",
            "create",
            vals_list=[
                {
                    "company_id": company.id,
                    "template_id": self.clinic[company]["template"].id,
                    "partner_ids": [(6, 0, self.patient.ids)],
                }
            ],
        )
        if answer[0] != 200:
            return answer, None
        wizard_ids = answer[1]
        for method in ("action_review", "action_send"):
            answer = self.rpc(profile, "clinic.sms.send.wizard", method, ids=wizard_ids)
            if answer[0] != 200:
                return answer, None
        mailing = self.env["clinic.sms.mailing"].sudo().browse(answer[1]["res_id"])
        return answer, lambda: self.assertEqual(
            (mailing.company_id, mailing.message_ids.partner_id),
            (company, self.patient),
        )

    def _action_replenish(self, profile, company):
        wallet = company.clinic_sms_wallet_id.sudo()
        before = wallet.balance
        answer = self.rpc_create_then(
            profile,
            "clinic.sms.replenish.wizard",
            {"wallet_id": wallet.id, "units": 5, "note": "invoice 7"},
            "action_replenish",
        )

        def check():
            wallet.invalidate_recordset()
            self.assertEqual(wallet.balance, before + 5)
            self.assertEqual(wallet.move_ids[:1].note, "invoice 7")

        return answer, check

    def _action_preview(self, profile, company):
        event = self._appointment(company)
        answer = self.rpc_create_then(
            profile,
            "clinic.sms.template.preview",
            {"template_id": self.clinic[company]["template"].id, "event_id": event.id},
            "read",
            fields=["body"],
        )
        return answer, lambda: self.assertEqual(
            answer[1][0]["body"], f"{company.name}: hello Jeanne"
        )

    def _action_stop_schedule(self, profile, company):
        schedule = _make(self, "clinic.sms.schedule", company)
        answer = self.rpc(
            profile, "clinic.sms.schedule", "action_stop", ids=schedule.ids
        )
        return answer, lambda: self.assertEqual(schedule.sudo().state, "stopped")

    def _action_dashboard(self, profile, company):
        """The SMS dashboard of a clinic: its balance and today's counts."""
        answer = self.rpc_create_then(
            profile,
            "clinic.sms.dashboard",
            {"company_id": company.id},
            "read",
            fields=["balance", "today_total_count"],
        )
        return answer, lambda: self.assertEqual(
            answer[1][0]["balance"], company.clinic_sms_wallet_id.sudo().balance
        )

    def _action_confirm_appointment(self, profile, company):
        """The Confirmed button of an appointment."""
        event = self._appointment(company)
        answer = self.rpc(
            profile, "calendar.event", "action_clinic_confirm", ids=event.ids
        )
        return answer, lambda: self.assertEqual(event.clinic_status, "confirmed")

    def _action_copy_shared_template(self, profile, company):
        """Duplicate a shared template: the copy is the clinic's own."""
        answer = self.rpc(
            profile, "clinic.sms.template", "copy", ids=self.shared_template.ids
        )

        def check():
            copy = self.env["clinic.sms.template"].sudo().browse(answer[1])
            self.assertEqual(copy.body, self.shared_template.body)
            if profile != "admin_all":
                self.assertEqual(copy.company_id, company)

        return answer, check

    def _state_of(self, company):
        """What a refused action must leave untouched in a clinic."""
        self.env.invalidate_all()
        wallet = company.clinic_sms_wallet_id.sudo()
        return {
            "balance": wallet.balance,
            "ledger": len(wallet.move_ids),
            "mailings": self.env["clinic.sms.mailing"]
            .sudo()
            .search_count([("company_id", "=", company.id)]),
            "messages": self.env["clinic.sms.message"]
            .sudo()
            .search_count(
                [("company_id", "=", company.id), ("mailing_id", "!=", False)]
            ),
            "templates": self.env["clinic.sms.template"]
            .sudo()
            .search_count([("company_id", "in", [company.id, False])]),
            "stopped": self.env["clinic.sms.schedule"]
            .sudo()
            .search_count([("company_id", "=", company.id), ("state", "=", "stopped")]),
            "confirmed": self.env["calendar.event"]
            .sudo()
            .search_count(
                [
                    ("clinic_company_id", "=", company.id),
                    ("clinic_status", "=", "confirmed"),
                ]
            ),
        }

    def test_rpc_matrix(self):
        """R-8.2 R-6.2 R-7.2 R-5.5 R-3.5: every profile x every operation of
        every model and every action x own / other / shared clinic, over
        JSON-2; prints the size of the matrix."""
        cells, operations = self._run_matrix()
        self.assertEqual(operations, 44)
        # 7 profiles x (44 model operations x own/other + 8 on shared
        # records; 6 actions x own/other + 1 on a shared record)
        self.assertEqual(cells, {"crud": 7 * (44 * 2 + 8), "actions": 7 * (6 * 2 + 1)})
