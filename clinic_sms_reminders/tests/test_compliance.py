"""Marketing caps and quiet days at the clinic (R-11.1, R-11.2):
``res.company._clinic_marketing_hold``, the entry point of the dispatcher and
the planners."""

from datetime import datetime, timedelta

from .common import ClinicSmsCase, paris


def utc(*args):
    return datetime(*args)


class TestMarketingHold(ClinicSmsCase):
    """Easter 2027 in Paris: Sunday 28 March is also the night the clocks go
    forward, Monday 29 March (Easter Monday) is a time off of the clinic's
    working hours calendar."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["resource.calendar.leaves"].create(
            {
                "name": "Lundi de Pâques",
                "calendar_id": cls.company.resource_calendar_id.id,
                "date_from": paris(2027, 3, 29, 0, 0),
                "date_to": paris(2027, 3, 29, 23, 59, 59),
            }
        )
        fr = cls.env.ref("base.fr").id
        cls.new_yorker = cls.env["res.partner"].create(
            {
                "name": "Emily Carter",
                "phone": "+33 6 22 33 44 55",
                "country_id": fr,
                "tz": "America/New_York",
            }
        )
        cls.regular = cls.env["res.partner"].create(
            {
                "name": "Lucas Bernard",
                "phone": "+33 6 33 44 55 66",
                "country_id": fr,
                "tz": "Europe/Paris",
            }
        )
        cls.now = paris(2027, 3, 28, 11, 0)

    def _message(self, partner, kind="mass", purpose="marketing", key=None, **vals):
        values = {
            "kind": kind,
            "purpose": purpose,
            "company_id": self.company.id,
            "partner_id": partner.id,
            "phone": partner.clinic_mobile,
            "body": "Spring offer: 20% off whitening. STOP au 36180",
            "idempotency_key": key or f"test-hold:{kind}:{partner.id}:{len(vals)}",
            "scheduled_at": self.now,
        }
        values.update(vals)
        return self.env["clinic.sms.message"].create(values)

    def _sent(self, partner, *days):
        """Marketing messages sent to ``partner`` at 11:00 Paris on ``days``
        of March 2027."""
        for day in days:
            self._message(
                partner,
                key=f"test-sent:{partner.id}:{day}",
                state="sent",
                sent_at=paris(2027, 3, day, 11, 0),
                scheduled_at=paris(2027, 3, day, 11, 0),
            )

    def _hold(self, messages):
        return self.env["res.company"]._clinic_marketing_hold(messages, self.now)

    def test_sunday_and_public_holiday_wait_for_tuesday_recipient_time(self):
        """R-11.2: due on Easter Sunday, a mass mailing waits for Tuesday
        10:00 (Monday is a holiday of the clinic's calendar), in each
        recipient's own time: 08:00 UTC in Paris (summer time since Sunday
        night), 14:00 UTC in New York."""
        in_paris = self._message(self.patient)
        in_new_york = self._message(self.new_yorker)
        self.assertEqual(
            self._hold(in_paris | in_new_york),
            {
                in_paris.id: ("wait", utc(2027, 3, 30, 8, 0)),
                in_new_york.id: ("wait", utc(2027, 3, 30, 14, 0)),
            },
        )

    def test_settings_allow_sundays_and_holidays(self):
        """R-11.2: a clinic may allow Sundays; then Sunday 11:00 is fine."""
        message = self._message(self.patient)
        self.company.clinic_sms_marketing_sundays = True
        self.assertEqual(self._hold(message), {message.id: ("ok", None)})

    def test_caps_count_sent_messages_and_the_batch(self):
        """R-11.1: three greetings sent Thursday to Saturday hold the next one
        until Thursday 1 April; two mailings in one batch for one patient go
        out on two days."""
        self._sent(self.regular, 25, 26, 27)
        held = self._message(self.regular)
        first = self._message(self.patient, key="test-hold:first")
        second = self._message(self.patient, key="test-hold:second")
        result = self._hold(held | first | second)
        self.assertEqual(result[held.id], ("wait", utc(2027, 4, 1, 8, 0)))
        self.assertEqual(result[first.id], ("wait", utc(2027, 3, 30, 8, 0)))
        self.assertEqual(result[second.id], ("wait", utc(2027, 3, 31, 8, 0)))

    def test_birthday_not_worth_sending_late_is_skipped(self):
        """R-11.1: a birthday greeting that could only leave in 4 days is
        skipped with the cap as its reason."""
        self._sent(self.regular, 25, 26, 27)
        greeting = self._message(self.regular, kind="birthday")
        self.assertEqual(self._hold(greeting), {greeting.id: ("skip", "marketing_cap")})

    def test_transactional_messages_are_not_held(self):
        """R-11.1 R-11.2: reminders and STOP answers follow their own rules
        (R-2.3): they are not in the result."""
        reminder = self._message(self.patient, kind="reminder", purpose="appointment")
        answer = self._message(self.patient, kind="stop_reply", purpose="essential")
        recall = self._message(self.patient, kind="recall", purpose="recall")
        self.assertEqual(set(self._hold(reminder | answer | recall)), {recall.id})

    def test_set_wise_for_500_messages(self):
        """R-11.1: 500 messages of two clinics are held in a handful of
        queries, whatever their number."""
        other = self.env["res.company"].create({"name": "Cabinet Rive Gauche"})
        partners = self.env["res.partner"].create(
            [{"name": f"Patient {i}", "tz": "Europe/Paris"} for i in range(250)]
        )
        messages = self.env["clinic.sms.message"].create(
            [
                {
                    "kind": "mass",
                    "purpose": "marketing",
                    "company_id": company.id,
                    "partner_id": partner.id,
                    "phone": f"+336{10000000 + i:08d}",
                    "body": "Spring offer",
                    "idempotency_key": f"test-bulk:{company.id}:{partner.id}",
                    "scheduled_at": self.now - timedelta(minutes=i % 30),
                }
                for company in (self.company, other)
                for i, partner in enumerate(partners)
            ]
        )
        self.env.flush_all()
        self.env.invalidate_all()
        messages = self.env["clinic.sms.message"].browse(messages.ids)
        before = self.env.cr.sql_log_count
        result = self.env["res.company"]._clinic_marketing_hold(messages, self.now)
        queries = self.env.cr.sql_log_count - before
        self.assertEqual(len(result), 500)
        self.assertEqual({status for status, _value in result.values()}, {"wait"})
        self.assertLessEqual(queries, 15, queries)

    def test_hold_applied_on_queued_messages(self):
        """R-11.1 R-11.2: the dispatcher's one call: the messages that may go
        now come back; the others stay queued at their next allowed time with
        the reason they wait, or are skipped with the reason."""
        self._sent(self.regular, 25, 26, 27)
        self.company.clinic_sms_marketing_sundays = True
        free = self._message(self.patient)
        capped = self._message(self.regular)
        late_greeting = self._message(self.new_yorker, kind="birthday")
        reminder = self._message(self.regular, kind="reminder", purpose="appointment")
        self._sent(self.new_yorker, 25, 26, 27)
        batch = free | capped | late_greeting | reminder
        released = batch._clinic_hold_marketing(self.now)
        self.assertEqual(released, free | reminder)
        self.assertEqual(
            (capped.state, capped.reason, capped.scheduled_at),
            ("queued", "marketing_cap", utc(2027, 4, 1, 8, 0)),
        )
        self.assertEqual(
            (late_greeting.state, late_greeting.reason),
            ("skipped", "marketing_cap"),
        )
        self.assertEqual((free.state, free.reason), ("queued", False))

    def test_quiet_wait_reason(self):
        """R-11.2: a mailing due on Easter Sunday waits for the quiet days,
        not for a cap."""
        message = self._message(self.patient)
        message._clinic_hold_marketing(self.now)
        self.assertEqual(
            (message.state, message.reason, message.scheduled_at),
            ("queued", "marketing_quiet", utc(2027, 3, 30, 8, 0)),
        )
