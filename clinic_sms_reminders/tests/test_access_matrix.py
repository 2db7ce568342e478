"""Who may do what (R-8.2), and nobody may forge a webhook call (R-7.5).

One table of expected outcomes, one loop: each cell runs the action as that
user and asserts either its real effect or an AccessError with nothing
changed. Then the same questions across clinics: a user of clinic A never
reads, sends, previews, replenishes or configures anything of clinic B.
"""

import base64
import json
import time

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
    "queue_message": SMS_USERS,
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
