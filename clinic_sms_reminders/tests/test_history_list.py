from datetime import timedelta
from unittest.mock import patch

from lxml import etree

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, tagged

from .common import ClinicSmsCase, make_tour_user, make_user, paris

# what a receptionist reads in the History list, and what stays out of it
LIST_FIELDS = (
    "partner_id",
    "phone",
    "kind",
    "purpose",
    "state",
    "reason",
    "scheduled_at",
    "sent_at",
    "body_preview",
)
TECHNICAL_KEYS = (
    "idempotency_key",
    "reference",
    "provider_message_id",
    "attempt_count",
    "sending_since",
)


class TestHistoryList(ClinicSmsCase):
    """R-7.8 R-7.3 R-8.2: the History list names the recipients, lists what
    was sent first, keeps the technical keys out of sight and lets a manager
    (not the reception) send again what failed or may not have arrived."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # cls.receptionist (common): Internal User + SMS User of the clinic
        cls.manager = make_user(
            cls.env,
            "history.manager",
            "base.group_user,clinic_sms_reminders.group_clinic_sms_manager",
            cls.company,
        )
        cls.t1 = paris(2026, 3, 10, 9, 5)
        cls.t2 = paris(2026, 3, 10, 9, 35)

    def _queue(self, name, scheduled_at):
        Message = self.env["clinic.sms.message"]
        Message._insert_queued(
            [
                {
                    "kind": "private",
                    "purpose": "essential",
                    "company_id": self.company.id,
                    "partner_id": self.patient.id,
                    "phone": "+33612345678",
                    "idempotency_key": f"history:{name}",
                    "scheduled_at": scheduled_at,
                    "body": f"Message {name}",
                }
            ]
        )
        return Message.search([("idempotency_key", "=", f"history:{name}")])

    def _history(self):
        """Sent at t1 and at t2, one failed, one with an unknown outcome (all
        through the dispatcher and a gateway answering by text), one queued
        for next week."""
        early = self._queue("early", paris(2026, 3, 10, 9, 0))
        late = self._queue("late", paris(2026, 3, 10, 9, 30))
        failed = self._queue("failed", paris(2026, 3, 10, 9, 30))
        unknown = self._queue("unknown", paris(2026, 3, 10, 9, 30))
        queued = self._queue("queued", paris(2026, 3, 17, 9, 0))
        answers = {
            "Message early": {"state": "sent"},
            "Message late": {"state": "delivered"},
            "Message failed": {"state": "failed", "reason": "Unknown subscriber"},
            "Message unknown": {"state": "unknown", "reason": "Read timed out"},
        }

        def send_batch(provider, messages, deadline=None):
            return {message.id: answers[message.body] for message in messages}

        with patch.object(type(self.provider), "_send_batch", send_batch):
            self._dispatch(self.t1)
            self._dispatch(self.t2)
        self.assertEqual(
            (early | late | failed | unknown | queued).mapped("state"),
            ["sent", "delivered", "failed", "unknown", "queued"],
        )
        return early, late, failed, unknown, queued

    def _arch(self, user, view_type):
        views = (
            self.env["clinic.sms.message"]
            .with_user(user)
            .get_views([(False, view_type)])
        )
        return etree.fromstring(views["views"][view_type]["arch"])

    def test_list_shows_names_and_hides_technical_keys(self):
        arch = self._arch(self.receptionist, "list")
        shown = {
            field.get("name"): field
            for field in arch.xpath("//field")
            if field.get("column_invisible") not in ("1", "True")
        }
        for name in LIST_FIELDS:
            with self.subTest(field=name):
                self.assertIn(name, shown)
                self.assertNotEqual(shown[name].get("optional"), "hide")
        self.assertEqual(shown["state"].get("widget"), "badge")
        self.assertTrue(shown["state"].get("decoration-danger"))
        for name in TECHNICAL_KEYS:
            with self.subTest(field=name):
                self.assertNotIn(name, shown)
        # one clinic: no Clinic column, no Resend for the reception
        self.assertNotIn("company_id", shown)
        self.assertFalse(arch.xpath("//button[@name='action_resend_selected']"))
        form = self._arch(self.receptionist, "form")
        for name in TECHNICAL_KEYS:
            with self.subTest(form_field=name):
                self.assertFalse(form.xpath(f"//field[@name='{name}']"))

    def test_manager_list_has_resend_and_clinic_in_multi_company(self):
        other = self.env["res.company"].create({"name": "Clinique Annexe"})
        self.manager.company_ids |= other
        arch = self._arch(self.manager, "list")
        self.assertTrue(arch.xpath("//header/button[@name='action_resend_selected']"))
        self.assertTrue(arch.xpath("//field[@name='company_id']"))
        form = self._arch(self.manager, "form")
        self.assertTrue(form.xpath("//field[@name='idempotency_key']"))

    def test_sent_first_then_the_rest_newest_first(self):
        """The list's own order, as the web client sends it: the latest sent
        first, then the messages never sent (planned next week first)."""
        early, late, failed, unknown, queued = self._history()
        default_order = self._arch(self.receptionist, "list").get("default_order")
        # the web client's form of the order: "name DIRECTION" terms
        order = ",".join(
            f"{name} {direction.upper()}"
            for name, direction in (term.split() for term in default_order.split(","))
        )
        Message = self.env["clinic.sms.message"].with_user(self.receptionist)
        domain = [("idempotency_key", "like", "history:")]
        self.assertEqual(
            Message.search(domain, order=order).ids,
            (late | early | queued | unknown | failed).ids,
        )
        self.assertEqual((late.sent_at, early.sent_at), (self.t2, self.t1))
        # sorted the other way by its column: never sent still comes last
        self.assertEqual(
            Message.search(domain, order="sent_at ASC, id ASC").ids,
            (early | late | failed | unknown | queued).ids,
        )

    def test_resend_from_the_list_as_a_manager(self):
        failed, unknown = self._history()[2:4]
        selected = (failed | unknown).with_user(self.manager)
        action = selected.action_resend_selected()
        self.assertEqual(action["tag"], "display_notification")
        again = self.env["clinic.sms.message"].search(
            [("resend_of_id", "in", (failed | unknown).ids)]
        )
        self.assertEqual(len(again), 2)
        self.assertEqual(again.mapped("resend_of_id"), failed | unknown)
        self.assertEqual(set(again.mapped("state")), {"queued"})
        self.assertEqual(set(again.mapped("body")), {failed.body, unknown.body})
        self.assertEqual(again.create_uid, self.manager)
        self.assertEqual((failed | unknown).resent_by_id, self.manager)
        # once only: the same selection again is refused, nothing new
        with self.assertRaisesRegex(UserError, "already sent again"):
            selected.action_resend_selected()
        self.assertEqual(
            self.env["clinic.sms.message"].search_count(
                [("resend_of_id", "in", (failed | unknown).ids)]
            ),
            2,
        )

    def test_resend_refused_for_sent_or_queued_messages(self):
        _early, late, failed, _unknown, queued = self._history()
        for message in (late, queued):
            with (
                self.subTest(state=message.state),
                self.assertRaisesRegex(UserError, "failed or whose outcome"),
            ):
                (failed | message).with_user(self.manager).action_resend_selected()
        self.assertFalse(failed.resent_by_id)
        self.assertFalse(
            self.env["clinic.sms.message"].search(
                [("resend_of_id", "!=", False), ("company_id", "=", self.company.id)]
            )
        )

    def test_resend_refused_for_the_reception(self):
        failed, unknown = self._history()[2:4]
        with self.assertRaises(AccessError):
            (failed | unknown).with_user(self.receptionist).action_resend_selected()
        self.assertFalse((failed | unknown).resent_by_id)

    def test_resend_refused_for_another_clinic(self):
        """A manager of another clinic cannot resend this clinic's messages."""
        failed = self._history()[2]
        other = self.env["res.company"].create({"name": "Clinique Annexe"})
        outsider = make_user(
            self.env,
            "history.outsider",
            "base.group_user,clinic_sms_reminders.group_clinic_sms_manager",
            other,
        )
        with self.assertRaises(AccessError):
            failed.with_user(outsider).action_resend_selected()
        self.assertFalse(failed.resent_by_id)


@tagged("post_install", "-at_install")
class TestHistoryTour(HttpCase):
    """R-7.8 R-7.3 in a browser: an SMS manager of the main clinic finds a
    patient's messages, the sent one first, and resends the failed one."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = make_tour_user(
            cls.env,
            "history_manager",
            "base.group_user,clinic_sms_reminders.group_clinic_sms_manager",
        )
        company = cls.manager.company_id
        patient = cls.env["res.partner"].create(
            {"name": "History Tour Patient", "phone": "+33 6 48 26 15 93"}
        )
        now = fields.Datetime.now()
        Message = cls.env["clinic.sms.message"]
        Message._insert_queued(
            [
                {
                    "kind": "private",
                    "purpose": "essential",
                    "company_id": company.id,
                    "partner_id": patient.id,
                    "phone": "+33648261593",
                    "idempotency_key": f"history-tour:{name}",
                    "scheduled_at": now - timedelta(hours=hours),
                    "body": body,
                }
                for name, hours, body in (
                    ("sent", 3, "Your test results are ready."),
                    ("failed", 1, "Your results could not be sent by email: call us."),
                )
            ]
        )
        messages = Message.search([("idempotency_key", "like", "history-tour:")])
        cls.sent, cls.failed = messages.sorted("scheduled_at")
        # as the dispatcher records the provider's answers
        Message._write_rows(
            {
                cls.sent.id: {
                    "state": "delivered",
                    "sent_at": now - timedelta(hours=3),
                    "delivered_at": now - timedelta(hours=3),
                    "units": 1,
                },
                cls.failed.id: {"state": "failed", "reason": "provider_rejected"},
            }
        )

    def test_resend_from_the_history_list(self):
        self.start_tour(
            "/odoo/action-clinic_sms_reminders.clinic_sms_message_action",
            "clinic_sms_history_resend_tour",
            login="history_manager",
        )
        again = self.env["clinic.sms.message"].search(
            [("resend_of_id", "=", self.failed.id)]
        )
        self.assertEqual((again.state, again.body), ("queued", self.failed.body))
        self.assertEqual(again.create_uid, self.manager)
        self.assertEqual(self.failed.resent_by_id, self.manager)
        self.assertFalse(
            self.env["clinic.sms.message"].search([("resend_of_id", "=", self.sent.id)])
        )
