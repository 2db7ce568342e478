"""What may go out at the moment of sending, and with which text (R-2.3,
R-2.4, R-4.2, R-7.3): used by the dispatch engine ``clinic.sms.dispatcher``."""

from datetime import timedelta

from odoo import api, models
from odoo.tools import plaintext2html

from ..tools import placeholders, quiet_hours, segments
from .clinic_sms_message import CONSENT_FIELD

# Caused right now by the patient or the reception: goes out at once, even
# outside the sending window. Anything older, retried or held back
# (a backlog, a top-up) waits for the window like every other message.
# caused right now by the patient or the reception: the answers to a
# STOP, START or HELP and the reception's answer from the inbox included
IMMEDIATE_KINDS = (
    "confirmation",
    "reschedule",
    "cancellation",
    "stop_reply",
    "start_reply",
    "help_reply",
    "conversation",
)
IMMEDIATE_FOR = timedelta(minutes=15)
# A message due inside the window and picked up a little late (the cron runs
# every minute) still goes out: the window is about when it was meant to go.
LATE_GRACE = timedelta(minutes=10)
# Kinds about an appointment still to come: useless once it has started.
BEFORE_APPOINTMENT_KINDS = ("confirmation", "reschedule", "reminder", "scheduled")


class ClinicSmsEligibility(models.AbstractModel):
    _name = "clinic.sms.eligibility"
    _description = "Clinic SMS dispatch: what may go out"

    def _check_sendable(self, messages, now, changes):
        """Skip, cancel or hold back what must not go out now; return the rest.

        The number is the patient's as it is now (they may have changed it);
        new numbers and the states of held-back messages go into ``changes``.
        The phone blacklist wins for every purpose, essential ones included
        (R-4.2), but for the single confirmation of a STOP.

        What is the same for many messages of a batch (a clinic's window, a
        rule's statuses, whether a slot is inside the window) is worked out
        once per batch (``memo``), not once per message."""
        phones = {}
        for message in messages:
            phone = message.phone
            partner = message.partner_id
            if partner:
                phone = partner.clinic_mobile or False
                if phone != message.phone:
                    changes.setdefault(message.id, {})["phone"] = phone
            phones[message.id] = phone
        blacklisted = self._blacklisted_numbers(
            {phone for phone in phones.values() if phone}
        )
        # the one confirmation of an opt-out reaches the number it blacklisted
        exempt = set(messages._clinic_blacklist_exempt().ids)
        memo = {}
        sendable_ids = []
        for message in messages:
            partner = message.partner_id
            phone = phones[message.id]
            state = "cancelled"
            reason = self._appointment_block_reason(message, now, memo)
            if not reason:
                state = "skipped"
                if not phone:
                    reason = (
                        "no_mobile"
                        if partner and partner.clinic_mobile_error in (False, "missing")
                        else "invalid_number"
                    )
                elif phone in blacklisted and message.id not in exempt:
                    reason = "blacklisted"
                elif (
                    partner
                    and message.purpose in CONSENT_FIELD
                    and not partner[CONSENT_FIELD[message.purpose]]
                ):
                    reason = "no_consent"
            if not reason:
                state, reason, when = self._window_hold(message, now, memo)
                if when:
                    changes.setdefault(message.id, {})["scheduled_at"] = when
            if reason:
                changes.setdefault(message.id, {}).update(
                    state=state, reason=reason, reason_detail=False
                )
            else:
                sendable_ids.append(message.id)
        return messages.browse(sendable_ids)

    def _window_hold(self, message, now, memo=None):
        """(state, reason, new scheduled_at) when the sending window holds the
        message back at the moment of sending (R-2.3), else (False, False,
        False): it goes out now. ``memo``: a dict kept for one batch."""
        if memo is None:
            memo = {}
        scheduled_at = message.scheduled_at
        if (
            message.kind in IMMEDIATE_KINDS
            and not message.attempt_count
            and not message.reason
            and scheduled_at >= now - IMMEDIATE_FOR
        ):
            return False, False, False
        company = message.company_id
        tz_name = message.partner_id.tz
        if not quiet_hours.is_known_zone(tz_name):
            tz_name = company.clinic_sms_tz or "UTC"
        window_key = ("window", company.id)
        if window_key not in memo:
            memo[window_key] = company._clinic_sms_window()
        window = memo[window_key]
        if now - scheduled_at <= LATE_GRACE:
            inside_key = ("inside", scheduled_at, tz_name, window)
            if inside_key not in memo:
                memo[inside_key] = quiet_hours.is_inside_window(
                    scheduled_at, tz_name, window[0], window[1]
                )
            if memo[inside_key]:
                return False, False, False
        event = message.appointment_id
        deadline = (
            event.start if event and message.kind in BEFORE_APPOINTMENT_KINDS else None
        )
        when = quiet_hours.next_allowed_instant(
            now, tz_name, window[0], window[1], deadline
        )
        if when is None:
            return "skipped", "no_allowed_minute", False
        if when <= now:
            return False, False, False
        return "queued", "outside_window", when

    @api.model
    def _blacklisted_numbers(self, numbers):
        """The numbers of ``numbers`` in Odoo's phone blacklist (R-4.2), in one
        indexed query (numbers are already E.164, as the blacklist stores them)."""
        if not numbers:
            return set()
        self.env["phone.blacklist"].flush_model(["number", "active"])
        self.env.cr.execute(
            "SELECT number FROM phone_blacklist WHERE active AND number = ANY(%s)",
            [list(numbers)],
        )
        return {row[0] for row in self.env.cr.fetchall()}

    @api.model
    def _appointment_block_reason(self, message, now, memo=None):
        """Reason code when the appointment no longer wants this message;
        ``memo``: a dict kept for one batch (the rules' statuses)."""
        if message.kind == "recall" and message.recall_id:
            # checked again at the moment of sending
            return message.recall_id._booked_reason(message.partner_id, now)
        event = message.appointment_id
        if not event:
            return "appointment_cancelled" if message.appointment_start else False
        if not event.active:
            return "appointment_cancelled"
        is_cancellation = message.kind == "cancellation"
        if (event.clinic_status == "cancelled") != is_cancellation:
            return "appointment_status" if is_cancellation else "appointment_cancelled"
        if message.kind != "reminder":
            return False
        if message.appointment_start and event.start != message.appointment_start:
            return "appointment_moved"
        if event.start <= now:
            return "appointment_started"
        rule = message.rule_id
        if rule:
            if memo is None:
                memo = {}
            statuses_key = ("statuses", rule.id)
            if statuses_key not in memo:
                memo[statuses_key] = rule._statuses()
            if event.clinic_status not in memo[statuses_key]:
                return "appointment_status"
        return False

    @api.model
    def _prepare_texts(self, messages, company, changes):
        """Render the missing texts (grouped per template and language), count
        their units, and fail the messages without text or above the clinic's
        maximum parts. Returns the messages left and {message id: units}; the
        texts and outcomes go into ``changes``."""
        rendered = self.env["clinic.sms.template"]._render_messages(
            messages.filtered(lambda m: not m.body and m.template_id), fitted=True
        )
        smart = company.clinic_sms_smart_encoding
        max_parts = company.clinic_sms_max_parts
        no_text = self.env._("The message has no text.")
        ready_ids, units = [], {}
        for message in messages:
            vals = changes.setdefault(message.id, {})
            text = rendered.get(message.id, message.body)
            info = None
            if isinstance(text, placeholders.Fitted):
                # counted with the clinic's smart encoding while fitted
                text, info = text.text, text.info
            problem = text if isinstance(text, ValueError) else None
            if problem is None and not (text or "").strip():
                problem = no_text
            if problem is not None:
                vals.update(
                    state="failed", reason="render_error", reason_detail=str(problem)
                )
                continue
            info = info or segments.count(text, smart=smart)
            vals.update(body=info.text, units=info.parts, encoding=info.encoding)
            if info.parts > max_parts:
                vals.update(state="failed", reason="too_long", reason_detail=False)
                continue
            ready_ids.append(message.id)
            units[message.id] = info.parts
        return messages.browse(ready_ids), units

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
