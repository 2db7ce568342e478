from datetime import timedelta

from odoo.exceptions import ValidationError
from odoo.tests import new_test_user

from .common import ClinicSmsCase, paris


class TestRules(ClinicSmsCase):
    def test_default_rules_48h_and_24h(self):
        """R-2.1 R-2.2: default rules 48 h and 24 h before, the 24 h one only for
        appointments not yet confirmed; a clinic can change them."""
        rule_48 = self.env.ref("clinic_sms_reminders.rule_48h")
        rule_24 = self.env.ref("clinic_sms_reminders.rule_24h")
        self.assertEqual(
            (rule_48.trigger, rule_48.delay, rule_48.delay_unit),
            ("before_start", 48, "hours"),
        )
        self.assertEqual(
            rule_48._statuses(), ["scheduled", "confirmed", "out_of_reach"]
        )
        self.assertEqual((rule_24.delay, rule_24.delay_unit), (24, "hours"))
        self.assertNotIn("confirmed", rule_24._statuses())
        rule_24.delay = 12
        self.assertEqual(rule_24.delay, 12)

    def test_several_rules_each_once(self):
        """R-2.1: several rules (48 h and 24 h), each sends at most once."""
        self.rule.copy({"name": "48 hours before", "delay": 2, "delay_unit": "days"})
        start = self.start + timedelta(days=1)
        event = self._appointment(start=start, stop=start + timedelta(minutes=30))
        messages = self._messages(event)
        self.assertEqual(len(messages), 2)
        self.assertEqual(
            sorted(messages.mapped("scheduled_at")),
            [start - timedelta(days=2), start - timedelta(days=1)],
        )
        self.env["clinic.sms.rule"].search(
            [("company_id", "=", self.company.id)]
        )._plan_reminders()
        self.assertEqual(self._messages(event), messages)

    def test_on_creation_and_after_creation(self):
        """R-2.1: a rule on creation or X minutes/hours after creation."""
        self.rule.active = False
        template = self.template
        rules = self.env["clinic.sms.rule"].create(
            [
                {
                    "name": "On creation",
                    "company_id": self.company.id,
                    "template_id": template.id,
                    "trigger": "on_create",
                    "delay": 0,
                },
                {
                    "name": "30 minutes after creation",
                    "company_id": self.company.id,
                    "template_id": template.id,
                    "trigger": "after_create",
                    "delay": 30,
                    "delay_unit": "minutes",
                },
            ]
        )
        start = self.start + timedelta(days=1)
        event = self._appointment(start=start, stop=start + timedelta(minutes=30))
        # creation at a known time inside the window, then planned from scratch
        created_at = paris(start.year, start.month, start.day, 11, 0) - timedelta(
            days=2
        )
        self.env.cr.execute(
            "UPDATE calendar_event SET create_date = %s WHERE id = %s",
            [created_at, event.id],
        )
        event.invalidate_recordset(["create_date"])
        self._messages(event).unlink()
        rules._plan_reminders(now=created_at)
        by_rule = {m.rule_id: m for m in self._messages(event)}
        self.assertEqual(by_rule[rules[0]].scheduled_at, created_at)
        self.assertEqual(
            by_rule[rules[1]].scheduled_at, created_at + timedelta(minutes=30)
        )

    def test_rule_validation(self):
        """R-2.2: a rule needs at least one status and a delay before the start."""
        with self.assertRaises(ValidationError):
            self.rule.write(
                {
                    "apply_scheduled": False,
                    "apply_confirmed": False,
                    "apply_out_of_reach": False,
                }
            )
        with self.assertRaises(ValidationError):
            self.rule.delay = 0

    def test_unknown_patient_time_zone_uses_clinic_zone(self):
        """R-2.3: a patient time zone the system does not know falls back to the
        clinic's instead of stopping the planner."""
        self.env.cr.execute(
            "UPDATE res_partner SET tz = 'Mars/Olympus_Mons' WHERE id = %s",
            [self.patient.id],
        )
        self.patient.invalidate_recordset(["tz"])
        event = self._appointment()
        self.assertEqual(
            self._messages(event).scheduled_at, self.start - timedelta(hours=24)
        )

    def test_any_creation_path(self):
        """R-1.2 R-2.1: RPC-style creation by a portal user (online booking through
        the ORM) plans reminders like the back office."""
        portal = new_test_user(
            self.env, login="portal_patient", groups="base.group_portal"
        )
        event = (
            self.env["calendar.event"]
            .with_user(portal)
            .sudo()
            .create(
                {
                    "name": "Online booking",
                    "start": self.start,
                    "stop": self.start + timedelta(minutes=30),
                    "clinic_patient_id": self.patient.id,
                    "clinic_company_id": self.company.id,
                }
            )
        )
        self.assertEqual(len(self._messages(event)), 1)
