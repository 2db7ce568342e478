from odoo.tests import HttpCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestInsightTours(HttpCase):
    """R-10.1 R-10.2 R-9.3 in a browser, as a receptionist of the main clinic."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("en_US")
        company = cls.env.ref("base.main_company")
        cls.receptionist = new_test_user(
            cls.env,
            login="insight_receptionist",
            password="insight_receptionist",
            groups="base.group_user,clinic_sms_reminders.group_clinic_sms_user",
            company_id=company.id,
            company_ids=[(6, 0, company.ids)],
            tz="Europe/Paris",
            lang="en_US",
        )
        # nothing spent in the last 30 days: the dashboard says so
        cls.env["clinic.sms.wallet.move"].search(
            [("company_id", "=", company.id), ("move_type", "!=", "topup")]
        ).unlink()
        patient = cls.env["res.partner"].create(
            {"name": "Amélie Roux", "phone": "+33 6 21 43 65 87"}
        )
        cls.env["clinic.sms.waitlist"].create(
            {"partner_id": patient.id, "company_id": company.id}
        )

    def test_insight_tour(self):
        self.start_tour(
            "/odoo", "clinic_sms_insight_tour", login="insight_receptionist"
        )
