from datetime import datetime, timedelta

from odoo import fields

from .common import ClinicSmsCase, make_user, paris


class TestReports(ClinicSmsCase):
    """R-10.1 R-10.2 R-6.2: the statistics behind the dashboard's charts, read
    as a receptionist of the clinic."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.receptionist = make_user(
            cls.env,
            "report_receptionist",
            "clinic_sms_reminders.group_clinic_sms_user",
            cls.company,
        )
        cls.cleaning = cls.env["product.product"].create(
            {"name": "Détartrage", "type": "service"}
        )
        cls.whitening = cls.env["product.product"].create(
            {"name": "Blanchiment", "type": "service"}
        )
        cls.other_practitioner = cls.env["res.partner"].create(
            {"name": "Dr Paul Besson"}
        )

    def _report(self, model):
        return (
            self.env[model]
            .with_user(self.receptionist)
            .with_context(allowed_company_ids=self.company.ids)
        )

    def _message(self, **values):
        vals = {
            "kind": "reminder",
            "state": "delivered",
            "company_id": self.company.id,
            "partner_id": self.patient.id,
            "idempotency_key": f"report:{len(self._keys)}",
            "scheduled_at": paris(2026, 9, 10, 9, 0),
        }
        self._keys.append(vals["idempotency_key"])
        vals.update(values)
        return self.env["clinic.sms.message"].create(vals)

    def setUp(self):
        super().setUp()
        self._keys = []

    def test_attendance_rates_per_month_and_reminder(self):
        """Confirmation, cancellation and no-show rates per month, with and
        without a reminder, per practitioner and service."""
        september = [
            (paris(2026, 9, 7, 9, 0), "confirmed", True),
            (paris(2026, 9, 8, 9, 0), "cancelled", False),
            (paris(2026, 9, 9, 9, 0), "no_show", False),
            (paris(2026, 9, 10, 9, 0), "done", True),
        ]
        october = [
            (paris(2026, 10, 5, 14, 0), "no_show", False),
            (paris(2026, 10, 6, 14, 0), "done", True),
        ]
        for start, status, reminded in september + october:
            event = self._appointment(
                start=start,
                stop=start + timedelta(minutes=30),
                clinic_status=status,
                clinic_service_ids=[(6, 0, self.cleaning.ids)],
            )
            if reminded:
                self._message(
                    appointment_id=event.id, sent_at=start - timedelta(days=1)
                )
        # another clinic's appointment is not counted
        self._appointment(
            start=paris(2026, 9, 7, 11, 0),
            stop=paris(2026, 9, 7, 11, 30),
            clinic_status="no_show",
            clinic_company_id=self.env.ref("base.main_company").id,
        )
        Report = self._report("clinic.sms.report.attendance")
        months = {
            month: (count, confirmed, cancelled, no_show)
            for month, count, confirmed, cancelled, no_show in Report._read_group(
                [],
                ["start:month"],
                [
                    "appointment_count:sum",
                    "confirmed_rate:avg",
                    "cancelled_rate:avg",
                    "no_show_rate:avg",
                ],
            )
        }
        self.assertEqual(
            months,
            {
                datetime(2026, 9, 1): (4, 25.0, 25.0, 25.0),
                datetime(2026, 10, 1): (2, 0.0, 0.0, 50.0),
            },
        )
        reminded = dict(Report._read_group([], ["got_reminder"], ["no_show_rate:avg"]))
        self.assertEqual(reminded[True], 0.0)
        self.assertAlmostEqual(reminded[False], 200 / 3, places=2)

    def test_attendance_per_practitioner_and_service(self):
        start = paris(2026, 9, 14, 9, 0)
        self._appointment(
            start=start,
            stop=start + timedelta(minutes=30),
            clinic_status="no_show",
            clinic_service_ids=[(6, 0, (self.cleaning | self.whitening).ids)],
        )
        self._appointment(
            start=start + timedelta(hours=1),
            stop=start + timedelta(hours=2),
            clinic_status="done",
            clinic_practitioner_id=self.other_practitioner.id,
            clinic_service_ids=[(6, 0, self.whitening.ids)],
        )
        Report = self._report("clinic.sms.report.attendance")
        per_practitioner = dict(
            Report._read_group([], ["practitioner_id"], ["no_show_rate:avg"])
        )
        self.assertEqual(per_practitioner[self.practitioner], 100.0)
        self.assertEqual(per_practitioner[self.other_practitioner], 0.0)
        per_service = dict(Report._read_group([], ["service_id"], ["no_show_rate:avg"]))
        self.assertEqual(per_service, {self.cleaning: 100.0, self.whitening: 50.0})
        # each appointment once, whatever its number of services
        self.assertEqual(
            Report._read_group([], [], ["event_id:count_distinct"]), [(2,)]
        )

    def test_messages_per_day_kind_and_provider(self):
        """Messages per day and kind; delivery and failure rates per provider
        over the messages handed to it (planned and skipped ones aside)."""
        other = self.env["clinic.sms.provider"].create(
            {"name": "Backup sandbox", "company_id": self.company.id}
        )
        day1, day2 = paris(2026, 9, 10, 9, 0), paris(2026, 9, 11, 9, 0)
        for state in ("delivered", "delivered", "delivered", "failed"):
            self._message(
                state=state, provider_id=self.provider.id, sent_at=day1, units=1
            )
        for state in ("delivered", "failed"):
            self._message(
                state=state, provider_id=other.id, sent_at=day2, units=2, kind="recall"
            )
        self._message(state="skipped", provider_id=self.provider.id, scheduled_at=day2)
        self._message(state="queued", scheduled_at=day2, kind="birthday")
        self._message(
            state="failed",
            provider_id=self.provider.id,
            sent_at=day1,
            company_id=self.env.ref("base.main_company").id,
        )
        Report = self._report("clinic.sms.report.message")
        domain = [("date", ">=", day1 - timedelta(hours=12))]
        rates = {
            provider: (count, delivered, failed)
            for provider, count, delivered, failed in Report._read_group(
                domain + [("provider_id", "!=", False)],
                ["provider_id"],
                ["message_count:sum", "delivered_rate:avg", "failure_rate:avg"],
            )
        }
        self.assertEqual(rates[self.provider], (5, 75.0, 25.0))
        self.assertEqual(rates[other], (2, 50.0, 50.0))
        per_day = {
            (day.date(), kind): (count, units)
            for day, kind, count, units in Report._read_group(
                domain, ["date:day", "kind"], ["message_count:sum", "units:sum"]
            )
        }
        self.assertEqual(
            per_day,
            {
                (day1.date(), "reminder"): (4, 4),
                (day2.date(), "reminder"): (1, 0),
                (day2.date(), "recall"): (2, 4),
                (day2.date(), "birthday"): (1, 0),
            },
        )

    def test_recall_conversion(self):
        """A recalled patient converts when they book within 30 days."""
        now = fields.Datetime.now()
        fr = self.env.ref("base.fr")
        booked, silent, late = self.env["res.partner"].create(
            [
                {"name": name, "phone": number, "country_id": fr.id}
                for name, number in (
                    ("Hélène Faure", "06 31 41 51 61"),
                    ("Igor Chevalier", "06 32 42 52 62"),
                    ("Julie Perrin", "06 33 43 53 63"),
                )
            ]
        )
        for partner, days_ago in ((booked, 10), (silent, 10), (late, 40)):
            self._message(
                kind="recall",
                partner_id=partner.id,
                sent_at=now - timedelta(days=days_ago),
                scheduled_at=now - timedelta(days=days_ago),
            )
        # a recall that was skipped is not a recall sent
        self._message(kind="recall", state="skipped", partner_id=silent.id)
        for partner in (booked, late):
            self._appointment(
                clinic_patient_id=partner.id, partner_ids=[(6, 0, partner.ids)]
            )
        Report = self._report("clinic.sms.report.recall")
        rows = Report.search([])
        self.assertEqual(
            {row.partner_id: row.booked for row in rows},
            {booked: True, silent: False, late: False},
        )
        self.assertEqual(
            Report._read_group(
                [], [], ["recall_count:sum", "booked_count:sum", "conversion_rate:avg"]
            ),
            [(3, 1, 100 / 3)],
        )

    def test_spend_is_positive(self):
        """R-6.2: debits are spent units, refunds give some back, top-ups are no
        spend; per kind the spend reads positive."""
        Move = self.env["clinic.sms.wallet.move"].sudo()
        for move_type, units, kind in (
            ("debit", -5, "reminder"),
            ("debit", -3, "recall"),
            ("refund", 1, "reminder"),
            ("topup", 200, False),
        ):
            Move.create(
                {
                    "wallet_id": self.wallet.id,
                    "move_type": move_type,
                    "units": units,
                    "message_kind": kind,
                }
            )
        spend = dict(
            self.env["clinic.sms.wallet.move"]
            .with_user(self.receptionist)
            .with_context(allowed_company_ids=self.company.ids)
            ._read_group(
                [("move_type", "in", ("debit", "refund"))],
                ["message_kind"],
                ["units_spent:sum"],
            )
        )
        self.assertEqual(spend, {"reminder": 4, "recall": 3})
        view = self.env.ref("clinic_sms_reminders.clinic_sms_wallet_move_view_graph")
        self.assertIn('name="units_spent" type="measure"', view.arch_db)
        pie = self.env.ref("clinic_sms_reminders.clinic_sms_wallet_move_view_graph_pie")
        self.assertIn('type="pie"', pie.arch_db)
        self.assertIn('name="units_spent" type="measure"', pie.arch_db)
