"""What the Send SMS wizard queues (R-5.3): the mailing that records the
sending and its exclusions, and one outbox row per included recipient."""

from odoo import fields, models


class ClinicSmsSendWizard(models.TransientModel):
    _inherit = "clinic.sms.send.wizard"  # pylint: disable=consider-merging-classes-inherited

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
