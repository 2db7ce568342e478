from datetime import timedelta

from .common import ClinicSmsCase, paris


class TestAppointmentLifecycle(ClinicSmsCase):
    def test_event_without_patient_is_standard(self):
        """R-1.1: events without a patient are not clinic appointments."""
        event = self._appointment(clinic_patient_id=False)
        self.assertFalse(event.is_clinic_appointment)
        self.assertFalse(self._messages(event))
        appointment = self._appointment()
        self.assertTrue(appointment.is_clinic_appointment)
        self.assertEqual(appointment.clinic_status, "scheduled")
        self.assertTrue(self.patient.clinic_is_patient)
        self.assertIn(
            appointment,
            self.env["calendar.event"].search([("is_clinic_appointment", "=", True)]),
        )

    def test_status_buttons(self):
        """R-1.1: clinic statuses are set by the status buttons."""
        event = self._appointment()
        for action, status in (
            ("action_clinic_confirm", "confirmed"),
            ("action_clinic_out_of_reach", "out_of_reach"),
            ("action_clinic_done", "done"),
            ("action_clinic_no_show", "no_show"),
            ("action_clinic_reset", "scheduled"),
            ("action_clinic_cancel", "cancelled"),
        ):
            getattr(event, action)()
            self.assertEqual(event.clinic_status, status)

    def test_reschedule_replans(self):
        """R-2.4: a moved appointment's queued reminder is cancelled and planned
        again for the new time; the key stays unique among live messages."""
        event = self._appointment()
        old = self._messages(event)
        event.write(
            {
                "start": self.start + timedelta(hours=2),
                "stop": self.start + timedelta(hours=3),
            }
        )
        self.assertEqual(old.state, "cancelled")
        self.assertEqual(old.reason, "appointment_moved")
        new = self._messages(event) - old
        self.assertEqual(len(new), 1)
        self.assertEqual(new.state, "queued")
        self.assertEqual(
            new.scheduled_at, self.start + timedelta(hours=2) - timedelta(hours=24)
        )
        self.assertEqual(new.idempotency_key, old.idempotency_key)

    def test_sent_reminder_not_repeated_after_reschedule(self):
        """R-2.4: a reminder already sent for the old time is not repeated unless
        the rule says so."""
        event = self._appointment()
        message = self._messages(event)
        self._dispatch(message.scheduled_at)
        self.assertEqual(message.state, "delivered")
        event.write({"start": self.start + timedelta(hours=1)})
        self.assertEqual(self._messages(event), message)
        self.rule.resend_on_reschedule = True
        event.write({"start": self.start + timedelta(hours=2)})
        self.assertEqual(
            len(self._messages(event).filtered(lambda m: m.state == "queued")), 1
        )

    def test_cancelled_archived_deleted(self):
        """R-2.4: nothing is sent for a cancelled, archived or deleted appointment."""
        cancelled, archived, deleted = (
            self._appointment(clinic_patient_id=self.patient.copy().id)
            for _ in range(3)
        )
        msg_cancelled = self._messages(cancelled)
        msg_archived = self._messages(archived)
        msg_deleted = self._messages(deleted)
        cancelled.action_clinic_cancel()
        archived.active = False
        deleted.unlink()
        self.assertEqual(len(msg_cancelled | msg_archived | msg_deleted), 3)
        for message in msg_cancelled | msg_archived | msg_deleted:
            self.assertEqual(message.state, "cancelled")
            self.assertEqual(message.reason, "appointment_cancelled")
        self._dispatch(self.start)
        self.assertEqual(self.wallet.balance, 100)

    def test_status_filter_of_rule(self):
        """R-2.2: a rule only applies to the statuses it lists."""
        self.rule.apply_confirmed = False
        event = self._appointment()
        message = self._messages(event)
        event.action_clinic_confirm()
        self.assertEqual(message.state, "cancelled")
        self.assertEqual(message.reason, "appointment_status")
        confirmed = self._appointment(clinic_status="confirmed")
        self.assertFalse(self._messages(confirmed))

    def test_service_and_practitioner_filters(self):
        """R-2.2: a rule limited to services or practitioners."""
        service = self.env["product.product"].create(
            {"name": "Whitening", "type": "service"}
        )
        self.rule.service_ids = service
        self.assertFalse(self._messages(self._appointment()))
        self.assertTrue(
            self._messages(self._appointment(clinic_service_ids=service.ids))
        )
        self.rule.service_ids = False
        other = self.env["res.partner"].create({"name": "Dr Other"})
        self.rule.practitioner_ids = other
        self.assertFalse(self._messages(self._appointment()))
        self.assertTrue(
            self._messages(self._appointment(clinic_practitioner_id=other.id))
        )

    def test_moved_after_planning_is_not_sent(self):
        """R-2.4: the dispatcher re-checks the start time it planned for."""
        event = self._appointment()
        message = self._messages(event)
        # bypass the write hook, as a direct SQL update or an import would
        self.env.cr.execute(
            "UPDATE calendar_event SET start = start + interval '1 hour' WHERE id = %s",
            [event.id],
        )
        event.invalidate_recordset(["start"])
        self._dispatch(message.scheduled_at)
        self.assertEqual(message.state, "cancelled")
        self.assertEqual(message.reason, "appointment_moved")

    def test_no_allowed_minute_is_skipped_with_reason(self):
        """R-2.3: a reminder with no allowed minute before the start is skipped
        and logged with that reason."""
        self.rule.write({"delay": 2, "delay_unit": "hours"})
        start = self.start.replace(hour=6)  # 07:00 or 08:00 in Paris
        event = self._appointment(start=start, stop=start + timedelta(minutes=30))
        # now: the evening before, after the window closed
        now = start - timedelta(hours=12)
        self._messages(event).unlink()
        self.rule._plan_reminders(now=now)
        message = self._messages(event)
        self.assertEqual(message.state, "skipped")
        self.assertEqual(message.reason, "no_allowed_minute")

    def test_quiet_hours_move_earlier(self):
        """R-2.3: a send time outside the window moves to the last allowed minute
        before it (the evening before for an early-morning time)."""
        day = (self.start + timedelta(days=1)).date()
        start = paris(day.year, day.month, day.day, 7, 30)
        event = self._appointment(start=start, stop=start + timedelta(minutes=30))
        message = self._messages(event)
        self.assertEqual(message.state, "queued")
        evening_before = day - timedelta(days=2)
        self.assertEqual(
            message.scheduled_at,
            paris(
                evening_before.year, evening_before.month, evening_before.day, 18, 59
            ),
        )
