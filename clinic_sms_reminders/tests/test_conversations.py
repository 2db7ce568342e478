"""Conversations inbox (R-9.2, R-7.6): free-text replies in one thread per
patient and clinic, unread counts, answers from the thread, assign, close."""

from odoo import fields
from odoo.exceptions import AccessError, UserError, ValidationError

from .common import ClinicSmsCase, make_user

JANE = "+33647218395"


class TestConversations(ClinicSmsCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Conversation = cls.env["clinic.sms.conversation"]
        cls.desk = cls.Conversation.with_user(cls.receptionist)
        # a number of her own: demo contacts share the common test number
        cls.patient.phone = "06 47 21 83 95"
        cls.other = cls.env["res.company"].create(
            {
                "name": "Cabinet Rive Gauche",
                "country_id": cls.env.ref("base.fr").id,
                "clinic_sms_tz": "Europe/Paris",
            }
        )
        cls.other_reception = make_user(
            cls.env,
            "reception.rive.gauche@example.com",
            "base.group_user,clinic_sms_reminders.group_clinic_sms_user",
            cls.other,
        )

    def _reply(self, text, number=JANE, external_id=None):
        values = {"from": number, "to": "36180", "text": text}
        if external_id:
            values["external_id"] = external_id
        return self.env["clinic.sms.inbound"]._receive(self.provider, values)

    def _thread(self, user=None):
        model = self.Conversation.with_user(user) if user else self.desk
        return model.search([("partner_id", "=", self.patient.id)])

    def test_free_text_reply_opens_one_thread_with_unread_count(self):
        """R-9.2 R-7.6: a reply that is no keyword opens the patient's thread
        in the clinic, unread; the next one lands in the same thread."""
        first = self._reply("Bonjour, puis-je venir à 11h plutôt ?", external_id="a1")
        self.assertEqual(first.action, "logged")
        thread = self._thread()
        self.assertEqual(len(thread), 1)
        self.assertEqual(first.conversation_id, thread)
        self.assertEqual(
            (thread.company_id, thread.partner_id, thread.phone, thread.state),
            (self.company, self.patient, JANE, "open"),
        )
        self.assertEqual(thread.unread_count, 1)
        self.assertTrue(thread.has_unread)
        self.assertEqual(thread.last_message_preview, first.text)
        self.assertEqual(self.desk.clinic_unread_count(), 1)

        second = self._reply("Et mon fils a besoin d'un contrôle.", external_id="a2")
        self.assertEqual(self._thread(), thread)
        self.assertEqual(second.conversation_id, thread)
        self.assertEqual(thread.unread_count, 2)
        # two unread replies are still one thread to answer
        self.assertEqual(self.desk.clinic_unread_count(), 1)
        self.assertEqual(thread.last_message_preview, second.text)
        self.assertIn("puis-je venir à 11h", thread.thread_html)
        self.assertIn("mon fils a besoin d&#39;un contrôle", thread.thread_html)

    def test_thread_shows_the_patients_words_never_interprets_them(self):
        """R-9.2: the thread is HTML; the patient's text is escaped."""
        self._reply("<b>urgent</b><script>alert(1)</script>")
        html = str(self._thread().thread_html)
        self.assertNotIn("<script>", html)
        self.assertIn("&lt;script&gt;", html)

    def test_keyword_replies_show_in_the_thread_but_are_not_unread(self):
        """R-9.2 decision: a keyword (OUI) is handled automatically; it shows
        in an existing thread without counting as unread, and opens none."""
        self._appointment()
        confirm = self._reply("OUI", external_id="k1")
        self.assertEqual(confirm.action, "confirm")
        self.assertFalse(self._thread())
        self._reply("Merci, à demain !", external_id="k2")
        thread = self._thread()
        self.assertEqual(thread.unread_count, 1)
        self._reply("OUI", external_id="k3")
        self.assertEqual(thread.unread_count, 1)
        self.assertEqual(thread.last_message_preview, "OUI")
        received = [e for e in thread._thread_entries() if e[1] == "in"]
        self.assertEqual(
            [text for _date, _way, text, _status in received],
            ["OUI", "Merci, à demain !", "OUI"],
        )

    def test_unknown_sender_opens_no_thread(self):
        """R-9.2: a thread is a patient's; a number nobody knows stays in
        Received SMS."""
        inbound = self._reply("Qui est-ce ?", number="+33698765432")
        self.assertEqual(inbound.action, "unmatched")
        self.assertFalse(self.Conversation.search([("phone", "=", "+33698765432")]))

    def test_answer_from_the_thread_is_queued_billed_and_read(self):
        """R-9.2 R-6.2: the reception answers in free text; the live counter
        shows the units against the wallet; the answer is queued as theirs,
        then sent and billed like any message; the thread is read."""
        self._reply("Puis-je venir à 11h plutôt ?")
        thread = self._thread()
        answer = (
            "Bonjour Jane, oui 11h est possible demain avec le Dr Martin. "
            "Merci de venir 10 minutes en avance pour les formalités "
            "administratives. A demain, la Clinique Test."
        )
        thread.reply_text = answer
        self.assertEqual((thread.reply_parts, thread.wallet_balance), (2, 100))
        self.assertFalse(thread.reply_problem)
        # the clinic's maximum parts is checked before queuing, not at dispatch
        with self.assertRaisesRegex(
            UserError, "takes 2 SMS parts; the clinic allows 1"
        ):
            thread.action_send_reply()
        self.company.clinic_sms_max_parts = 2
        thread.action_send_reply()
        message = self.env["clinic.sms.message"].search(
            [("kind", "=", "conversation"), ("partner_id", "=", self.patient.id)]
        )
        self.assertEqual(len(message), 1)
        self.assertEqual(
            (message.state, message.purpose, message.company_id, message.phone),
            ("queued", "appointment", self.company, JANE),
        )
        self.assertEqual(message.body, answer)
        self.assertEqual(message.create_uid, self.receptionist)
        self.assertEqual((thread.unread_count, thread.reply_text), (0, False))
        self.assertEqual(self.desk.clinic_unread_count(), 0)
        self._dispatch(fields.Datetime.now())
        # the sandbox provider reports the delivery at once
        self.assertEqual((message.state, message.units), ("delivered", 2))
        self.assertEqual(self.wallet.balance, 98)
        self.assertIn("11h est possible", thread.thread_html)

    def test_answer_to_an_opted_out_number_is_refused(self):
        """R-9.2 R-4.2: after STOP the reception cannot answer; the reason is
        shown before sending and nothing is queued."""
        self._reply("Je ne peux pas venir, désolée", external_id="s1")
        self._reply("STOP", external_id="s2")
        thread = self._thread()
        thread.reply_text = "Voulez-vous un autre rendez-vous ?"
        self.assertIn("opted out", thread.reply_problem)
        with self.assertRaisesRegex(UserError, r"\+33647218395 has opted out"):
            thread.action_send_reply()
        self.assertFalse(
            self.env["clinic.sms.message"].search([("kind", "=", "conversation")])
        )

    def test_answer_without_consent_is_refused(self):
        """R-9.2 R-4.1: a patient who refused appointment SMS is not answered
        by SMS."""
        self._reply("Pouvez-vous m'envoyer l'adresse ?")
        self.patient.clinic_consent_appointment = False
        thread = self._thread()
        thread.reply_text = "12 rue de la Paix"
        with self.assertRaisesRegex(UserError, "Jane Doe has not given consent"):
            thread.action_send_reply()
        self.assertFalse(
            self.env["clinic.sms.message"].search([("kind", "=", "conversation")])
        )

    def test_answer_above_the_wallet_is_refused(self):
        """R-6.2: an answer needing more units than the wallet holds is
        refused with the figures."""
        self._reply("Vous êtes ouverts samedi ?")
        self.wallet.sudo()._add_units(-self.wallet.balance)
        thread = self._thread()
        thread.reply_text = "Oui, de 9h à 12h."
        with self.assertRaisesRegex(UserError, "needs 1 units but the clinic has 0"):
            thread.action_send_reply()

    def test_other_clinic_cannot_see_or_answer(self):
        """R-8.2: another clinic's reception neither finds nor reads the
        thread, nor answers in it."""
        self._reply("Mon rendez-vous est-il confirmé ?")
        thread = self._thread()
        other = self.Conversation.with_user(self.other_reception)
        self.assertFalse(other.search([]))
        self.assertEqual(other.clinic_unread_count(), 0)
        with self.assertRaises(AccessError):
            thread.with_user(self.other_reception).read(["thread_html"])
        with self.assertRaises(AccessError):
            thread.with_user(self.other_reception).write({"reply_text": "Oui"})
        with self.assertRaises(AccessError):
            thread.with_user(self.other_reception).action_send_reply()

    def test_receptionist_cannot_move_a_thread_or_create_one(self):
        """R-8.2: a thread stays the patient's and the clinic's."""
        self._reply("Bonjour")
        thread = self._thread()
        with self.assertRaises(UserError):
            thread.write({"company_id": self.other.id})
        with self.assertRaises(AccessError):
            self.desk.create({"company_id": self.company.id, "partner_id": 1})

    def test_assign_close_and_reopen_on_a_new_reply(self):
        """R-9.2: assign to me, close; a new free-text reply reopens it,
        unread again."""
        self._reply("Bonjour, j'ai une question")
        thread = self._thread()
        thread.action_assign_me()
        self.assertEqual(thread.user_id, self.receptionist)
        self.assertEqual(
            self.desk.search([("user_id", "=", self.receptionist.id)]), thread
        )
        thread.action_close()
        self.assertEqual((thread.state, thread.unread_count), ("closed", 0))
        self._reply("Finalement, pouvez-vous me rappeler ?")
        self.assertEqual(self._thread(), thread)
        self.assertEqual((thread.state, thread.unread_count), ("open", 1))
        # the assignment is kept: the same person follows the patient
        self.assertEqual(thread.user_id, self.receptionist)
        thread.action_close()
        thread.action_reopen()
        self.assertEqual(thread.state, "open")
        thread.action_mark_read()
        self.assertFalse(thread.has_unread)

    def test_assigned_only_to_staff_of_the_clinic(self):
        """R-9.2 R-8.2: the reception cannot hand a thread to someone of
        another clinic (the form's domain is no rule over RPC), nor to a
        portal user; a colleague of the clinic is fine."""
        self._reply("Bonjour, une question sur ma facture")
        thread = self._thread()
        with self.assertRaises(ValidationError):
            thread.write({"user_id": self.other_reception.id})
        portal = self.env["res.users"].create(
            {
                "name": "Portal Patient",
                "login": "portal.patient@example.com",
                "group_ids": [(6, 0, self.env.ref("base.group_portal").ids)],
                "company_id": self.company.id,
                "company_ids": [(6, 0, self.company.ids)],
            }
        )
        with self.assertRaises(ValidationError):
            thread.write({"user_id": portal.id})
        colleague = make_user(
            self.env,
            "colleague.desk@example.com",
            "base.group_user,clinic_sms_reminders.group_clinic_sms_user",
            self.company,
        )
        thread.write({"user_id": colleague.id})
        self.assertEqual(thread.user_id, colleague)

    def test_opening_the_thread_in_the_inbox_reads_it(self):
        """R-9.2: the inbox's form reads the thread: no unread reply left; a
        plain read elsewhere (an export, a report) leaves it unread."""
        self._reply("Bonjour, c'est pour un renouvellement d'ordonnance")
        thread = self._thread()
        thread.web_read({"unread_count": {}})
        self.assertEqual(thread.unread_count, 1)
        inbox = self.desk.with_context(clinic_conversation_open=True)
        # the inbox's list of one thread does not read it
        inbox.web_search_read([], {"unread_count": {}})
        self.assertEqual(thread.unread_count, 1)
        opened = thread.with_context(clinic_conversation_open=True)
        values = opened.web_read({"unread_count": {}, "thread_html": {}})
        self.assertEqual(values[0]["unread_count"], 0)
        self.assertIn("renouvellement", values[0]["thread_html"])
        self.assertEqual(self.desk.clinic_unread_count(), 0)
