from datetime import timedelta

from .common import ClinicSmsCase


class TestReminderGrouping(ClinicSmsCase):
    def _at(self, hours, minutes=30):
        start = self.start + timedelta(hours=hours)
        return {"start": start, "stop": start + timedelta(minutes=minutes)}

    def _live(self):
        return self._messages().filtered(
            lambda m: m.state not in ("cancelled", "skipped")
        )

    def test_close_appointments_get_one_reminder(self):
        """R-2.5: appointments of one patient less than 2 h apart get ONE reminder
        citing the first start; a later one gets its own."""
        first = self._appointment(**self._at(0))
        second = self._appointment(**self._at(1))  # 30 min after the first ends
        third = self._appointment(**self._at(5))
        live = self._live()
        self.assertEqual(live.appointment_id, first | third)
        message = live.filtered(lambda m: m.appointment_id == first)
        self._dispatch(message.scheduled_at)
        self.assertIn("10:00", message.body)
        self.assertFalse(self._messages(second))

    def test_earlier_appointment_added_later_takes_the_reminder(self):
        """R-2.5: a new earlier appointment of the same patient regroups: the
        queued reminder moves to the new first appointment."""
        later = self._appointment(**self._at(2))
        old = self._messages(later)
        earlier = self._appointment(**self._at(0, minutes=60))
        self.assertEqual((old.state, old.reason), ("cancelled", "grouped"))
        self.assertEqual(self._live().appointment_id, earlier)

    def test_cancelling_the_first_replans_the_next(self):
        """R-2.5 R-2.4: cancelling the first appointment of a group gives the next
        one its own reminder."""
        first = self._appointment(**self._at(0))
        second = self._appointment(**self._at(1))
        first.action_clinic_cancel()
        self.assertEqual(self._live().appointment_id, second)

    def test_gap_is_configurable(self):
        """R-2.5: the grouping gap is a clinic setting."""
        self.company.clinic_sms_group_gap_hours = 0.25
        self._appointment(**self._at(0))
        self._appointment(**self._at(1))
        self.assertEqual(len(self._live()), 2)

    def test_other_patients_not_grouped(self):
        """R-2.5: grouping is per patient."""
        other = self.patient.copy({"name": "John Roe"})
        self._appointment(**self._at(0))
        self._appointment(clinic_patient_id=other.id, **self._at(0))
        self.assertEqual(len(self._live()), 2)
