from datetime import timedelta
from unittest.mock import patch

from odoo.tools.misc import format_datetime

from odoo.addons.clinic_sms_reminders.models import clinic_sms_template

from .common import ClinicSmsCase


class TestEndToEnd(ClinicSmsCase):
    def test_reminder_24h_end_to_end(self):
        """R-2.1 R-2.6 R-7.1 R-7.3 R-6.1 R-5.7 R-7.8: a 24 h rule plans exactly one
        message for the patient only; dispatch sends it through the sandbox,
        debits one unit, keeps the history row and logs a case note."""
        event = self._appointment()
        messages = self._messages(event)
        self.assertEqual(
            len(messages), 1, "one message per (rule, appointment, patient)"
        )
        message = messages
        self.assertEqual(message.partner_id, self.patient)
        self.assertEqual(message.phone, "+33612345678")
        self.assertEqual(message.kind, "reminder")
        self.assertEqual(message.state, "queued")
        self.assertEqual(message.scheduled_at, self.start - timedelta(hours=24))

        # the planner cron is idempotent
        self.rule._plan_reminders(now=message.scheduled_at - timedelta(hours=1))
        self.assertEqual(len(self._messages(event)), 1)

        # not due yet: nothing happens
        self._dispatch(message.scheduled_at - timedelta(minutes=1))
        self.assertEqual(message.state, "queued")

        balance = self.wallet.balance
        notes_before = len(self.patient.message_ids)
        self._dispatch(message.scheduled_at)
        self.assertEqual(message.state, "delivered")
        self.assertEqual(message.units, 1)
        self.assertEqual(message.provider_id, self.provider)
        self.assertTrue(message.provider_message_id.startswith("sandbox-"))
        self.assertIn("Hello Jane, see you on", message.body)
        self.assertIn("with Dr Claire Martin in office B12", message.body)
        self.assertEqual(self.wallet.balance, balance - 1)
        debit = self.wallet.move_ids.filtered(lambda m: m.move_type == "debit")
        self.assertEqual(debit.units, -1)
        self.assertEqual(debit.message_kind, "reminder")
        notes = self.patient.message_ids[: len(self.patient.message_ids) - notes_before]
        self.assertEqual(len(notes), 1)
        self.assertIn("Test reminder", notes.body)
        # the text stays in the clinic's history, not on a shared contact
        self.assertNotIn("Hello Jane", notes.body)
        # automatic message: authored by the system
        self.assertEqual(notes.author_id, self.env.ref("base.partner_root"))
        # the practitioner (an attendee with a mobile) receives nothing
        self.assertFalse(
            self.env["clinic.sms.message"].search(
                [("partner_id", "=", self.practitioner.id)]
            )
        )

        # a second run sends nothing again
        self._dispatch(message.scheduled_at + timedelta(minutes=5))
        self.assertEqual(self.wallet.balance, balance - 1)
        self.assertEqual(len(self._messages(event)), 1)

    def test_text_in_patient_language_and_time_zone(self):
        """R-2.7: date and time in the patient's language and time zone, not UTC."""
        self.env["res.lang"]._activate_lang("fr_FR")
        self.patient.lang = "fr_FR"
        event = self._appointment()
        message = self._messages(event)
        self._dispatch(message.scheduled_at)
        self.assertIn("10:00", message.body)
        self.assertNotIn("AM", message.body)

    def test_language_of_the_clinic_when_the_patient_has_none(self):
        """R-2.7 R-3.3: a patient without a language gets the clinic's; dates
        and times never carry the no-break spaces of recent CLDR data (outside
        GSM-7, they would double the price of the message)."""
        self.env["res.lang"]._activate_lang("fr_FR")
        self.company.partner_id.lang = "fr_FR"
        self.patient.lang = False
        template_module = "odoo.addons.clinic_sms_reminders.models.clinic_sms_template"
        format_start = clinic_sms_template._format_start
        format_start.cache_clear()
        self.addCleanup(format_start.cache_clear)
        with patch(
            f"{template_module}.format_time", return_value="10\u202fh\xa000"
        ) as format_time:
            event = self._appointment()
            message = self._messages(event)
            self._dispatch(message.scheduled_at)
        self.assertEqual(str(format_time.call_args.kwargs["locale"]), "fr_FR")
        # French date (day first, four-digit year), plain spaces in the time
        self.assertRegex(message.body, r" on \d\d/\d\d/\d{4} at 10 h 00 with ")
        self.assertEqual((message.encoding, message.units), ("gsm7", 1))

    def test_calendar_sms_suppressed_for_clinic_appointments(self):
        """R-2.6: Odoo's calendar_sms reminder skips clinic appointments only."""
        event = self._appointment()
        plain = self.env["calendar.event"].create(
            {
                "name": "Staff meeting",
                "start": self.start,
                "stop": self.start + timedelta(hours=1),
                "partner_ids": [(6, 0, self.practitioner.ids)],
            }
        )
        alarm = self.env["calendar.alarm"].create(
            {"name": "SMS 1h", "alarm_type": "sms", "duration": 1, "interval": "hours"}
        )
        target = (
            "odoo.addons.sms.models.mail_thread.MailThread._message_sms_with_template"
        )
        with patch(target, autospec=True) as sms_send:
            (event | plain)._do_sms_reminder(alarm)
        called_on = [call.args[0] for call in sms_send.call_args_list]
        self.assertEqual(called_on, [plain])

    def test_case_notes_are_escaped_internal_notes(self):
        """R-5.7 R-7.1: the case notes the dispatcher writes through mail's
        batch API are internal notes, one per patient and batch, with the
        template name and the send time in the clinic's language (French)
        and time zone (Paris), authored by the system for automatic
        messages, never repeating the text; a template name is shown, never
        run; another addon sees them through ``mail.message``'s extension
        point ``_clinic_sms_case_notes_logged``."""
        self.patient.name = "<script>alert(1)</script> Doe"
        self.template.body = "Hi {patient_name} <b>bold</b> & {date}"
        self.template.name = "Rappel <b>24 h</b>"
        self.company.clinic_sms_group_gap_hours = 0
        self.company.clinic_sms_tz = "Europe/Paris"
        self.company.partner_id.lang = "fr_FR"
        event = self._appointment()
        second = self._appointment(
            start=self.start + timedelta(hours=1),
            stop=self.start + timedelta(hours=1, minutes=30),
        )
        messages = self._messages(event) | self._messages(second)
        self.assertEqual(len(messages), 2)
        notes_before = self.patient.message_ids
        MailMessage = type(self.env["mail.message"])
        seen = []
        original = MailMessage._clinic_sms_case_notes_logged

        def logged(records):
            seen.extend((note.model, note.res_id) for note in records)
            return original(records)

        with patch.object(MailMessage, "_clinic_sms_case_notes_logged", logged):
            self._dispatch(max(messages.mapped("scheduled_at")))
        self.assertEqual(set(messages.mapped("state")), {"delivered"})
        note = self.patient.message_ids - notes_before
        self.assertEqual(len(note), 1, "one note per patient and batch")
        # (the run also sends what the demo clinic has due: only this
        # patient's notes are looked at)
        self.assertEqual(
            [res_id for model, res_id in seen if model == "res.partner"].count(
                self.patient.id
            ),
            1,
            "the notes are handed to mail.message's extension point",
        )
        # what create() would have given: defaults of the other columns
        self.assertTrue(note.date)
        self.assertTrue(note.message_id)
        self.assertEqual(note.subtype_id, self.env.ref("mail.mt_note"))
        self.assertEqual(note.message_type, "notification")
        self.assertTrue(note.is_internal)
        self.assertEqual(note.author_id, self.env.ref("base.partner_root"))
        self.assertEqual(note.model, "res.partner")
        body = str(note.body)
        self.assertEqual(body.count("Rappel &lt;b&gt;24 h&lt;/b&gt;"), 2)
        self.assertIn("SMS envoyé", body)
        # the send time in the clinic's language and time zone (Paris)
        sent_at = messages[0].sent_at
        french = self.env(context=dict(self.env.context, lang="fr_FR"))
        self.assertIn(
            format_datetime(french, sent_at, tz="Europe/Paris", dt_format="short"),
            body,
        )
        # not UTC (11:00 in Paris is 10:00 UTC in December)
        self.assertNotIn(
            format_datetime(french, sent_at, tz="UTC", dt_format="short"), body
        )
        # the text is not repeated: it stays in the clinic's own history
        self.assertNotIn("bold", body)
        self.assertNotIn("script", body)
        self.assertIn("Hi <script>alert(1)</script> <b>bold</b> &", messages[0].body)
