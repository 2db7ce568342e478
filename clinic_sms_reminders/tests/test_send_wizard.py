from odoo.exceptions import UserError
from odoo.tests import Form

from .common import ClinicSmsCase, in_window, make_user


class TestSendWizard(ClinicSmsCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        fr = cls.env.ref("base.fr").id
        Partner = cls.env["res.partner"]
        cls.ok = Partner.create(
            {
                "name": "Alice Ok",
                "phone": "06 11 11 11 11",
                "country_id": fr,
                "clinic_is_patient": True,
                "gender": "female",
                "clinic_consent_marketing": True,
            }
        )
        cls.no_mobile = Partner.create({"name": "Bob Nophone", "country_id": fr})
        cls.invalid = Partner.create(
            {"name": "Carl Bad", "phone": "12345", "country_id": fr}
        )
        cls.refused = Partner.create(
            {
                "name": "Dana Refused",
                "phone": "06 22 22 22 22",
                "country_id": fr,
                "clinic_consent_appointment": False,
            }
        )
        cls.blacklisted = Partner.create(
            {"name": "Eve Stop", "phone": "06 33 33 33 33", "country_id": fr}
        )
        cls.env["phone.blacklist"].sudo()._add(["+33633333333"])
        cls.twin = Partner.create(
            {"name": "Alice Twin", "phone": "+33 6 11 11 11 11", "country_id": fr}
        )
        cls.sms_template = cls.env["clinic.sms.template"].create(
            {
                "name": "Balance due",
                "kind": "private",
                "company_id": cls.company.id,
                "body": "Hello {patient_first_name}, please call {clinic_name}.",
            }
        )

    def _wizard(self, **values):
        vals = {"company_id": self.company.id, "template_id": self.sms_template.id}
        vals.update(values)
        return self.env["clinic.sms.send.wizard"].create(vals)

    def test_review_lists_exclusions_with_reasons(self):
        """R-5.5 R-5.4: the review step lists who will receive the message and
        who will not and why: no mobile, invalid number, no consent, opted out,
        duplicate number; units needed against the balance."""
        partners = (
            self.ok
            | self.no_mobile
            | self.invalid
            | self.refused
            | self.blacklisted
            | self.twin
        )
        wizard = self._wizard(partner_ids=[(6, 0, partners.ids)])
        wizard.action_review()
        self.assertEqual(wizard.step, "review")
        reasons = {line.partner_id: line.reason for line in wizard.line_ids}
        self.assertEqual(
            reasons,
            {
                self.ok: False,
                self.no_mobile: "no_mobile",
                self.invalid: "invalid_number",
                self.refused: "no_consent",
                self.blacklisted: "blacklisted",
                self.twin: "duplicate",
            },
        )
        self.assertEqual((wizard.included_count, wizard.excluded_count), (1, 5))
        self.assertEqual(wizard.units_needed, 1)
        self.assertEqual(wizard.balance, 100)
        self.assertIn("Hello Alice", wizard.preview)
        wizard.action_back()
        self.assertEqual(wizard.step, "compose")

    def test_send_queues_then_cron_sends_with_case_notes(self):
        """R-5.4 R-5.5 R-5.7 R-5.3: Send queues the messages (sent by the cron in
        batches), keeps the mailing in the archive with its counts, and writes a
        case note with the template name on each recipient, authored by the
        receptionist who sent it, without the text."""
        receptionist = make_user(
            self.env,
            "reception.paris",
            "base.group_user,clinic_sms_reminders.group_clinic_sms_user",
            self.company,
        )
        wizard = (
            self._wizard(partner_ids=[(6, 0, (self.ok | self.no_mobile).ids)])
            .with_user(receptionist)
            .with_company(self.company)
        )
        wizard.action_review()
        action = wizard.action_send()
        mailing = self.env["clinic.sms.mailing"].browse(action["res_id"])
        self.assertEqual(mailing.queued_count, 1)
        self.assertEqual(mailing.excluded_count, 1)
        self.assertIn("Bob Nophone", mailing.exclusion_summary)
        self._dispatch(in_window(mailing.message_ids.scheduled_at))
        mailing.invalidate_recordset()
        self.assertEqual((mailing.sent_count, mailing.units_used), (1, 1))
        note = self.ok.message_ids[0]
        self.assertIn("Balance due", note.body)
        self.assertNotIn("please call", note.body)
        self.assertEqual(note.author_id, receptionist.partner_id)
        self.assertEqual(self.wallet.balance, 99)

    def test_blocked_when_balance_short(self):
        """R-5.5 R-6.3: sending is blocked with a clear message when the balance
        is too low."""
        self.wallet.sudo()._add_units(-100)
        wizard = self._wizard(partner_ids=[(6, 0, self.ok.ids)])
        wizard.action_review()
        self.assertTrue(wizard.balance_short)
        with self.assertRaisesRegex(UserError, "needs 1 units but the clinic has 0"):
            wizard.action_send()
        self.assertFalse(
            self.env["clinic.sms.mailing"].search(
                [("company_id", "=", self.company.id)]
            )
        )

    def test_saved_searches_and_staff(self):
        """R-5.5: recipients from saved searches (ir.filters), or staff."""
        saved = self.env["ir.filters"].create(
            {
                "name": "Alices",
                "model_id": "res.partner",
                "domain": "[('name', 'ilike', 'Alice')]",
            }
        )
        wizard = self._wizard(filter_ids=[(6, 0, saved.ids)])
        wizard.action_review()
        self.assertEqual(wizard.line_ids.partner_id, self.ok | self.twin)
        staff = self._wizard(recipient_type="staff", purpose="essential")
        staff.action_review()
        internal = self.env["res.users"].search([("share", "=", False)]).partner_id
        self.assertEqual(staff.line_ids.partner_id, internal)

    def test_mass_mailing_by_gender_with_opt_out(self):
        """R-5.3 R-3.6: mass mailing to all patients or by gender, marketing
        consent required, opt-out mention added."""
        male = self.ok.copy(
            {"name": "Marc", "gender": "male", "phone": "06 44 44 44 44"}
        )
        wizard = (
            self.env["clinic.sms.send.wizard"]
            .with_context(default_mode="mass")
            .create(
                {
                    "company_id": self.company.id,
                    "template_id": self.sms_template.id,
                    "gender": "female",
                }
            )
        )
        self.assertEqual(wizard.purpose, "marketing")
        wizard.action_review()
        lines = wizard.line_ids.filtered("included")
        self.assertIn(self.ok, lines.partner_id)
        self.assertNotIn(male, wizard.line_ids.partner_id)
        self.assertTrue(
            lines.filtered(lambda l: l.partner_id == self.ok).text.endswith(
                self.sms_template.with_context(lang=self.ok.lang)._opt_out_mention(
                    self.company
                )
            )
        )

    def test_private_message_from_partner_list(self):
        """R-5.4: private messages to patients chosen by hand in a list."""
        action = self.env.ref(
            "clinic_sms_reminders.clinic_sms_send_wizard_action_partner"
        )
        self.assertEqual(action.binding_model_id.model, "res.partner")
        form = Form(
            self.env["clinic.sms.send.wizard"].with_context(
                active_model="res.partner", active_ids=(self.ok | self.refused).ids
            )
        )
        form.template_id = self.sms_template
        wizard = form.save()
        self.assertEqual(wizard.partner_ids, self.ok | self.refused)
