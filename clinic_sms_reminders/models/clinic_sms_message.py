import logging
import random
import time
import uuid
from datetime import timedelta

from markupsafe import escape

from odoo import api, fields, models
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY
from odoo.tools import SQL, plaintext2html
from odoo.tools.mail import generate_tracking_message_id
from odoo.tools.misc import format_datetime

from ..tools import segments

_logger = logging.getLogger(__name__)

MESSAGE_KINDS = [
    ("confirmation", "Confirmation"),
    ("reschedule", "Change of time"),
    ("cancellation", "Cancellation"),
    ("no_show", "No-show"),
    ("done", "Thank you"),
    ("reminder", "Reminder"),
    ("recall", "Recall"),
    ("birthday", "Birthday"),
    ("mass", "Mass mailing"),
    ("private", "Private message"),
    ("scheduled", "Scheduled reminder"),
]
MESSAGE_STATES = [
    ("queued", "Queued"),
    ("sending", "Sending"),
    ("sent", "Sent"),
    ("delivered", "Delivered"),
    ("failed", "Failed"),
    ("cancelled", "Cancelled"),
    ("skipped", "Skipped"),
]
# Why a message was skipped, cancelled, held back or failed: stable codes so the
# history can be filtered and translated.
REASONS = [
    ("no_mobile", "No mobile number"),
    ("invalid_number", "Invalid mobile number"),
    ("no_consent", "No consent for this purpose"),
    ("blacklisted", "Opted out (blacklisted)"),
    ("duplicate", "Duplicate number"),
    ("appointment_cancelled", "Appointment cancelled, archived or deleted"),
    ("appointment_moved", "Appointment moved to another time"),
    ("appointment_status", "Appointment status no longer matches the rule"),
    ("appointment_started", "Appointment already started"),
    ("no_allowed_minute", "No allowed sending minute before the appointment"),
    ("due_before_booking", "Booked after this reminder was due"),
    ("birthday_passed", "Birthday over before an allowed sending minute"),
    ("grouped", "Covered by the message of an earlier appointment"),
    ("too_long", "Message longer than the clinic's maximum parts"),
    ("render_error", "Template could not be rendered"),
    ("insufficient_balance", "Waiting for message units"),
    ("no_provider", "No SMS provider configured"),
    ("provider_temporary", "Temporary provider failure"),
    ("provider_rejected", "Rejected by the provider"),
    ("undelivered", "Not delivered to the phone"),
    ("stopped", "Stopped by a user"),
    ("recall_booked", "Already booked for one of the services"),
    ("no_channel", "No valid mobile or email"),
]
PURPOSES = [
    ("appointment", "Appointment"),
    ("recall", "Recall"),
    ("marketing", "Marketing"),
    ("essential", "Essential"),
]
KIND_PURPOSE = {
    "recall": "recall",
    "birthday": "marketing",
    "mass": "marketing",
}
CONSENT_FIELD = {
    "appointment": "clinic_consent_appointment",
    "recall": "clinic_consent_recall",
    "marketing": "clinic_consent_marketing",
}
FINAL_STATES = ("sent", "delivered", "failed", "cancelled", "skipped")


# Concurrency conflicts (another worker, a top-up, a delivery report touching
# the same wallet) tolerated in a row before the dispatcher gives up for now.
MAX_CONFLICTS = 8
QUEUED_DEFAULTS = {"channel": "sms", "purpose": "appointment", "state": "queued"}


def retry_delay(attempt):
    """Back-off after the ``attempt``-th try: 1, 2, 4, 8... minutes, at most 1 h."""
    return timedelta(minutes=min(2 ** max(attempt - 1, 0), 60))


# Columns of a planned message and their SQL types, for _insert_queued.
QUEUED_COLUMNS = {
    "kind": "varchar",
    "purpose": "varchar",
    "company_id": "int",
    "rule_id": "int",
    "template_id": "int",
    "appointment_id": "int",
    "appointment_start": "timestamp",
    "partner_id": "int",
    "phone": "varchar",
    "idempotency_key": "varchar",
    "scheduled_at": "timestamp",
    "state": "varchar",
    "reason": "varchar",
    "mailing_id": "int",
    "schedule_id": "int",
    "recall_id": "int",
    "channel": "varchar",
    "body": "text",
}


class ClinicSmsMessage(models.Model):
    """Outbox and history of every SMS (R-7.3, R-7.8).

    A row is planned in state ``queued`` with its ``scheduled_at`` already moved
    into the clinic's sending window, then claimed by the dispatch cron. Rows are
    never deleted: the history is kept."""

    _name = "clinic.sms.message"
    _description = "Clinic SMS Message"
    _order = "scheduled_at desc, id desc"
    _rec_name = "reference"

    reference = fields.Char(
        required=True,
        readonly=True,
        copy=False,
        default=lambda self: uuid.uuid4().hex,
        help="Unique reference handed to the provider (deduplication, reports).",
    )
    idempotency_key = fields.Char(
        required=True,
        readonly=True,
        copy=False,
        help="At most one live message per key, e.g. reminder:<rule>:<appointment>"
        ":<patient>.",
    )
    kind = fields.Selection(MESSAGE_KINDS, required=True, index=True)
    purpose = fields.Selection(
        PURPOSES,
        required=True,
        default="appointment",
        help="Which consent the patient must have given (essential messages ignore "
        "consent but never an opt-out).",
    )
    state = fields.Selection(
        MESSAGE_STATES, required=True, default="queued", index=True, readonly=True
    )
    reason = fields.Selection(REASONS, readonly=True)
    reason_detail = fields.Char(readonly=True, help="The provider's own words.")
    company_id = fields.Many2one(
        "res.company",
        string="Clinic",
        required=True,
        index=True,
        default=lambda self: self.env.company,
    )
    partner_id = fields.Many2one(
        "res.partner", string="Recipient", index=True, ondelete="set null"
    )
    phone = fields.Char(help="Number in E.164 form, as sent.")
    body = fields.Text(help="Rendered text, as sent.")
    template_id = fields.Many2one("clinic.sms.template", ondelete="set null")
    rule_id = fields.Many2one(
        "clinic.sms.rule", ondelete="set null", index="btree_not_null"
    )
    appointment_id = fields.Many2one(
        "calendar.event", ondelete="set null", index="btree_not_null"
    )
    mailing_id = fields.Many2one(
        "clinic.sms.mailing", ondelete="set null", index="btree_not_null"
    )
    schedule_id = fields.Many2one(
        "clinic.sms.schedule", ondelete="set null", index="btree_not_null"
    )
    recall_id = fields.Many2one(
        "clinic.sms.recall", ondelete="set null", index="btree_not_null"
    )
    channel = fields.Selection(
        [("sms", "SMS"), ("email", "Email")],
        required=True,
        default="sms",
        help="Recall campaigns may go out by email (through Odoo's mail queue).",
    )
    appointment_start = fields.Datetime(
        readonly=True,
        help="Start of the appointment when the message was planned; a message for an "
        "appointment that moved since is not sent.",
    )
    scheduled_at = fields.Datetime(
        string="Scheduled", required=True, default=fields.Datetime.now, index=True
    )
    sent_at = fields.Datetime(readonly=True)
    delivered_at = fields.Datetime(readonly=True)
    attempt_count = fields.Integer(readonly=True)
    units = fields.Integer(readonly=True, help="Message units (SMS parts) debited.")
    encoding = fields.Selection(
        [("gsm7", "GSM-7"), ("ucs2", "Unicode (UCS-2)")], readonly=True
    )
    provider_id = fields.Many2one(
        "clinic.sms.provider", readonly=True, ondelete="set null"
    )
    provider_message_id = fields.Char(readonly=True, index="btree_not_null")

    _idempotency_key_unique = models.UniqueIndex(
        "(idempotency_key) WHERE state != 'cancelled'",
        "A message with this idempotency key already exists.",
    )
    _reference_unique = models.UniqueIndex("(reference)")
    # the first due clinic, then that clinic's due rows in order: both claims
    # stay index scans stopped by their LIMIT, whatever the size of the queue
    # and however stale the table's statistics
    _due_index = models.Index("(scheduled_at, id) WHERE state = 'queued'")
    _company_due_index = models.Index(
        "(company_id, scheduled_at, id) WHERE state = 'queued'"
    )

    def write(self, vals):
        result = super().write(vals)
        if "company_id" in vals:
            # record rules are checked before a write only: check them again so
            # that a message cannot be sent through, and billed to, a clinic
            # of others
            self.check_access("write")
        return result

    @api.depends("kind", "partner_id")
    def _compute_display_name(self):
        kinds = dict(self._fields["kind"]._description_selection(self.env))
        for message in self:
            recipient = message.partner_id.name or message.phone or ""
            message.display_name = f"{kinds.get(message.kind, '')} - {recipient}"

    # ------------------------------------------------------------------
    # Planning
    # ------------------------------------------------------------------
    @api.model
    def _insert_queued(self, rows):
        """Insert planned messages (dicts of QUEUED_COLUMNS) in one statement.

        A message whose idempotency key is already live is silently not
        inserted, so concurrent planners, workers or users cannot create it
        twice. Returns the number of rows inserted."""
        if not rows:
            return 0
        arrays = [
            SQL(
                f"%s::{sql_type}[]",
                [
                    # False (an empty many2one or char) is NULL, not 0 or 'false'
                    None if value is False else value
                    for value in (
                        row.get(column, QUEUED_DEFAULTS.get(column)) for row in rows
                    )
                ],
            )
            for column, sql_type in QUEUED_COLUMNS.items()
        ]
        columns = SQL(", ").join(SQL.identifier(column) for column in QUEUED_COLUMNS)
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO clinic_sms_message (
                    reference, attempt_count, units,
                    create_uid, write_uid, create_date, write_date, %(columns)s)
                SELECT replace(gen_random_uuid()::text, '-', ''), 0, 0,
                       %(uid)s, %(uid)s, %(now)s, %(now)s, c.*
                  FROM unnest(%(arrays)s) AS c(%(columns)s)
                ON CONFLICT (idempotency_key) WHERE state != 'cancelled' DO NOTHING
                """,
                columns=columns,
                arrays=SQL(", ").join(arrays),
                uid=self.env.uid,
                now=fields.Datetime.now(),
            )
        )
        self.invalidate_model()
        return self.env.cr.rowcount

    # ------------------------------------------------------------------
    # Dispatch
    # ------------------------------------------------------------------
    @api.model
    def _cron_dispatch(self):
        self._dispatch_due(commit=True)

    @api.model
    def _claim_due_messages(self, now, limit, exclude_company_ids=()):
        """Lock and return due queued messages of ONE clinic that no other
        worker holds. One clinic per claim: a batch commits midway (before the
        provider call), which releases the locks of everything claimed with it."""
        self.env.flush_all()
        due = SQL(
            """state = 'queued' AND scheduled_at <= %(now)s
               AND NOT (company_id = ANY(%(excluded)s))""",
            now=now,
            excluded=list(exclude_company_ids),
        )
        self.env.cr.execute(
            SQL(
                """
                SELECT id FROM clinic_sms_message
                 WHERE %(due)s
                   AND company_id = (SELECT company_id FROM clinic_sms_message
                                      WHERE %(due)s ORDER BY scheduled_at, id LIMIT 1)
                 ORDER BY scheduled_at, id
                 LIMIT %(limit)s
                   FOR UPDATE SKIP LOCKED
                """,
                due=due,
                limit=limit,
            )
        )
        return self.browse([row[0] for row in self.env.cr.fetchall()])

    @api.model
    def _dispatch_due(self, now=None, batch_size=500, commit=False):
        """Send every due message in batches; returns the number processed.

        With ``commit`` (the cron), each batch is committed on its own so a crash
        loses nothing done before and repeats nothing (rows in flight stay
        ``sending`` and are never sent again automatically). A concurrency
        conflict with another worker before the provider call rolls the batch
        back to the queue and tries again."""
        now = now or fields.Datetime.now()
        short_companies = set()
        processed = conflicts = 0
        remaining = None
        while True:
            try:
                messages = self._claim_due_messages(now, batch_size, short_companies)
                if not messages:
                    break
                if not messages._dispatch_batch(now, commit=commit):
                    short_companies.add(messages.company_id.id)
            except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
                conflicts += 1
                if not commit or conflicts > MAX_CONFLICTS:
                    raise
                self.env.cr.rollback()
                time.sleep(random.uniform(0.01, 0.05 * conflicts))
                continue
            processed += len(messages)
            if commit:
                if remaining is None:
                    # counted once: recounting after every batch would cost
                    # O(backlog) each time; retries and other workers only
                    # make this a progress estimate, which is all it is for
                    remaining = self.search_count(
                        [("state", "=", "queued"), ("scheduled_at", "<=", now)]
                    )
                else:
                    remaining = max(remaining - len(messages), 0)
                time_left = self.env["ir.cron"]._commit_progress(
                    len(messages), remaining=remaining
                )
                if not time_left:
                    break
        return processed

    def _dispatch_batch(self, now, commit=False):
        """Send messages of one company; False when the wallet ran short.

        Every per-message outcome (current number, rendered text, units, state)
        is gathered in ``changes`` and written in a few set-wise statements
        (:meth:`_write_rows`), not one ORM write per message."""
        company = self.company_id
        company.ensure_one()
        emails = self.filtered(lambda m: m.channel == "email")
        emails._send_emails(now)
        changes = {}
        sendable = (self - emails)._check_sendable(now, changes)
        sendable, units = sendable._prepare_texts(company, changes)
        provider = company._clinic_sms_get_provider()
        if sendable and not provider:
            for message_id in sendable.ids:
                changes[message_id].update(
                    state="failed", reason="no_provider", reason_detail=False
                )
            self._write_rows(changes)
            return True
        wallet = (
            self.env["clinic.sms.wallet"]
            .sudo()
            ._ensure_for_companies(company)[company.id]
        )
        paid_count = wallet._reserve_units([units[i] for i in sendable.ids])
        wallet._check_low_balance()
        paid, unpaid = sendable[:paid_count], sendable[paid_count:]
        for message_id in unpaid.ids:
            changes[message_id]["reason"] = "insufficient_balance"
        for message in paid:
            changes[message.id].update(
                state="sending",
                reason=False,
                provider_id=provider.id,
                attempt_count=message.attempt_count + 1,
            )
        self._write_rows(changes)
        if not paid:
            return not unpaid
        wallet._log_moves(paid, "debit")
        if commit:
            # From here on a crash leaves the rows 'sending': never sent twice.
            self.env["ir.cron"]._commit_progress(0)
        results = {}
        for start in range(0, len(paid), provider.batch_size):
            chunk = paid[start : start + provider.batch_size]
            results.update(provider._send_batch(chunk))
        if commit:
            paid._record_results(results, now)
        else:
            paid._apply_results(results, now)
        return not unpaid

    def _record_results(self, results, now):
        """Persist what the provider answered, in a fresh transaction retried on
        concurrency conflicts: the answer is in memory and must not be lost
        (nothing was written since the 'sending' commit, so a rollback only
        drops the stale snapshot)."""
        for attempt in range(1, MAX_CONFLICTS + 1):
            self.env.cr.rollback()
            try:
                self.browse(self.ids)._apply_results(results, now)
                self.env["ir.cron"]._commit_progress(0)
                return
            except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
                if attempt == MAX_CONFLICTS:
                    raise
                time.sleep(random.uniform(0.01, 0.05 * attempt))

    def _write_rows(self, vals_by_id):
        """Write different values on many messages at once: one UPDATE per set
        of written columns (``unnest`` of one array per column) instead of one
        ORM write per message (R-7.1).

        ``vals_by_id`` maps message ids to plain column values (ids, strings,
        numbers, datetimes; False is NULL), as the dispatcher computes them;
        the cache and the fields computed from messages are invalidated."""
        groups = {}
        for message_id, vals in vals_by_id.items():
            if vals:
                groups.setdefault(tuple(sorted(vals)), []).append((message_id, vals))
        if not groups:
            return
        records = self.browse(list(vals_by_id))
        records.flush_recordset()
        fnames = set()
        for columns, rows in groups.items():
            fnames.update(columns)
            arrays = [SQL("%s::int4[]", [message_id for message_id, _vals in rows])]
            for column in columns:
                field = self._fields[column]
                null_if_false = field.type != "boolean"
                values = [vals[column] for _id, vals in rows]
                if null_if_false:
                    values = [None if value is False else value for value in values]
                arrays.append(SQL(f"%s::{field.column_type[1]}[]", values))
            self.env.cr.execute(
                SQL(
                    """
                    UPDATE clinic_sms_message AS m
                       SET %(assignments)s, write_uid = %(uid)s, write_date = %(now)s
                      FROM unnest(%(arrays)s) AS v(id, %(columns)s)
                     WHERE m.id = v.id
                    """,
                    assignments=SQL(", ").join(
                        SQL("%s = v.%s", SQL.identifier(c), SQL.identifier(c))
                        for c in columns
                    ),
                    uid=self.env.uid,
                    now=self.env.cr.now(),
                    arrays=SQL(", ").join(arrays),
                    columns=SQL(", ").join(SQL.identifier(c) for c in columns),
                )
            )
        records.invalidate_recordset([*fnames, "write_date", "write_uid"])
        records.modified(fnames)

    def _check_sendable(self, now, changes):
        """Skip or cancel what must not go out any more; return the rest.

        The number is the patient's as it is now (they may have changed it);
        new numbers and the states of held-back messages go into ``changes``."""
        phones = {}
        for message in self:
            phone = message.phone
            if message.partner_id:
                phone = message.partner_id.clinic_mobile or False
                if phone != message.phone:
                    changes.setdefault(message.id, {})["phone"] = phone
            phones[message.id] = phone
        blacklisted = self._blacklisted_numbers(
            {phone for phone in phones.values() if phone}
        )
        sendable_ids = []
        for message in self:
            partner = message.partner_id
            phone = phones[message.id]
            state = "cancelled"
            reason = message._appointment_block_reason(now)
            if not reason:
                state = "skipped"
                if not phone:
                    reason = (
                        "no_mobile"
                        if partner and partner.clinic_mobile_error in (False, "missing")
                        else "invalid_number"
                    )
                elif phone in blacklisted and message.purpose != "essential":
                    reason = "blacklisted"
                elif (
                    partner
                    and message.purpose in CONSENT_FIELD
                    and not partner[CONSENT_FIELD[message.purpose]]
                ):
                    reason = "no_consent"
            if reason:
                changes.setdefault(message.id, {}).update(
                    state=state, reason=reason, reason_detail=False
                )
            else:
                sendable_ids.append(message.id)
        return self.browse(sendable_ids)

    def _send_emails(self, now):
        """Recall campaigns by email: same text, through Odoo's mail queue; no
        message units are used."""
        for message in self:
            partner = message.partner_id
            consent = CONSENT_FIELD.get(message.purpose)
            if not partner.email:
                message._set_state("skipped", "no_channel")
                continue
            if consent and not partner[consent]:
                message._set_state("skipped", "no_consent")
                continue
            if not message.body and message.template_id:
                message.body = message.template_id._render_for(message)
            self.env["mail.mail"].sudo().create(
                {
                    "subject": message.template_id.name or message.company_id.name,
                    "body_html": plaintext2html(message.body or ""),
                    "email_to": partner.email,
                    "email_from": message.company_id.email_formatted or False,
                    "recipient_ids": [(4, partner.id)],
                }
            )
            message.write({"state": "sent", "sent_at": now, "units": 0})
        self._log_on_chatter()

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

    def _appointment_block_reason(self, now):
        """Reason code when the appointment no longer wants this message."""
        self.ensure_one()
        if self.kind == "recall" and self.recall_id:
            # checked again at the moment of sending
            return self.recall_id._booked_reason(self.partner_id, now)
        event = self.appointment_id
        if not event:
            return "appointment_cancelled" if self.appointment_start else False
        if not event.active:
            return "appointment_cancelled"
        is_cancellation = self.kind == "cancellation"
        if (event.clinic_status == "cancelled") != is_cancellation:
            return "appointment_status" if is_cancellation else "appointment_cancelled"
        if self.kind != "reminder":
            return False
        if self.appointment_start and event.start != self.appointment_start:
            return "appointment_moved"
        if event.start <= now:
            return "appointment_started"
        if self.rule_id and event.clinic_status not in self.rule_id._statuses():
            return "appointment_status"
        return False

    def _prepare_texts(self, company, changes):
        """Render the missing texts (grouped per template and language), count
        their units, and fail the messages without text or above the clinic's
        maximum parts. Returns the messages left and {message id: units}; the
        texts and outcomes go into ``changes``."""
        rendered = self.env["clinic.sms.template"]._render_messages(
            self.filtered(lambda m: not m.body and m.template_id)
        )
        smart = company.clinic_sms_smart_encoding
        max_parts = company.clinic_sms_max_parts
        no_text = self.env._("The message has no text.")
        ready_ids, units = [], {}
        for message in self:
            vals = changes.setdefault(message.id, {})
            text = rendered.get(message.id, message.body)
            problem = text if isinstance(text, ValueError) else None
            if problem is None and not (text or "").strip():
                problem = no_text
            if problem is not None:
                vals.update(
                    state="failed", reason="render_error", reason_detail=str(problem)
                )
                continue
            info = segments.count(text, smart=smart)
            vals.update(body=info.text, units=info.parts, encoding=info.encoding)
            if info.parts > max_parts:
                vals.update(state="failed", reason="too_long", reason_detail=False)
                continue
            ready_ids.append(message.id)
            units[message.id] = info.parts
        return self.browse(ready_ids), units

    def _set_state(self, state, reason=False, detail=False):
        if self:
            # messages are read-only for SMS users: the addon's own paths
            # (appointment moved or cancelled, schedule stopped) change them
            self.sudo().write(
                {"state": state, "reason": reason, "reason_detail": detail}
            )

    def _apply_results(self, results, now):
        """Record what the provider said: sent, retried later with back-off, or
        failed; refund what never left; log the sent ones on the chatter."""
        refund_ids = []
        changes = {}
        provider = self.provider_id[:1]
        no_answer = self.env._("The provider gave no answer for this message.")
        for message in self:
            result = results.get(message.id) or {"state": "retry", "reason": no_answer}
            outcome = result["state"]
            vals = {"provider_message_id": result.get("provider_message_id") or False}
            if outcome in ("sent", "delivered"):
                vals.update(
                    state=outcome, sent_at=now, reason=False, reason_detail=False
                )
                if outcome == "delivered":
                    vals["delivered_at"] = now
            elif outcome == "retry" and message.attempt_count < provider.max_attempts:
                # temporary failure: queued again after a back-off; the
                # units are refunded and reserved again on the next attempt
                vals.update(
                    state="queued",
                    scheduled_at=now + retry_delay(message.attempt_count),
                    reason="provider_temporary",
                    reason_detail=result.get("reason") or False,
                )
                refund_ids.append(message.id)
            else:
                vals.update(
                    state="failed",
                    reason="provider_temporary"
                    if outcome == "retry"
                    else "provider_rejected",
                    reason_detail=result.get("reason") or False,
                )
                refund_ids.append(message.id)
            changes[message.id] = vals
        self._write_rows(changes)
        refund = self.browse(refund_ids)
        self._refund(refund)
        (self - refund)._log_on_chatter()

    def _refund(self, messages):
        if not messages:
            return
        for company, company_messages in messages.grouped("company_id").items():
            wallet = (
                self.env["clinic.sms.wallet"]
                .sudo()
                ._get_for_companies(company)[company.id]
            )
            wallet._add_units(sum(company_messages.mapped("units")))
            wallet._log_moves(company_messages, "refund")

    @api.model
    def _apply_delivery_reports(self, provider, events):
        """Map delivery reports onto message states (R-7.5); a report only moves
        a message forward, so a replayed report changes nothing. Returns how
        many reports matched a message of this provider."""
        matched = 0
        now = fields.Datetime.now()
        refund = self.browse()
        for event in events:
            if not event.get("status"):
                raise ValueError("Unknown delivery status.")
            key = "reference" if event.get("reference") else "provider_message_id"
            if not isinstance(event.get(key), str) or not event[key]:
                raise ValueError("A delivery report must name its message.")
            message = self.search(
                [("provider_id", "=", provider.id), (key, "=", event[key])], limit=1
            )
            if not message:
                continue
            matched += 1
            status = event["status"]
            if message.state not in ("sending", "sent", "delivered"):
                continue
            if message.state == "delivered" and status != "delivered":
                # the phone has it: a late or forged failure report never
                # turns it into a failure, nor refunds it
                continue
            if status == "sent":
                if message.state == "sending":
                    message.write({"state": "sent", "sent_at": message.sent_at or now})
            elif status == "delivered":
                if message.state != "delivered":
                    message.write(
                        {
                            "state": "delivered",
                            "delivered_at": now,
                            "sent_at": message.sent_at or now,
                        }
                    )
            else:
                message.write(
                    {
                        "state": "failed",
                        "reason": "provider_rejected"
                        if event.get("refund")
                        else "undelivered",
                        "reason_detail": event.get("detail") or False,
                    }
                )
                if event.get("refund"):
                    refund |= message
        self._refund(refund)
        return matched

    def _log_on_chatter(self):
        """Case note on each recipient with template name and date (R-5.7).

        The notes are what ``mail.thread._message_log_batch`` writes (internal
        note, author the current user), in one INSERT for the whole batch: the
        HTML is built from escaped parts (``markupsafe.escape``), so it needs no
        sanitising, and one ORM create per note would cost more than sending."""
        notes = {}
        kinds = dict(self._fields["kind"]._description_selection(self.env))
        title = escape(self.env._("SMS sent"))
        stamps = {}
        for message in self.filtered("partner_id"):
            name = escape(message.template_id.name or kinds.get(message.kind, ""))
            # in the clinic's time zone: a batch shares one send time
            stamp = (message.sent_at, message.company_id.clinic_sms_tz or "UTC")
            if stamp not in stamps:
                stamps[stamp] = escape(
                    format_datetime(self.env, stamp[0], tz=stamp[1], dt_format="short")
                )
            sent_at = stamps[stamp]
            notes.setdefault(message.partner_id.id, []).append(
                f"<p><b>{title}</b> ({name}, {sent_at})</p>"
                f"<p>{escape(message.body or '')}</p>"
            )
        if not notes:
            return
        partners = self.env["res.partner"].browse(notes)
        author_id, email_from = partners._message_compute_author()
        reply_to = self.env["mail.thread"]._notify_get_reply_to(
            default=email_from, author_id=author_id
        )[False]
        now = fields.Datetime.now()
        self.env["mail.message"].flush_model()
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO mail_message (
                    model, res_id, body, message_type, subtype_id, is_internal,
                    author_id, email_from, reply_to, message_id,
                    email_add_signature, date,
                    create_uid, create_date, write_uid, write_date)
                SELECT 'res.partner', note.res_id, note.body, 'notification',
                       %(subtype)s, TRUE, %(author)s, %(email_from)s, %(reply_to)s,
                       %(message_id)s, FALSE, %(now)s, %(uid)s, %(now)s, %(uid)s,
                       %(now)s
                  FROM unnest(%(res_ids)s::int[], %(bodies)s::text[])
                       AS note(res_id, body)
                """,
                subtype=self.env["ir.model.data"]._xmlid_to_res_id("mail.mt_note"),
                author=author_id or None,
                email_from=email_from or None,
                reply_to=reply_to or None,
                message_id=generate_tracking_message_id("message-notify"),
                now=now,
                uid=self.env.uid,
                res_ids=list(notes),
                bodies=["".join(parts) for parts in notes.values()],
            )
        )
        partners.invalidate_recordset(["message_ids"])
