from odoo.exceptions import ValidationError
from odoo.tests import Form

from .common import ClinicSmsCase


class TestTemplate(ClinicSmsCase):
    def _template(self, body, **values):
        return self.env["clinic.sms.template"].create(
            {
                "name": "T",
                "kind": "reminder",
                "company_id": self.company.id,
                "body": body,
            }
            | values
        )

    def test_unknown_placeholder_refused_at_save(self):
        """R-3.1: unknown placeholders are a validation error at save time."""
        with self.assertRaises(ValidationError) as error:
            self._template("Hello {patient_nam}")
        self.assertIn("patient_nam", str(error.exception))
        for body in (
            "Hi {{ patient_name }}",
            "Hi ${object.name}",
            "Hi {patient_name.upper}",
        ):
            with self.assertRaises(ValidationError):
                self._template(body)
        with self.assertRaises(ValidationError):
            self.template.body = "Broken {time"

    def test_elements_inserted_from_editor(self):
        """R-3.1: placeholders are inserted from the Elements list."""
        with Form(self.env["clinic.sms.template"]) as form:
            form.name = "From the editor"
            form.body = "Hello"
            form.insert_placeholder = "patient_name"
            self.assertEqual(form.body, "Hello {patient_name}")
            self.assertFalse(form.insert_placeholder)
            form.insert_placeholder = "time"
            self.assertEqual(form.body, "Hello {patient_name} {time}")

    def test_values_truncated_to_limits(self):
        """R-3.2: each placeholder is truncated to its maximum length."""
        self.patient.name = "Bartholomew Maximilian Fitzgerald-Wolfenstein"
        template = self._template("{patient_name}|{office}")
        event = self._appointment(clinic_office="OFFICE-123456")
        text = template._render(self.patient, event, self.company)
        name, office = text.split("|")
        self.assertEqual(len(name), 25)
        self.assertEqual(office, "OFFIC")

    def test_live_counter(self):
        """R-3.3 R-3.4: the form shows worst-case length, parts and encoding."""
        template = self._template("Short text")
        self.assertEqual(
            (template.worst_length, template.worst_parts, template.worst_encoding),
            (10, 1, "gsm7"),
        )
        self.assertEqual(template.worst_chars_left, 150)
        template.body = "Fête"  # ê is outside GSM-7
        self.assertEqual(
            (template.worst_encoding, template.worst_chars_left), ("ucs2", 66)
        )
        template.body = "{patient_name}"
        self.assertEqual(template.worst_length, 25)

    def test_smart_encoding(self):
        """R-3.3: typographic look-alikes are replaced when the clinic wants it."""
        template = self._template("L’équipe vous attend… à demain")
        self.assertEqual(template.worst_encoding, "gsm7")
        self.company.clinic_sms_smart_encoding = False
        template.invalidate_recordset()
        self.assertEqual(template.worst_encoding, "ucs2")

    def test_worst_case_over_max_parts_refused(self):
        """R-3.4: a template whose worst case exceeds the clinic's parts cannot be
        saved; extended 2-part SMS allows more."""
        body = "x" * 120 + " {patient_name} {practitioner}"
        with self.assertRaises(ValidationError):
            self._template(body)
        self.company.clinic_sms_max_parts = 2
        template = self._template(body)
        self.assertEqual(template.worst_parts, 2)

    def test_preview_on_appointment(self):
        """R-3.5: preview on a real appointment before use."""
        event = self._appointment()
        with Form(self.template) as form:
            form.preview_event_id = event
            self.assertIn("Hello Jane, see you on", form.preview_body)
            self.assertIn("Dr Claire Martin", form.preview_body)

    def test_marketing_texts_end_with_opt_out(self):
        """R-3.6: marketing texts end with an opt-out mention, counted in the
        length; appointment texts do not."""
        mass = self._template("Spring offer for {patient_first_name}", kind="mass")
        plain = self._template("Spring offer for {patient_first_name}")
        mentions = [
            mass.with_context(lang=code)._opt_out_mention(self.company)
            for code in {"en_US", *dict(self.env["res.lang"].get_installed())}
        ]
        self.assertIn("Reply STOP to opt out", mentions)
        longest = max(len(mention) for mention in mentions)
        self.assertEqual(mass.worst_length, plain.worst_length + 1 + longest)
        text = mass._render(self.patient, self.env["calendar.event"], self.company)
        self.assertEqual(text, "Spring offer for Jane Reply STOP to opt out")
        self.company.clinic_sms_short_number = "36180"
        text = mass._render(self.patient, self.env["calendar.event"], self.company)
        self.assertTrue(text.endswith("STOP to 36180"))
        with self.assertRaises(ValidationError):
            self._template("x" * 150, kind="mass")
        self._template("x" * 150)
