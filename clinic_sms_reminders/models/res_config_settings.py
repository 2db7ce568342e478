from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    clinic_sms_sender_name = fields.Char(
        related="company_id.clinic_sms_sender_name", readonly=False
    )
    clinic_sms_provider_id = fields.Many2one(
        related="company_id.clinic_sms_provider_id", readonly=False
    )
    clinic_sms_tz = fields.Selection(related="company_id.clinic_sms_tz", readonly=False)
    clinic_sms_quiet_start = fields.Float(
        related="company_id.clinic_sms_quiet_start", readonly=False
    )
    clinic_sms_quiet_end = fields.Float(
        related="company_id.clinic_sms_quiet_end", readonly=False
    )
    clinic_sms_group_gap_hours = fields.Float(
        related="company_id.clinic_sms_group_gap_hours", readonly=False
    )
    clinic_sms_max_parts = fields.Integer(
        related="company_id.clinic_sms_max_parts", readonly=False
    )
    clinic_sms_smart_encoding = fields.Boolean(
        related="company_id.clinic_sms_smart_encoding", readonly=False
    )
    clinic_sms_short_number = fields.Char(
        related="company_id.clinic_sms_short_number", readonly=False
    )
    clinic_sms_auto_cancel = fields.Boolean(
        related="company_id.clinic_sms_auto_cancel", readonly=False
    )
    clinic_sms_birthday_active = fields.Boolean(
        related="company_id.clinic_sms_birthday_active", readonly=False
    )
    clinic_sms_birthday_template_id = fields.Many2one(
        related="company_id.clinic_sms_birthday_template_id", readonly=False
    )
    clinic_sms_birthday_hour = fields.Float(
        related="company_id.clinic_sms_birthday_hour", readonly=False
    )
    clinic_sms_low_balance_threshold = fields.Integer(
        related="company_id.clinic_sms_low_balance_threshold", readonly=False
    )
