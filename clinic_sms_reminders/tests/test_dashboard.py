from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import Form

from .common import ClinicSmsCase, make_user


class TestDashboard(ClinicSmsCase):
    """R-8.1: the SMS dashboard of a clinic."""

    def _message(self, kind, state, scheduled_at, **values):
        vals = {
            "kind": kind,
            "state": state,
            "company_id": self.company.id,
            "partner_id": self.patient.id,
            "idempotency_key": f"dashboard:{kind}:{state}:{scheduled_at}:{values}",
            "scheduled_at": scheduled_at,
        }
        vals.update(values)
        return self.env["clinic.sms.message"].create(vals)

    def _dashboard(self, user=None):
        env = self.env(user=user) if user else self.env
        env = env(context=dict(env.context, allowed_company_ids=self.company.ids))
        return env["clinic.sms.dashboard"].create({"company_id": self.company.id})

    def test_today_counts_per_state_and_kind(self):
        """R-8.1: today's messages are counted per state and per kind; other
        days and other clinics are not."""
        self.env.user.tz = "Europe/Paris"
        dashboard = self._dashboard()
        # ignore what the fixtures may have planned today already
        base = {
            fname: dashboard[fname]
            for fname in (
                "today_sent_count",
                "today_failed_count",
                "today_skipped_count",
                "today_queued_count",
                "today_total_count",
            )
        }
        start, _end = dashboard._today_bounds()
        noon = start + timedelta(hours=12)
        self._message("reminder", "sent", noon)
        self._message("reminder", "delivered", noon)
        self._message("confirmation", "delivered", noon)
        self._message("reminder", "failed", noon)
        self._message("birthday", "skipped", noon)
        self._message("reminder", "cancelled", noon)
        self._message("recall", "queued", noon)
        # not today, or not this clinic: not counted
        self._message("reminder", "sent", start - timedelta(hours=1))
        self._message("reminder", "sent", start + timedelta(days=1, hours=1))
        self._message(
            "reminder", "sent", noon, company_id=self.env.ref("base.main_company").id
        )
        dashboard = self._dashboard()
        self.assertEqual(dashboard.today_sent_count - base["today_sent_count"], 3)
        self.assertEqual(dashboard.today_failed_count - base["today_failed_count"], 1)
        self.assertEqual(dashboard.today_skipped_count - base["today_skipped_count"], 2)
        self.assertEqual(dashboard.today_queued_count - base["today_queued_count"], 1)
        self.assertEqual(dashboard.today_total_count - base["today_total_count"], 7)
        summary = str(dashboard.today_kind_summary)
        for label in ("Reminder", "Confirmation", "Birthday", "Recall"):
            self.assertIn(label, summary)

    def test_next_planned_messages(self):
        """R-8.1: the next 10 queued messages of the clinic, soonest first."""
        now = fields.Datetime.now()
        self.env["clinic.sms.message"].search(
            [("company_id", "=", self.company.id), ("state", "=", "queued")]
        ).write({"state": "cancelled"})
        queued = self.env["clinic.sms.message"]
        for hours in range(12, 0, -1):
            queued |= self._message(
                "reminder",
                "queued",
                now + timedelta(hours=hours),
                idempotency_key=f"dashboard:next:{hours}",
            )
        self._message("reminder", "sent", now - timedelta(hours=1))
        dashboard = self._dashboard()
        expected = queued.sorted("scheduled_at")[:10]
        self.assertEqual(dashboard.next_message_ids.ids, expected.ids)

    def test_low_balance_warning(self):
        """R-8.1 R-6.3: the dashboard warns below the alert threshold."""
        self.company.clinic_sms_low_balance_threshold = 50
        self.assertEqual(self.wallet.balance, 100)
        self.assertFalse(self._dashboard().is_low)
        self.wallet.sudo()._add_units(-60)
        dashboard = self._dashboard()
        self.assertEqual(dashboard.balance, 40)
        self.assertTrue(dashboard.is_low)

    def test_replenish_button(self):
        """R-8.1 R-6.2: Replenish opens the wallet's wizard; the balance goes up
        and the dashboard shows it. Receptionists cannot replenish."""
        manager = make_user(
            self.env,
            "dash_manager",
            "clinic_sms_reminders.group_clinic_sms_manager",
            self.company,
        )
        dashboard = self._dashboard(manager)
        action = dashboard.action_replenish()
        self.assertEqual(action["res_model"], "clinic.sms.replenish.wizard")
        self.assertEqual(action["context"]["default_wallet_id"], self.wallet.id)
        wizard_env = dashboard.env(
            context=dict(dashboard.env.context, **action["context"])
        )
        with Form(wizard_env[action["res_model"]]) as form:
            form.units = 250
        form.record.action_replenish()
        dashboard.invalidate_recordset()
        self.assertEqual(dashboard.balance, 350)
        self.assertEqual(self.wallet.move_ids[:1].units, 250)

        user = make_user(
            self.env,
            "dash_receptionist",
            "clinic_sms_reminders.group_clinic_sms_user",
            self.company,
        )
        dashboard = self._dashboard(user)
        self.assertEqual(dashboard.balance, 350)
        # the button is for managers only; the wizard is too
        view = self.env.ref("clinic_sms_reminders.clinic_sms_dashboard_view_form")
        self.assertIn(
            'groups="clinic_sms_reminders.group_clinic_sms_manager"', view.arch_db
        )
        action = dashboard.action_replenish()
        with self.assertRaises(AccessError):
            self.env(user=user)[action["res_model"]].create(
                {"wallet_id": self.wallet.id, "units": 10}
            )
        with self.assertRaises(AccessError):
            self.wallet.with_user(user)._top_up(10)

    def test_history_buttons_and_menu(self):
        """R-8.1: the Dashboard menu comes first under SMS and the counters open
        the history filtered on today and the state."""
        root = self.env.ref("clinic_sms_reminders.menu_clinic_sms_root")
        self.assertEqual(
            root.child_id.sorted("sequence")[:1],
            self.env.ref("clinic_sms_reminders.menu_clinic_sms_dashboard"),
        )
        action = self.env["clinic.sms.dashboard"].action_open_dashboard()
        self.assertEqual(action["res_model"], "clinic.sms.dashboard")
        # opened as a new record of the current clinic: no saved record, no pager
        self.assertNotIn("res_id", action)
        self.assertEqual(action["context"], {"default_company_id": self.env.company.id})
        dashboard = self._dashboard()
        action = dashboard.with_context(history_filter="failed").action_open_history()
        self.assertEqual(action["res_model"], "clinic.sms.message")
        self.assertEqual(
            action["context"], {"search_default_today": 1, "search_default_failed": 1}
        )
        self.assertEqual(action["domain"], [("company_id", "=", self.company.id)])
        action = dashboard.with_context(history_filter="queued").action_open_history()
        self.assertEqual(action["context"], {"search_default_queued": 1})

    # ------------------------------------------------------------------
    # insight
    # ------------------------------------------------------------------
    def _move(self, move_type, units, days_ago, kind="reminder"):
        return (
            self.env["clinic.sms.wallet.move"]
            .sudo()
            .create(
                {
                    "wallet_id": self.wallet.id,
                    "move_type": move_type,
                    "units": units,
                    "message_kind": kind,
                    "date": fields.Datetime.now() - timedelta(days=days_ago),
                }
            )
        )

    def _receptionist(self):
        return make_user(
            self.env,
            "dash_insight_receptionist",
            "clinic_sms_reminders.group_clinic_sms_user",
            self.company,
        )

    def test_days_of_credit_left(self):
        """R-10.1: balance divided by the average spend per day over the last
        30 days (debits less refunds); no spend is said as such."""
        user = self._receptionist()
        dashboard = self._dashboard(user)
        self.assertEqual(dashboard.balance, 100)
        self.assertTrue(dashboard.credit_no_spend)
        self.assertEqual(dashboard.units_spent_30d, 0)
        self._move("topup", 500, 2)  # a top-up is not spend
        self._move("debit", -66, 5)
        self._move("refund", 6, 4)
        self._move("debit", -400, 45)  # older than 30 days
        dashboard = self._dashboard(user)
        self.assertFalse(dashboard.credit_no_spend)
        self.assertEqual(dashboard.units_spent_30d, 60)
        self.assertEqual(dashboard.daily_spend, 2.0)
        self.assertEqual(dashboard.credit_days_left, 50)
        self.wallet.sudo()._add_units(-100)
        self.assertEqual(self._dashboard(user).credit_days_left, 0)

    def test_forecast_of_the_next_seven_days(self):
        """R-10.1: planned messages of the next 7 days and their units, from
        their text when rendered, else from their template."""
        self.env["clinic.sms.message"].search(
            [("company_id", "=", self.company.id), ("state", "=", "queued")]
        ).write({"state": "cancelled"})
        now = fields.Datetime.now()
        self._message(
            "reminder",
            "queued",
            now + timedelta(days=1),
            body="Bonjour Jane, " + "votre rendez-vous de demain est confirmé. " * 4,
        )
        self._message(
            "reminder", "queued", now + timedelta(days=6), template_id=self.template.id
        )
        self._message("recall", "queued", now + timedelta(days=2))
        self._message("reminder", "queued", now + timedelta(days=8))
        self._message("reminder", "sent", now + timedelta(days=1))
        dashboard = self._dashboard(self._receptionist())
        self.assertEqual(dashboard.forecast_message_count, 3)
        # a 182-character GSM-7 text: 2 parts; the template: 1; no text yet: 1
        self.assertEqual(dashboard.forecast_units, 4)
        action = dashboard.action_open_forecast()
        self.assertEqual(action["res_model"], "clinic.sms.report.message")
        rows = self.env["clinic.sms.report.message"].search(action["domain"])
        self.assertEqual(len(rows), 3)
        self.assertEqual(action["context"]["graph_measure"], "planned_units")

    def test_opt_outs_of_the_last_30_days(self):
        """R-10.1: patients who withdrew a consent in the last 30 days."""
        Log = self.env["clinic.sms.consent.log"].sudo()
        other = self.env["res.partner"].create({"name": "Marc Dubois"})
        now = fields.Datetime.now()
        for partner, purpose, granted, days, company in (
            (self.patient, "marketing", False, 3, self.company),
            (self.patient, "recall", False, 3, self.company),
            (other, "appointment", False, 10, self.company),
            (other, "marketing", True, 1, self.company),
            (other, "recall", False, 40, self.company),
            (other, "recall", False, 2, self.env.ref("base.main_company")),
        ):
            log = Log.create(
                {
                    "partner_id": partner.id,
                    "purpose": purpose,
                    "granted": granted,
                    "company_id": company.id,
                    "source": "sms_reply",
                }
            )
            self.env.cr.execute(
                "UPDATE clinic_sms_consent_log SET date = %s WHERE id = %s",
                [now - timedelta(days=days), log.id],
            )
        Log.invalidate_model()
        dashboard = self._dashboard(self._receptionist())
        self.assertEqual(dashboard.optout_count, 2)
        action = dashboard.action_open_optouts()
        self.assertEqual(action["res_model"], "clinic.sms.consent.log")
        self.assertEqual(
            len(self.env["clinic.sms.consent.log"].search(action["domain"])), 3
        )

    def test_chart_buttons(self):
        """R-10.1 R-10.2: each chart button opens a graph or pivot view of the
        clinic's own figures."""
        dashboard = self._dashboard(self._receptionist())
        expected = {
            "messages": ("clinic.sms.report.message", "graph"),
            "providers": ("clinic.sms.report.message", "graph"),
            "spend": ("clinic.sms.wallet.move", "graph"),
            "attendance": ("clinic.sms.report.attendance", "pivot"),
            "recall": ("clinic.sms.report.recall", "pivot"),
        }
        for chart, (model, first_view) in expected.items():
            action = dashboard.with_context(chart=chart).action_open_chart()
            self.assertEqual(action["res_model"], model, chart)
            self.assertEqual(action["view_mode"].split(",")[0], first_view, chart)
            self.assertEqual(action["domain"], [("company_id", "=", self.company.id)])
        view = self.env.ref("clinic_sms_reminders.clinic_sms_dashboard_view_form")
        for chart in expected:
            self.assertIn(f"'chart': '{chart}'", view.arch_db)
