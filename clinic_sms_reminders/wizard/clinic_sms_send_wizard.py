from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools.safe_eval import safe_eval

from ..models.clinic_sms_message import CONSENT_FIELD, PURPOSES, REASONS

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
    template_id = fields.Many2one(
        "clinic.sms.template",
        required=True,
        domain="[('company_id', 'in', [company_id, False])]",
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
        marketing = self.mode == "mass" or self.purpose == "marketing"
        for partner in partners:
            reason = self._exclusion_reason(partner, seen, blacklisted)
            text, units = False, 0
            if not reason:
                seen.add(partner.clinic_mobile)
                text = self.template_id._render(
                    partner, self.env["calendar.event"], company, marketing=marketing
                )
                units = self.template_id._units(text, company)
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
        return self.env["clinic.sms.mailing"].create(
            {
                "name": self.template_id.name,
                "kind": self.mode,
                "purpose": self.purpose,
                "company_id": self.company_id.id,
                "template_id": self.template_id.id,
                "excluded_count": len(excluded),
                "exclusion_summary": summary,
            }
        )

    def _message_row(self, mailing, line):
        return {
            "kind": "mass" if self.mode == "mass" else "private",
            "purpose": self.purpose,
            "company_id": self.company_id.id,
            "template_id": self.template_id.id,
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
