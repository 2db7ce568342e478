from datetime import timedelta

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

    def test_dispatch_queries_bounded(self):
        """R-7.1: dispatching a batch costs a bounded number of queries."""
        self._create_unplanned(10)
        self.rule._plan_reminders()
        small, _ = self._count_queries(
            lambda: self._dispatch(self.start - timedelta(hours=1))
        )
        self._create_unplanned(60)
        self.rule._plan_reminders()
        large, sent = self._count_queries(
            lambda: self._dispatch(self.start - timedelta(hours=1))
        )
        self.assertEqual(sent, 60)
        # a few queries per batch, not per message
        self.assertLess(large - small, 30, f"{small} queries for 10, {large} for 60")
