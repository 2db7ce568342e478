from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .clinic_sms_message import PURPOSES

MAILING_KINDS = [("private", "Private message"), ("mass", "Mass mailing")]


class ClinicSmsMailing(models.Model):
    """One manual sending (R-5.3, R-5.4, R-5.5): who, which text, and what
    became of each message. Kept as the archive of past mailings."""

    _name = "clinic.sms.mailing"
    _inherit = "clinic.sms.clinic.mixin"
    _description = "SMS Mailing"
    _order = "create_date desc, id desc"
    _check_company_auto = True

    name = fields.Char(required=True)
    kind = fields.Selection(MAILING_KINDS, required=True, default="private")
    purpose = fields.Selection(PURPOSES, required=True, default="appointment")
    template_id = fields.Many2one("clinic.sms.template", check_company=True)
    user_id = fields.Many2one(
        "res.users", string="Sent By", default=lambda self: self.env.user, readonly=True
    )
    message_ids = fields.One2many("clinic.sms.message", "mailing_id", string="Messages")
    recipient_count = fields.Integer(compute="_compute_counts", string="Recipients")
    sent_count = fields.Integer(compute="_compute_counts", string="Sent")
    queued_count = fields.Integer(compute="_compute_counts", string="Queued")
    failed_count = fields.Integer(compute="_compute_counts", string="Failed")
    skipped_count = fields.Integer(compute="_compute_counts", string="Skipped")
    excluded_count = fields.Integer(
        readonly=True, string="Excluded", help="Recipients left out at review time."
    )
    exclusion_summary = fields.Text(readonly=True)
    units_used = fields.Integer(compute="_compute_counts", string="Units")

    @api.constrains("kind", "purpose")
    def _check_purpose(self):
        """A mass mailing is marketing: it never passes for an essential
        message, which would skip the marketing consent (R-5.3, R-3.6)."""
        for mailing in self:
            if mailing.kind == "mass" and mailing.purpose == "essential":
                raise ValidationError(
                    self.env._(
                        "A mass mailing cannot be sent as an essential message: "
                        "choose the marketing purpose."
                    )
                )

    @api.depends("message_ids.state", "message_ids.units")
    def _compute_counts(self):
        groups = self.env["clinic.sms.message"]._read_group(
            [("mailing_id", "in", self.ids)],
            ["mailing_id", "state"],
            ["__count", "units:sum"],
        )
        stats = {}
        for mailing, state, count, units in groups:
            entry = stats.setdefault(mailing.id, {"units": 0})
            entry[state] = count
            if state in ("sent", "delivered", "sending"):
                entry["units"] += units
        for mailing in self:
            entry = stats.get(mailing.id, {"units": 0})
            mailing.recipient_count = sum(
                count for key, count in entry.items() if key != "units"
            )
            mailing.sent_count = entry.get("sent", 0) + entry.get("delivered", 0)
            mailing.queued_count = entry.get("queued", 0) + entry.get("sending", 0)
            mailing.failed_count = entry.get("failed", 0)
            mailing.skipped_count = entry.get("skipped", 0) + entry.get("cancelled", 0)
            mailing.units_used = entry["units"]

    def action_view_messages(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "clinic_sms_reminders.clinic_sms_message_action"
        )
        action["domain"] = [("mailing_id", "=", self.id)]
        return action
