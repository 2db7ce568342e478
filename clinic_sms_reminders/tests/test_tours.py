from datetime import timedelta

from lxml import etree

from odoo import fields
from odoo.tests import HttpCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestTours(HttpCase):
    """Browser tours of the SMS app, run as a receptionist or a manager of the
    main clinic (where the confirmation notification is enabled by data)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the tours read English labels; the test database may have been
        # created in French only
        cls.env["res.lang"]._activate_lang("en_US")
        cls.env.ref("base.user_admin").lang = "en_US"
        cls.company = cls.env.ref("base.main_company")
        cls.receptionist = new_test_user(
            cls.env,
            login="tour_receptionist",
            password="tour_receptionist",
            groups="base.group_user,clinic_sms_reminders.group_clinic_sms_user",
            company_id=cls.company.id,
            company_ids=[(6, 0, cls.company.ids)],
            tz="Europe/Paris",
            lang="en_US",
        )
        cls.manager = new_test_user(
            cls.env,
            login="tour_manager",
            password="tour_manager",
            groups="base.group_user,clinic_sms_reminders.group_clinic_sms_manager",
            company_id=cls.company.id,
            company_ids=[(6, 0, cls.company.ids)],
            tz="Europe/Paris",
            lang="en_US",
        )
        country = cls.env.ref("base.fr")
        cls.patient = cls.env["res.partner"].create(
            {
                "name": "Tour Patient",
                "phone": "+33 6 12 34 56 78",
                "country_id": country.id,
                "clinic_is_patient": True,
                "lang": "en_US",
            }
        )
        cls.patient_no_mobile = cls.env["res.partner"].create(
            {
                "name": "Tour No Mobile",
                "country_id": country.id,
                "clinic_is_patient": True,
            }
        )
        # a known balance: the wizard may send, the replenish tour checks it
        cls.wallet = (
            cls.env["clinic.sms.wallet"]
            .sudo()
            ._ensure_for_companies(cls.company)[cls.company.id]
        )
        cls.wallet._add_units(100 - cls.wallet.balance)
        cls.template = cls.env["clinic.sms.template"].create(
            {"name": "Tour Template", "kind": "reminder", "body": "Hello"}
        )

    def test_book_appointment_tour(self):
        """R-8.1: a receptionist books an appointment from SMS > Appointments and
        sees its confirmation SMS queued in the SMS tab."""
        self.start_tour(
            "/odoo", "clinic_sms_book_appointment_tour", login="tour_receptionist"
        )
        event = self.env["calendar.event"].search([("name", "=", "Tour check-up")])
        self.assertEqual(event.clinic_patient_id, self.patient)
        confirmation = event.clinic_sms_message_ids.filtered(
            lambda message: message.kind == "confirmation"
        )
        self.assertEqual(confirmation.state, "queued")

    def test_template_preview_tour(self):
        """R-3.4: an element is inserted, the characters-left counter follows the
        text and the preview renders on a chosen appointment.

        Run as an SMS manager: receptionists can read templates but not edit
        them (ir.model.access.csv), so their template form is read-only."""
        start = fields.Datetime.now().replace(microsecond=0) + timedelta(days=3)
        self.env["calendar.event"].create(
            {
                "name": "Tour preview visit",
                "start": start,
                "stop": start + timedelta(minutes=30),
                "clinic_patient_id": self.patient.id,
            }
        )
        self.start_tour(
            "/odoo", "clinic_sms_template_preview_tour", login="tour_manager"
        )

    def test_send_wizard_tour(self):
        """R-5.5: the Send SMS wizard reviews recipients and shows the patient
        without mobile as excluded with its reason."""
        self.start_tour(
            "/odoo", "clinic_sms_send_wizard_tour", login="tour_receptionist"
        )

    def test_replenish_tour(self):
        """R-6.2 R-8.1: a manager replenishes the wallet from the dashboard,
        sees the balance go up and the top-up in Reports > Top-ups, and the
        wallet's chatter says who added the units."""
        wallet = self.wallet
        # the chatter note is written in the clinic's language
        self.company.partner_id.lang = "en_US"
        self.start_tour("/odoo", "clinic_sms_replenish_tour", login="admin")
        wallet.invalidate_recordset()
        self.assertEqual(wallet.balance, 350)
        self.assertEqual(wallet.move_ids.sorted("id")[-1:].units, 250)
        admin = self.env.ref("base.user_admin")
        self.assertIn(
            f"250 units added by {admin.name}",
            wallet.message_ids.sorted("id")[-1:].body,
        )

    def _arch(self, model, user, view_type="form"):
        views = self.env[model].with_user(user).get_views([(False, view_type)])
        return etree.fromstring(views["views"][view_type]["arch"])

    def test_settings_and_wizard_fields_are_labelled(self):
        """R-8.1: the birthday settings and the Send SMS recipients are fields a
        person and a screen reader can name: each has a label bound to it."""
        settings = self._arch("res.config.settings", self.env.ref("base.user_admin"))
        for name, string in (
            ("clinic_sms_birthday_template_id", "Template"),
            ("clinic_sms_birthday_hour", "Send at"),
        ):
            with self.subTest(field=name):
                [label] = settings.xpath(f"//label[@for='{name}']")
                self.assertEqual(label.get("string"), string)
        wizard = self._arch("clinic.sms.send.wizard", self.receptionist)
        # a field in a <group> gets its label from its string
        [recipients] = wizard.xpath("//group/field[@name='partner_ids']")
        self.assertEqual(recipients.get("string"), "Recipients")
        template = self._arch("clinic.sms.template", self.manager)
        self.assertTrue(template.xpath("//label[@for='body']"))

    def test_schedule_stop_resume_tour(self):
        """R-5.6: a receptionist schedules a reminder (no Stop before it is
        saved), sees it named with its local date, stops it after a
        confirmation and resumes it."""
        self.start_tour(
            "/odoo", "clinic_sms_schedule_stop_resume_tour", login="tour_receptionist"
        )
        schedule = self.env["clinic.sms.schedule"].search(
            [("custom_text", "=", "Your glasses are ready.")]
        )
        self.assertEqual(schedule.partner_id, self.patient)
        self.assertEqual(schedule.state, "pending")
        self.assertEqual(schedule.create_uid, self.receptionist)
