from datetime import timedelta

from odoo.tests import Form

from .common import ClinicSmsCase, make_user


class TestWaitlist(ClinicSmsCase):
    """R-9.3: waiting patients are offered freed slots by SMS; the first to
    accept gets the appointment, the others are told it is taken; nobody is
    offered a slot twice."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.receptionist = make_user(
            cls.env,
            "waitlist_receptionist",
            "clinic_sms_reminders.group_clinic_sms_user",
            cls.company,
        )
        cls.company.clinic_sms_waitlist_offer_count = 3
        cls.company.clinic_sms_waitlist_move_hours = 24
        cls.cleaning = cls.env["product.product"].create(
            {"name": "Détartrage", "type": "service"}
        )
        cls.crown = cls.env["product.product"].create(
            {"name": "Couronne", "type": "service"}
        )
        cls.other_practitioner = cls.env["res.partner"].create(
            {"name": "Dr Paul Besson"}
        )
        fr = cls.env.ref("base.fr")
        cls.waiting = cls.env["res.partner"].create(
            [
                {
                    "name": name,
                    "phone": number,
                    "country_id": fr.id,
                    "tz": "Europe/Paris",
                    "lang": lang,
                }
                for name, number, lang in (
                    ("Amélie Roux", "06 21 43 65 87", "fr_FR"),
                    ("Bastien Morel", "07 81 92 03 14", "en_US"),
                    ("Chloé Garnier", "06 55 44 33 21", "fr_FR"),
                    ("David Lambert", "06 98 76 54 32", "en_US"),
                )
            ]
        )

    def _wait(self, patient, **values):
        vals = {
            "partner_id": patient.id,
            "company_id": self.company.id,
            "practitioner_id": self.practitioner.id,
        }
        vals.update(values)
        return (
            self.env["clinic.sms.waitlist"]
            .with_user(self.receptionist)
            .with_company(self.company)
            .create(vals)
        )

    def _offer_messages(self, kind="waitlist_offer"):
        return self.env["clinic.sms.message"].search(
            [("company_id", "=", self.company.id), ("kind", "=", kind)]
        )

    def _as_reception(self, record):
        return record.with_user(self.receptionist).with_company(self.company)

    def _four_waiting(self):
        return [
            self._wait(patient, sequence=index, service_ids=[(6, 0, self.cleaning.ids)])
            for index, patient in enumerate(self.waiting)
        ]

    def test_add_from_appointment_and_patient(self):
        """The reception adds the patient of an appointment to the waitlist
        for the same practitioner and services, and opens a patient's entries."""
        event = self._appointment(clinic_service_ids=[(6, 0, self.cleaning.ids)])
        action = self._as_reception(event).action_clinic_waitlist_add()
        self.assertEqual(action["res_model"], "clinic.sms.waitlist")
        env = self.env(user=self.receptionist, context=action["context"])
        with Form(env["clinic.sms.waitlist"]) as form:
            form.date_to = self.start.date() - timedelta(days=1)
        entry = form.record
        self.assertEqual(entry.partner_id, self.patient)
        self.assertEqual(entry.practitioner_id, self.practitioner)
        self.assertEqual(entry.service_ids, self.cleaning)
        self.assertEqual(entry.appointment_id, event)
        self.assertEqual(entry.company_id, self.company)
        self.assertEqual(entry.state, "waiting")
        action = self._as_reception(self.patient).action_clinic_waitlist()
        self.assertEqual(action["domain"], [("partner_id", "=", self.patient.id)])
        self.assertEqual(
            self.env["clinic.sms.waitlist"]
            .with_user(self.receptionist)
            .search(action["domain"]),
            entry,
        )

    def test_cancellation_offers_the_slot_to_the_first_three(self):
        """A cancelled appointment's slot is offered at once to the first three
        matching waiting patients, in order, by SMS in their language; entries
        for another practitioner, another service, other days or another
        clinic are not offered."""
        entries = self._four_waiting()
        fr = self.env.ref("base.fr")
        misfits = self.env["res.partner"].create(
            [
                {"name": name, "phone": number, "country_id": fr.id}
                for name, number in (
                    ("Élise Petit", "06 10 20 30 40"),
                    ("Fabien Noël", "06 11 21 31 41"),
                    ("Gaëlle Simon", "06 12 22 32 42"),
                )
            ]
        )
        self._wait(misfits[0], sequence=-3, practitioner_id=self.other_practitioner.id)
        self._wait(misfits[1], sequence=-2, service_ids=[(6, 0, self.crown.ids)])
        self._wait(
            misfits[2], sequence=-1, date_from=self.start.date() + timedelta(days=1)
        )
        event = self._appointment(clinic_service_ids=[(6, 0, self.cleaning.ids)])
        self.assertFalse(self._offer_messages())

        self._as_reception(event).action_clinic_cancel()

        offers = self.env["clinic.sms.waitlist.offer"].search(
            [("company_id", "=", self.company.id)]
        )
        self.assertEqual(offers.partner_id, self.waiting[:3])
        self.assertEqual(set(offers.mapped("state")), {"offered"})
        self.assertEqual(offers.slot_id.start, event.start)
        self.assertEqual(offers.slot_id.practitioner_id, self.practitioner)
        self.assertEqual(
            [e.state for e in entries], ["offered", "offered", "offered", "waiting"]
        )
        messages = self._offer_messages()
        self.assertEqual(messages.partner_id, self.waiting[:3])
        self.assertEqual(set(messages.mapped("state")), {"queued"})
        self.assertEqual(set(messages.mapped("phone")), set(offers.mapped("phone")))
        by_patient = {m.partner_id: m.body for m in messages}
        # the appointment's wall clock in Paris, in each patient's language
        self.assertIn("10:00", by_patient[self.waiting[0]])
        self.assertIn("Dr Claire Martin", by_patient[self.waiting[0]])
        self.assertIn("Répondez OUI", by_patient[self.waiting[0]])
        self.assertIn("un créneau se libère", by_patient[self.waiting[0]])
        self.assertIn("Reply YES", by_patient[self.waiting[1]])
        self.assertIn("10:00", by_patient[self.waiting[1]])

    def test_first_acceptance_books_the_others_are_told(self):
        """The first patient to reply OUI gets the appointment booked in the
        slot; the others' offers are taken and they get a "slot taken" SMS;
        a later OUI books nothing."""
        entries = self._four_waiting()
        event = self._appointment(clinic_service_ids=[(6, 0, self.cleaning.ids)])
        self._as_reception(event).action_clinic_cancel()
        second = self.waiting[1]
        Offer = self.env["clinic.sms.waitlist.offer"]

        self.assertTrue(
            Offer._accept_from_reply(self.company, second.clinic_mobile, "oui !")
        )

        booked = self.env["calendar.event"].search(
            [("clinic_patient_id", "=", second.id)]
        )
        self.assertEqual(len(booked), 1)
        self.assertEqual((booked.start, booked.stop), (event.start, event.stop))
        self.assertEqual(booked.clinic_practitioner_id, self.practitioner)
        self.assertEqual(booked.clinic_service_ids, self.cleaning)
        self.assertEqual(booked.clinic_company_id, self.company)
        self.assertEqual(booked.clinic_status, "scheduled")
        offers = Offer.search([("company_id", "=", self.company.id)])
        states = {offer.partner_id: offer.state for offer in offers}
        self.assertEqual(
            states,
            {
                self.waiting[0]: "taken",
                second: "accepted",
                self.waiting[2]: "taken",
            },
        )
        self.assertEqual(entries[1].state, "booked")
        self.assertEqual(entries[1].booked_event_id, booked)
        self.assertEqual([entries[i].state for i in (0, 2, 3)], ["waiting"] * 3)
        taken = self._offer_messages("waitlist_taken")
        self.assertEqual(taken.partner_id, self.waiting[0] | self.waiting[2])
        self.assertIn(
            "10:00", taken.filtered(lambda m: m.partner_id == self.waiting[2]).body
        )

        # too late: the slot is taken, nothing is booked, no second message
        self.assertFalse(
            Offer._accept_from_reply(self.company, self.waiting[0].clinic_mobile, "OUI")
        )
        taken_offer = offers.filtered(lambda o: o.partner_id == self.waiting[0])
        self.assertFalse(taken_offer._accept())
        self.assertEqual(
            self.env["calendar.event"].search_count(
                [("clinic_patient_id", "in", self.waiting.ids)]
            ),
            1,
        )
        self.assertEqual(len(self._offer_messages("waitlist_taken")), 2)

    def test_reception_accepts_by_phone(self):
        """The reception records an acceptance by phone from the offers list."""
        self._four_waiting()
        event = self._appointment(clinic_service_ids=[(6, 0, self.cleaning.ids)])
        self._as_reception(event).action_clinic_cancel()
        offer = self.env["clinic.sms.waitlist.offer"].search(
            [("partner_id", "=", self.waiting[2].id)]
        )
        self._as_reception(offer).action_accept()
        self.assertEqual(offer.state, "accepted")
        self.assertEqual(offer.booked_event_id.clinic_patient_id, self.waiting[2])

    def test_nobody_is_offered_a_slot_twice(self):
        """When the booked slot is freed again, it goes to the patients who were
        not offered it yet; a second write of the cancellation offers nothing."""
        self._four_waiting()
        event = self._appointment(clinic_service_ids=[(6, 0, self.cleaning.ids)])
        self._as_reception(event).action_clinic_cancel()
        self._as_reception(event).write({"clinic_status": "cancelled"})
        Offer = self.env["clinic.sms.waitlist.offer"]
        self.assertEqual(len(Offer.search([("company_id", "=", self.company.id)])), 3)
        Offer._accept_from_reply(self.company, self.waiting[0].clinic_mobile, "YES")
        booked = self.env["calendar.event"].search(
            [("clinic_patient_id", "=", self.waiting[0].id)]
        )

        self._as_reception(booked).action_clinic_cancel()

        offers = Offer.search([("company_id", "=", self.company.id)])
        self.assertEqual(len(offers), 4)
        self.assertEqual(len(offers.slot_id), 1)
        new = offers.filtered(lambda o: o.state == "offered")
        self.assertEqual(new.partner_id, self.waiting[3])
        for patient in self.waiting:
            self.assertLessEqual(
                len(offers.filtered(lambda o, p=patient: o.partner_id == p)), 1
            )
        self.assertEqual(self._offer_messages().mapped("partner_id"), self.waiting)

    def test_moved_far_enough_later(self):
        """Moving an appointment 2 hours later keeps its slot; moving it by a
        week frees the old slot."""
        self._four_waiting()
        event = self._appointment(clinic_service_ids=[(6, 0, self.cleaning.ids)])
        old_start = event.start
        reception = self._as_reception(event)
        reception.write(
            {
                "start": event.start + timedelta(hours=2),
                "stop": event.stop + timedelta(hours=2),
            }
        )
        self.assertFalse(
            self.env["clinic.sms.waitlist.offer"]
            .search([])
            .filtered(lambda o: o.company_id == self.company)
        )
        reception.write(
            {
                "start": event.start + timedelta(days=7),
                "stop": event.stop + timedelta(days=7),
            }
        )
        offers = self.env["clinic.sms.waitlist.offer"].search(
            [("company_id", "=", self.company.id)]
        )
        self.assertEqual(offers.slot_id.start, old_start + timedelta(hours=2))
        self.assertEqual(len(offers), 3)

    def test_replies_that_are_not_acceptances(self):
        """Only a confirmation keyword of a number with an open offer is an
        acceptance; other replies are left to the inbox."""
        self._four_waiting()
        Offer = self.env["clinic.sms.waitlist.offer"]
        number = self.waiting[0].clinic_mobile
        self.assertFalse(Offer._accept_from_reply(self.company, number, "OUI"))
        event = self._appointment(clinic_service_ids=[(6, 0, self.cleaning.ids)])
        self._as_reception(event).action_clinic_cancel()
        self.assertFalse(
            Offer._accept_from_reply(self.company, number, "Yes, I will stop by")
        )
        self.assertFalse(Offer._accept_from_reply(self.company, number, "NON"))
        other = self.env.ref("base.main_company")
        self.assertFalse(Offer._accept_from_reply(other, number, "OUI"))
        self.assertEqual(
            set(Offer.search([("company_id", "=", self.company.id)]).mapped("state")),
            {"offered"},
        )

    def test_offers_expire_when_the_slot_starts(self):
        self._four_waiting()
        event = self._appointment(clinic_service_ids=[(6, 0, self.cleaning.ids)])
        self._as_reception(event).action_clinic_cancel()
        Offer = self.env["clinic.sms.waitlist.offer"]
        expired = Offer._cron_expire(now=event.start + timedelta(minutes=1))
        self.assertEqual(expired, 3)
        entries = self.env["clinic.sms.waitlist"].search(
            [("company_id", "=", self.company.id)]
        )
        self.assertEqual(set(entries.mapped("state")), {"waiting"})

    def test_other_clinic_cannot_read_the_waitlist(self):
        entry = self._wait(self.waiting[0])
        other_user = make_user(
            self.env,
            "waitlist_other_clinic",
            "clinic_sms_reminders.group_clinic_sms_user",
            self.env.ref("base.main_company"),
        )
        self.assertFalse(
            self.env["clinic.sms.waitlist"]
            .with_user(other_user)
            .search([("id", "=", entry.id)])
        )

    def test_inbound_reply_accepts_the_offer(self):
        """The inbox's hook: an OUI received from a patient with an open offer
        books the slot and is recorded as an answer to the offer."""
        self._four_waiting()
        event = self._appointment(clinic_service_ids=[(6, 0, self.cleaning.ids)])
        self._as_reception(event).action_clinic_cancel()
        patient = self.waiting[2]
        inbound = self.env["clinic.sms.inbound"].create(
            {
                "provider_id": self.provider.id,
                "company_id": self.company.id,
                "from_number": patient.clinic_mobile,
                "text": "Oui",
            }
        )
        self.assertTrue(inbound._clinic_waitlist_accept(patient.clinic_mobile))
        self.assertEqual(inbound.action, "waitlist")
        self.assertEqual(inbound.partner_id, patient)
        self.assertEqual(inbound.appointment_id.clinic_patient_id, patient)
        self.assertEqual(inbound.appointment_id.start, event.start)
        # a free-text reply is not an acceptance
        other = self.env["clinic.sms.inbound"].create(
            {
                "provider_id": self.provider.id,
                "company_id": self.company.id,
                "from_number": self.waiting[0].clinic_mobile,
                "text": "Oui mais plutôt l'après-midi",
            }
        )
        self.assertFalse(other._clinic_waitlist_accept(self.waiting[0].clinic_mobile))
        self.assertFalse(other.action)

    def test_yes_received_through_the_gateway_books_the_slot(self):
        """The whole path: the offers are sent, a patient answers "Oui !" over
        the provider's inbound route and gets the slot; the others are told it
        is taken; a yes that comes after the slot went books nothing."""
        self._four_waiting()
        event = self._appointment(clinic_service_ids=[(6, 0, self.cleaning.ids)])
        self._as_reception(event).action_clinic_cancel()
        self.env["clinic.sms.message"].search([("kind", "=", "waitlist_offer")]).write(
            {"state": "sent", "provider_id": self.provider.id}
        )
        first, second = self.waiting[1], self.waiting[0]
        inbound = self.env["clinic.sms.inbound"]._receive(
            self.provider, {"from": first.clinic_mobile, "text": "Oui !"}
        )
        self.assertEqual(inbound.action, "waitlist")
        booked = inbound.appointment_id
        self.assertEqual((booked.clinic_patient_id, booked.start), (first, event.start))
        taken = self._offer_messages("waitlist_taken")
        self.assertIn(second, taken.partner_id)
        late = self.env["clinic.sms.inbound"]._receive(
            self.provider, {"from": second.clinic_mobile, "text": "OUI"}
        )
        self.assertNotIn(late.action, ("waitlist", "confirm"))
        self.assertEqual(
            self.env["calendar.event"].search_count(
                [("start", "=", event.start), ("clinic_status", "!=", "cancelled")]
            ),
            1,
        )

    def test_slot_booked_by_the_reception_withdraws_the_offers(self):
        """When the reception books a patient by phone into a slot being
        offered, the patients offered it are told it is taken and an OUI that
        comes later books nothing."""
        self._four_waiting()
        event = self._appointment(clinic_service_ids=[(6, 0, self.cleaning.ids)])
        self._as_reception(event).action_clinic_cancel()
        caller = self.env["res.partner"].create(
            {
                "name": "Karim Haddad",
                "phone": "06 44 55 66 77",
                "country_id": self.env.ref("base.fr").id,
                "clinic_is_patient": True,
            }
        )
        booked = (
            self.env["calendar.event"]
            .with_user(self.receptionist)
            .with_company(self.company)
            .create(
                {
                    "name": "Détartrage",
                    "start": event.start,
                    "stop": event.stop,
                    "clinic_patient_id": caller.id,
                    "clinic_practitioner_id": self.practitioner.id,
                    "clinic_company_id": self.company.id,
                    "partner_ids": [(6, 0, (caller | self.practitioner).ids)],
                }
            )
        )
        offers = self.env["clinic.sms.waitlist.offer"].search(
            [("company_id", "=", self.company.id)]
        )
        self.assertEqual(set(offers.mapped("state")), {"taken"})
        self.assertEqual(offers.slot_id.state, "booked")
        self.assertEqual(offers.slot_id.booked_event_id, booked)
        self.assertEqual(
            self._offer_messages("waitlist_taken").partner_id, self.waiting[:3]
        )
        self.assertFalse(
            self.env["clinic.sms.waitlist.offer"]._accept_from_reply(
                self.company, self.waiting[0].clinic_mobile, "OUI"
            )
        )
        self.assertFalse(
            self.env["calendar.event"].search(
                [("clinic_patient_id", "in", self.waiting.ids)]
            )
        )

    def test_moved_back_into_its_slot(self):
        """An appointment moved a week later, then back: its slot is no longer
        free and its offers are withdrawn."""
        self._four_waiting()
        event = self._appointment(clinic_service_ids=[(6, 0, self.cleaning.ids)])
        start, stop = event.start, event.stop
        reception = self._as_reception(event)
        reception.write(
            {"start": start + timedelta(days=7), "stop": stop + timedelta(days=7)}
        )
        offers = self.env["clinic.sms.waitlist.offer"].search(
            [("company_id", "=", self.company.id)]
        )
        self.assertEqual(set(offers.mapped("state")), {"offered"})
        reception.write({"start": start, "stop": stop})
        self.assertEqual(set(offers.mapped("state")), {"taken"})
        self.assertEqual(offers.slot_id.booked_event_id, event)

    def test_patient_stops_waiting(self):
        """The reception takes a patient off the waitlist: their open offer
        expires and an OUI afterwards books nothing."""
        entries = self._four_waiting()
        event = self._appointment(clinic_service_ids=[(6, 0, self.cleaning.ids)])
        self._as_reception(event).action_clinic_cancel()
        self._as_reception(entries[0]).action_cancel()
        self.assertEqual(entries[0].state, "cancelled")
        self.assertEqual(entries[0].offer_ids.state, "expired")
        self.assertFalse(
            self.env["clinic.sms.waitlist.offer"]._accept_from_reply(
                self.company, self.waiting[0].clinic_mobile, "OUI"
            )
        )
        self._as_reception(entries[0]).action_reset()
        self.assertEqual(entries[0].state, "waiting")
