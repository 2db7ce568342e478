from datetime import datetime, timedelta

from lxml import etree

from odoo import fields
from odoo.exceptions import UserError, ValidationError

from .common import ClinicSmsCase, paris


class TestRecall(ClinicSmsCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.rule.active = False
        cls.scaling = cls.env["product.product"].create(
            {"name": "Scaling", "type": "service"}
        )
        cls.recall = cls.env["clinic.sms.recall"].create(
            {
                "name": "Scaling every 6 months",
                "company_id": cls.company.id,
                "service_ids": [(6, 0, cls.scaling.ids)],
                "delay_preset": "180",
            }
        )
        # a recent Tuesday to Thursday, 09:30 UTC: within the sending window
        # and the marketing hours whatever the hour the suite runs at
        day = datetime.now().date()
        while day.weekday() not in (1, 2, 3):
            day -= timedelta(days=1)
        cls.now = datetime(day.year, day.month, day.day, 9, 30)

    def _done(self, days_ago, patient=None, service=None):
        start = self.now - timedelta(days=days_ago)
        return self._appointment(
            start=start,
            stop=start + timedelta(minutes=30),
            clinic_patient_id=(patient or self.patient).id,
            clinic_service_ids=[(6, 0, (service or self.scaling).ids)],
            clinic_status="done",
        )

    def _recalls(self):
        return self.env["clinic.sms.message"].search(
            [("recall_id", "=", self.recall.id)]
        )

    def test_delay_presets(self):
        """R-5.1: 1 month = 30 days, 3 months = 90, 6 months = 180, or any number."""
        for preset, days in (("30", 30), ("90", 90), ("180", 180)):
            self.recall.delay_preset = preset
            self.assertEqual(self.recall.delay_days, days)
        self.recall.write({"delay_preset": "custom", "delay_days": 45})
        self.assertEqual(self.recall.delay_days, 45)

    def test_recall_after_done_service(self):
        """R-5.1: the delay counts from the appointment with the service marked
        Done; one recall per (campaign, appointment, patient)."""
        self._done(181)
        self._done(100, patient=self.patient.copy({"name": "Too early"}))
        self.recall._plan_recalls(self.now)
        message = self._recalls()
        self.assertEqual(len(message), 1)
        self.assertEqual(
            (message.kind, message.purpose, message.channel),
            ("recall", "recall", "sms"),
        )
        self.recall._plan_recalls(self.now)
        self.assertEqual(self._recalls(), message)
        self._dispatch(message.scheduled_at)
        self.assertIn("Scaling", message.body)
        self.assertTrue(message.body.endswith("opt out"), "R-3.6 opt-out mention")

    def test_dropped_when_already_booked(self):
        """R-5.1: dropped (with reason) when the patient already has a future
        appointment for one of the campaign's services."""
        self._done(181)
        future = self.now + timedelta(days=10)
        self._appointment(
            start=future,
            stop=future + timedelta(minutes=30),
            clinic_service_ids=[(6, 0, self.scaling.ids)],
        )
        self.recall._plan_recalls(self.now)
        self.assertEqual(
            (self._recalls().state, self._recalls().reason),
            ("skipped", "recall_booked"),
        )

    def test_channels(self):
        """R-5.1: prefer SMS falls back to email without a valid mobile; email
        goes through Odoo's mail queue; no channel at all is skipped."""
        self.recall.channel = "prefer_sms"
        email_only = self.patient.copy(
            {"name": "Mail Only", "phone": False, "email": "mail@example.com"}
        )
        nothing = self.patient.copy(
            {"name": "Unreachable", "phone": False, "email": False}
        )
        self._done(181, patient=email_only)
        self._done(181, patient=nothing)
        self.recall._plan_recalls(self.now)
        by_partner = {m.partner_id: m for m in self._recalls()}
        self.assertEqual(by_partner[email_only].channel, "email")
        self.assertEqual(
            (by_partner[nothing].state, by_partner[nothing].reason),
            ("skipped", "no_channel"),
        )
        self._dispatch(by_partner[email_only].scheduled_at)
        self.assertEqual(by_partner[email_only].state, "sent")
        mail = self.env["mail.mail"].search([("email_to", "=", "mail@example.com")])
        self.assertEqual(len(mail), 1)
        self.assertEqual(self.wallet.balance, 100, "email uses no SMS units")

    def test_required_consent(self):
        """R-5.1 R-4.1: the campaign's required consents are checked."""
        self.patient.clinic_consent_recall = False
        self._done(181)
        self.recall._plan_recalls(self.now)
        message = self._recalls()
        self._dispatch(message.scheduled_at)
        self.assertEqual((message.state, message.reason), ("skipped", "no_consent"))
        with self.assertRaises(ValidationError):
            self.recall.require_recall_consent = False

    def test_visible_from_product(self):
        """R-5.1: campaigns are visible from the service's product form."""
        self.assertEqual(self.scaling.product_tmpl_id.clinic_recall_ids, self.recall)


class TestBirthday(ClinicSmsCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.rule.active = False
        cls.company.write(
            {"clinic_sms_birthday_active": True, "clinic_sms_birthday_hour": 10.0}
        )
        cls.patient.write({"clinic_consent_marketing": True})
        cls.env["calendar.event"].create(
            {
                "name": "Past visit",
                "start": "2025-01-10 09:00:00",
                "stop": "2025-01-10 09:30:00",
                "clinic_patient_id": cls.patient.id,
                "clinic_company_id": cls.company.id,
            }
        )

    def _greetings(self):
        return self._messages().filtered(lambda m: m.kind == "birthday")

    def test_once_a_year_at_local_time(self):
        """R-5.2: a greeting at the clinic's local send time, once a year."""
        self.patient.birthdate_date = "1985-06-15"
        now = paris(2026, 6, 15, 7, 0)
        self.company._clinic_plan_birthdays(now)
        self.company._clinic_plan_birthdays(now + timedelta(hours=2))
        greeting = self._greetings()
        self.assertEqual(len(greeting), 1)
        self.assertEqual(greeting.scheduled_at, paris(2026, 6, 15, 10, 0))
        self.assertEqual(greeting.purpose, "marketing")
        self.company._clinic_plan_birthdays(paris(2026, 6, 16, 7, 0))
        self.assertEqual(len(self._greetings()), 1)
        self.company._clinic_plan_birthdays(paris(2027, 6, 15, 7, 0))
        self.assertEqual(len(self._greetings()), 2)

    def test_29_february(self):
        """R-5.2: 29 February birthdays are greeted on 28 February in non-leap
        years, on 29 February in leap years."""
        self.patient.birthdate_date = "1988-02-29"
        self.company._clinic_plan_birthdays(paris(2027, 2, 28, 8, 0))
        self.assertEqual(len(self._greetings()), 1)
        self.company._clinic_plan_birthdays(paris(2028, 2, 28, 8, 0))
        self.assertEqual(len(self._greetings()), 1)
        self.company._clinic_plan_birthdays(paris(2028, 2, 29, 8, 0))
        self.assertEqual(len(self._greetings()), 2)

    def test_marketing_consent_required(self):
        """R-5.2 R-4.1: no greeting without marketing consent."""
        self.patient.write(
            {"birthdate_date": "1985-06-15", "clinic_consent_marketing": False}
        )
        self.company._clinic_plan_birthdays(paris(2026, 6, 15, 7, 0))
        greeting = self._greetings()
        self._dispatch(greeting.scheduled_at)
        self.assertEqual((greeting.state, greeting.reason), ("skipped", "no_consent"))


class TestScheduledReminders(ClinicSmsCase):
    def test_schedule_recurrence_and_stop(self):
        """R-5.6: one client, custom text, date and time, days prior, recurrence
        every N days with an end; Stop cancels what is queued."""
        self.rule.active = False
        schedule = self.env["clinic.sms.schedule"].create(
            {
                "company_id": self.company.id,
                "partner_id": self.patient.id,
                "custom_text": "Your prescription is ready.",
                "date_time": "2026-03-20 09:00:00",
                "days_prior": 2,
                "recurrence_days": 7,
                "end_date": "2026-03-31",
            }
        )
        self.assertEqual(str(schedule.next_send_at), "2026-03-18 09:00:00")
        self.assertEqual(schedule.preview, "Your prescription is ready.")
        Schedule = self.env["clinic.sms.schedule"]
        self.assertEqual(Schedule._cron_run_schedules(datetime(2026, 3, 18, 8, 0)), 0)
        self.assertEqual(Schedule._cron_run_schedules(datetime(2026, 3, 18, 9, 0)), 1)
        self.assertEqual(str(schedule.next_send_at), "2026-03-25 09:00:00")
        self.assertEqual(Schedule._cron_run_schedules(datetime(2026, 3, 25, 9, 5)), 1)
        self.assertEqual(schedule.state, "sent", "next would be after the end date")
        self.assertEqual(len(schedule.message_ids), 2)
        self.assertEqual(schedule.message_ids[0].body, "Your prescription is ready.")

    def test_client_group_and_stop(self):
        """R-5.6: a client group (partner tags); Stop."""
        tag = self.env["res.partner.category"].create({"name": "Asthmatic patients"})
        other = self.patient.copy({"name": "Tagged Too"})
        (self.patient | other).category_id = tag
        schedule = self.env["clinic.sms.schedule"].create(
            {
                "company_id": self.company.id,
                "category_ids": [(6, 0, tag.ids)],
                "template_id": self.template.id,
                "date_time": "2026-03-20 09:00:00",
            }
        )
        self.env["clinic.sms.schedule"]._cron_run_schedules(datetime(2026, 3, 20, 9, 0))
        self.assertEqual(schedule.message_ids.partner_id, self.patient | other)
        schedule.action_stop()
        self.assertEqual(schedule.state, "stopped")
        self.assertEqual(set(schedule.message_ids.mapped("state")), {"cancelled"})

    def _receptionist_schedule(self, date_time, **values):
        Schedule = self.env["clinic.sms.schedule"].with_user(self.receptionist)
        return Schedule.with_company(self.company).create(
            {
                "company_id": self.company.id,
                "partner_id": self.patient.id,
                "custom_text": "Your prescription is ready.",
                "date_time": date_time,
            }
            | values
        )

    def test_display_name_local_date(self):
        """R-5.6: a scheduled reminder is named after its client and its time
        at the clinic (Europe/Paris), written as the reader's language writes
        dates, never the stored UTC value."""
        self.env["res.lang"]._activate_lang("fr_FR")
        # 09:00 UTC is 10:00 in Paris in March (CET)
        schedule = self._receptionist_schedule("2026-03-20 09:00:00")
        self.assertEqual(
            schedule.with_context(lang="fr_FR").display_name,
            "Jane Doe - 20/03/2026 10:00",
        )
        self.assertEqual(
            schedule.with_context(lang="en_US").display_name,
            "Jane Doe - 03/20/2026 10:00",
        )
        self.assertEqual(schedule.name, "Jane Doe - 2026-03-20 10:00")
        # summer time: 07:30 UTC is 09:30 in Paris
        schedule.date_time = "2026-07-01 07:30:00"
        self.assertEqual(
            schedule.with_context(lang="fr_FR").display_name,
            "Jane Doe - 01/07/2026 09:30",
        )

    def test_stop_confirmed_and_resumed_by_receptionist(self):
        """R-5.6: the Stop button shows on saved pending reminders only and
        asks for a confirmation; a receptionist stops a reminder and resumes it
        while its time is ahead; a reminder whose time has passed is not
        resumed and the reason is told."""
        arch = etree.fromstring(
            self.env["clinic.sms.schedule"]
            .with_user(self.receptionist)
            .get_views([(False, "form")])["views"]["form"]["arch"]
        )
        [stop] = arch.xpath("//header/button[@name='action_stop']")
        self.assertIn("not id", stop.get("invisible"))
        self.assertTrue(stop.get("confirm"))
        [resume] = arch.xpath("//header/button[@name='action_resume']")
        self.assertIn("state != 'stopped'", resume.get("invisible"))

        ahead = fields.Datetime.now().replace(microsecond=0) + timedelta(days=30)
        schedule = self._receptionist_schedule(ahead, days_prior=2)
        schedule.action_stop()
        self.assertEqual(schedule.state, "stopped")
        schedule.action_resume()
        self.assertEqual(schedule.state, "pending")
        self.assertEqual(schedule.next_send_at, ahead - timedelta(days=2))

        # stopped, then the date moves while it is stopped: resumed at the new time
        schedule.action_stop()
        schedule.date_time = ahead + timedelta(days=7)
        schedule._resume(now=ahead)
        self.assertEqual(schedule.next_send_at, ahead + timedelta(days=5))

        past = self._receptionist_schedule("2026-03-20 09:00:00")
        past.action_stop()
        self.env["res.lang"]._activate_lang("fr_FR")
        with self.assertRaises(UserError) as error:
            past.with_context(lang="fr_FR")._resume(now=datetime(2026, 3, 21, 9, 0))
        self.assertIn("20/03/2026 10:00", error.exception.args[0])
        self.assertEqual(past.state, "stopped")

    def test_stop_cancels_queued_as_receptionist(self):
        """R-5.6: a receptionist (no write access to the history) stops a
        reminder: its queued messages are cancelled."""
        schedule = self._receptionist_schedule("2026-03-20 09:00:00")
        self.env["clinic.sms.schedule"]._cron_run_schedules(datetime(2026, 3, 20, 9, 0))
        self.assertEqual(schedule.message_ids.state, "queued")
        schedule.action_stop()
        self.assertEqual(schedule.state, "stopped")
        self.assertEqual(schedule.message_ids.state, "cancelled")

    def test_validation(self):
        """R-5.6: a client or a group, and a template or a text, are required."""
        with self.assertRaises(ValidationError):
            self.env["clinic.sms.schedule"].create(
                {
                    "company_id": self.company.id,
                    "custom_text": "x",
                    "date_time": "2026-03-20 09:00:00",
                }
            )
        with self.assertRaises(ValidationError):
            self.env["clinic.sms.schedule"].create(
                {
                    "company_id": self.company.id,
                    "partner_id": self.patient.id,
                    "date_time": "2026-03-20 09:00:00",
                }
            )
