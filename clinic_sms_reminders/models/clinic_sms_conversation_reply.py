"""Answering a patient from the inbox (R-9.2): whether they can be
written to now, and the typed answer queued through the outbox like any
message (counted, billed, consent and opt-out checked again at sending)."""

import uuid

from odoo import fields, models
from odoo.exceptions import UserError

from ..tools import segments
from .clinic_sms_conversation import PREVIEW_LENGTH, REPLY_PURPOSE
from .clinic_sms_message import CONSENT_FIELD


class ClinicSmsConversationReply(models.Model):
    _inherit = "clinic.sms.conversation"  # pylint: disable=consider-merging-classes-inherited

    def _recipient_problem(self):
        """Why the patient cannot be answered now, or None: no mobile, opted
        out (blacklisted), no consent."""
        self.ensure_one()
        partner = self.partner_id
        if not partner:
            return None
        number = partner.clinic_mobile
        if not number:
            return self.env._(
                "%(patient)s has no valid mobile number.", patient=partner.name
            )
        if self.env["clinic.sms.message"]._blacklisted_numbers({number}):
            return self.env._(
                "%(number)s has opted out (STOP): the clinic cannot write to "
                "this number any more, unless the patient replies START.",
                number=number,
            )
        if not partner[CONSENT_FIELD[REPLY_PURPOSE]]:
            return self.env._(
                "%(patient)s has not given consent to receive appointment SMS: "
                "record their consent on the patient before answering.",
                patient=partner.name,
            )
        return None

    def action_send_reply(self):
        """Queue the typed answer through the outbox, authored by the user,
        after checking the number, opt-out, consent, length and wallet."""
        self.ensure_one()
        self.check_access("write")
        text = (self.reply_text or "").strip()
        if not text:
            raise UserError(self.env._("Write the answer first."))
        problem = self._recipient_problem()
        if problem:
            raise UserError(problem)
        company = self.company_id
        info = segments.count(text, smart=company.clinic_sms_smart_encoding)
        if info.parts > company.clinic_sms_max_parts:
            raise UserError(
                self.env._(
                    "This answer takes %(parts)s SMS parts; the clinic allows "
                    "%(max)s. Shorten it.",
                    parts=info.parts,
                    max=company.clinic_sms_max_parts,
                )
            )
        balance = company.clinic_sms_wallet_id.balance
        if info.parts > balance:
            raise UserError(
                self.env._(
                    "This answer needs %(needed)s units but the clinic has "
                    "%(balance)s. Ask an SMS manager to replenish the wallet.",
                    needed=info.parts,
                    balance=balance,
                )
            )
        now = fields.Datetime.now()
        # as the user: the message is theirs (create_uid); a raw insert that
        # the dispatcher picks up, checks again and bills like any message
        self.env["clinic.sms.message"]._insert_queued(
            [
                {
                    "kind": "conversation",
                    "purpose": REPLY_PURPOSE,
                    "company_id": company.id,
                    "partner_id": self.partner_id.id,
                    "phone": self.partner_id.clinic_mobile,
                    "body": text,
                    "idempotency_key": f"conversation:{self.id}:{uuid.uuid4().hex}",
                    "scheduled_at": now,
                    "state": "queued",
                }
            ]
        )
        self.write(
            {
                "reply_text": False,
                "unread_count": 0,
                "last_message_date": now,
                "last_message_preview": text[:PREVIEW_LENGTH],
            }
        )
        self.env.ref(
            "clinic_sms_reminders.ir_cron_clinic_sms_dispatch"
        ).sudo()._trigger()
        return True
