"""Consent proof written by the system only, chained and exportable
(R-4.1, R-8.2, R-11.3; issue 16 (5))."""

import base64
import json

import psycopg2

from odoo.exceptions import AccessError
from odoo.tests import Form, HttpCase
from odoo.tools import mute_logger

from .common import ClinicSmsCase, make_user

# the reception edits patients: Contact Creation with SMS User
USER_GROUPS = (
    "base.group_user,base.group_partner_manager,"
    "clinic_sms_reminders.group_clinic_sms_user"
)
MANAGER_GROUPS = "base.group_user,clinic_sms_reminders.group_clinic_sms_manager"


class TestConsentLog(ClinicSmsCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.receptionist = make_user(cls.env, "reception.h5", USER_GROUPS, cls.company)
        cls.manager = make_user(cls.env, "manager.h5", MANAGER_GROUPS, cls.company)

    def _log_values(self):
        return {
            "partner_id": self.patient.id,
            "purpose": "marketing",
            "granted": True,
            "source": "user",
            "date": "2020-01-15 09:00:00",
            "note": "Agreed on the phone",
        }

    def test_no_user_writes_the_consent_log(self):
        """R-8.2 (issue 16, 5): neither a receptionist nor an SMS manager can
        create a (backdated) consent row, nor change or delete one."""
        log = self.env["clinic.sms.consent.log"]
        for user in (self.receptionist, self.manager):
            with self.assertRaises(AccessError):
                log.with_user(user).create(self._log_values())
            with self.assertRaises(AccessError):
                self.patient.with_user(user).write(
                    {"clinic_consent_log_ids": [(0, 0, self._log_values())]}
                )
        self.patient.with_user(self.receptionist).clinic_consent_marketing = True
        entry = self.patient.clinic_consent_log_ids
        self.assertEqual(len(entry), 1)
        for user in (self.receptionist, self.manager):
            with self.assertRaises(AccessError):
                entry.with_user(user).write({"date": "2020-01-15 09:00:00"})
            with self.assertRaises(AccessError):
                entry.with_user(user).unlink()
        # the system itself cannot rewrite history either
        with self.assertRaises(AccessError):
            entry.sudo().write({"granted": False})
        with self.assertRaises(AccessError):
            entry.sudo().unlink()

    def test_rows_are_dated_now_by_the_user_who_caused_them(self):
        """R-4.1: even the addon's own code cannot backdate a row or record
        it in another user's name."""
        entry = (
            self.env["clinic.sms.consent.log"]
            .with_user(self.receptionist)
            .sudo()
            .create(dict(self._log_values(), user_id=self.manager.id))
        )
        self.assertNotEqual(str(entry.date), "2020-01-15 09:00:00")
        self.assertGreater(str(entry.date), "2026-01-01")
        self.assertEqual(entry.user_id, self.receptionist)

    def test_receptionist_change_keeps_wording_and_chain(self):
        """R-11.3: a receptionist's change on the form keeps the wording shown
        (label and help of the consent) and links to the previous row."""
        with Form(self.patient.with_user(self.receptionist)) as form:
            form.clinic_consent_marketing = True
        with Form(self.patient.with_user(self.receptionist)) as form:
            form.clinic_consent_marketing = False
        first, second = self.patient.clinic_consent_log_ids.sorted("id")
        self.assertEqual(first.user_id, self.receptionist)
        self.assertIn("Marketing SMS", first.wording)
        self.assertIn("Opt-in", first.wording)
        self.assertEqual(first.previous_hash, "")
        self.assertEqual(second.previous_hash, first.hash)
        self.assertEqual(len(first.hash), 64)
        verdict = self.env["clinic.sms.consent.log"]._verify_chain(self.patient)
        self.assertEqual(verdict, {self.patient.id: None})

    def test_tampering_is_found_at_the_first_broken_row(self):
        """R-11.3: a row edited in the database, or removed, breaks the chain
        and the verification names the first broken row."""
        for value in (True, False, True, False):
            self.patient.clinic_consent_marketing = value
        rows = self.patient.clinic_consent_log_ids.sorted("id")
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE clinic_sms_consent_log SET granted = NOT granted WHERE id = %s",
            [rows[1].id],
        )
        self.env.invalidate_all()
        verdict = self.env["clinic.sms.consent.log"]._verify_chain(self.patient)
        self.assertEqual(verdict[self.patient.id], (rows[1], "hash"))
        # put it back, then delete a row: its successor no longer links
        self.env.cr.execute(
            "UPDATE clinic_sms_consent_log SET granted = NOT granted WHERE id = %s",
            [rows[1].id],
        )
        self.env.cr.execute(
            "DELETE FROM clinic_sms_consent_log WHERE id = %s", [rows[2].id]
        )
        self.env.invalidate_all()
        verdict = self.env["clinic.sms.consent.log"]._verify_chain(self.patient)
        self.assertEqual(verdict[self.patient.id], (rows[3], "previous_hash"))

    def test_chain_cannot_fork(self):
        """R-11.3: two rows can never follow the same row of a patient (what
        two workers racing on one patient would do): PostgreSQL refuses it."""
        self.patient.clinic_consent_marketing = True
        first = self.patient.clinic_consent_log_ids
        self.env.flush_all()
        with (
            self.assertRaises(psycopg2.errors.UniqueViolation),
            mute_logger("odoo.sql_db"),
            self.env.cr.savepoint(),
        ):
            self.env.cr.execute(
                """
                INSERT INTO clinic_sms_consent_log
                    (partner_id, purpose, granted, source, date, previous_hash)
                VALUES (%s, 'marketing', FALSE, 'user', now(), %s)
                """,
                [self.patient.id, first.previous_hash],
            )

    def test_verify_button_for_managers(self):
        """R-11.3: an SMS manager checks a patient's proof from the form."""
        self.patient.clinic_consent_marketing = True
        action = self.patient.with_user(
            self.manager
        ).action_clinic_verify_consent_chain()
        self.assertEqual(action["params"]["type"], "success")
        with self.assertRaises(AccessError):
            self.patient.with_user(
                self.receptionist
            ).action_clinic_verify_consent_chain()


class TestGdprExport(ClinicSmsCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other = cls.env["res.company"].create(
            {"name": "Cabinet Rive Gauche", "country_id": cls.env.ref("base.fr").id}
        )
        cls.manager = make_user(cls.env, "manager.gdpr", MANAGER_GROUPS, cls.company)
        cls.receptionist = make_user(
            cls.env, "reception.gdpr", USER_GROUPS, cls.company
        )
        message = cls.env["clinic.sms.message"]
        for company, body in (
            (cls.company, "See you Tuesday"),
            (cls.other, "Secret B"),
        ):
            message.create(
                {
                    "kind": "private",
                    "company_id": company.id,
                    "partner_id": cls.patient.id,
                    "phone": "+33612345678",
                    "body": body,
                    "idempotency_key": f"gdpr:{company.id}",
                }
            )
        cls.patient.with_context(
            clinic_consent_company_id=cls.other.id
        ).clinic_consent_marketing = True
        cls.patient.with_context(
            clinic_consent_company_id=cls.company.id
        ).clinic_consent_recall = False

    def test_manager_downloads_the_patient_record_of_own_clinic(self):
        """R-11.3: the export holds the patient's consents, proof rows and
        messages of the manager's clinics, never another clinic's."""
        action = self.patient.with_user(self.manager).action_clinic_gdpr_export()
        self.assertEqual(action["type"], "ir.actions.act_url")
        export = self.env["clinic.sms.gdpr.export"].search(
            [("partner_id", "=", self.patient.id)]
        )
        self.assertEqual(len(export), 1)
        self.assertIn(
            f"/web/content/clinic.sms.gdpr.export/{export.id}/data", action["url"]
        )
        payload = json.loads(base64.b64decode(export.with_user(self.manager).data))
        self.assertEqual(payload["patient"]["name"], "Jane Doe")
        self.assertEqual(payload["clinics"], ["Clinique Test"])
        self.assertEqual([m["text"] for m in payload["messages"]], ["See you Tuesday"])
        purposes = [event["purpose"] for event in payload["consent_events"]]
        self.assertEqual(purposes, ["recall"])
        self.assertTrue(payload["consent_chain"]["intact"])
        self.assertNotIn("Secret B", json.dumps(payload))
        self.assertEqual(export.user_id, self.manager)

    def test_only_managers_export_and_read_exports(self):
        """R-8.2: a receptionist neither exports nor reads an export; a
        manager of another clinic does not see this clinic's exports."""
        with self.assertRaises(AccessError):
            self.patient.with_user(self.receptionist).action_clinic_gdpr_export()
        self.patient.with_user(self.manager).action_clinic_gdpr_export()
        other_manager = make_user(self.env, "manager.b", MANAGER_GROUPS, self.other)
        exports = self.env["clinic.sms.gdpr.export"].with_user(other_manager)
        self.assertFalse(exports.search([]))


class TestGdprDownload(HttpCase):
    """R-11.3: the export is a file a manager downloads in the browser; a
    manager of another clinic cannot fetch it, even knowing its address."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Company = cls.env["res.company"]
        cls.clinic = Company.create({"name": "Clinique du Parc"})
        cls.other = Company.create({"name": "Cabinet Rive Gauche"})
        cls.patient = cls.env["res.partner"].create(
            {"name": "Paul Girard", "phone": "+33 6 45 67 89 01"}
        )
        cls.manager = make_user(cls.env, "gdpr.parc", MANAGER_GROUPS, cls.clinic)
        cls.outsider = make_user(cls.env, "gdpr.rive", MANAGER_GROUPS, cls.other)

    def test_manager_downloads_json_and_outsider_is_refused(self):
        action = self.patient.with_user(self.manager).action_clinic_gdpr_export()
        self.authenticate("gdpr.parc", "gdpr.parc")
        response = self.url_open(action["url"])
        self.assertEqual(response.status_code, 200)
        self.assertIn("attachment", response.headers["Content-Disposition"])
        self.assertEqual(response.json()["patient"]["name"], "Paul Girard")
        self.authenticate("gdpr.rive", "gdpr.rive")
        refused = self.url_open(action["url"])
        self.assertIn(refused.status_code, (403, 404))
        self.assertNotIn("Paul Girard", refused.text)
