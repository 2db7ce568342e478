"""A batch of messages is rendered from one query of its patients and
appointments (clinic_sms_template_rows.py): the texts must be exactly those
that rendering each message on its own, through the ORM, gives (R-2.7,
R-3.3, R-7.1)."""

from datetime import timedelta

from .common import ClinicSmsCase


class TestBatchRendering(ClinicSmsCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("fr_FR")
        cls.company.clinic_sms_max_parts = 4
        cls.template.body = (
            "{patient_name} / {patient_first_name}: {date} {time} "
            "{with_practitioner} ({office}) [{service}] {clinic_name}"
        )
        Product = cls.env["product.product"]
        # names sort in another order than their ids
        cls.services = (
            Product.create({"name": "Zirconia crown"})
            | Product.create({"name": "Anaesthesia"})
            | Product.create({"name": "Moulding", "active": False})
        )
        # French patients read the services in French (a batch mixes both)
        for service, french in zip(
            cls.services[:2], ("Couronne zircone", "Anesthésie"), strict=True
        ):
            service.product_tmpl_id.update_field_translations("name", {"fr_FR": french})

    def _patient(self, name, **values):
        return self.env["res.partner"].create(
            {"name": name, "phone": f"06 12 34 56 {len(name) % 90:02d}", **values}
        )

    def test_r71_batch_texts_equal_one_by_one_texts(self):
        french = self._patient(
            "Françoise Lefèvre-Dubois",
            lang="fr_FR",
            country_id=self.env.ref("base.fr").id,
        )
        british = self._patient(
            "Siobhán O'Connor", lang="en_US", country_id=self.env.ref("base.uk").id
        )
        homeless = self._patient("محمد علي", lang=False)
        cases = [
            (french, {"clinic_service_ids": [(6, 0, self.services.ids)]}),
            (
                british,
                {
                    "clinic_practitioner_id": False,
                    "clinic_office": False,
                    "clinic_service_ids": [(6, 0, self.services.ids)],
                },
            ),
            (homeless, {"start": self.start + timedelta(days=30)}),
        ]
        events = self.env["calendar.event"]
        for patient, values in cases:
            stop = values.get("start", self.start) + timedelta(minutes=30)
            events |= self._appointment(
                clinic_patient_id=patient.id,
                partner_ids=[(6, 0, patient.ids)],
                stop=stop,
                **values,
            )
        # a recurring appointment keeps its recurrence's own time zone
        recurring = self._appointment(
            clinic_patient_id=french.id,
            partner_ids=[(6, 0, french.ids)],
            start=self.start + timedelta(days=3),
            stop=self.start + timedelta(days=3, minutes=30),
            recurrency=True,
            rrule_type="daily",
            count=2,
            event_tz="America/Montreal",
        )
        events |= recurring.recurrence_id.calendar_event_ids
        messages = self.env["clinic.sms.message"]
        for event in events:
            messages |= (
                self.env["clinic.sms.message"]
                .sudo()
                .create(
                    {
                        "kind": "reminder",
                        "idempotency_key": f"batch-render:{event.id}",
                        "partner_id": event.clinic_patient_id.id,
                        "appointment_id": event.id,
                        "template_id": self.template.id,
                        "company_id": self.company.id,
                        "phone": "+33612345678",
                    }
                )
            )
        batch = self.env["clinic.sms.template"]._render_messages(messages)
        self.assertEqual(len(batch), len(messages))
        for message in messages:
            self.env.invalidate_all()
            alone = message.template_id._render_for(message)
            self.assertEqual(batch[message.id], alone)
        french_text = batch[messages[0].id]
        self.assertIn("[Anesthésie, Couronne zircone]", french_text)
        self.assertIn("[Anaesthesia, Zirconia crown]", batch[messages[1].id])
        montreal = messages.filtered(lambda m: m.appointment_id.recurrency)[:1]
        self.assertTrue(montreal)
        local = self.start + timedelta(days=3) - timedelta(hours=5)
        self.assertIn(local.strftime("%H:%M").lstrip("0"), batch[montreal.id])
