"""The GDPR export of one patient (R-11.3): their consent events, messages
and replies, as a JSON file that only the SMS managers of the clinics
covered can download."""

import base64
import json

from odoo import api, fields, models
from odoo.exceptions import AccessError


class ClinicSmsGdprExport(models.Model):
    """One export of a patient's consent and message record (R-11.3, GDPR
    access request): who asked, when, for which clinics, and the file. The
    file is an attachment of this record, so only the SMS managers of those
    clinics can download it."""

    _name = "clinic.sms.gdpr.export"
    _description = "SMS GDPR Export"
    _order = "id desc"

    partner_id = fields.Many2one(
        "res.partner", string="Patient", required=True, ondelete="cascade"
    )
    company_id = fields.Many2one(
        "res.company",
        string="Clinic",
        required=True,
        default=lambda self: self.env.company,
    )
    company_ids = fields.Many2many("res.company", string="Clinics Covered")
    user_id = fields.Many2one(
        "res.users", string="Exported By", default=lambda self: self.env.user
    )
    data = fields.Binary(string="File", attachment=True, readonly=True)
    filename = fields.Char()

    @api.model
    def _export_partner(self, partner):
        """Build the JSON record of ``partner`` with what the current user may
        read (the clinics selected in the user's company switcher), store it
        on a new export row and return that row."""
        if not self.env.user.has_group("clinic_sms_reminders.group_clinic_sms_manager"):
            raise AccessError(
                self.env._("Only SMS managers can export a patient's SMS record.")
            )
        partner.check_access("read")
        companies = self.env.companies
        payload = self._export_payload(partner, companies)
        # the row and its file are written by the system only, from what the
        # user may read: nobody can make up an export
        export = self.sudo().create(
            {
                "partner_id": partner.id,
                "company_id": self.env.company.id,
                "company_ids": [(6, 0, companies.ids)],
                "user_id": self.env.user.id,
                "filename": f"sms-record-{partner.id}.json",
                "data": base64.b64encode(
                    json.dumps(
                        payload, ensure_ascii=False, indent=1, default=str
                    ).encode()
                ),
            }
        )
        return export.with_env(self.env)

    @api.model
    def _export_payload(self, partner, companies):
        company_domain = [("company_id", "in", companies.ids)]
        logs = self.env["clinic.sms.consent.log"].search(
            [("partner_id", "=", partner.id), "|", ("company_id", "=", False)]
            + company_domain,
            order="id",
        )
        messages = self.env["clinic.sms.message"].search(
            [("partner_id", "=", partner.id)] + company_domain, order="id"
        )
        replies = self.env["clinic.sms.inbound"].search(
            [("partner_id", "=", partner.id)] + company_domain, order="id"
        )
        chain = self.env["clinic.sms.consent.log"]._verify_chain(partner)[partner.id]
        blacklisted = bool(
            partner.clinic_mobile
            and self.env["phone.blacklist"]
            .sudo()
            .search_count([("number", "=", partner.clinic_mobile)], limit=1)
        )
        return {
            "patient": {
                "id": partner.id,
                "name": partner.name,
                "mobile": partner.clinic_mobile or None,
                "language": partner.lang or None,
                "consents": {
                    "appointment": partner.clinic_consent_appointment,
                    "recall": partner.clinic_consent_recall,
                    "marketing": partner.clinic_consent_marketing,
                },
                "opted_out": blacklisted,
            },
            "generated_at": fields.Datetime.now(),
            "generated_by": self.env.user.name,
            "clinics": companies.mapped("name"),
            "consent_chain": {
                "intact": chain is None,
                "first_broken_row": chain[0].id if chain else None,
            },
            "consent_events": [
                {
                    "id": log.id,
                    "date": log.date,
                    "clinic": log.company_id.name or None,
                    "purpose": log.purpose,
                    "granted": log.granted,
                    "source": log.source,
                    "wording": log.wording or None,
                    "note": log.note or None,
                    "recorded_by": log.user_id.name or None,
                    "previous_hash": log.previous_hash or "",
                    "hash": log.hash,
                }
                for log in logs
            ],
            "messages": [
                {
                    "id": message.id,
                    "clinic": message.company_id.name,
                    "kind": message.kind,
                    "purpose": message.purpose,
                    "state": message.state,
                    "reason": message.reason or None,
                    "phone": message.phone or None,
                    "text": message.body or None,
                    "template": message.template_id.name or None,
                    "scheduled_at": message.scheduled_at,
                    "sent_at": message.sent_at or None,
                    "delivered_at": message.delivered_at or None,
                }
                for message in messages
            ],
            "replies": [
                {
                    "id": reply.id,
                    "clinic": reply.company_id.name or None,
                    "received_at": reply.received_at,
                    "from": reply.from_number,
                    "text": reply.text or None,
                    "action": reply.action or None,
                }
                for reply in replies
            ],
        }
