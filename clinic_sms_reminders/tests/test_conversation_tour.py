from odoo.tests import HttpCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestConversationTour(HttpCase):
    """R-9.2 in a browser: a receptionist of the main clinic answers a reply
    from the conversations inbox."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("en_US")
        cls.company = cls.env.ref("base.main_company")
        cls.receptionist = new_test_user(
            cls.env,
            login="inbox_receptionist",
            password="inbox_receptionist",
            groups="base.group_user,clinic_sms_reminders.group_clinic_sms_user",
            company_id=cls.company.id,
            company_ids=[(6, 0, cls.company.ids)],
            tz="Europe/Paris",
            lang="en_US",
        )
        cls.patient = cls.env["res.partner"].create(
            {
                "name": "Lucie Bernard",
                "phone": "+33 6 58 31 72 04",
                "country_id": cls.env.ref("base.fr").id,
                "lang": "en_US",
            }
        )
        cls.wallet = (
            cls.env["clinic.sms.wallet"]
            .sudo()
            ._ensure_for_companies(cls.company)[cls.company.id]
        )
        cls.wallet._add_units(100 - cls.wallet.balance)
        # no other unread thread in the main clinic: the systray counts one
        cls.env["clinic.sms.conversation"].search(
            [("company_id", "=", cls.company.id)]
        ).write({"unread_count": 0})
        provider = cls.env["clinic.sms.provider"].create(
            {"name": "Inbox sandbox", "company_id": cls.company.id}
        )
        cls.inbound = cls.env["clinic.sms.inbound"]._receive(
            provider, {"from": "+33658317204", "text": "Can I come at 11 instead?"}
        )

    def test_answer_a_reply_from_the_inbox(self):
        self.assertEqual(self.inbound.action, "logged")
        self.start_tour(
            "/odoo", "clinic_sms_conversation_tour", login="inbox_receptionist"
        )
        answer = self.env["clinic.sms.message"].search(
            [("kind", "=", "conversation"), ("partner_id", "=", self.patient.id)]
        )
        self.assertEqual(len(answer), 1)
        self.assertEqual(
            (answer.body, answer.state, answer.company_id, answer.phone),
            (
                "Yes, 11:00 is fine. See you tomorrow.",
                "queued",
                self.company,
                "+33658317204",
            ),
        )
        self.assertEqual(answer.create_uid, self.receptionist)
        self.assertEqual(self.inbound.conversation_id.unread_count, 0)
