from datetime import timedelta
from unittest.mock import patch

from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, new_test_user
from odoo.tools.safe_eval import safe_eval

from .common import ClinicSmsCase, make_user


class TestWallet(ClinicSmsCase):
    def _due_messages(self, count):
        events = self.env["calendar.event"]
        for index in range(count):
            patient = self.patient.copy({"name": f"Patient {index}"})
            events |= self._appointment(clinic_patient_id=patient.id)
        return self._messages().filtered(lambda m: m.appointment_id in events)

    def test_one_unit_per_part_and_ledger(self):
        """R-6.1 R-6.2: one unit per SMS part; the ledger explains the balance."""
        self.company.clinic_sms_max_parts = 2
        self.template.body = "{patient_name} " + "x" * 155
        messages = self._due_messages(2)
        self._dispatch(self.start - timedelta(hours=1))
        self.assertEqual(messages.mapped("units"), [2, 2])
        self.assertEqual(self.wallet.balance, 96)
        self.assertEqual(sum(self.wallet.move_ids.mapped("units")), self.wallet.balance)

    def test_never_below_zero_and_waits_for_top_up(self):
        """R-6.3: with too few units, automatic messages wait (not lost) and go
        out after a top-up; the balance never goes below zero."""
        self.wallet.sudo()._add_units(-98)
        self.assertEqual(self.wallet.balance, 2)
        messages = self._due_messages(3)
        self._dispatch(self.start - timedelta(hours=1))
        sent = messages.filtered(lambda m: m.state == "delivered")
        waiting = messages - sent
        self.assertEqual(len(sent), 2)
        self.assertEqual(waiting.state, "queued")
        self.assertEqual(waiting.reason, "insufficient_balance")
        self.assertEqual(self.wallet.balance, 0)
        self.assertFalse(
            self.wallet.sudo()._add_units(-1), "balance cannot go negative"
        )
        self.assertEqual(self.wallet.balance, 0)
        self.wallet._top_up(10)
        self._dispatch(self.start - timedelta(minutes=30))
        self.assertEqual(waiting.state, "delivered")
        self.assertEqual(self.wallet.balance, 9)

    def test_provider_failure_refunds(self):
        """R-6.3: a provider refusal refunds the reserved units."""
        messages = self._due_messages(2)
        refusal = {
            message.id: {"state": "failed", "reason": "Unknown subscriber"}
            for message in messages
        }
        with patch.object(
            type(self.provider),
            "_send_batch",
            autospec=True,
            return_value=refusal,
        ):
            self._dispatch(self.start - timedelta(hours=1))
        self.assertEqual(set(messages.mapped("state")), {"failed"})
        self.assertEqual(set(messages.mapped("reason")), {"provider_rejected"})
        self.assertEqual(messages[0].reason_detail, "Unknown subscriber")
        self.assertEqual(self.wallet.balance, 100)
        refund = self.wallet.move_ids.filtered(lambda m: m.move_type == "refund")
        self.assertEqual(refund.units, 2)
        self.assertEqual(sum(self.wallet.move_ids.mapped("units")), 100)

    def test_replenish_managers_only(self):
        """R-6.2: only SMS managers replenish; the wizard adds units."""
        user = make_user(
            self.env,
            "reception",
            "clinic_sms_reminders.group_clinic_sms_user",
            self.company,
        )
        with self.assertRaises(AccessError):
            self.wallet.with_user(user)._top_up(10)
        with self.assertRaises(UserError):
            self.wallet._top_up(0)
        action = self.wallet.action_replenish()
        wizard = Form(self.env[action["res_model"]].with_context(**action["context"]))
        wizard.units = 250
        wizard.note = "Invoice 42"
        wizard.save().action_replenish()
        self.assertEqual(self.wallet.balance, 350)
        top_up = self.wallet.move_ids.filtered(lambda m: m.note == "Invoice 42")
        self.assertEqual(top_up.move_type, "topup")

    def _manager(self, name="Claire Dubois"):
        return new_test_user(
            self.env,
            login="claire.manager",
            name=name,
            groups="base.group_user,clinic_sms_reminders.group_clinic_sms_manager",
            company_id=self.company.id,
            company_ids=[(6, 0, self.company.ids)],
        )

    def _top_up_notes(self):
        return self.wallet.message_ids.filtered(
            lambda message: message.subtype_id == self.env.ref("mail.mt_note")
        )

    def test_top_up_chatter_line(self):
        """R-6.2: each top-up leaves a note on the wallet's chatter, in the
        clinic's language, saying how many units and who added them."""
        manager = self._manager()
        self.company.partner_id.lang = "en_US"
        before = self._top_up_notes()
        action = self.wallet.with_user(manager).action_replenish()
        wizard = Form(
            self.env[action["res_model"]]
            .with_user(manager)
            .with_context(**action["context"])
        )
        wizard.units = 250
        wizard.note = "Invoice 42"
        wizard.save().action_replenish()
        note = self._top_up_notes() - before
        self.assertEqual(len(note), 1)
        self.assertEqual(note.author_id, manager.partner_id)
        self.assertIn("250 units added by Claire Dubois (Invoice 42)", note.body)
        # a French clinic reads it in French, whoever adds the units
        self.env["res.lang"]._activate_lang("fr_FR")
        self.company.partner_id.lang = "fr_FR"
        self.wallet.with_user(manager).with_context(lang="en_US")._top_up(40)
        note = self._top_up_notes() - before - note
        self.assertIn("40 unités ajoutées par Claire Dubois", note.body)

    def test_top_ups_menu_lists_credits_only(self):
        """R-6.2: Reports > Top-ups lists the units bought, not the debits or
        refunds of messages, for SMS users of the clinic."""
        self._due_messages(2)
        self._dispatch(self.start - timedelta(hours=1))
        self.wallet._top_up(30, "Order 7")
        self.assertIn("debit", self.wallet.move_ids.mapped("move_type"))
        menu = self.env.ref("clinic_sms_reminders.menu_clinic_sms_wallet_topups")
        receptionist = self.receptionist
        visible = self.env["ir.ui.menu"].with_user(receptionist)._visible_menu_ids()
        self.assertIn(menu.id, visible)
        action = menu.action.sudo()
        moves = (
            self.env[action.res_model]
            .with_user(receptionist)
            .search(safe_eval(action.domain or "[]"))
        )
        self.assertEqual(set(moves.mapped("move_type")), {"topup"})
        self.assertEqual(moves.filtered(lambda move: move.note == "Order 7").units, 30)
        self.assertEqual(moves.company_id, self.company)

    def test_every_company_has_a_wallet(self):
        """R-6.1: each clinic has its wallet, created with the company."""
        other = self.env["res.company"].create({"name": "Other clinic"})
        self.assertTrue(other.clinic_sms_wallet_id)
        self.assertEqual(other.clinic_sms_wallet_id.balance, 0)


class TestLowBalance(ClinicSmsCase):
    def test_low_balance_alerts_managers_once(self):
        """R-6.3: an alert to managers at the low-balance threshold, once until
        the next top-up."""
        manager = make_user(
            self.env,
            "sms_manager",
            "clinic_sms_reminders.group_clinic_sms_manager",
            self.company,
        )
        self.company.clinic_sms_low_balance_threshold = 100
        event = self._appointment()
        self._dispatch(self._messages(event).scheduled_at)
        activities = self.wallet.activity_ids.filtered(lambda a: a.user_id == manager)
        self.assertEqual(len(activities), 1)
        self.assertIn("99", activities.note)
        self.assertTrue(self.wallet.low_balance_alerted)
        other = self._appointment(clinic_patient_id=self.patient.copy().id)
        self._dispatch(self._messages(other).scheduled_at)
        self.assertEqual(
            len(self.wallet.activity_ids.filtered(lambda a: a.user_id == manager)), 1
        )
        self.wallet._top_up(10)
        self.assertFalse(self.wallet.low_balance_alerted)


class TestWalletLedgerOnly(ClinicSmsCase):
    def test_balance_and_clinic_are_never_written(self):
        """R-6.2 R-8.2 (issue 16 (3)): neither a manager nor the system writes
        the balance directly (ledger only), and a wallet never moves to
        another clinic; the balance and ledger stay as they were."""
        manager = make_user(
            self.env,
            "ledger_manager",
            "clinic_sms_reminders.group_clinic_sms_manager",
            self.company,
        )
        other = self.env["res.company"].create({"name": "Clinique du Lac"})
        before = (self.wallet.balance, len(self.wallet.move_ids))
        for label, wallet, vals in (
            ("manager balance", self.wallet.with_user(manager), {"balance": 424242}),
            ("system balance", self.wallet.sudo(), {"balance": 424242}),
            ("system clinic", self.wallet.sudo(), {"company_id": other.id}),
        ):
            with self.subTest(label), self.assertRaises(AccessError):
                wallet.write(vals)
        self.wallet.invalidate_recordset()
        self.assertEqual((self.wallet.balance, len(self.wallet.move_ids)), before)
        self.assertEqual(self.wallet.company_id, self.company)
