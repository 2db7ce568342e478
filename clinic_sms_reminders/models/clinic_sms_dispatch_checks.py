"""What may go out at the moment of sending, and with which text (R-2.3,
R-2.4, R-4.2, R-7.3): used by the dispatch engine ``clinic.sms.dispatcher``."""

from collections import namedtuple
from datetime import timedelta

from odoo import api, models
from odoo.tools import SQL

from ..tools import placeholders, quiet_hours, segments
from .clinic_sms_message import CONSENT_FIELD

# Caused right now by the patient or the reception (the answers to a STOP,
# START or HELP and the reception's answer from the inbox included): goes out
# at once, even outside the sending window. Anything older, retried or
# held back (a backlog, a top-up) waits for the window like every other message.
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


# What the checks read of a message's patient (``_sendability_rows``).
SENDABILITY_PARTNER = (
    "clinic_mobile",
    "clinic_mobile_error",
    "tz",
    *CONSENT_FIELD.values(),
)
SendabilityRow = namedtuple(
    "SendabilityRow",
    [
        "id",
        "phone",
        "kind",
        "purpose",
        "scheduled_at",
        "attempt_count",
        "reason",
        "appointment_start",
        "rule_id",
        "recall_id",
        "company_id",
        "partner_id",
    ]
    + list(SENDABILITY_PARTNER)
    + ["event_id", "event_active", "clinic_status", "start"],
)


class ClinicSmsEligibility(models.AbstractModel):
    _name = "clinic.sms.eligibility"
    _description = "Clinic SMS dispatch: what may go out"

    def _check_sendable(self, messages, now, changes):
        """Skip, cancel or hold back what must not go out now; return the rest.

        The number is the patient's as it is now (they may have changed it);
        new numbers and the states of held-back messages go into ``changes``.
        The phone blacklist wins for every purpose, essential ones included
        (R-4.2), but for the single confirmation of a STOP.

        What the checks read of a message, its patient and its appointment
        comes in one query per batch (``_sendability_rows``), and what is the
        same for many messages (a clinic's window, a rule's statuses, whether
        a slot is inside the window) is worked out once (``memo``)."""
        rows = self._sendability_rows(messages)
        phones = {}
        for row in rows.values():
            phone = row.phone
            if row.partner_id:
                phone = row.clinic_mobile or False
                if phone != row.phone:
                    changes.setdefault(row.id, {})["phone"] = phone
            phones[row.id] = phone
        blacklisted = self._blacklisted_numbers(
            {phone for phone in phones.values() if phone}
        )
        # the one confirmation of an opt-out reaches the number it blacklisted
        exempt = set(messages._clinic_blacklist_exempt().ids)
        memo = {}
        sendable_ids = []
        for message_id in messages.ids:
            row = rows[message_id]
            phone = phones[message_id]
            state = "cancelled"
            reason = self._appointment_block_reason(row, now, memo)
            if not reason:
                state = "skipped"
                if not phone:
                    reason = (
                        "no_mobile"
                        if row.partner_id
                        and row.clinic_mobile_error in (None, False, "missing")
                        else "invalid_number"
                    )
                elif phone in blacklisted and message_id not in exempt:
                    reason = "blacklisted"
                elif (
                    row.partner_id
                    and row.purpose in CONSENT_FIELD
                    and not getattr(row, CONSENT_FIELD[row.purpose])
                ):
                    reason = "no_consent"
            if not reason:
                state, reason, when = self._window_hold(row, now, memo)
                if when:
                    changes.setdefault(message_id, {})["scheduled_at"] = when
            if reason:
                changes.setdefault(message_id, {}).update(
                    state=state, reason=reason, reason_detail=False
                )
            else:
                sendable_ids.append(message_id)
        return messages.browse(sendable_ids)

    @api.model
    def _sendability_rows(self, messages):
        """{message id: row} of what the checks read, as stored now: the
        message's own columns, its patient's (``partner_id`` and the
        ``SENDABILITY_PARTNER`` columns, None without a patient) and its
        appointment's (``event_id``, ``event_active``, ``clinic_status``,
        ``start``)."""
        messages.flush_recordset()
        self.env["res.partner"].flush_model(SENDABILITY_PARTNER)
        self.env["calendar.event"].flush_model(["active", "clinic_status", "start"])
        # three lookups by primary key: a join lets the planner scan the
        # whole of res_partner for a batch of 500
        cr = self.env.cr
        cr.execute(
            """
            SELECT id, phone, kind, purpose, scheduled_at, attempt_count, reason,
                   appointment_start, rule_id, recall_id, company_id, partner_id,
                   appointment_id
              FROM clinic_sms_message WHERE id = ANY(%s)
            """,
            [messages.ids],
        )
        rows = cr.fetchall()
        cr.execute(
            SQL(
                "SELECT id, %s FROM res_partner WHERE id = ANY(%s)",
                SQL(", ").join(SQL.identifier(c) for c in SENDABILITY_PARTNER),
                list({row[11] for row in rows if row[11]}),
            )
        )
        no_partner = (None,) * len(SENDABILITY_PARTNER)
        partners = {row[0]: row[1:] for row in cr.fetchall()}
        cr.execute(
            "SELECT id, active, clinic_status, start FROM calendar_event"
            " WHERE id = ANY(%s)",
            [list({row[12] for row in rows if row[12]})],
        )
        events = {row[0]: row for row in cr.fetchall()}
        no_event = (None, None, None, None)
        return {
            row[0]: SendabilityRow(
                *row[:12],
                *partners.get(row[11], no_partner),
                *events.get(row[12], no_event),
            )
            for row in rows
        }

    def _window_hold(self, row, now, memo):
        """(state, reason, new scheduled_at) when the sending window holds the
        message of ``row`` (``_sendability_rows``) back at the moment of
        sending (R-2.3), else (False, False, False): it goes out now.
        ``memo``: a dict kept for one batch."""
        scheduled_at = row.scheduled_at
        if (
            row.kind in IMMEDIATE_KINDS
            and not row.attempt_count
            and not row.reason
            and scheduled_at >= now - IMMEDIATE_FOR
        ):
            return False, False, False
        company_key = ("company", row.company_id)
        if company_key not in memo:
            company = self.env["res.company"].browse(row.company_id)
            memo[company_key] = (company._clinic_sms_window(), company.clinic_sms_tz)
        window, clinic_tz = memo[company_key]
        # as the planner reads it: the patient's zone, else the clinic's (an
        # empty zone is not UTC here: most patients have none of their own)
        tz_name = row.tz or clinic_tz or "UTC"
        if not quiet_hours.is_known_zone(tz_name):
            tz_name = clinic_tz or "UTC"
        if now - scheduled_at <= LATE_GRACE:
            inside_key = ("inside", scheduled_at, tz_name, window)
            if inside_key not in memo:
                memo[inside_key] = quiet_hours.is_inside_window(
                    scheduled_at, tz_name, window[0], window[1]
                )
            if memo[inside_key]:
                return False, False, False
        deadline = (
            row.start if row.event_id and row.kind in BEFORE_APPOINTMENT_KINDS else None
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
    def _appointment_block_reason(self, row, now, memo):
        """Reason code when the appointment no longer wants the message of
        ``row`` (``_sendability_rows``); ``memo``: a dict kept for one batch
        (the rules' statuses)."""
        if row.kind == "recall" and row.recall_id:
            # checked again at the moment of sending
            return (
                self.env["clinic.sms.recall"]
                .browse(row.recall_id)
                ._booked_reason(self.env["res.partner"].browse(row.partner_id), now)
            )
        if not row.event_id:
            return "appointment_cancelled" if row.appointment_start else False
        if not row.event_active:
            return "appointment_cancelled"
        is_cancellation = row.kind == "cancellation"
        if (row.clinic_status == "cancelled") != is_cancellation:
            return "appointment_status" if is_cancellation else "appointment_cancelled"
        if row.kind != "reminder":
            return False
        if row.appointment_start and row.start != row.appointment_start:
            return "appointment_moved"
        if row.start <= now:
            return "appointment_started"
        if row.rule_id:
            statuses_key = ("statuses", row.rule_id)
            if statuses_key not in memo:
                rule = self.env["clinic.sms.rule"].browse(row.rule_id)
                memo[statuses_key] = rule._statuses()
            if row.clinic_status not in memo[statuses_key]:
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
