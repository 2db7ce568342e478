from odoo.tests import TransactionCase


class TestMenus(TransactionCase):
    def test_sms_app_menus(self):
        """R-8.1: an "SMS" app with appointments, campaigns, Send SMS, scheduled
        reminders, history, templates and configuration; configuration is for
        SMS managers."""
        root = self.env.ref("clinic_sms_reminders.menu_clinic_sms_root")
        self.assertEqual(root.name, "SMS")
        self.assertIn(
            self.env.ref("clinic_sms_reminders.group_clinic_sms_user"), root.group_ids
        )
        # a short top bar: it fits in French too, nothing falls into "More"
        self.assertEqual(
            root.child_id.sorted("sequence").mapped("name"),
            [
                "Dashboard",
                "Appointments",
                "Send SMS",
                "Campaigns",
                "History",
                "Templates",
                "Reports",
                "Configuration",
            ],
        )

        def children(xmlid):
            menu = self.env.ref(f"clinic_sms_reminders.{xmlid}")
            return menu.child_id.sorted("sequence").mapped("name")

        self.assertEqual(
            children("menu_clinic_sms_appointments_root"),
            ["Appointments", "Patients", "Waitlist"],
        )
        self.assertEqual(
            children("menu_clinic_sms_history_root"),
            ["Conversations", "Sent Messages", "Received SMS", "Consent Log"],
        )
        self.assertIn("Wallet Balance", children("menu_clinic_sms_reports"))
        config = self.env.ref("clinic_sms_reminders.menu_clinic_sms_config")
        self.assertEqual(
            config.group_ids,
            self.env.ref("clinic_sms_reminders.group_clinic_sms_manager"),
        )
        campaigns = self.env.ref("clinic_sms_reminders.menu_clinic_sms_campaigns")
        self.assertEqual(
            set(campaigns.child_id.mapped("name")),
            {"Scheduled Reminders", "Recall Campaigns", "Mass Mailing", "Archive"},
        )
        menus = self.env["ir.ui.menu"].search([("id", "child_of", root.id)])
        for menu in menus.filtered("action"):
            self.assertTrue(menu.action.exists(), menu.name)
