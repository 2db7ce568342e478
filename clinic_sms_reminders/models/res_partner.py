from odoo import api, fields, models

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
        """Record one proof row per changed consent purpose (R-4.1)."""
        if not fnames or not self:
            return
        source = self._clinic_consent_source()
        vals_list = []
        for partner in self:
            for fname in sorted(fnames):
                if before is not None and partner[fname] == before[partner.id][fname]:
                    continue
                vals_list.append(
                    {
                        "partner_id": partner.id,
                        "purpose": CONSENT_FIELDS[fname],
                        "granted": partner[fname],
                        "source": source,
                        "note": note,
                    }
                )
        self.env["clinic.sms.consent.log"].sudo().create(vals_list)

    def action_clinic_sms_messages(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "clinic_sms_reminders.clinic_sms_message_action"
        )
        action["domain"] = [("partner_id", "=", self.id)]
        action["context"] = {"default_partner_id": self.id}
        return action
