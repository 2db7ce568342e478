import re
from pathlib import Path

from odoo.exceptions import ValidationError
from odoo.tests import Form

from .common import ClinicSmsCase

TOURS = Path(__file__).resolve().parent.parent / "static" / "src" / "js" / "tours"


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
        """R-3.1: a client without a cursor (an API, a form without the body
        widget) that sets an element gets it appended; the form's body widget
        inserts it at the cursor (test_tours.py::test_template_preview_tour)."""
        template = self.env["clinic.sms.template"].new(
            {"name": "From the editor", "body": "Hello"}
        )
        template.insert_placeholder = "patient_name"
        template._onchange_insert_placeholder()
        self.assertEqual(template.body, "Hello {patient_name}")
        self.assertFalse(template.insert_placeholder)
        template.insert_placeholder = "time"
        template._onchange_insert_placeholder()
        self.assertEqual(template.body, "Hello {patient_name} {time}")

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

    def test_counter_values_of_the_tour(self):
        """R-3.4: the numbers the template tour reads while typing
        (TOUR_TEXTS in static/src/js/tours/clinic_sms_tours.js, read here so
        they cannot drift) are the server's own counter and warning for the
        same texts: the body widget displays ``_compute_counter``'s figures,
        it does not count on its own."""
        self.company.clinic_sms_max_parts = 1
        self.company.clinic_sms_smart_encoding = True
        tour = (TOURS / "clinic_sms_tours.js").read_text()
        block = tour[tour.index("const TOUR_TEXTS") :]
        block = block[: block.index("};")]
        seen = re.findall(
            r'text: "([^"]*)",\s*left: (\d+),\s*parts: (\d+),\s*encoding: "([^"]*)"',
            block,
        )
        self.assertEqual(len(seen), 3, "short, unicode and element texts")
        labels = dict(
            self.env["clinic.sms.template"]._fields["worst_encoding"].selection
        )
        # the tour opens the template at "Hello": 155 characters left
        seen.append(("Hello", "155", "1", labels["gsm7"]))
        for body, left, parts, encoding in seen:
            with self.subTest(body=body):
                # the form's onchange evaluates a new record of the typed text
                template = self.env["clinic.sms.template"].new(
                    {"name": "Typed", "kind": "reminder", "body": body}
                )
                self.assertEqual(
                    (
                        template.worst_chars_left,
                        template.worst_parts,
                        labels[template.worst_encoding],
                    ),
                    (int(left), int(parts), encoding),
                )
                # the warning of the form shows exactly when the save refuses
                if template.worst_parts > template.max_parts:
                    with self.assertRaises(ValidationError):
                        self._template(body)
                else:
                    self.assertEqual(self._template(body).worst_chars_left, int(left))
        # one text of the tour is over the clinic's single part: the warning shows
        self.assertIn("2", [parts for _body, _left, parts, _enc in seen])

    def test_preview_renders_the_text_being_edited(self):
        """R-3.4: the preview of the form renders the text as typed, not the
        saved translation of the patient's language."""
        self.env["res.lang"]._activate_lang("fr_FR")
        self.patient.lang = "fr_FR"
        template = self._template("Bonjour {patient_first_name}")
        event = self._appointment()
        edited = template.with_context(lang="en_US")
        edited.body = "Hello {patient_first_name}"
        template.with_context(lang="fr_FR").body = "Bonjour {patient_first_name}"
        form_record = edited.new(
            {"body": "Hi {patient_first_name}, see you", "preview_event_id": event.id},
            origin=edited,
        )
        first = self.patient.name.split(" ")[0]
        self.assertEqual(form_record.preview_body, f"Hi {first}, see you")
