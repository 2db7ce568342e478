from datetime import timedelta

from odoo import fields

from .common import ClinicSmsCase, make_user

WINDOW = timedelta(minutes=3)


class TestUndoWindow(ClinicSmsCase):
    """R-9.4: confirmation, change and cancellation messages wait the clinic's
    undo window (3 minutes by default); a change undone or corrected within
    it sends nothing, or only the last word. Appointments are booked and
    changed by the reception."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["clinic.sms.notification"].with_context(active_test=False).search(
            [("company_id", "=", cls.company.id)]
        ).active = True
        cls.rule.active = False

    def _kind(self, kind, event):
        return self._messages(event).filtered(lambda m: m.kind == kind)

    def _as_reception(self, event):
        return event.with_user(self.receptionist)

    def _move(self, event, hours):
        self._as_reception(event).write(
            {
                "start": self.start + timedelta(hours=hours),
                "stop": self.start + timedelta(hours=hours, minutes=30),
            }
        )

    def _book_and_confirm(self):
        """An appointment whose confirmation has left after its window."""
        event = self._appointment()
        confirmation = self._kind("confirmation", event)
        self._dispatch(confirmation.scheduled_at)
        self.assertEqual(confirmation.state, "delivered")
        return event, confirmation

    def test_confirmation_waits_the_window(self):
        self.assertEqual(self.company.clinic_sms_undo_minutes, 3)
        before = fields.Datetime.now()
        event = self._appointment()
        after = fields.Datetime.now()
        confirmation = self._kind("confirmation", event)
        self.assertEqual(confirmation.state, "queued")
        self.assertTrue(
            before + WINDOW <= confirmation.scheduled_at <= after + WINDOW,
            confirmation.scheduled_at,
        )
        self._dispatch(confirmation.scheduled_at - timedelta(minutes=1))
        self.assertEqual(confirmation.state, "queued")
        self._dispatch(confirmation.scheduled_at)
        self.assertEqual(confirmation.state, "delivered")

    def test_cancelled_within_window_sends_nothing(self):
        event = self._appointment()
        confirmation = self._kind("confirmation", event)
        self._as_reception(event).action_clinic_cancel()
        self.assertEqual(
            (confirmation.state, confirmation.reason),
            ("cancelled", "appointment_cancelled"),
        )
        self.assertFalse(self._kind("cancellation", event))
        self._dispatch(confirmation.scheduled_at + WINDOW)
        self.assertFalse(
            self._messages(event).filtered(lambda m: m.state in ("sent", "delivered"))
        )

    def test_moved_within_window_confirms_the_new_time(self):
        event = self._appointment()
        confirmation = self._kind("confirmation", event)
        self._move(event, 2)
        self.assertFalse(self._kind("reschedule", event))
        self.assertEqual(confirmation.state, "queued")
        self._dispatch(confirmation.scheduled_at)
        self.assertEqual(confirmation.state, "delivered")
        new_time = (
            self.env["clinic.sms.template"]
            .with_context(lang="en_US")
            ._placeholder_values(self.patient, event, self.company)["time"]
        )
        self.assertEqual(new_time, "12:00")
        self.assertIn(new_time, confirmation.body)

    def test_second_move_replaces_the_first(self):
        event, _confirmation = self._book_and_confirm()
        self._move(event, 2)
        first = self._kind("reschedule", event)
        self.assertEqual(first.state, "queued")
        self._move(event, 4)
        self.assertEqual(
            (first.state, first.reason), ("cancelled", "appointment_moved")
        )
        second = self._kind("reschedule", event) - first
        self.assertEqual(second.state, "queued")
        self.assertEqual(second.appointment_start, self.start + timedelta(hours=4))

    def test_moved_back_within_window_sends_nothing(self):
        event, _confirmation = self._book_and_confirm()
        self._move(event, 2)
        change = self._kind("reschedule", event)
        self._move(event, 0)  # back to the time the patient was told
        self.assertEqual(
            (change.state, change.reason), ("cancelled", "appointment_moved")
        )
        self.assertEqual(self._kind("reschedule", event), change)

    def test_cancelled_after_confirmation_left(self):
        event, _confirmation = self._book_and_confirm()
        self._move(event, 2)
        change = self._kind("reschedule", event)
        self._as_reception(event).action_clinic_cancel()
        self.assertEqual(change.state, "cancelled")
        cancellation = self._kind("cancellation", event)
        self.assertEqual(cancellation.state, "queued")
        # undone within the window: the cancellation is withdrawn
        self._as_reception(event).action_clinic_reset()
        self.assertEqual(
            (cancellation.state, cancellation.reason),
            ("cancelled", "appointment_status"),
        )

    def test_no_window(self):
        self.company.clinic_sms_undo_minutes = 0
        before = fields.Datetime.now()
        event = self._appointment()
        confirmation = self._kind("confirmation", event)
        self.assertLessEqual(confirmation.scheduled_at, fields.Datetime.now())
        self.assertGreaterEqual(confirmation.scheduled_at, before)
        self._as_reception(event).action_clinic_cancel()
        # the confirmation may have left: the cancellation follows
        self.assertEqual(self._kind("cancellation", event).state, "queued")

    def test_settings(self):
        """The clinic's administrator sets the undo window and the personal
        link's cut-off in the settings."""
        admin = make_user(
            self.env,
            "undo.admin@example.com",
            "base.group_user,base.group_system,"
            "clinic_sms_reminders.group_clinic_sms_manager",
            self.company,
        )
        self.assertEqual(self.company.clinic_sms_link_cutoff_hours, 24)
        settings = (
            self.env["res.config.settings"]
            .with_user(admin)
            .create({"clinic_sms_undo_minutes": 5, "clinic_sms_link_cutoff_hours": 12})
        )
        settings.execute()
        self.assertEqual(
            (
                self.company.clinic_sms_undo_minutes,
                self.company.clinic_sms_link_cutoff_hours,
            ),
            (5, 12),
        )
        before = fields.Datetime.now()
        event = self._appointment()
        confirmation = self._kind("confirmation", event)
        self.assertGreaterEqual(
            confirmation.scheduled_at, before + timedelta(minutes=5)
        )
