from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools.safe_eval import safe_eval

from ..models.clinic_sms_message import CONSENT_FIELD, PURPOSES, REASONS
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
    # Recipients and exclusions
    # ------------------------------------------------------------------
    def _recipients(self):
        """Partners chosen, in a stable order, before exclusions."""
        self.ensure_one()
        Partner = self.env["res.partner"]
        partners = self.partner_ids
        for saved in self.filter_ids:
            model = saved.model_id
            domain = safe_eval(saved.domain or "[]")
            if model == "res.users":
                partners |= self.env["res.users"].search(domain).partner_id
            elif model == "res.partner":
                partners |= Partner.search(domain)
        if self.mode == "mass":
            domain = [("clinic_is_patient", "=", True)]
            if self.gender and self.gender != "all":
                domain.append(("gender", "=", self.gender))
            partners |= self.company_id._clinic_sms_search_partners(domain)
        if self.recipient_type == "staff":
            staff = self.env["res.users"].search([("share", "=", False)]).partner_id
            partners = (
                partners & staff if (self.partner_ids or self.filter_ids) else staff
            )
        return partners.sorted("id")

    def _exclusion_reason(self, partner, seen, blacklisted):
        if not partner.clinic_mobile:
            return (
                "no_mobile"
                if partner.clinic_mobile_error in (False, "missing")
                else ("invalid_number")
            )
        consent = CONSENT_FIELD.get(self.purpose)
        if consent and not partner[consent]:
            return "no_consent"
        if partner.clinic_mobile in blacklisted and self.purpose != "essential":
            return "blacklisted"
        if partner.clinic_mobile in seen:
            return "duplicate"
        return False

    def _build_lines(self):
        self.ensure_one()
        partners = self._recipients()
        numbers = [p.clinic_mobile for p in partners if p.clinic_mobile]
        blacklisted = self.env["clinic.sms.message"]._blacklisted_numbers(numbers)
        seen, vals_list = set(), []
        company = self.company_id
        marketing = self._marketing()
        Template = self.env["clinic.sms.template"]
        for partner in partners:
            reason = self._exclusion_reason(partner, seen, blacklisted)
            text, units = False, 0
            if not reason:
                seen.add(partner.clinic_mobile)
                if self.content == "text":
                    text = self._free_text(Template._patient_lang(partner, company))
                else:
                    text = self.template_id._render(
                        partner,
                        self.env["calendar.event"],
                        company,
                        marketing=marketing,
                    )
                units = Template._units(text, company)
            vals_list.append(
                {
                    "wizard_id": self.id,
                    "partner_id": partner.id,
                    "phone": partner.clinic_mobile or partner.phone,
                    "included": not reason,
                    "reason": reason,
                    "text": text,
                    "units": units,
                }
            )
        self.line_ids.unlink()
        self.env["clinic.sms.send.wizard.line"].create(vals_list)

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

    def _create_mailing(self):
        excluded = self.line_ids.filtered(lambda line: not line.included)
        reasons = dict(
            self.env["clinic.sms.message"]
            ._fields["reason"]
            ._description_selection(self.env)
        )
        summary = "\n".join(
            f"{line.partner_id.display_name}: {reasons.get(line.reason, line.reason)}"
            for line in excluded
        )
        name = self.template_id.name
        if self.content == "text":
            name = (self.custom_text or "").strip()[:60]
        return self.env["clinic.sms.mailing"].create(
            {
                "name": name,
                "kind": self.mode,
                "purpose": self.purpose,
                "company_id": self.company_id.id,
                "template_id": self._template_sent().id,
                "excluded_count": len(excluded),
                "exclusion_summary": summary,
            }
        )

    def _template_sent(self):
        if self.content == "text":
            return self.env["clinic.sms.template"]
        return self.template_id

    def _message_row(self, mailing, line):
        return {
            "kind": "mass" if self.mode == "mass" else "private",
            "purpose": self.purpose,
            "company_id": self.company_id.id,
            "template_id": self._template_sent().id,
            "partner_id": line.partner_id.id,
            "phone": line.phone,
            "idempotency_key": f"mailing:{mailing.id}:{line.partner_id.id}",
            "scheduled_at": fields.Datetime.now(),
            "state": "queued",
            "mailing_id": mailing.id,
            "body": line.text,
        }


class ClinicSmsSendWizardLine(models.TransientModel):
    _name = "clinic.sms.send.wizard.line"
    _description = "Send SMS: recipient"
    _order = "included desc, id"

    wizard_id = fields.Many2one(
        "clinic.sms.send.wizard", required=True, ondelete="cascade"
    )
    partner_id = fields.Many2one("res.partner", string="Recipient", required=True)
    phone = fields.Char()
    included = fields.Boolean(string="Will Receive")
    reason = fields.Selection(REASONS, string="Why Not")
    text = fields.Text()
    units = fields.Integer()
