from odoo import api, fields, models
from odoo.exceptions import AccessError

from ..tools import phone as phone_tools

CONSENT_FIELDS = {
    "clinic_consent_appointment": "appointment",
    "clinic_consent_recall": "recall",
    "clinic_consent_marketing": "marketing",
}


class ResPartner(models.Model):
    _inherit = "res.partner"

    # Names and values compatible with OCA partner_contact_birthdate / _gender.
    birthdate_date = fields.Date(string="Birthdate")
    gender = fields.Selection(
        [("male", "Male"), ("female", "Female"), ("other", "Other")],
    )
    clinic_is_patient = fields.Boolean(
        string="Is a Patient",
        index=True,
        help="Set automatically when the contact is the patient of an appointment.",
    )
    clinic_consent_appointment = fields.Boolean(
        string="Appointment SMS",
        default=True,
        help="Transactional messages about appointments (confirmations, reminders). "
        "On by default; the patient may refuse them.",
    )
    clinic_consent_recall = fields.Boolean(
        string="Recall SMS",
        default=True,
        help="Follow-up reminders to book the next visit for a service.",
    )
    clinic_consent_marketing = fields.Boolean(
        string="Marketing SMS",
        default=False,
        help="Mass mailings and birthday greetings. Opt-in: off until the patient "
        "agrees.",
    )
    clinic_consent_log_ids = fields.One2many(
        "clinic.sms.consent.log", "partner_id", string="Consent History"
    )
    clinic_mobile = fields.Char(
        string="Normalised Mobile",
        compute="_compute_clinic_mobile",
        store=True,
        index="btree_not_null",
        help="The phone number in E.164 form when it is a valid mobile number.",
    )
    clinic_mobile_error = fields.Selection(
        [
            ("missing", "No phone number"),
            ("no_region", "No country to read a national number"),
            ("invalid", "Invalid number"),
            ("too_short", "Number too short"),
            ("too_long", "Number too long"),
            ("not_mobile", "Not a mobile number"),
        ],
        string="Mobile Problem",
        compute="_compute_clinic_mobile",
        store=True,
        help="Why this contact cannot receive SMS (no number, invalid, landline).",
    )
    clinic_sms_message_ids = fields.One2many(
        "clinic.sms.message", "partner_id", string="SMS Messages"
    )
    clinic_sms_message_count = fields.Integer(
        compute="_compute_clinic_sms_message_count", string="SMS Count"
    )

    @api.depends("phone", "country_id", "company_id")
    def _compute_clinic_mobile(self):
        default_country = self.env.company.country_id
        for partner in self:
            country = partner.country_id or partner.company_id.country_id
            region = (country or default_country).code
            number, reason = phone_tools.normalize_mobile(partner.phone, region)
            partner.clinic_mobile = number
            partner.clinic_mobile_error = reason or False

    def _compute_clinic_sms_message_count(self):
        counts = dict(
            self.env["clinic.sms.message"]._read_group(
                [("partner_id", "in", self.ids)], ["partner_id"], ["__count"]
            )
        )
        for partner in self:
            partner.clinic_sms_message_count = counts.get(partner, 0)

    @api.model_create_multi
    def create(self, vals_list):
        partners = super().create(vals_list)
        partners._clinic_log_consent(
            {fname for vals in vals_list for fname in vals if fname in CONSENT_FIELDS}
        )
        return partners

    def write(self, vals):
        changed = {fname for fname in vals if fname in CONSENT_FIELDS}
        if not changed:
            return super().write(vals)
        before = {
            partner.id: {fname: partner[fname] for fname in changed} for partner in self
        }
        res = super().write(vals)
        self.filtered(
            lambda p: any(p[fname] != before[p.id][fname] for fname in changed)
        )._clinic_log_consent(changed, before=before)
        return res

    def _clinic_consent_source(self):
        source = self.env.context.get("clinic_consent_source")
        if source:
            return source
        if self.env.context.get("import_file"):
            return "import"
        return "user"

    def _clinic_log_consent(self, fnames, before=None, note=False):
        """Record one proof row per changed consent purpose (R-4.1, R-11.3),
        as the system: users cannot write the log themselves.

        The context may give the wording the patient saw
        (``clinic_consent_wording``, else the field's label and help), the
        clinic (``clinic_consent_company_id``) and the SMS that caused the
        change (``clinic_consent_inbound_id``)."""
        if not fnames or not self:
            return
        source = self._clinic_consent_source()
        context = self.env.context
        company_id = context.get("clinic_consent_company_id") or self.env.company.id
        vals_list = []
        for partner in self:
            for fname in sorted(fnames):
                if before is not None and partner[fname] == before[partner.id][fname]:
                    continue
                field = self._fields[fname]
                label = field._description_string(self.env)
                explained = field._description_help(self.env) or ""
                wording = context.get("clinic_consent_wording") or (
                    f"{label}: {explained}"
                )
                vals_list.append(
                    {
                        "partner_id": partner.id,
                        "company_id": company_id,
                        "purpose": CONSENT_FIELDS[fname],
                        "granted": partner[fname],
                        "source": source,
                        "note": note or context.get("clinic_consent_note") or False,
                        "wording": wording,
                        "inbound_id": context.get("clinic_consent_inbound_id") or False,
                    }
                )
        self.env["clinic.sms.consent.log"].sudo().create(vals_list)

    def action_clinic_gdpr_export(self):
        """Download this patient's consent and SMS record (GDPR access)."""
        self.ensure_one()
        export = self.env["clinic.sms.gdpr.export"]._export_partner(self)
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/clinic.sms.gdpr.export/{export.id}/data"
            f"?download=true&filename={export.filename}",
            "target": "self",
        }

    def action_clinic_verify_consent_chain(self):
        """Tell whether this patient's consent proof is intact (R-11.3)."""
        self.ensure_one()
        if not self.env.user.has_group("clinic_sms_reminders.group_clinic_sms_manager"):
            raise AccessError(self.env._("Only SMS managers can verify consent proof."))
        broken = self.env["clinic.sms.consent.log"]._verify_chain(self)[self.id]
        if broken is None:
            message, kind = (
                self.env._("The consent proof of %(name)s is intact.", name=self.name),
                "success",
            )
        else:
            message = self.env._(
                "The consent proof of %(name)s is broken from the change of "
                "%(date)s on.",
                name=self.name,
                date=broken[0].date,
            )
            kind = "danger"
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"message": message, "type": kind, "sticky": kind == "danger"},
        }

    def action_clinic_sms_messages(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "clinic_sms_reminders.clinic_sms_message_action"
        )
        action["domain"] = [("partner_id", "=", self.id)]
        action["context"] = {"default_partner_id": self.id}
        return action
