"""Recall campaigns by email at the moment of sending (R-5.1): used by the
dispatch engine ``clinic.sms.dispatcher`` for messages of the email channel."""

from odoo import api, models
from odoo.tools import plaintext2html

from .clinic_sms_message import CONSENT_FIELD


class ClinicSmsEligibility(models.AbstractModel):
    _inherit = "clinic.sms.eligibility"

    @api.model
    def _send_emails(self, messages, now):
        """Recall campaigns by email: same text, through Odoo's mail queue; no
        message units are used. The phone blacklist does not apply to email;
        the consent does."""
        sent = messages.browse()
        for message in messages:
            partner = message.partner_id
            consent = CONSENT_FIELD.get(message.purpose)
            if not partner.email:
                message._set_state("skipped", "no_channel")
                continue
            if consent and not partner[consent]:
                message._set_state("skipped", "no_consent")
                continue
            body = message.body
            if not body and message.template_id:
                body = message.template_id._render_for(message)
            self.env["mail.mail"].sudo().create(
                {
                    "subject": message.template_id.name or message.company_id.name,
                    "body_html": plaintext2html(body or ""),
                    "email_to": partner.email,
                    "email_from": message.company_id.email_formatted or False,
                    "recipient_ids": [(4, partner.id)],
                }
            )
            message._internal().write(
                {"state": "sent", "sent_at": now, "units": 0, "body": body}
            )
            sent |= message
        self.env["clinic.sms.case.note"]._log_case_notes(sent)
