"""Clinics are isolated (R-8.2, R-6.2), tried as an integrator or a new user
would: two clinics, their own users, over JSON-2 against the running server.

Each test is one finding of the review (issue 16) and failed before its fix."""

from datetime import datetime, timedelta

from odoo.tests import tagged

from .test_access_matrix import RpcCase


@tagged("post_install", "-at_install")
class TestSharedRecords(RpcCase):
    """Records shared by all clinics are changed only by an administrator of
    every clinic; a clinic's manager duplicates them instead."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Notification = cls.env["clinic.sms.notification"].with_context(
            active_test=False
        )
        cls.confirmations = Notification.search(
            [
                ("company_id", "in", (cls.company_a | cls.company_b).ids),
                ("kind", "=", "confirmation"),
            ]
        )
        cls.confirmations.write({"active": True, "template_id": False})
        cls.shared_body = cls.shared_template.body

    def _confirmation_text(self, company):
        """The text of the confirmation a new appointment of ``company``
        queues (rendered when it is sent)."""
        event = self._appointment(company)
        message = self.env["clinic.sms.message"].search(
            [("appointment_id", "=", event.id), ("kind", "=", "confirmation")]
        )
        self.assertEqual(len(message), 1)
        self.env.invalidate_all()
        return message.template_id.body

    def test_manager_of_one_clinic_cannot_rewrite_a_shared_template(self):
        """Issue 16 (1), R-8.2: clinic B's manager neither rewrites, translates,
        archives nor deletes the confirmation template shared by all clinics;
        clinic A's next confirmation goes out with the shared text."""
        template = self.shared_template
        french = template.with_context(lang="fr_FR").body
        attempts = {
            "write": ("write", {"vals": {"body": "Clinique Curie: {date}"}}),
            "archive": ("action_archive", {}),
            "translate": (
                "update_field_translations",
                {"field_name": "body", "translations": {"fr_FR": "Piraté {date}"}},
            ),
            "unlink": ("unlink", {}),
        }
        for label, (method, kwargs) in attempts.items():
            with self.subTest(label):
                answer = self.rpc(
                    "manager_b",
                    "clinic.sms.template",
                    method,
                    ids=template.ids,
                    **kwargs,
                )
                self.assertRefused("manager_b", answer)
                self.assertIn("shared by all clinics", answer[1]["message"])
        self.env.invalidate_all()
        self.assertTrue(template.exists() and template.active)
        self.assertEqual(template.body, self.shared_body)
        self.assertEqual(template.with_context(lang="fr_FR").body, french)
        text = self._confirmation_text(self.company_a)
        self.assertIn("your appointment on", text)
        self.assertNotIn("Curie", text)

    def test_manager_makes_a_copy_for_their_clinic(self):
        """Issue 16 (1), R-8.2 R-1.2: clinic B's manager duplicates the shared
        confirmation: the copy is B's, B edits it and B's patients get B's
        text, while clinic A keeps the shared one."""
        status, copy_id = self.rpc(
            "manager_b", "clinic.sms.template", "copy", ids=self.shared_template.ids
        )
        self.assertEqual(status, 200, copy_id)
        copy = self.env["clinic.sms.template"].browse(copy_id)
        self.assertEqual(copy.company_id, self.company_b)
        self.assertEqual(copy.kind, "confirmation")
        answer = self.rpc(
            "manager_b",
            "clinic.sms.template",
            "write",
            ids=copy.ids,
            vals={"body": "Clinique Curie: see you on {date} at {time}."},
        )
        self.assertAllowed(answer)
        self.assertTrue(
            self._confirmation_text(self.company_b).startswith("Clinique Curie: see")
        )
        self.assertNotIn("Curie", self._confirmation_text(self.company_a))
        # and clinic A's manager cannot touch B's copy
        answer = self.rpc(
            "sms_manager",
            "clinic.sms.template",
            "write",
            ids=copy.ids,
            vals={"body": "x"},
        )
        self.assertRefused("sms_manager", answer)

    def test_new_records_of_a_manager_belong_to_their_clinic(self):
        """R-8.2: a clinic's manager creating a template or a provider without
        choosing a clinic creates one of their clinic (not a shared one they
        could not save); choosing 'every clinic' explicitly is refused."""
        for model, vals in (
            (
                "clinic.sms.template",
                {"name": "Parking", "kind": "private", "body": "Parking: level -2."},
            ),
            ("clinic.sms.provider", {"name": "Curie sandbox"}),
        ):
            with self.subTest(model):
                status, ids = self.rpc("manager_b", model, "create", vals_list=[vals])
                self.assertEqual(status, 200, ids)
                self.assertEqual(self.env[model].browse(ids).company_id, self.company_b)
                answer = self.rpc(
                    "manager_b",
                    model,
                    "create",
                    vals_list=[dict(vals, company_id=False)],
                )
                self.assertRefused("manager_b", answer)

    def test_administrator_of_every_clinic_changes_shared_records(self):
        """R-8.2: a manager who belongs to every clinic changes the shared
        template (and an Odoo administrator can too)."""
        answer = self.rpc(
            "admin_all",
            "clinic.sms.template",
            "write",
            ids=self.shared_template.ids,
            vals={"body": "{patient_first_name}, see you on {date} at {time}."},
        )
        self.assertAllowed(answer)
        for company in (self.company_a, self.company_b):
            self.assertEqual(
                self._confirmation_text(company),
                "{patient_first_name}, see you on {date} at {time}.",
            )

    def test_manager_cannot_repoint_the_shared_provider(self):
        """Issue 16 (2), R-8.2 R-7.2: clinic B's manager can neither point the
        sandbox provider shared with clinic A to a gateway of their choice,
        nor create a shared provider that would then send clinic A's
        messages, nor turn B's provider into a shared one."""
        # clinic A sends through the provider shared by all clinics
        self.company_a.clinic_sms_provider_id = False
        self.clinic[self.company_a]["provider"].active = False
        sandbox = self.company_a._clinic_sms_get_provider()
        self.assertFalse(sandbox.company_id)
        self.assertEqual(sandbox.provider_type, "sandbox")
        before = sandbox.read(["provider_type", "api_url", "active", "sequence"])
        answer = self.rpc(
            "manager_b",
            "clinic.sms.provider",
            "write",
            ids=sandbox.ids,
            vals={
                "provider_type": "http",
                "http_flavor": "json",
                "api_url": "http://127.0.0.1:9/collect",
            },
        )
        self.assertRefused("manager_b", answer)
        answer = self.rpc(
            "manager_b",
            "clinic.sms.provider",
            "create",
            vals_list=[
                {
                    "name": "Curie gateway",
                    "company_id": False,
                    "sequence": 1,
                    "provider_type": "http",
                    "http_flavor": "json",
                    "api_url": "http://127.0.0.1:9/collect",
                }
            ],
        )
        self.assertRefused("manager_b", answer)
        provider_b = self.clinic[self.company_b]["provider"]
        answer = self.rpc(
            "manager_b",
            "clinic.sms.provider",
            "write",
            ids=provider_b.ids,
            vals={"company_id": False, "sequence": 1},
        )
        self.assertRefused("manager_b", answer)
        self.env.invalidate_all()
        self.assertEqual(
            sandbox.read(["provider_type", "api_url", "active", "sequence"]), before
        )
        self.assertEqual(provider_b.company_id, self.company_b)
        self.assertEqual(self.company_a._clinic_sms_get_provider(), sandbox)
        # B's own provider stays B's to configure
        answer = self.rpc(
            "manager_b",
            "clinic.sms.provider",
            "write",
            ids=provider_b.ids,
            vals={"batch_size": 50},
        )
        self.assertAllowed(answer)


@tagged("post_install", "-at_install")
class TestWalletBalance(RpcCase):
    def test_balance_is_never_written_directly(self):
        """Issue 16 (3), R-6.2: a manager cannot write the wallet's balance
        (424242) over RPC, nor create a wallet with one; only the ledger moves
        it, and a replenishment adds exactly one ledger line."""
        wallet = self.company_a.clinic_sms_wallet_id
        before = (wallet.balance, len(wallet.move_ids))
        for profile in ("sms_manager", "admin_all"):
            with self.subTest(profile):
                answer = self.rpc(
                    profile,
                    "clinic.sms.wallet",
                    "write",
                    ids=wallet.ids,
                    vals={"balance": 424242},
                )
                self.assertRefused(profile, answer)
                self.assertIn("ledger", answer[1]["message"])
        self.env.invalidate_all()
        self.assertEqual((wallet.balance, len(wallet.move_ids)), before)
        with self.assertRaises(Exception):  # noqa: B017 -- any refusal
            wallet.sudo().write({"balance": 424242})
        status, wizard_ids = self.rpc(
            "sms_manager",
            "clinic.sms.replenish.wizard",
            "create",
            vals_list=[{"wallet_id": wallet.id, "units": 500, "note": "Invoice 42"}],
        )
        self.assertEqual(status, 200, wizard_ids)
        self.assertAllowed(
            self.rpc(
                "sms_manager",
                "clinic.sms.replenish.wizard",
                "action_replenish",
                ids=wizard_ids,
            )
        )
        wallet.invalidate_recordset()
        self.assertEqual(wallet.balance, before[0] + 500)
        self.assertEqual(len(wallet.move_ids), before[1] + 1)
        self.assertEqual(wallet.move_ids.sorted("id")[-1].units, 500)


@tagged("post_install", "-at_install")
class TestRecipientsOfTheClinic(RpcCase):
    """Issue 16 (6): what a clinic sends to many reaches its own people only."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Partner = cls.env["res.partner"]
        fr = cls.env.ref("base.fr")
        cls.tag = cls.env["res.partner.category"].create({"name": "Diabetic"})

        def patient(name, phone, **values):
            return Partner.create(
                dict(
                    {
                        "name": name,
                        "phone": phone,
                        "country_id": fr.id,
                        "lang": "en_US",
                        "clinic_is_patient": True,
                        "clinic_consent_marketing": True,
                        "category_id": [(6, 0, cls.tag.ids)],
                    },
                    **values,
                )
            )

        cls.of_a = patient("Alice Martin", "06 11 11 11 11")
        cls.of_b = patient("Bruno Curie", "06 22 22 22 22")
        cls.of_both = patient("Chloé Roux", "06 33 33 33 33")
        cls.company_b_contact = patient(
            "Denis Blanc", "06 44 44 44 44", company_id=cls.company_b.id
        )
        cls.new_patient = patient("Emma Noir", "06 55 55 55 55")
        start = datetime.now().replace(microsecond=0) + timedelta(days=5)
        for company, partners in (
            (cls.company_a, cls.of_a | cls.of_both),
            (cls.company_b, cls.of_b | cls.of_both),
        ):
            for partner in partners:
                cls.env["calendar.event"].create(
                    {
                        "name": "Check-up",
                        "start": start,
                        "stop": start + timedelta(minutes=30),
                        "clinic_patient_id": partner.id,
                        "clinic_company_id": company.id,
                    }
                )
        cls.mass_template = cls.env["clinic.sms.template"].create(
            {
                "name": "Flu shots",
                "kind": "mass",
                "company_id": cls.company_a.id,
                "body": "Flu shots are available at {clinic_name}.",
            }
        )
        cls.people = (
            cls.of_a | cls.of_b | cls.of_both | cls.company_b_contact | cls.new_patient
        )

    def test_mass_mailing_reaches_the_clinics_patients_only(self):
        """Issue 16 (6), R-5.3 R-8.2: clinic A's receptionist sends a mass
        mailing to all patients: A's patients (and a new patient of no clinic
        yet) receive it, clinic B's patients do not."""
        status, wizard_ids = self.rpc(
            "sms_user",
            "clinic.sms.send.wizard",
            "create",
            vals_list=[
                {
                    "mode": "mass",
                    "purpose": "marketing",
                    "company_id": self.company_a.id,
                    "template_id": self.mass_template.id,
                }
            ],
        )
        self.assertEqual(status, 200, wizard_ids)
        for method in ("action_review", "action_send"):
            status, result = self.rpc(
                "sms_user", "clinic.sms.send.wizard", method, ids=wizard_ids
            )
            self.assertEqual(status, 200, result)
        mailing = self.env["clinic.sms.mailing"].browse(result["res_id"])
        self.assertEqual(
            mailing.message_ids.partner_id & self.people,
            self.of_a | self.of_both | self.new_patient,
        )

    def test_mass_mailing_is_never_essential(self):
        """Issue 16 (8), R-5.3 R-3.6: a mass mailing sent as 'essential' (which
        would skip the marketing consent and the opt-out) is refused by the
        server, whatever the form offered; nothing is queued."""
        status, wizard_ids = self.rpc(
            "sms_user",
            "clinic.sms.send.wizard",
            "create",
            vals_list=[
                {
                    "mode": "mass",
                    "purpose": "essential",
                    "company_id": self.company_a.id,
                    "template_id": self.mass_template.id,
                }
            ],
        )
        self.assertEqual(status, 200, wizard_ids)
        self.rpc("sms_user", "clinic.sms.send.wizard", "action_review", ids=wizard_ids)
        status, result = self.rpc(
            "sms_user", "clinic.sms.send.wizard", "action_send", ids=wizard_ids
        )
        self.assertEqual(status, 422, result)
        self.assertIn("essential", result["message"])
        self.assertFalse(
            self.env["clinic.sms.message"].search(
                [("partner_id", "in", self.people.ids)]
            )
        )

    def test_schedule_cannot_target_another_clinics_contact(self):
        """R-5.6 R-8.2: clinic A's receptionist cannot schedule a reminder to
        a contact of clinic B, nor with clinic B's template (the cron would
        send it, and A would read B's text in its history)."""
        template_b = self.clinic[self.company_b]["template"]
        for label, vals in (
            ("contact of B", {"partner_id": self.company_b_contact.id}),
            (
                "template of B",
                {"partner_id": self.of_a.id, "template_id": template_b.id},
            ),
        ):
            with self.subTest(label):
                status, result = self.rpc(
                    "sms_user",
                    "clinic.sms.schedule",
                    "create",
                    vals_list=[
                        dict(
                            vals,
                            company_id=self.company_a.id,
                            custom_text="Your test results are ready.",
                            date_time="2030-03-20 09:00:00",
                        )
                    ],
                )
                self.assertIn(status, (403, 422), result)
        self.assertFalse(
            self.env["clinic.sms.schedule"].search(
                [("company_id", "=", self.company_a.id)]
            )
        )

    def test_client_group_of_a_schedule_is_the_clinics(self):
        """Issue 16 (6), R-5.6 R-8.2: a scheduled reminder of clinic A to the
        'Diabetic' client group reaches A's clients with the tag, not clinic
        B's, also when the cron (a superuser) runs it."""
        status, schedule_ids = self.rpc(
            "sms_user",
            "clinic.sms.schedule",
            "create",
            vals_list=[
                {
                    "company_id": self.company_a.id,
                    "category_ids": [(6, 0, self.tag.ids)],
                    "custom_text": "Your annual diabetes check is due.",
                    "date_time": "2030-03-20 09:00:00",
                }
            ],
        )
        self.assertEqual(status, 200, schedule_ids)
        schedule = self.env["clinic.sms.schedule"].browse(schedule_ids)
        self.env["clinic.sms.schedule"]._cron_run_schedules(datetime(2030, 3, 20, 9, 0))
        self.assertEqual(
            schedule.message_ids.partner_id,
            self.of_a | self.of_both | self.new_patient,
        )


@tagged("post_install", "-at_install")
class TestOrdinaryEvents(RpcCase):
    def test_meeting_stays_visible_to_attendees_of_other_companies(self):
        """Issue 16 (7), R-8.2 R-1.1: a meeting (no patient) created by a user
        of clinic A, with an attendee who works in clinic B only, is found,
        read and accepted by that attendee as in standard Odoo; B's manager
        still does not see clinic A's appointments."""
        colleague = self.users["manager_b"]
        status, event_ids = self.rpc(
            "sms_manager",
            "calendar.event",
            "create",
            vals_list=[
                {
                    "name": "Quarterly staff meeting",
                    "start": "2030-04-02 08:00:00",
                    "stop": "2030-04-02 09:00:00",
                    "partner_ids": [(6, 0, colleague.partner_id.ids)],
                }
            ],
        )
        self.assertEqual(status, 200, event_ids)
        meeting = self.env["calendar.event"].browse(event_ids)
        self.assertFalse(meeting.clinic_patient_id)
        status, found = self.rpc(
            "manager_b",
            "calendar.event",
            "search_read",
            domain=[("name", "=", "Quarterly staff meeting")],
            fields=["name", "start"],
        )
        self.assertEqual(status, 200, found)
        self.assertEqual([row["id"] for row in found], meeting.ids)
        attendee = meeting.attendee_ids.filtered(
            lambda a: a.partner_id == colleague.partner_id
        )
        self.assertAllowed(
            self.rpc("manager_b", "calendar.attendee", "do_accept", ids=attendee.ids)
        )
        self.assertEqual(attendee.state, "accepted")
        appointment = self._appointment(self.company_a)
        self.assertRefused(
            "manager_b",
            self.rpc(
                "manager_b",
                "calendar.event",
                "read",
                ids=appointment.ids,
                fields=["name"],
            ),
        )


@tagged("post_install", "-at_install")
class TestMessagesAreReadOnly(RpcCase):
    def test_sms_user_cannot_write_a_message(self):
        """Issue 16 (8), R-8.2 R-7.8: an SMS user (or manager) cannot mark a
        message sent, rewrite its text or create one by hand over RPC; the
        addon's own paths still work for them: the Send SMS wizard queues,
        moving and cancelling an appointment cancels its queued messages, and
        Stop on a scheduled reminder cancels its queue."""
        self.env["clinic.sms.rule"].create(
            {
                "name": "24 hours before",
                "company_id": self.company_a.id,
                "template_id": self.clinic[self.company_a]["template"].id,
                "trigger": "before_start",
                "delay": 24,
                "delay_unit": "hours",
            }
        )
        event = self._appointment(self.company_a)
        message = self.env["clinic.sms.message"].search(
            [("appointment_id", "=", event.id), ("state", "=", "queued")]
        )
        self.assertTrue(message)
        before = message.read(["state", "body"])
        for profile in ("sms_user", "sms_manager"):
            for vals in ({"state": "sent"}, {"body": "Rewritten"}):
                with self.subTest(profile=profile, vals=vals):
                    self.assertRefused(
                        profile,
                        self.rpc(
                            profile,
                            "clinic.sms.message",
                            "write",
                            ids=message.ids,
                            vals=vals,
                        ),
                    )
        self.env.invalidate_all()
        self.assertEqual(message.read(["state", "body"]), before)
        # the receptionist moves the appointment a day later: the reminder
        # planned for the old time is cancelled, one for the new time queued
        new_start = event.start + timedelta(days=1)
        self.assertAllowed(
            self.rpc(
                "sms_user",
                "calendar.event",
                "write",
                ids=event.ids,
                vals={
                    "start": str(new_start),
                    "stop": str(new_start + timedelta(minutes=30)),
                },
            )
        )
        self.env.invalidate_all()
        self.assertEqual(message.state, "cancelled")
        moved = event.clinic_sms_message_ids.filtered(
            lambda m: m.kind == "reminder" and m.state == "queued"
        )
        self.assertEqual(len(moved), 1)
        # then cancels it: its queue is cancelled
        self.assertAllowed(
            self.rpc(
                "sms_user", "calendar.event", "action_clinic_cancel", ids=event.ids
            )
        )
        self.env.invalidate_all()
        self.assertEqual(moved.state, "cancelled")
