from datetime import datetime, timedelta, timezone
from unittest.mock import patch

from odoo.addons.clinic_sms_reminders.models import clinic_sms_rule

from .common import ClinicSmsCase


class TestPlanningQueries(ClinicSmsCase):
    def _create_unplanned(self, count):
        self.rule.active = False
        patients = self.env["res.partner"].create(
            [
                {
                    "name": f"P{i}",
                    "phone": f"06 12 34 {i // 100:02d} {i % 100:02d}",
                    "country_id": self.env.ref("base.fr").id,
                }
                for i in range(count)
            ]
        )
        events = self.env["calendar.event"].create(
            [
                {
                    "name": "Check-up",
                    "start": self.start + timedelta(minutes=i),
                    "stop": self.start + timedelta(minutes=i + 30),
                    "clinic_patient_id": patient.id,
                    "clinic_company_id": self.company.id,
                }
                for i, patient in enumerate(patients)
            ]
        )
        self.rule.active = True
        self.env.flush_all()
        return events

    def _count_queries(self, function):
        before = self.cr.sql_log_count
        result = function()
        return self.cr.sql_log_count - before, result

    def test_planning_is_set_based(self):
        """R-7.1: one planner run plans all due reminders with a bounded number of
        queries whatever the number of appointments."""
        self.rule._plan_reminders()  # warm the caches
        self._create_unplanned(5)
        small, planned_small = self._count_queries(lambda: self.rule._plan_reminders())
        self.assertEqual(planned_small, 5)
        self._create_unplanned(60)
        large, planned_large = self._count_queries(lambda: self.rule._plan_reminders())
        self.assertEqual(planned_large, 60)
        self.assertEqual(small, large)
        self.assertLessEqual(large, 6)

    def test_planning_in_steps_of_patients(self):
        """R-7.1 R-2.5: the planner works through the patients in steps of
        bounded size (flat memory); every patient is planned once and a
        patient's close appointments are still grouped into one reminder."""
        self.rule._plan_reminders()
        events = self._create_unplanned(5)
        self.rule.active = False
        later = self.env["calendar.event"].create(
            [
                {
                    "name": "Follow-up",
                    "start": event.start + timedelta(minutes=45),
                    "stop": event.start + timedelta(minutes=75),
                    "clinic_patient_id": event.clinic_patient_id.id,
                    "clinic_company_id": self.company.id,
                }
                for event in events[0] | events[3]
            ]
        )
        self.rule.active = True
        steps = []
        candidates = type(self.rule)._plan_candidates

        def spy(rule, *args):
            rows = candidates(rule, *args)
            steps.append({row[4] for row in rows})
            return rows

        with (
            patch.object(clinic_sms_rule, "PLANNING_CHUNK", 2),
            patch.object(type(self.rule), "_plan_candidates", spy),
        ):
            planned = self.rule._plan_reminders()
        self.assertEqual(planned, 5)
        self.assertEqual([len(patients) for patients in steps], [2, 2, 1])
        self.assertEqual(set().union(*steps), set(events.clinic_patient_id.ids))
        messages = self._messages().filtered(lambda m: m.rule_id == self.rule)
        self.assertEqual(messages.appointment_id & (events | later), events)
        self.assertEqual(
            len(messages.filtered(lambda m: m.appointment_id in events)), 5
        )

    def test_dispatch_queries_bounded(self):
        """R-7.1: dispatching a batch costs the same number of queries for 5 or
        60 messages: outcomes are written set-wise and the case notes in one
        INSERT, never per message."""
        self.wallet.sudo()._add_units(1000)  # no low-balance alert midway
        self._create_unplanned(3)
        self.rule._plan_reminders()
        self._dispatch(self.start - timedelta(hours=1))  # warm the caches
        counts = {}
        for size in (5, 60):
            self._create_unplanned(size)
            self.rule._plan_reminders()
            counts[size], sent = self._count_queries(
                lambda: self._dispatch(self.start - timedelta(hours=1))
            )
            self.assertEqual(sent, size)
            # the count is of a real send (claim, checks, texts, debit, the
            # 'sending' stamp, results, case notes, ledger), not of a hold
            messages = self.env["clinic.sms.message"].search(
                [("rule_id", "=", self.rule.id)], order="id desc", limit=size
            )
            self.assertEqual(set(messages.mapped("state")), {"delivered"})
        self.assertEqual(counts[60], counts[5])
        self.assertLessEqual(counts[60], 21, counts)

    def test_insert_queued_keeps_every_value(self):
        """R-7.3: the planner's set-wise insert writes each value as given:
        quotes, backslashes, braces, commas, a text reading NULL, line
        breaks and accents; False and None as empty; an aware datetime in
        UTC; the values shared by all rows (``common``) on every row; and a
        live idempotency key is still not inserted twice."""
        Message = self.env["clinic.sms.message"]
        bodies = [
            'Say "hi"',
            "C:\\path\\ {a,b}",
            "NULL",
            "",
            "two\nlines, é ü €",
            False,
        ]
        aware = datetime(2026, 3, 10, 12, 0, tzinfo=timezone(timedelta(hours=1)))
        rows = [
            {
                "idempotency_key": f"literal:{index}",
                "body": body,
                "phone": "+33612345678" if index else None,
                "partner_id": self.patient.id if index % 2 else False,
                "scheduled_at": aware if index == 0 else datetime(2026, 3, 10, 9, 30),
            }
            for index, body in enumerate(bodies)
        ]
        common = {
            "kind": "private",
            "purpose": "essential",
            "company_id": self.company.id,
        }
        self.assertEqual(Message._insert_queued(rows, common=common), len(rows))
        messages = Message.search(
            [("idempotency_key", "like", "literal:")], order="idempotency_key"
        )
        self.assertEqual(messages.mapped("body"), bodies)
        self.assertEqual(messages[0].scheduled_at, datetime(2026, 3, 10, 11, 0))
        self.assertEqual(messages[1].scheduled_at, datetime(2026, 3, 10, 9, 30))
        self.assertFalse(messages[0].phone)
        self.assertEqual(messages[1].phone, "+33612345678")
        self.assertEqual(messages.mapped("partner_id"), self.patient)
        self.assertFalse(messages[0].partner_id)
        self.assertEqual(set(messages.mapped("kind")), {"private"})
        self.assertEqual(set(messages.mapped("company_id")), {self.company})
        # defaults of the columns no row names
        self.assertEqual(set(messages.mapped("state")), {"queued"})
        self.assertEqual(set(messages.mapped("channel")), {"sms"})
        self.assertEqual(len(set(messages.mapped("reference"))), len(rows))
        self.assertEqual(Message._insert_queued(rows[:2], common=common), 0)

    def test_write_rows_keeps_every_value(self):
        """R-7.3: the dispatcher's set-wise writes (one array literal per
        column) store each value as given, and the cache holds what the
        database holds; a row no longer in the expected state is left alone
        and read again from the database."""
        Message = self.env["clinic.sms.message"]
        bodies = ['Say "hi"', "C:\\path\\ {a,b}", "NULL", "", "two\nlines, é €"]
        rows = [
            {"idempotency_key": f"rows:{index}", "body": False}
            for index in range(len(bodies) + 1)
        ]
        common = {"kind": "private", "purpose": "essential"}
        common.update(company_id=self.company.id, scheduled_at=datetime(2026, 3, 9))
        Message._insert_queued(rows, common=common)
        messages = Message.search(
            [("idempotency_key", "like", "rows:")], order="idempotency_key"
        )
        stale = messages[-1]
        stale._set_state("cancelled")
        when = datetime(2026, 3, 10, 9, 30)
        changes = {
            message.id: {"body": body, "units": index, "sending_since": when}
            for index, (message, body) in enumerate(
                zip(messages[:-1], bodies, strict=True)
            )
        }
        changes[stale.id] = {"body": "never", "units": 9, "sending_since": when}
        written = messages._write_rows(changes, from_states=("queued",))
        self.assertEqual(written, set(messages[:-1].ids))
        self.assertEqual(messages.mapped("body"), [*bodies, False])  # cache
        self.env.invalidate_all()
        self.assertEqual(messages.mapped("body"), [*bodies, False])  # database
        self.assertEqual(messages.mapped("units"), [0, 1, 2, 3, 4, 0])
        self.assertEqual(messages[0].sending_since, when)
        self.assertFalse(stale.sending_since)
