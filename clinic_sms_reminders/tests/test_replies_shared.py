"""Replies on a provider shared by several clinics act on one clinic only
(R-7.6, R-8.2; issue 16 (6))."""

from datetime import timedelta

from .common import ClinicSmsCase


class TestSharedProviderReplies(ClinicSmsCase):
    """Clinique Test and Cabinet Rive Gauche send through one shared Kannel
    gateway (no company). Each has its own contact for Jane Doe's number, with
    an appointment; Rive Gauche's comes first. Clinique Test sent the last
    message to the number: the reply is for Clinique Test."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.shared = cls.env["clinic.sms.provider"].create(
            {
                "name": "Shared Kannel",
                "company_id": False,
                "provider_type": "http",
                "http_flavor": "kannel",
                "api_url": "http://127.0.0.1:13013/cgi-bin/sendsms",
                "username": "clinic",
                "password": "kannel-pass",
                "webhook_secret": "hook-secret",
                "callback_base_url": "http://127.0.0.1:8069",
            }
        )
        cls.other = cls.env["res.company"].create(
            {
                "name": "Cabinet Rive Gauche",
                "country_id": cls.env.ref("base.fr").id,
                "clinic_sms_tz": "Europe/Paris",
            }
        )
        cls.env.user.company_ids |= cls.other
        (cls.company | cls.other).clinic_sms_provider_id = cls.shared
        fr = cls.env.ref("base.fr").id
        cls.patient.company_id = cls.company
        cls.other_patient = cls.env["res.partner"].create(
            {
                "name": "Jane Doe (Rive Gauche)",
                "phone": "+33 6 12 34 56 78",
                "country_id": fr,
                "company_id": cls.other.id,
                "clinic_consent_marketing": True,
            }
        )
        cls.patient.clinic_consent_marketing = True

    def setUp(self):
        super().setUp()
        self.ours = self._appointment()
        self.theirs = self._appointment(
            clinic_patient_id=self.other_patient.id,
            clinic_company_id=self.other.id,
            start=self.start - timedelta(hours=2),
            stop=self.start - timedelta(hours=1, minutes=30),
            partner_ids=[(6, 0, [self.other_patient.id])],
        )
        # Rive Gauche wrote first, Clinique Test last, both through the
        # shared gateway
        sent = self.env["clinic.sms.message"]
        for company, patient, event in (
            (self.other, self.other_patient, self.theirs),
            (self.company, self.patient, self.ours),
        ):
            sent |= sent.create(
                {
                    "kind": "reminder",
                    "company_id": company.id,
                    "partner_id": patient.id,
                    "appointment_id": event.id,
                    "phone": "+33612345678",
                    "body": "Reminder",
                    "idempotency_key": f"test-shared:{company.id}",
                }
            )
        sent.flush_recordset()
        self.env.cr.execute(
            "UPDATE clinic_sms_message SET state = 'sent', provider_id = %s,"
            " sent_at = %s WHERE id = ANY(%s)",
            [self.shared.id, self.start - timedelta(days=1), sent.ids],
        )
        sent.invalidate_recordset()

    def _reply(self, text, external_id="1"):
        data = {
            "url": "",
            "params": {
                "from": "+33612345678",
                "to": "36180",
                "text": text,
                "id": external_id,
            },
            "headers": {},
            "body": b"",
        }
        return self.shared._webhook_inbound(data)

    def test_confirmation_confirms_only_the_clinic_that_wrote(self):
        """R-7.6: OUI confirms Clinique Test's appointment; Rive Gauche's
        earlier one is untouched, and the reply belongs to Clinique Test."""
        inbound = self._reply("OUI")
        self.assertEqual(inbound.company_id, self.company)
        self.assertEqual(
            (inbound.action, inbound.appointment_id), ("confirm", self.ours)
        )
        self.assertEqual(self.ours.clinic_status, "confirmed")
        self.assertEqual(self.theirs.clinic_status, "scheduled")

    def test_cancellation_only_in_the_clinic_that_wrote(self):
        """R-7.6: NON asks Clinique Test, not Rive Gauche, to cancel."""
        inbound = self._reply("NON")
        self.assertEqual(inbound.appointment_id, self.ours)
        self.assertTrue(self.patient.activity_ids)
        self.assertFalse(self.other_patient.activity_ids)

    def test_stop_changes_only_the_clinic_patients(self):
        """R-4.2 R-8.2: STOP blacklists the number (the blacklist is the
        database's), but consent changes, proof rows and notes are made on
        Clinique Test's patient only; the confirmation is billed to it."""
        notes_before = len(self.other_patient.message_ids)
        proof_before = self.other_patient.clinic_consent_log_ids
        self._reply("STOP")
        self.assertFalse(self.patient.clinic_consent_marketing)
        self.assertTrue(self.other_patient.clinic_consent_marketing)
        self.assertTrue(self.patient.clinic_consent_log_ids)
        self.assertEqual(self.other_patient.clinic_consent_log_ids, proof_before)
        self.assertEqual(len(self.other_patient.message_ids), notes_before)
        answers = self.env["clinic.sms.message"].search([("kind", "=", "stop_reply")])
        self.assertEqual(answers.company_id, self.company)

    def test_reply_of_a_number_nobody_wrote_to_acts_on_no_clinic(self):
        """R-8.2: on a shared gateway, a number no clinic wrote to is nobody's
        patient: nothing is confirmed anywhere."""
        data = {
            "url": "",
            "params": {"from": "+33611111111", "text": "OUI", "id": "x1"},
            "headers": {},
            "body": b"",
        }
        inbound = self.shared._webhook_inbound(data)
        self.assertFalse(inbound.company_id)
        self.assertEqual(inbound.action, "unmatched")
        self.assertEqual(self.ours.clinic_status, "scheduled")
        self.assertEqual(self.theirs.clinic_status, "scheduled")
