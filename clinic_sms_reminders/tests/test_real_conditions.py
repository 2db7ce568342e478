"""The addon as a clinic lives it (issue 14): a fresh receptionist who has
only the groups every new Odoo user gets plus SMS User, the addon's own
default templates and settings, real patient names from nine languages, and
appointments in several time zones across the DST changes of 2026 and 2027.

User actions run ``with_user()`` of that receptionist; only what the system
does (crons, setup of the clinic) runs as the administrator.
"""

import logging
import typing
from datetime import datetime, timedelta
from pathlib import Path
from unittest.mock import patch
from zoneinfo import ZoneInfo

from odoo.exceptions import UserError, ValidationError
from odoo.tests import Form, TransactionCase, tagged

from ..models.clinic_sms_template import ClinicSmsTemplate
from ..tools import segments

_logger = logging.getLogger(__name__)

ADDON = "clinic_sms_reminders"
NAMES_FILE = Path(__file__).parent / "data" / "patient_names.tsv"
SENT = ("sent", "delivered")


def load_names():
    """(language, country code, time zone, name) of the names corpus."""
    rows = []
    for line in NAMES_FILE.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        language, country, tz_name, name = line.split("\t")
        rows.append((language, country, tz_name, name))
    return rows


def wall(tz_name, *args):
    """Naive UTC datetime of a wall time in ``tz_name``."""
    local = datetime(*args, tzinfo=ZoneInfo(tz_name))
    return local.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def local_of(moment, tz_name):
    return moment.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo(tz_name))


@tagged("post_install", "-at_install")
class RealConditionsCase(TransactionCase):
    """The main clinic with the addon's own defaults (templates, rules,
    notifications, 1 part, sending window 09:00-19:00) and a receptionist
    created as an administrator creates any new user, plus SMS User."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.company = cls.env.ref("base.main_company")
        cls.env["res.lang"]._activate_lang("fr_FR")
        cls.env["ir.module.module"]._load_module_terms(
            [ADDON], ["fr_FR"], overwrite=True
        )
        cls.company.clinic_sms_tz = "Europe/Paris"
        cls.company.clinic_sms_wallet_id._top_up(2000, "tests")
        cls.receptionist = cls.env["res.users"].create(
            {
                "name": "Nadia Reception",
                "login": "nadia.reception@example.com",
                "company_id": cls.company.id,
                "company_ids": [(6, 0, cls.company.ids)],
                "tz": "Europe/Paris",
            }
        )
        cls.receptionist.group_ids |= cls.env.ref(f"{ADDON}.group_clinic_sms_user")
        cls.practitioner = cls.env["res.partner"].create({"name": "Dr Claire Martin"})
        cls.service = cls.env["product.product"].create(
            {"name": "Détartrage", "type": "service"}
        )
        cls._number = 0

    @classmethod
    def _contact(cls, name, lang="fr_FR", country="FR", tz_name="Europe/Paris"):
        """A contact of the clinic's address book, not yet a patient."""
        cls._number += 1
        return cls.env["res.partner"].create(
            {
                "name": name,
                "phone": "+33 6 12 {:02d} {:02d} 47".format(*divmod(cls._number, 100)),
                "country_id": cls.env["res.country"]
                .search([("code", "=", country)])
                .id,
                "lang": lang,
                "tz": tz_name,
            }
        )

    def _book(self, patient, start, **values):
        """The receptionist books an appointment (what the form or RPC does)."""
        vals = {
            "start": start,
            "stop": start + timedelta(minutes=30),
            "clinic_patient_id": patient.id,
            "clinic_practitioner_id": self.practitioner.id,
            "clinic_service_ids": [(6, 0, self.service.ids)],
            "clinic_company_id": self.company.id,
        }
        vals.update(values)
        return self.env["calendar.event"].with_user(self.receptionist).create(vals)

    def _messages(self, patients, kind=None):
        domain = [("partner_id", "in", patients.ids)]
        if kind:
            domain.append(("kind", "=", kind))
        return self.env["clinic.sms.message"].search(domain)

    def _dispatch_all(self, messages, until):
        """Run the dispatcher at each due time of ``messages`` up to ``until``,
        as the cron would."""
        Message = self.env["clinic.sms.message"]
        for when in sorted(set(messages.mapped("scheduled_at"))):
            if when <= until:
                Message._dispatch_due(
                    now=max(when, datetime.now().replace(microsecond=0))
                )

    def _in_days(self, days, hour, minute=0, tz_name="Europe/Paris"):
        day = datetime.now(ZoneInfo(tz_name)).date() + timedelta(days=days)
        return wall(tz_name, day.year, day.month, day.day, hour, minute)


class TestNamesCorpus(RealConditionsCase):
    def test_r33_every_patient_of_the_names_corpus_gets_both_messages(self):
        """R-3.3 R-8.2 R-2.7: 204 real names in French, English, Spanish,
        Portuguese, German, Turkish, Polish, Arabic and Vietnamese spellings,
        living in 24 time zones: each patient, a contact not yet marked as a
        patient, booked by the receptionist, gets the default confirmation and
        a default reminder, each in one GSM-7 part (the default of 1 part)."""
        corpus = load_names()
        self.assertGreaterEqual(len(corpus), 200)
        self.assertEqual(self.company.clinic_sms_max_parts, 1)
        patients = self.env["res.partner"]
        for language, country, tz_name, name in corpus:
            lang = "fr_FR" if language == "fr" else "en_US"
            patients |= self._contact(name, lang, country, tz_name)
        self.assertFalse(any(patients.mapped("clinic_is_patient")))
        self.assertTrue(all(patients.mapped("clinic_mobile")))
        base = self._in_days(3, 8, 0)
        events = self.env["calendar.event"]
        for index, patient in enumerate(patients):
            events |= self._book(patient, base + timedelta(minutes=5 * (index % 120)))
        self.assertTrue(all(patients.mapped("clinic_is_patient")))
        messages = self._messages(patients)
        self._dispatch_all(messages, until=base)
        messages.invalidate_recordset()
        both = 0
        failures = []
        for patient in patients:
            mine = messages.filtered(lambda m, p=patient: m.partner_id == p)
            confirmation = mine.filtered(
                lambda m: m.kind == "confirmation" and m.state in SENT
            )
            reminder = mine.filtered(lambda m: m.kind == "reminder" and m.state in SENT)
            if confirmation and reminder:
                both += 1
            else:
                failures.append(
                    (patient.name, [(m.kind, m.state, m.reason) for m in mine])
                )
            for message in confirmation | reminder:
                self.assertEqual(message.units, 1, message.body)
                self.assertEqual(
                    segments.count(message.body, smart=True).parts, 1, message.body
                )
        _logger.info(
            "names corpus: %s of %s patients got both their confirmation and "
            "their reminder",
            both,
            len(patients),
        )
        self.assertEqual(failures, [])
        self.assertEqual(both, len(corpus))

    def test_r33_accented_names_are_written_in_lookalikes_for_that_message(self):
        """R-3.3: "Françoise Lefèvre" and "Jérôme Benoît" get their messages in
        GSM-7, the name written in look-alikes for that message only; the
        contact keeps its name."""
        francoise = self._contact("Françoise Lefèvre")
        jerome = self._contact("Jérôme Benoît", lang="en_US")
        start = self._in_days(3, 11)
        self._book(francoise, start)
        self._book(jerome, start + timedelta(hours=3))
        messages = self._messages(francoise | jerome, "confirmation")
        # after the confirmations' undo window (R-9.4)
        self.env["clinic.sms.message"]._dispatch_due(
            now=max(messages.mapped("scheduled_at"))
        )
        by_patient = {m.partner_id: m for m in messages}
        self.assertIn(by_patient[francoise].state, SENT)
        self.assertIn("Francoise,", by_patient[francoise].body)
        self.assertIn("Jérome,", by_patient[jerome].body)
        for message in messages:
            self.assertEqual((message.encoding, message.units), ("gsm7", 1))
        self.assertEqual(francoise.name, "Françoise Lefèvre")

    def test_r33_arabic_script_is_transliterated(self):
        """R-3.3: a name in Arabic script has no GSM-7 look-alike: it is
        written in Latin letters (documented table) for that message."""
        patient = self._contact("محمد العلوي")
        self._book(patient, self._in_days(3, 11))
        message = self._messages(patient, "confirmation")
        # after the confirmation's undo window
        self.env["clinic.sms.message"]._dispatch_due(now=message.scheduled_at)
        self.assertIn(message.state, SENT)
        self.assertTrue(message.body.startswith("Mhmd,"), message.body)
        self.assertEqual(message.units, 1)


class TestReceptionist(RealConditionsCase):
    def test_r82_books_for_a_contact_not_yet_patient_by_form(self):
        """R-8.2: the form (the calendar's own), the Subject filled from
        patient and service (R-1.1), patient and practitioner as attendees."""
        contact = self._contact("Aurélie Besnard")
        Event = self.env["calendar.event"].with_user(self.receptionist)
        with Form(Event) as form:
            form.clinic_patient_id = contact
            form.clinic_practitioner_id = self.practitioner
            form.clinic_service_ids.add(self.service)
            form.start = self._in_days(4, 10)
            form.stop = self._in_days(4, 10, 30)
        event = form.record
        self.assertEqual(event.name, "Aurélie Besnard - Détartrage")
        self.assertTrue(contact.clinic_is_patient)
        self.assertIn(contact, event.partner_ids)
        self.assertTrue(event.attendee_ids)
        self.assertTrue(self._messages(contact, "confirmation"))

    def test_r82_registers_a_new_patient_and_books(self):
        """R-8.2: the reception registers a brand-new patient (the quick
        creation of the appointment form's Patient field) and books."""
        patient = (
            self.env["res.partner"]
            .with_user(self.receptionist)
            .with_context(default_clinic_is_patient=True)
            .create(
                {
                    "name": "Aylin Demir",
                    "phone": "06 71 82 93 04",
                    "country_id": self.env.ref("base.fr").id,
                }
            )
        )
        event = self._book(patient, self._in_days(4, 15))
        self.assertTrue(patient.clinic_is_patient)
        self.assertTrue(patient.clinic_consent_appointment)
        self.assertFalse(patient.clinic_consent_marketing)
        self.assertTrue(self._messages(patient, "confirmation"))
        self.assertEqual(event.name, "Aylin Demir - Détartrage")

    def test_r82_books_by_import_and_by_rpc(self):
        """R-8.2: an import (``load``) and an RPC ``create`` without a
        Subject work for contacts that are not patients yet."""
        first, second = self._contact("Gonçalo Simões"), self._contact("Ayşe Öztürk")
        Event = self.env["calendar.event"].with_user(self.receptionist)
        start = self._in_days(4, 9)
        result = Event.load(
            ["name", "start", "stop", "clinic_patient_id/.id"],
            [
                [
                    "Contrôle",
                    start.strftime("%Y-%m-%d %H:%M:%S"),
                    (start + timedelta(minutes=30)).strftime("%Y-%m-%d %H:%M:%S"),
                    str(first.id),
                ]
            ],
        )
        self.assertEqual(result["messages"], [])
        self.assertTrue(result["ids"])
        event = Event.create(
            {
                "start": start + timedelta(hours=4),
                "stop": start + timedelta(hours=4, minutes=30),
                "clinic_patient_id": second.id,
            }
        )
        self.assertEqual(event.name, "Ayşe Öztürk")
        self.assertTrue(first.clinic_is_patient and second.clinic_is_patient)
        event.with_user(self.receptionist).write({"start": start + timedelta(days=1)})
        event.with_user(self.receptionist).action_clinic_cancel()
        self.assertEqual(event.clinic_status, "cancelled")

    def test_warning_for_a_patient_without_mobile_and_plan_beyond_horizon(self):
        """A patient without mobile: the appointment says so (no plain
        "Queued"); reminders beyond the planning horizon are shown with their
        due time."""
        contact = self.env["res.partner"].create(
            {"name": "Hugo Sansportable", "country_id": self.env.ref("base.fr").id}
        )
        event = self._book(contact, self._in_days(10, 10))
        self.assertIn("no valid mobile number", event.clinic_sms_warning)
        self.assertIn("48 hours before", event.clinic_sms_plan)
        self.assertIn("planned", event.clinic_sms_plan)
        self.assertFalse(
            self._messages(contact, "reminder"), "beyond the planning horizon"
        )
        reached = self._book(self._contact("Léa Fontaine"), self._in_days(10, 12))
        self.assertFalse(reached.clinic_sms_warning)


class TestDatesAndTimeZones(RealConditionsCase):
    def _confirmation_text(self, patient, start):
        event = self._book(patient, start)
        message = self._messages(patient, "confirmation").filtered(
            lambda m: m.appointment_id == event
        )
        template = message.template_id
        return template._render(patient, event, self.company)

    def test_r27_time_of_the_appointment_zone_not_the_patient_home(self):
        """R-2.7: a patient living in New York who comes to the Paris clinic
        at 10:00 reads 10:00 (not 4:00 AM); the date has a four-digit year or
        a month name: never 12/10/26."""
        new_yorker = self._contact("Michael Johnson", "en_US", "US", "America/New_York")
        start = self._in_days(5, 10)
        text = self._confirmation_text(new_yorker, start)
        paris = local_of(start, "Europe/Paris")
        self.assertIn(" at 10:00 AM ", text)
        self.assertIn(f"{paris:%b} {paris.day}, {paris.year}", text)

    def test_r27_british_patients_read_day_month_year(self):
        """R-2.7: en_GB order for British patients (day first, four-digit
        year); French patients read the French date."""
        briton = self._contact("Oliver Smith", "en_US", "GB", "Europe/London")
        french = self._contact("Zoé Château")
        start = self._in_days(5, 15)
        paris = local_of(start, "Europe/Paris")
        text = self._confirmation_text(briton, start)
        self.assertIn(f" on {paris:%d/%m/%Y} at 15:00 ", text)
        text = self._confirmation_text(french, start + timedelta(hours=3))
        self.assertIn(f" du {paris:%d/%m/%Y} à 18:00 ", text)

    def test_default_confirmation_reads_well_without_practitioner(self):
        """The default confirmation without a practitioner does not read
        "with  is booked"."""
        patient = self._contact("Jane Doe", "en_US", "GB", "Europe/London")
        start = self._in_days(5, 11)
        text = self._confirmation_text(patient, start)
        self.assertIn("with Dr Claire Martin is booked.", text)
        other = self._contact("John Roe", "en_US", "GB", "Europe/London")
        event = self._book(
            other, start + timedelta(hours=2), clinic_practitioner_id=False
        )
        template = self.env.ref(f"{ADDON}.template_confirmation")
        text = template._render(other, event, self.company)
        self.assertRegex(text, r" at 13:00 is booked\. ")
        self.assertNotIn("with", text)
        french = self._contact("Inès Garnier")
        event = self._book(
            french, start + timedelta(hours=5), clinic_practitioner_id=False
        )
        text = template._render(french, event, self.company)
        self.assertRegex(text, r" à 16:00 est enregistré\. ")


class TestWallClockAcrossDst(RealConditionsCase):
    """R-2.1: "24 hours before" a Sunday 09:30 appointment on the night the
    clocks change is Saturday 09:30, in Paris, London, New York and Sydney,
    for both changes of 2026 and 2027."""

    DST_SUNDAYS: typing.ClassVar = {
        "Europe/Paris": [(2026, 3, 29), (2026, 10, 25), (2027, 3, 28), (2027, 10, 31)],
        "Europe/London": [(2026, 3, 29), (2026, 10, 25), (2027, 3, 28), (2027, 10, 31)],
        "America/New_York": [(2026, 3, 8), (2026, 11, 1), (2027, 3, 14), (2027, 11, 7)],
        "Australia/Sydney": [(2026, 4, 5), (2026, 10, 4), (2027, 4, 4), (2027, 10, 3)],
    }

    def test_r21_r23_24_hours_before_a_sunday_on_the_dst_night(self):
        rule = self.env.ref(f"{ADDON}.rule_24h")
        rule_48 = self.env.ref(f"{ADDON}.rule_48h")
        checked = 0
        for tz_name, sundays in self.DST_SUNDAYS.items():
            self.company.clinic_sms_tz = tz_name
            for day in sundays:
                patient = self._contact(
                    f"Patient {tz_name} {day}", "en_US", "FR", tz_name
                )
                start = wall(tz_name, *day, 9, 30)
                event = self._book(patient, start)
                booked = start - timedelta(days=3)
                # booked three days before (the clock of the database cannot be
                # moved: the booking time is written as it would have been)
                self.env.cr.execute(
                    "UPDATE calendar_event SET create_date = %s WHERE id = %s",
                    [booked, event.id],
                )
                event.invalidate_recordset(["create_date"])
                (rule | rule_48)._plan_reminders(now=booked, events=event)
                reminders = self._messages(patient, "reminder")
                by_rule = {m.rule_id: m for m in reminders}
                saturday = local_of(by_rule[rule].scheduled_at, tz_name)
                self.assertEqual(
                    saturday.replace(tzinfo=None),
                    datetime(*day, 9, 30) - timedelta(days=1),
                    (tz_name, day),
                )
                friday = local_of(by_rule[rule_48].scheduled_at, tz_name)
                self.assertEqual(
                    friday.replace(tzinfo=None),
                    datetime(*day, 9, 30) - timedelta(days=2),
                    (tz_name, day),
                )
                # planning again (next cron run) changes nothing
                (rule | rule_48)._plan_reminders(now=booked, events=event)
                self.assertEqual(self._messages(patient, "reminder"), reminders)
                checked += 1
        self.assertEqual(checked, 16)


class TestNeverSilence(RealConditionsCase):
    def test_r24_reminder_due_before_booking_leaves_a_skipped_row(self):
        """R-2.4: booked in the evening for the next morning, the 24 h and 48 h
        reminders were due before the booking: each leaves a row, skipped with
        its reason; moved to a later day, the reminder is planned again."""
        patient = self._contact("Thomas Laurent")
        start = datetime.now().replace(microsecond=0) + timedelta(hours=12)
        event = self._book(patient, start)
        reminders = self._messages(patient, "reminder")
        self.assertEqual(len(reminders), 2)
        self.assertEqual(set(reminders.mapped("state")), {"skipped"})
        self.assertEqual(set(reminders.mapped("reason")), {"due_before_booking"})
        self.assertIn("Booked after this reminder was due", event.clinic_sms_plan)
        event.with_user(self.receptionist).write(
            {"start": self._in_days(3, 11), "stop": self._in_days(3, 11, 30)}
        )
        queued = self._messages(patient, "reminder").filtered(
            lambda m: m.state == "queued"
        )
        self.assertTrue(queued)

    def test_r51_booking_cancels_queued_recall_and_send_time_check(self):
        """R-5.1: a recall already queued does not go out after the patient
        booked a new appointment with that service; checked again at the
        moment of sending."""
        patient = self._contact("Camille Dubois")
        patient.clinic_is_patient = True
        recall = self.env["clinic.sms.recall"].create(
            {
                "name": "Détartrage annuel",
                "company_id": self.company.id,
                "service_ids": [(6, 0, self.service.ids)],
                "delay_preset": "30",
            }
        )
        done = self.env["calendar.event"].create(
            {
                "name": "Détartrage",
                "start": datetime.now() - timedelta(days=31),
                "stop": datetime.now() - timedelta(days=31) + timedelta(minutes=30),
                "clinic_patient_id": patient.id,
                "clinic_service_ids": [(6, 0, self.service.ids)],
                "clinic_company_id": self.company.id,
                "clinic_status": "done",
            }
        )
        recall._plan_recalls()
        queued = self._messages(patient, "recall")
        self.assertEqual(queued.state, "queued")
        booking = self._book(patient, self._in_days(6, 10))
        self.assertEqual((queued.state, queued.reason), ("cancelled", "recall_booked"))
        # a recall queued anyway (planned by a worker that did not see the
        # booking yet) is stopped when it is due
        self.env["clinic.sms.message"]._insert_queued(
            [
                {
                    "kind": "recall",
                    "purpose": "recall",
                    "company_id": self.company.id,
                    "template_id": recall.template_id.id,
                    "appointment_id": done.id,
                    "partner_id": patient.id,
                    "phone": patient.clinic_mobile,
                    "idempotency_key": f"recall:{recall.id}:{done.id}:late",
                    "scheduled_at": datetime.now(),
                    "recall_id": recall.id,
                }
            ]
        )
        late = self._messages(patient, "recall") - queued
        self.env["clinic.sms.message"]._dispatch_due(now=self._in_days(1, 10))
        self.assertEqual((late.state, late.reason), ("cancelled", "recall_booked"))
        self.assertTrue(booking)

    def test_r23_birthday_planned_late_waits_or_is_skipped(self):
        """R-2.3: the birthday planner running at 21:00 does not send at 21:00:
        the greeting is skipped with its reason (the birthday is over before
        the next allowed minute); run at 07:00, it waits for the window."""
        company = self.company
        company.clinic_sms_birthday_active = True
        company.clinic_sms_birthday_hour = 8.0
        today = datetime.now(ZoneInfo("Europe/Paris")).date() + timedelta(days=1)
        patient = self._contact("Manon Rousseau")
        patient.write(
            {
                "birthdate_date": today.replace(year=1990),
                "clinic_consent_marketing": True,
            }
        )
        self._book(patient, self._in_days(20, 10))
        evening = wall("Europe/Paris", today.year, today.month, today.day, 21, 0)
        company._clinic_plan_birthdays(now=evening)
        greeting = self._messages(patient, "birthday")
        self.assertEqual(
            (greeting.state, greeting.reason), ("skipped", "birthday_passed")
        )
        greeting.unlink()
        morning = wall("Europe/Paris", today.year, today.month, today.day, 7, 0)
        company._clinic_plan_birthdays(now=morning)
        greeting = self._messages(patient, "birthday")
        self.assertEqual(greeting.state, "queued")
        self.assertEqual(local_of(greeting.scheduled_at, "Europe/Paris").hour, 9)


class TestSendWizardRealUse(RealConditionsCase):
    def test_r55_appointment_template_refused_free_text_sent(self):
        """R-5.5: "Send SMS" with an appointment template as a private message
        is refused before sending (it would read "votre rendez-vous le  à
        avec ."); a free text with a live counter is sent."""
        patient = self._contact("Julien Lefèvre")
        Wizard = self.env["clinic.sms.send.wizard"].with_user(self.receptionist)
        wizard = Wizard.create(
            {
                "company_id": self.company.id,
                "template_id": self.env.ref(f"{ADDON}.template_reminder").id,
                "partner_ids": [(6, 0, patient.ids)],
            }
        )
        with self.assertRaisesRegex(UserError, r"needs an appointment for \{date\}"):
            wizard.action_review()
        wizard.write(
            {
                "content": "text",
                "custom_text": "Votre ordonnance est disponible au cabinet.",
            }
        )
        self.assertEqual((wizard.text_parts, wizard.text_encoding), (1, "gsm7"))
        self.assertEqual(wizard.text_length, 43)
        wizard.action_review()
        wizard.action_send()
        message = self._messages(patient, "private")
        self.assertEqual(message.body, "Votre ordonnance est disponible au cabinet.")
        mass = Wizard.create(
            {
                "company_id": self.company.id,
                "mode": "mass",
                "purpose": "essential",
                "content": "text",
                "custom_text": "Fermé lundi.",
            }
        )
        with self.assertRaisesRegex(UserError, "never essential"):
            mass.action_review()


class TestTemplatesSaveTime(RealConditionsCase):
    def test_r33_r34_worst_case_forces_unicode_values(self):
        """R-3.3 R-3.4: the save-time worst case fills placeholders with values
        that force Unicode (then written in look-alikes as sending does): a
        template that only fits because "X" is GSM-7 is accepted exactly when
        its sent form fits; a template whose own text is too long is
        refused."""
        Template = self.env["clinic.sms.template"]
        default = self.env.ref(f"{ADDON}.template_confirmation")
        self.assertEqual(default.worst_encoding, "gsm7")
        self.assertEqual(default.worst_parts, 1)
        with self.assertRaises(ValidationError):
            Template.create(
                {
                    "name": "Too long",
                    "kind": "private",
                    "company_id": self.company.id,
                    "body": "Bonjour {patient_name}, " + "très long texte " * 9,
                }
            )
        unicode_text = Template.create(
            {
                "name": "Unicode own text",
                "kind": "private",
                "company_id": self.company.id,
                "body": "Ça y est ✓ {patient_first_name}",
            }
        )
        self.assertEqual(unicode_text.worst_encoding, "ucs2")
        with self.assertRaises(ValidationError):
            unicode_text.body = (
                "Ça y est ✓ {patient_first_name}, à {time} le {date}, {clinic_name}"
            )

    def test_r31_placeholder_added_by_inheritance(self):
        """Issue 18: an addon adds a placeholder by overriding
        ``_placeholder_definitions`` and ``_placeholder_values`` (patched here
        on the registry class, as an inheriting model would): the save-time
        check, the live counter, the Elements list and the renderer all use
        it; other databases of the process are not touched (no module-level
        dict is changed)."""
        Template = self.env["clinic.sms.template"]
        registry_class = type(Template)
        original_definitions = registry_class._placeholder_definitions
        original_values = registry_class._placeholder_values
        base_definitions = ClinicSmsTemplate._placeholder_definitions

        def definitions(self):
            return {**original_definitions(self), "pet_name": 12}

        def values(self, partner, event, company):
            result = original_values(self, partner, event, company)
            result["pet_name"] = "Rex le Magnifique de Montmartre"
            return result

        from ..tools import placeholders

        with (
            patch.object(registry_class, "_placeholder_definitions", definitions),
            patch.object(registry_class, "_placeholder_values", values),
        ):
            template = Template.create(
                {
                    "name": "Vet",
                    "kind": "private",
                    "company_id": self.company.id,
                    "body": "{pet_name} is expected. {clinic_name}",
                }
            )
            self.assertIn("pet_name", dict(Template._selection_placeholders()))
            worst = len("ç" * 12 + " is expected. ") + 30
            self.assertEqual(template.worst_length, worst)
            patient = self._contact("Aylin Demir")
            text = template._render(patient, self.env["calendar.event"], self.company)
            self.assertTrue(text.startswith("Rex le Magni is expected."), text)
        self.assertNotIn("pet_name", placeholders.PLACEHOLDERS)
        with self.assertRaises(ValidationError):
            template.body = "{pet_name} again"
        # the registry class is restored (addons such as the personal link
        # extend it, so it is not the base class's own method)
        self.assertIs(registry_class._placeholder_definitions, original_definitions)
        self.assertIs(ClinicSmsTemplate._placeholder_definitions, base_definitions)


class TestDemoAsAClinicSeesIt(TransactionCase):
    def test_demo_shows_every_feature(self):
        """The demo: a named clinic and sender, appointments on the calendar
        (with attendees), patients in client groups, done appointments with a
        recall campaign, a scheduled reminder, a marketing template."""
        if not self.env.ref(f"{ADDON}.appointment_01", raise_if_not_found=False):
            self.skipTest("database without demo data")
        company = self.env.ref("base.main_company")
        self.assertEqual(company.name, "Cabinet Dentaire du Parc")
        self.assertEqual(company.clinic_sms_sender_name, "CabinetParc")
        appointments = self.env["calendar.event"].search(
            [("clinic_patient_id", "!=", False), ("clinic_company_id", "=", company.id)]
        )
        admin = self.env.ref("base.partner_admin")
        for event in appointments:
            self.assertIn(admin, event.partner_ids, event.name)
            self.assertIn(event.clinic_patient_id, event.partner_ids, event.name)
        self.assertTrue(
            self.env.ref(f"{ADDON}.category_orthodontics")
            .with_context(active_test=False)
            .partner_ids
        )
        recall = self.env.ref(f"{ADDON}.recall_scaling")
        done = appointments.filtered(lambda e: e.clinic_status == "done")
        self.assertTrue(done.clinic_service_ids & recall.service_ids)
        outcomes = {(m.state, m.reason) for m in recall.message_ids}
        self.assertIn(("queued", False), outcomes)
        self.assertIn(("skipped", "recall_booked"), outcomes)
        self.assertTrue(self.env.ref(f"{ADDON}.schedule_orthodontics").category_ids)
        self.assertEqual(self.env.ref(f"{ADDON}.template_mass_saturday").kind, "mass")
