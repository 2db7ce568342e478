"""Recipients of the Send SMS wizard (R-5.3, R-5.4): who is chosen (picked,
saved searches, all patients of a gender, staff), who is left out and why,
and the review lines with each recipient's text and units."""

from odoo import models
from odoo.tools.safe_eval import safe_eval

from ..models.clinic_sms_message import CONSENT_FIELD


class ClinicSmsSendWizard(models.TransientModel):
    _inherit = "clinic.sms.send.wizard"  # pylint: disable=consider-merging-classes-inherited

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
