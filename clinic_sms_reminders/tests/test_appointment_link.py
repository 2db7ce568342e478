import re
from datetime import timedelta
from urllib.parse import urlparse

from odoo import fields
from odoo.exceptions import ValidationError
from odoo.tests import HttpCase, new_test_user, tagged

from ..models.calendar_event_link import LINK_CODE_LENGTH, LINK_ROUTE
from ..models.clinic_sms_link_attempt import LINK_MAX_FAILED_PER_IP

# every page (the neutral one too) carries the session's CSRF token
CSRF = re.compile(r'csrf_token: "([^"]+)"')


class AppointmentLinkCase(HttpCase):
    """A clinic of its own with an address, a reminder that carries the
    patient's personal link (R-9.1) and stops at confirmation, the
    cancellation notification on, a French and an English patient."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        env["res.lang"]._activate_lang("fr_FR")
        env["res.lang"]._activate_lang("en_US")
        cls.company = env["res.company"].create(
            {
                "name": "Cabinet Dentaire Lumière",
                "street": "12 rue des Lilas",
                "zip": "69003",
                "city": "Lyon",
                "phone": "+33 4 78 12 34 56",
                "country_id": env.ref("base.fr").id,
                "clinic_sms_tz": "Europe/Paris",
            }
        )
        cls.company.partner_id.lang = "fr_FR"  # the clinic writes in French
        env.user.company_ids |= cls.company
        cls.provider = env["clinic.sms.provider"].create(
            {"name": "Sandbox Lumière", "company_id": cls.company.id}
        )
        cls.company.clinic_sms_provider_id = cls.provider
        cls.company.clinic_sms_wallet_id._top_up(100, "tests")
        Notification = env["clinic.sms.notification"]
        Notification._ensure_for_companies(cls.company)
        Notification.with_context(active_test=False).search(
            [("company_id", "=", cls.company.id), ("kind", "=", "cancellation")]
        ).active = True
        cls.template = env["clinic.sms.template"].create(
            {
                "name": "Reminder with link",
                "kind": "reminder",
                "company_id": cls.company.id,
                "body": "Bonjour {patient_first_name}, RDV le {date} a {time}. "
                "Confirmer ou annuler: {appointment_link}",
            }
        )
        cls.rule = env["clinic.sms.rule"].create(
            {
                "name": "48 hours before, until confirmed",
                "company_id": cls.company.id,
                "template_id": cls.template.id,
                "trigger": "before_start",
                "delay": 48,
                "delay_unit": "hours",
                "apply_scheduled": True,
                "apply_confirmed": False,
                "apply_out_of_reach": True,
            }
        )
        cls.practitioner = env["res.partner"].create({"name": "Dr Hugo Lefèvre"})
        cls.patient = env["res.partner"].create(
            {
                "name": "Camille Durand",
                "phone": "06 12 34 56 78",
                "country_id": env.ref("base.fr").id,
                "lang": "fr_FR",
            }
        )
        cls.patient_en = env["res.partner"].create(
            {
                "name": "Oliver Smith",
                "phone": "+44 7700 900123",
                "country_id": env.ref("base.uk").id,
                "lang": "en_US",
            }
        )
        cls.service = env["product.product"].create({"name": "Détartrage complet"})
        cls.receptionist = new_test_user(
            env,
            login="link_reception",
            groups="base.group_user,clinic_sms_reminders.group_clinic_sms_user",
            company_id=cls.company.id,
            company_ids=[(6, 0, cls.company.ids)],
        )

    def _book(self, hours=72, patient=None):
        """An appointment booked by the reception ``hours`` from now."""
        start = fields.Datetime.now().replace(second=0, microsecond=0) + timedelta(
            hours=hours
        )
        event = (
            self.env["calendar.event"]
            .with_user(self.receptionist)
            .create(
                {
                    "start": start,
                    "stop": start + timedelta(minutes=30),
                    "clinic_patient_id": (patient or self.patient).id,
                    "clinic_practitioner_id": self.practitioner.id,
                    "clinic_company_id": self.company.id,
                    "clinic_service_ids": [(6, 0, self.service.ids)],
                }
            )
        )
        return event.with_env(self.env)

    def _short_url(self, event):
        """The link as the reminder carries it: rendering the text creates it."""
        text = self.template._render(event.clinic_patient_id, event, self.company)
        urls = re.findall(r"https?://\S+", text)
        self.assertEqual(len(urls), 1, text)
        return urls[0]

    def _page(self, event):
        """Path of the page the short link leads to (following it clicks)."""
        response = self.url_open(
            urlparse(self._short_url(event)).path, allow_redirects=False
        )
        self.assertIn(response.status_code, (301, 302, 303))
        path = urlparse(response.headers["Location"]).path
        self.assertTrue(path.startswith(LINK_ROUTE))
        return path

    def _post(self, path, action, **data):
        page = self.url_open(path)
        csrf = CSRF.search(page.text)
        self.assertTrue(csrf, "the page holds a CSRF token")
        return self.url_open(
            f"{path}/{action}", data={"csrf_token": csrf.group(1), **data}
        )

    def _reminders(self, event):
        return self.env["clinic.sms.message"].search(
            [("appointment_id", "=", event.id), ("kind", "=", "reminder")]
        )


@tagged("post_install", "-at_install")
class TestAppointmentLink(AppointmentLinkCase):
    def test_view_shows_appointment_without_health_detail(self):
        event = self._book()
        path = self._page(event)
        response = self.url_open(path)
        self.assertEqual(response.status_code, 200)
        html = response.text
        self.assertIn('lang="fr-FR"', html)
        self.assertIn("width=device-width", html)
        self.assertIn("Votre rendez-vous", html)
        self.assertIn("Annuler le rendez-vous", html)
        self.assertNotIn("Your appointment", html)
        self.assertIn("Cabinet Dentaire Lumière", html)
        self.assertIn("12 rue des Lilas", html)
        self.assertIn("Lyon", html)
        self.assertIn("Dr Hugo Lefèvre", html)
        # the date and time in the appointment's zone, in French
        values = (
            self.env["clinic.sms.template"]
            .with_context(lang="fr_FR")
            ._placeholder_values(self.patient, event, self.company)
        )
        self.assertRegex(values["date"], r"^\d\d/\d\d/\d{4}$")
        self.assertIn(values["date"], html)
        self.assertIn(values["time"], html)
        # no health detail: the services and the subject stay out
        self.assertNotIn("Détartrage", html)
        self.assertNotIn(event.name, html)
        self.assertIn("o_clinic_link_confirm", html)
        self.assertIn("o_clinic_link_cancel", html)
        self.assertEqual(response.headers.get("Cache-Control"), "no-store")
        self.assertEqual(event.clinic_status, "scheduled")

    def test_english_patient_reads_english(self):
        event = self._book(patient=self.patient_en)
        html = self.url_open(self._page(event)).text
        self.assertIn('lang="en-US"', html)
        self.assertIn("Your appointment", html)
        self.assertIn("Cancel the appointment", html)
        self.assertNotIn("Votre rendez-vous", html)

    def test_confirm_stops_reminders_of_unconfirmed(self):
        event = self._book()
        path = self._page(event)
        reminder = self._reminders(event)
        self.assertEqual(reminder.state, "queued")
        response = self._post(path, "confirm")
        self.assertEqual(response.status_code, 200)
        self.assertIn("o_clinic_link_notice", response.text)
        self.assertNotIn("o_clinic_link_confirm", response.text)
        self.assertEqual(event.clinic_status, "confirmed")
        self.assertEqual(reminder.state, "cancelled")
        note = event.message_ids.filtered(
            lambda m: m.author_id == self.patient and "lien personnel" in m.body
        )
        self.assertEqual(len(note), 1, event.message_ids.mapped("body"))
        # the status change is tracked as the system, never as a user
        tracking = event.message_ids.filtered("tracking_value_ids")
        self.assertTrue(tracking)
        self.assertFalse(tracking.author_id & self.receptionist.partner_id)
        public = self.env.ref("base.public_user").partner_id
        self.assertFalse(event.message_ids.author_id & public)

    def test_cancel_before_cutoff(self):
        event = self._book(hours=72)
        path = self._page(event)
        reminder = self._reminders(event)
        response = self._post(path, "cancel")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(event.clinic_status, "cancelled")
        self.assertEqual(reminder.state, "cancelled")
        cancellation = self.env["clinic.sms.message"].search(
            [("appointment_id", "=", event.id), ("kind", "=", "cancellation")]
        )
        self.assertEqual(cancellation.state, "queued")
        self.assertEqual(cancellation.partner_id, self.patient)
        self.assertNotIn("<button", response.text.split("o_clinic_link_card")[-1])
        # cancelling again changes nothing
        self._post(path, "cancel")
        self.assertEqual(
            self.env["clinic.sms.message"].search_count(
                [("appointment_id", "=", event.id), ("kind", "=", "cancellation")]
            ),
            1,
        )

    def test_cancel_refused_after_cutoff(self):
        event = self._book(hours=10)  # the clinic's cut-off is 24 h
        path = self._page(event)
        page = self.url_open(path).text
        self.assertNotIn("o_clinic_link_cancel", page)
        self.assertIn("o_clinic_link_cutoff", page)
        self.assertIn("+33 4 78 12 34 56", page)
        response = self._post(path, "cancel")
        self.assertEqual(response.status_code, 200)
        self.assertIn("o_clinic_link_notice", response.text)
        self.assertEqual(event.clinic_status, "scheduled")
        # a clinic with a shorter cut-off lets the patient cancel
        self.company.clinic_sms_link_cutoff_hours = 6
        self.assertIn("o_clinic_link_cancel", self.url_open(path).text)
        self._post(path, "cancel")
        self.assertEqual(event.clinic_status, "cancelled")

    def test_ask_another_time(self):
        event = self._book()
        path = self._page(event)
        words = "Plutôt jeudi après-midi <b>svp</b>"
        response = self._post(path, "ask", message=words)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(event.clinic_status, "scheduled")
        activity = self.patient.activity_ids
        self.assertEqual(len(activity), 1)
        self.assertIn(event.display_name, activity.note)
        self.assertEqual(activity.user_id, self.receptionist)
        self.assertIn("Plutôt jeudi après-midi &lt;b&gt;svp&lt;/b&gt;", activity.note)
        self.assertNotIn("<b>svp</b>", activity.note)
        self.assertTrue(
            event.message_ids.filtered(
                lambda m: m.author_id == self.patient and "jeudi" in m.body
            )
        )

    def test_wrong_token_neutral_page(self):
        event = self._book()
        path = self._page(event)
        page = self.url_open(path)
        csrf = CSRF.search(page.text).group(1)
        token = path.rsplit("/", 1)[1]
        wrong = f"{LINK_ROUTE}{token[:-1]}{'A' if token[-1] != 'A' else 'B'}"
        response = self.url_open(wrong)
        self.assertEqual(response.status_code, 404)
        self.assertIn("o_clinic_link_neutral", response.text)
        self.assertNotIn("Lumière", response.text)
        response = self.url_open(f"{wrong}/confirm", data={"csrf_token": csrf})
        self.assertEqual(response.status_code, 404)
        self.assertEqual(event.clinic_status, "scheduled")
        self.assertEqual(self.url_open(f"{LINK_ROUTE}{'x' * 200}").status_code, 404)

    def test_expired_token_neutral_page(self):
        event = self._book()
        path = self._page(event)
        event.write(
            {
                "start": fields.Datetime.now() - timedelta(hours=2),
                "stop": fields.Datetime.now() - timedelta(hours=1),
            }
        )
        response = self.url_open(path)
        self.assertEqual(response.status_code, 404)
        self.assertIn("o_clinic_link_neutral", response.text)
        self.assertNotIn("Lumière", response.text)

    def test_new_patient_revokes_link(self):
        event = self._book()
        path = self._page(event)
        # the same patient written again keeps the link
        event.with_user(self.receptionist).write({"clinic_patient_id": self.patient.id})
        self.assertEqual(self.url_open(path).status_code, 200)
        event.with_user(self.receptionist).clinic_patient_id = self.patient_en
        self.assertEqual(self.url_open(path).status_code, 404)
        self.assertNotEqual(self._page(event), path)

    def test_rate_limit_wrong_tokens_per_address(self):
        event = self._book()
        path = self._page(event)
        for attempt in range(LINK_MAX_FAILED_PER_IP):
            self.assertEqual(
                self.url_open(f"{LINK_ROUTE}guess{attempt}x").status_code, 404
            )
        # the address is no longer checked: the right token gets the same page
        response = self.url_open(path)
        self.assertEqual(response.status_code, 404)
        self.assertIn("o_clinic_link_neutral", response.text)
        attempts = self.env["clinic.sms.link.attempt"].search([])
        self.assertEqual(len(attempts.filtered("failed")), LINK_MAX_FAILED_PER_IP)
        # only digests are kept, never a token
        token = path.rsplit("/", 1)[1]
        self.assertFalse(attempts.filtered(lambda a: token in (a.token_digest or "")))
        # the window passes: the address is checked again
        attempts.write({"at": fields.Datetime.now() - timedelta(hours=1)})
        self.assertEqual(self.url_open(path).status_code, 200)

    def test_link_length_counted_in_worst_case(self):
        Template = self.env["clinic.sms.template"]
        event = self._book()
        short_url = self._short_url(event)
        self.assertEqual(len(short_url), Template._appointment_link_length())
        self.assertEqual(len(urlparse(short_url).path), len("/r/") + LINK_CODE_LENGTH)
        without = Template.create(
            {
                "name": "Without link",
                "kind": "reminder",
                "company_id": self.company.id,
                "body": "RDV le {date}. ",
            }
        )
        with_link = Template.create(
            {
                "name": "With link",
                "kind": "reminder",
                "company_id": self.company.id,
                "body": "RDV le {date}. {appointment_link}",
            }
        )
        self.assertEqual(with_link.worst_length - without.worst_length, len(short_url))
        self.company.clinic_sms_max_parts = 1
        # a text that fits alone no longer fits once the link is counted
        # GSM-7 single part: 160 characters, {date} counts 16
        filler = "x" * (160 - len("RDV le . ") - 16 - 5)
        Template.create(
            {
                "name": "Fits",
                "kind": "reminder",
                "company_id": self.company.id,
                "body": f"RDV le {{date}}. {filler}",
            }
        )
        with self.assertRaises(ValidationError):
            Template.create(
                {
                    "name": "Too long with the link",
                    "kind": "reminder",
                    "company_id": self.company.id,
                    "body": f"RDV le {{date}}. {filler} {{appointment_link}}",
                }
            )

    def test_one_link_per_appointment_and_clicks(self):
        event = self._book()
        short_url = self._short_url(event)
        self.assertEqual(self._short_url(event), short_url)
        self.assertEqual(event.clinic_link_clicks, 0)
        self._page(event)
        self._page(event)
        event.invalidate_recordset(["clinic_link_clicks"])
        # the reception reads the count on the appointment's SMS tab
        as_reception = event.with_user(self.receptionist)
        self.assertEqual(as_reception.clinic_link_clicks, 2)
        arch = as_reception.get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertIn('name="clinic_link_clicks"', arch)
        tracker = event.sudo().clinic_link_tracker_id
        self.assertEqual(tracker.short_url, short_url)
        self.assertEqual(len(tracker.link_click_ids), 2)
        # the reception (any internal user) cannot read the link itself
        Tracker = self.env["link.tracker"].with_user(self.receptionist)
        self.assertFalse(Tracker.search([("id", "=", tracker.id)]))
        Code = self.env["link.tracker.code"].with_user(self.receptionist)
        self.assertFalse(Code.search([("link_id", "=", tracker.id)]))
        # other tracked links stay readable as in standard Odoo
        other = self.env["link.tracker"].create(
            {"url": "https://www.example.com/offres", "title": "Offres"}
        )
        self.assertEqual(Tracker.search([("id", "=", other.id)]), other)


@tagged("post_install", "-at_install")
class TestAppointmentLinkTour(AppointmentLinkCase):
    # a phone held upright, with a touch screen
    browser_size = "390x844"
    touch_enabled = True

    def test_patient_confirms_then_cancels_on_phone(self):
        event = self._book(hours=96)
        path = self._page(event)
        self.start_tour(path, "clinic_sms_link_tour")
        self.assertEqual(event.clinic_status, "cancelled")
        notes = event.message_ids.filtered(lambda m: m.author_id == self.patient)
        self.assertEqual(len(notes), 2)


@tagged("post_install", "-at_install")
class TestAppointmentLinkSent(AppointmentLinkCase):
    def test_reminder_sent_carries_the_short_link(self):
        """The text that goes out carries the short link, created when the
        reminder is rendered for sending; opening it shows the page."""
        event = self._book()
        reminder = self._reminders(event)
        self.assertFalse(event.sudo().clinic_link_tracker_id)
        self.env["clinic.sms.message"]._dispatch_due(now=reminder.scheduled_at)
        self.assertIn(reminder.state, ("sent", "delivered"), reminder.reason)
        tracker = event.sudo().clinic_link_tracker_id
        self.assertTrue(tracker)
        self.assertIn(tracker.short_url, reminder.body)
        self.assertEqual(self.url_open(self._page(event)).status_code, 200)
