from contextlib import contextmanager
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from freezegun import freeze_time

from odoo.tests import TransactionCase, new_test_user

from ..tools import quiet_hours


@contextmanager
def frozen(when):
    """freeze_time for Python's clock; quiet_hours caches time-zone transitions
    computed with the clock's datetime class, so its cache must not outlive the
    frozen period. Prefer passing ``now`` explicitly where a method takes it."""
    quiet_hours._year_transitions.cache_clear()
    try:
        with freeze_time(when):
            yield
    finally:
        quiet_hours._year_transitions.cache_clear()


def in_window(after):
    """The first Tuesday to Thursday 10:30 in Paris (naive UTC) at or after
    ``after``: inside the sending window and the marketing hours, for tests
    that dispatch what they just queued whatever the hour of the run."""
    local = after.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo("Europe/Paris"))
    day = local.date()
    while True:
        when = paris(day.year, day.month, day.day, 10, 30)
        if day.weekday() in (1, 2, 3) and when >= after:
            return when
        day += timedelta(days=1)


def paris(*args):
    """Naive UTC datetime for a wall time in Europe/Paris."""
    local = datetime(*args, tzinfo=ZoneInfo("Europe/Paris"))
    return local.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


class ClinicSmsCase(TransactionCase):
    """A clinic of its own (isolated from demo data), a sandbox provider, a
    patient, a practitioner and a 24-hours-before rule."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.company = cls.env["res.company"].create(
            {
                "name": "Clinique Test",
                "country_id": cls.env.ref("base.fr").id,
                "clinic_sms_tz": "Europe/Paris",
            }
        )
        cls.env.user.company_ids |= cls.company
        cls.provider = cls.env["clinic.sms.provider"].create(
            {"name": "Test sandbox", "company_id": cls.company.id}
        )
        cls.company.clinic_sms_provider_id = cls.provider
        cls.wallet = cls.company.clinic_sms_wallet_id
        cls.wallet._top_up(100, "tests")
        cls.template = cls.env["clinic.sms.template"].create(
            {
                "name": "Test reminder",
                "kind": "reminder",
                "company_id": cls.company.id,
                "body": "Hello {patient_first_name}, see you on {date} at {time} "
                "with {practitioner} in office {office}.",
            }
        )
        cls.rule = cls.env["clinic.sms.rule"].create(
            {
                "name": "24 hours before",
                "company_id": cls.company.id,
                "template_id": cls.template.id,
                "trigger": "before_start",
                "delay": 24,
                "delay_unit": "hours",
            }
        )
        cls.practitioner = cls.env["res.partner"].create(
            {"name": "Dr Claire Martin", "phone": "+33 6 11 22 33 44"}
        )
        cls.patient = cls.env["res.partner"].create(
            {
                "name": "Jane Doe",
                "phone": "06 12 34 56 78",
                "country_id": cls.env.ref("base.fr").id,
                "tz": "Europe/Paris",
                "lang": "en_US",
            }
        )
        # The reception as a new Odoo user plus SMS User books the
        # appointments of the tests, never the superuser.
        cls.receptionist = cls.env["res.users"].create(
            {
                "name": "Reception Test",
                "login": "reception.common@example.com",
                "company_id": cls.company.id,
                "company_ids": [(6, 0, cls.company.ids)],
            }
        )
        cls.receptionist.group_ids |= cls.env.ref(
            "clinic_sms_reminders.group_clinic_sms_user"
        )
        # Appointments are placed relative to the real clock because creating
        # one plans its reminders at once; tests then pass ``now`` explicitly.
        tomorrow = datetime.now(ZoneInfo("Europe/Paris")).date() + timedelta(days=2)
        cls.start = paris(tomorrow.year, tomorrow.month, tomorrow.day, 10, 0)

    def _appointment(self, **values):
        vals = {
            "name": "Check-up",
            "start": self.start,
            "stop": self.start + timedelta(minutes=30),
            "clinic_patient_id": self.patient.id,
            "clinic_practitioner_id": self.practitioner.id,
            "clinic_office": "B12",
            "clinic_company_id": self.company.id,
            "partner_ids": [(6, 0, [self.practitioner.id, self.patient.id])],
        }
        vals.update(values)
        Event = self.env["calendar.event"]
        if vals["clinic_company_id"] == self.company.id:
            # the reception of the clinic books, not the superuser
            Event = Event.with_user(self.receptionist)
        return Event.create(vals).with_env(self.env)

    def _messages(self, event=None):
        domain = [("company_id", "=", self.company.id)]
        if event:
            domain.append(("appointment_id", "=", event.id))
        return self.env["clinic.sms.message"].search(domain)

    def _dispatch(self, when):
        return self.env["clinic.sms.message"]._dispatch_due(now=when)


def make_user(env, login, groups, company):
    return new_test_user(
        env,
        login=login,
        groups=groups,
        company_id=company.id,
        company_ids=[(6, 0, company.ids)],
    )


def make_tour_user(env, login, groups):
    """A user of the main clinic for a browser tour: English, Paris time,
    the login as password (the test database may have French only)."""
    env["res.lang"]._activate_lang("en_US")
    company = env.ref("base.main_company")
    return new_test_user(
        env,
        login=login,
        password=login,
        groups=groups,
        company_id=company.id,
        company_ids=[(6, 0, company.ids)],
        tz="Europe/Paris",
        lang="en_US",
    )
