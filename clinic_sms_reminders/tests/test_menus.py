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
        names = set(root.child_id.mapped("name"))
        for expected in (
            "Appointments",
            "Send SMS",
            "Scheduled Reminders",
            "Campaigns",
            "History",
            "Received SMS",
            "Templates",
            "Wallet",
            "Configuration",
        ):
            self.assertIn(expected, names)
        config = self.env.ref("clinic_sms_reminders.menu_clinic_sms_config")
        self.assertEqual(
            config.group_ids,
            self.env.ref("clinic_sms_reminders.group_clinic_sms_manager"),
        )
        campaigns = self.env.ref("clinic_sms_reminders.menu_clinic_sms_campaigns")
        self.assertEqual(
            set(campaigns.child_id.mapped("name")),
            {"Recall Campaigns", "Mass Mailing", "Archive"},
        )
        menus = self.env["ir.ui.menu"].search([("id", "child_of", root.id)])
        for menu in menus.filtered("action"):
            self.assertTrue(menu.action.exists(), menu.name)
