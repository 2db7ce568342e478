from datetime import timedelta

from .common import ClinicSmsCase, frozen


class TestNotifications(ClinicSmsCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.notifications = (
            cls.env["clinic.sms.notification"]
            .with_context(active_test=False)
            .search([("company_id", "=", cls.company.id)])
        )
        cls.notifications.active = True
        cls.rule.active = False

    def _kind(self, kind, event=None):
        return self._messages(event).filtered(lambda m: m.kind == kind)

    def test_settings_per_clinic(self):
        """R-1.2: each notification kind exists per clinic with an on/off switch
        and a template (the default template of the kind when none is set)."""
        kinds = set(self.notifications.mapped("kind"))
        self.assertEqual(
            kinds, {"confirmation", "reschedule", "cancellation", "no_show", "done"}
        )
        other = self.env["res.company"].create({"name": "New clinic"})
        settings = (
            self.env["clinic.sms.notification"]
            .with_context(active_test=False)
            .search([("company_id", "=", other.id)])
        )
        self.assertEqual(len(settings), 5)
        self.assertFalse(
            any(settings.mapped("active")), "disabled until a manager enables"
        )
        confirmation = settings.filtered(lambda s: s.kind == "confirmation")
        self.assertEqual(confirmation._template().kind, "confirmation")

    def test_confirmation_on_creation(self):
        """R-1.2: a confirmation on creation, through any creation path."""
        event = self._appointment()
        message = self._kind("confirmation", event)
        self.assertEqual(len(message), 1)
        self.assertEqual(message.state, "queued")
        self._dispatch(message.scheduled_at)
        self.assertEqual(message.state, "delivered")
        self.assertIn("is booked", message.body)
        imported = (
            self.env["calendar.event"]
            .with_context(import_file=True)
            .create(
                {
                    "name": "Imported",
                    "start": self.start + timedelta(days=1),
                    "stop": self.start + timedelta(days=1, minutes=30),
                    "clinic_patient_id": self.patient.copy().id,
                    "clinic_company_id": self.company.id,
                }
            )
        )
        self.assertEqual(len(self._kind("confirmation", imported)), 1)

    def test_disabled_kind_sends_nothing(self):
        """R-1.2: a disabled notification sends nothing."""
        self.notifications.filtered(lambda n: n.kind == "confirmation").active = False
        self.assertFalse(self._kind("confirmation", self._appointment()))

    def test_restore_from_archive_is_a_creation(self):
        """R-1.3: restoring an archived appointment sends a confirmation."""
        event = self._appointment()
        event.active = False
        event.active = True
        self.assertEqual(len(self._kind("confirmation", event)), 2)

    def test_back_to_back_created_together_one_confirmation(self):
        """R-1.4: several appointments of one patient created together back to
        back: ONE confirmation citing the first start time."""
        base = {
            "name": "Care",
            "clinic_patient_id": self.patient.id,
            "clinic_company_id": self.company.id,
        }
        later, first = self.env["calendar.event"].create(
            [
                base
                | {
                    "start": self.start + timedelta(minutes=30),
                    "stop": self.start + timedelta(hours=1),
                },
                base
                | {"start": self.start, "stop": self.start + timedelta(minutes=30)},
            ]
        )
        confirmations = self._kind("confirmation")
        self.assertEqual(len(confirmations), 1)
        self.assertEqual(confirmations.appointment_id, first)
        self._dispatch(confirmations.scheduled_at)
        self.assertIn("10:00", confirmations.body)
        self.assertFalse(self._kind("confirmation", later))

    def test_change_of_time_sends_new_confirmation(self):
        """R-1.2 R-2.4: a change of time sends a new confirmation, once per time."""
        event = self._appointment()
        # the booking's confirmation has left (after its undo window, R-9.4)
        confirmation = self._kind("confirmation", event)
        self._dispatch(confirmation.scheduled_at)
        event.write(
            {
                "start": self.start + timedelta(hours=1),
                "stop": self.start + timedelta(hours=2),
            }
        )
        event.write({"name": "Renamed"})
        self.assertEqual(len(self._kind("reschedule", event)), 1)
        event.write(
            {
                "start": self.start + timedelta(hours=3),
                "stop": self.start + timedelta(hours=4),
            }
        )
        self.assertEqual(len(self._kind("reschedule", event)), 2)

    def test_cancellation(self):
        """R-1.2: cancelling sends the cancellation message once; a cancellation
        not sent yet is withdrawn when the appointment is reinstated."""
        event = self._appointment()
        # the booking's confirmation has left (after its undo window, R-9.4)
        confirmation = self._kind("confirmation", event)
        self._dispatch(confirmation.scheduled_at)
        event.action_clinic_cancel()
        first = self._kind("cancellation", event)
        event.action_clinic_reset()
        self.assertEqual(
            (first.state, first.reason), ("cancelled", "appointment_status")
        )
        event.action_clinic_cancel()
        live = self._kind("cancellation", event) - first
        self.assertEqual(live.state, "queued")
        self._dispatch(live.scheduled_at)
        self.assertEqual(live.state, "delivered")
        event.action_clinic_reset()
        event.action_clinic_cancel()
        self.assertEqual(self._kind("cancellation", event), first | live)

    def test_no_show_time_limits(self):
        """R-1.5: no-show SMS only when marked no earlier than 15 minutes before
        the start, and for past appointments at most 24 hours after it."""
        cases = [
            (timedelta(hours=-1), False),  # marked an hour before the start
            (timedelta(minutes=-10), True),
            (timedelta(hours=2), True),
            (timedelta(hours=23), True),
            (timedelta(hours=25), False),
        ]
        for offset, expected in cases:
            event = self._appointment(clinic_patient_id=self.patient.copy().id)
            with frozen(event.start + offset):
                event.action_clinic_no_show()
            self.assertEqual(bool(self._kind("no_show", event)), expected, offset)

    def test_done_and_no_show_only_on_explicit_change(self):
        """R-1.6: done and no-show messages only on an explicit status change."""
        created_done = self._appointment(clinic_status="done")
        self.assertFalse(self._kind("done", created_done))
        imported = self._appointment(clinic_patient_id=self.patient.copy().id)
        imported.with_context(import_file=True).write({"clinic_status": "done"})
        self.assertFalse(self._kind("done", imported))
        event = self._appointment(clinic_patient_id=self.patient.copy().id)
        event.action_clinic_done()
        self.assertEqual(len(self._kind("done", event)), 1)
