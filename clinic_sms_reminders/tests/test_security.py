from psycopg2 import IntegrityError

from odoo.exceptions import AccessError, ValidationError
from odoo.tools import mute_logger

from .common import ClinicSmsCase, make_user


class TestSecurity(ClinicSmsCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other_company = cls.env["res.company"].create({"name": "Other clinic"})
        cls.reception = make_user(
            cls.env,
            "reception_a",
            "clinic_sms_reminders.group_clinic_sms_user",
            cls.company,
        )
        cls.reception_b = make_user(
            cls.env,
            "reception_b",
            "clinic_sms_reminders.group_clinic_sms_user",
            cls.other_company,
        )
        cls.employee = make_user(cls.env, "employee", "base.group_user", cls.company)

    def test_multi_company_isolation(self):
        """R-8.2: a user of clinic B never sees clinic A's messages or wallet."""
        message = self._messages(self._appointment())
        Message = self.env["clinic.sms.message"]
        self.assertEqual(
            Message.with_user(self.reception).search([("id", "=", message.id)]), message
        )
        self.assertFalse(
            Message.with_user(self.reception_b).search([("id", "=", message.id)])
        )
        with self.assertRaises(AccessError):
            message.with_user(self.reception_b).read(["body"])
        Wallet = self.env["clinic.sms.wallet"]
        self.assertFalse(
            Wallet.with_user(self.reception_b).search([("id", "=", self.wallet.id)])
        )

    def test_groups(self):
        """R-8.2: internal users without SMS rights see nothing; SMS users read
        rules and templates; only managers change them; history is never deleted."""
        message = self._messages(self._appointment())
        with self.assertRaises(AccessError):
            message.with_user(self.employee).read(["body"])
        self.rule.with_user(self.reception).read(["name"])
        with self.assertRaises(AccessError):
            self.rule.with_user(self.reception).write({"delay": 12})
        with self.assertRaises(AccessError):
            self.template.with_user(self.reception).write({"body": "x"})
        with self.assertRaises(AccessError):
            self.provider.with_user(self.reception).write({"batch_size": 1})
        with self.assertRaises(AccessError):
            message.with_user(self.reception).unlink()

    def test_idempotency_key_unique(self):
        """R-7.3: a key per (appointment, patient, rule) is unique in the database."""
        message = self._messages(self._appointment())
        with (
            mute_logger("odoo.sql_db"),
            self.assertRaises(IntegrityError),
            self.cr.savepoint(),
        ):
            self.env["clinic.sms.message"].create(
                {
                    "kind": "reminder",
                    "company_id": self.company.id,
                    "idempotency_key": message.idempotency_key,
                    "scheduled_at": message.scheduled_at,
                }
            )

    def test_sandbox_is_default_provider(self):
        """R-7.2: the sandbox provider is the default."""
        main = self.env.ref("base.main_company")
        sandbox = self.env.ref("clinic_sms_reminders.provider_sandbox")
        self.assertEqual(sandbox.provider_type, "sandbox")
        self.assertEqual(main._clinic_sms_get_provider(), sandbox)
        self.assertEqual(self.other_company._clinic_sms_get_provider(), sandbox)
        self.assertEqual(
            self.env["clinic.sms.provider"].new({}).provider_type, "sandbox"
        )
        self.assertFalse(sandbox._is_real_provider_type("sandbox"))

    def test_sender_name(self):
        """R-7.7: sender name per clinic, alphanumeric, at most 11 characters."""
        self.company.clinic_sms_sender_name = "CliniqueTst"
        for bad in ("Clinique Test", "Cliniqueé", "Sender-Name"):
            with self.assertRaises(ValidationError):
                self.company.clinic_sms_sender_name = bad
