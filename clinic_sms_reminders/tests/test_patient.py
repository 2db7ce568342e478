from datetime import timedelta

from odoo.tests import Form

from .common import ClinicSmsCase


class TestPatient(ClinicSmsCase):
    def test_mobile_normalised(self):
        """R-1.7: formatted variants of one number give the same E.164; landlines
        and invalid numbers are refused with a reason."""
        fr = self.env.ref("base.fr").id
        variants = [
            "06 12 34 56 78",
            "+33 6-12-34-56-78",
            "0033612345678",
            "(06) 12.34.56.78",
        ]
        partners = self.env["res.partner"].create(
            [
                {"name": f"P{i}", "phone": phone, "country_id": fr}
                for i, phone in enumerate(variants)
            ]
        )
        self.assertEqual(set(partners.mapped("clinic_mobile")), {"+33612345678"})
        landline, invalid, empty = self.env["res.partner"].create(
            [
                {"name": "Landline", "phone": "01 44 55 66 77", "country_id": fr},
                {"name": "Invalid", "phone": "12345", "country_id": fr},
                {"name": "Empty", "country_id": fr},
            ]
        )
        self.assertFalse(landline.clinic_mobile)
        self.assertEqual(landline.clinic_mobile_error, "not_mobile")
        self.assertFalse(invalid.clinic_mobile)
        self.assertTrue(invalid.clinic_mobile_error)
        self.assertEqual(empty.clinic_mobile_error, "missing")

    def test_region_from_company_when_partner_has_no_country(self):
        """R-1.7: region from the partner's country, else the company's."""
        partner = (
            self.env["res.partner"]
            .with_company(self.company)
            .create({"name": "No country", "phone": "0612345678"})
        )
        self.assertEqual(partner.clinic_mobile, "+33612345678")

    def test_invalid_numbers_are_skipped_with_reason(self):
        """R-1.7: a number that is not a valid mobile is never sent to."""
        landline = self.patient.copy({"name": "Landline", "phone": "01 44 55 66 77"})
        nophone = self.patient.copy({"name": "No phone", "phone": False})
        first = self._messages(self._appointment(clinic_patient_id=landline.id))
        second = self._messages(self._appointment(clinic_patient_id=nophone.id))
        self._dispatch(self.start - timedelta(hours=1))
        self.assertEqual((first.state, first.reason), ("skipped", "invalid_number"))
        self.assertEqual((second.state, second.reason), ("skipped", "no_mobile"))
        self.assertEqual(self.wallet.balance, 100)

    def test_consent_defaults_and_log(self):
        """R-4.1: appointment consent on by default, marketing opt-in; every change
        is logged with date, source and user."""
        partner = self.env["res.partner"].create({"name": "New patient"})
        self.assertTrue(partner.clinic_consent_appointment)
        self.assertFalse(partner.clinic_consent_marketing)
        partner.clinic_consent_marketing = True
        log = partner.clinic_consent_log_ids
        self.assertEqual(len(log), 1)
        self.assertEqual(
            (log.purpose, log.granted, log.source), ("marketing", True, "user")
        )
        self.assertEqual(log.user_id, self.env.user)
        self.assertTrue(log.date)
        partner.with_context(import_file=True).clinic_consent_appointment = False
        log = partner.clinic_consent_log_ids.filtered(
            lambda entry: entry.purpose == "appointment"
        )
        self.assertEqual((log.granted, log.source), (False, "import"))
        # writing the same value again is not a change
        partner.clinic_consent_marketing = True
        self.assertEqual(len(partner.clinic_consent_log_ids), 2)

    def test_consent_change_from_form(self):
        """R-4.1: a receptionist changes consent on the patient form."""
        with Form(self.patient) as form:
            form.clinic_consent_appointment = False
        self.assertEqual(self.patient.clinic_consent_log_ids.source, "user")

    def test_no_consent_is_skipped(self):
        """R-4.1: a patient who refused appointment messages gets none."""
        event = self._appointment()
        message = self._messages(event)
        self.patient.clinic_consent_appointment = False
        self._dispatch(message.scheduled_at)
        self.assertEqual((message.state, message.reason), ("skipped", "no_consent"))

    def test_blacklist_honoured(self):
        """R-4.2: Odoo's phone.blacklist is honoured."""
        event = self._appointment()
        message = self._messages(event)
        self.env["phone.blacklist"].sudo()._add(["+33612345678"])
        self._dispatch(message.scheduled_at)
        self.assertEqual((message.state, message.reason), ("skipped", "blacklisted"))

    def test_birthdate_and_gender(self):
        """R-4.3: birth date and gender with OCA-compatible names and values."""
        self.patient.write({"birthdate_date": "1980-02-29", "gender": "female"})
        self.assertEqual(str(self.patient.birthdate_date), "1980-02-29")
        selection = dict(self.env["res.partner"]._fields["gender"].selection)
        self.assertEqual(set(selection), {"male", "female", "other"})
