from odoo import api, fields, models
from odoo.exceptions import UserError

from ..models.clinic_sms_message import PURPOSES
from ..tools import segments

GENDERS = [
    ("all", "All"),
    ("female", "Female"),
    ("male", "Male"),
    ("other", "Other"),
]


class ClinicSmsSendWizard(models.TransientModel):
    """Send SMS (R-5.3, R-5.4, R-5.5): choose recipients (clients or staff, saved
    filters, hand-picked, or all patients by gender), a template, review who
    will and will not receive it and why, then queue the messages. Sending is
    done by the dispatch cron in batches, never in this request."""

    _name = "clinic.sms.send.wizard"
    _description = "Send SMS"

    step = fields.Selection(
        [("compose", "Compose"), ("review", "Review")], default="compose"
    )
    mode = fields.Selection(
        [("private", "Private message"), ("mass", "Mass mailing")],
        required=True,
        default="private",
    )
    recipient_type = fields.Selection(
        [("client", "Clients"), ("staff", "Staff")], required=True, default="client"
    )
    gender = fields.Selection(
        GENDERS, default="all", help="Mass mailing: all patients or one gender."
    )
    filter_ids = fields.Many2many(
        "ir.filters",
        string="Saved Searches",
        domain="[('model_id', 'in', ['res.partner', 'res.users'])]",
        help="Include everyone matching these saved searches (Odoo favourites).",
    )
    partner_ids = fields.Many2many("res.partner", string="Recipients")
    content = fields.Selection(
        [("template", "Template"), ("text", "Free text")],
        required=True,
        default="template",
    )
    template_id = fields.Many2one(
        "clinic.sms.template",
        domain="[('company_id', 'in', [company_id, False])]",
    )
    custom_text = fields.Text(string="Text")
    text_length = fields.Integer(compute="_compute_text_counter", string="Characters")
    text_parts = fields.Integer(compute="_compute_text_counter", string="Parts")
    text_chars_left = fields.Integer(
        compute="_compute_text_counter", string="Characters Left"
    )
    text_encoding = fields.Selection(
        [("gsm7", "GSM-7"), ("ucs2", "Unicode (UCS-2)")],
        compute="_compute_text_counter",
        string="Encoding",
    )
    purpose = fields.Selection(
        PURPOSES,
        required=True,
        default="appointment",
        help="Which consent recipients must have given.",
    )
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    line_ids = fields.One2many(
        "clinic.sms.send.wizard.line", "wizard_id", readonly=True
    )
    included_count = fields.Integer(compute="_compute_review")
    excluded_count = fields.Integer(compute="_compute_review")
    units_needed = fields.Integer(compute="_compute_review")
    balance = fields.Integer(compute="_compute_review")
    balance_short = fields.Boolean(compute="_compute_review")
    preview = fields.Text(compute="_compute_review")

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        context = self.env.context
        if context.get("active_model") == "res.partner" and context.get("active_ids"):
            values["partner_ids"] = [(6, 0, context["active_ids"])]
        if values.get("mode") == "mass":
            values["purpose"] = "marketing"
        return values

    @api.onchange("mode")
    def _onchange_mode(self):
        self.purpose = "marketing" if self.mode == "mass" else "appointment"

    @api.depends("custom_text", "content", "mode", "purpose", "company_id")
    def _compute_text_counter(self):
        """Live counter of the free text, opt-out mention included (R-5.5)."""
        for wizard in self:
            info = segments.count(
                wizard._free_text(),
                smart=wizard.company_id.clinic_sms_smart_encoding,
            )
            wizard.text_length = info.length
            wizard.text_parts = info.parts
            wizard.text_chars_left = info.chars_left
            wizard.text_encoding = info.encoding

    def _marketing(self):
        return self.mode == "mass" or self.purpose == "marketing"

    def _free_text(self, lang=None):
        """The free text as sent: marketing texts end with the opt-out mention
        (R-3.6), in the recipient's language."""
        text = (self.custom_text or "").strip()
        if not text or not self._marketing():
            return text
        Template = self.env["clinic.sms.template"].with_context(
            lang=lang or self.env.lang
        )
        return f"{text} {Template._opt_out_mention(self.company_id)}"

    def _check_content(self):
        """A message is refused before sending when it cannot be filled for a
        recipient: no text, or a template whose placeholders need an
        appointment, which a manual message has not (R-5.5)."""
        self.ensure_one()
        if self.mode == "mass" and self.purpose == "essential":
            raise UserError(
                self.env._(
                    "A mass mailing is never essential: choose the marketing "
                    "purpose (recipients' consent and opt-outs are respected)."
                )
            )
        if self.content == "text":
            if not (self.custom_text or "").strip():
                raise UserError(self.env._("Write the text of the message."))
            return
        if not self.template_id:
            raise UserError(self.env._("Choose a template or write a free text."))
        missing = self.template_id._missing_values(
            self.env["res.partner"], self.env["calendar.event"], self.company_id
        )
        appointment_only = {"date", "time", "practitioner", "service"}
        missing = [name for name in missing if name in appointment_only]
        if missing:
            raise UserError(
                self.env._(
                    "Template %(template)s needs an appointment for %(elements)s: "
                    "a message sent from here has none, so it would go out with "
                    "blanks. Choose another template or write a free text.",
                    template=self.template_id.name,
                    elements=", ".join(f"{{{name}}}" for name in missing),
                )
            )

    @api.depends("line_ids", "template_id")
    def _compute_review(self):
        for wizard in self:
            included = wizard.line_ids.filtered("included")
            wizard.included_count = len(included)
            wizard.excluded_count = len(wizard.line_ids) - len(included)
            wizard.units_needed = sum(included.mapped("units"))
            wallet = wizard.company_id.clinic_sms_wallet_id
            wizard.balance = wallet.balance
            wizard.balance_short = wizard.units_needed > wallet.balance
            wizard.preview = included[:1].text

    # ------------------------------------------------------------------
    # Buttons: Next, Back, Send (Cancel closes the dialog)
    # ------------------------------------------------------------------
    def _reopen(self):
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
            "name": self.env._("Send SMS"),
        }

    def action_review(self):
        self.ensure_one()
        self._check_content()
        self._build_lines()
        if not self.line_ids:
            raise UserError(self.env._("Choose at least one recipient."))
        self.step = "review"
        return self._reopen()

    def action_back(self):
        self.ensure_one()
        self.step = "compose"
        return self._reopen()

    def action_send(self):
        self.ensure_one()
        if self.step != "review":
            return self.action_review()
        included = self.line_ids.filtered("included")
        if not included:
            raise UserError(self.env._("Nobody can receive this message."))
        if self.balance_short:
            raise UserError(
                self.env._(
                    "This message needs %(needed)s units but the clinic has "
                    "%(balance)s. Ask an SMS manager to replenish the wallet, or "
                    "choose fewer recipients.",
                    needed=self.units_needed,
                    balance=self.balance,
                )
            )
        mailing = self._create_mailing()
        self.env["clinic.sms.message"]._insert_queued(
            [self._message_row(mailing, line) for line in included]
        )
        self.env.ref(
            "clinic_sms_reminders.ir_cron_clinic_sms_dispatch"
        ).sudo()._trigger()
        return {
            "type": "ir.actions.act_window",
            "res_model": "clinic.sms.mailing",
            "res_id": mailing.id,
            "view_mode": "form",
            "target": "current",
        }
