import uuid
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

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
    ("unknown", "Unknown outcome"),
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
    ("outside_window", "Waiting for the clinic's sending window"),
    ("grouped", "Covered by the message of an earlier appointment"),
    ("too_long", "Message longer than the clinic's maximum parts"),
    ("render_error", "Template could not be rendered"),
    ("insufficient_balance", "Waiting for message units"),
    ("no_provider", "No SMS provider configured"),
    ("provider_temporary", "Temporary provider failure"),
    ("provider_rejected", "Rejected by the provider"),
    ("undelivered", "Not delivered to the phone"),
    ("ambiguous", "No clear answer: the provider may have accepted it"),
    ("worker_stopped", "Worker stopped mid-send"),
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
CONSENT_FIELD = {
    "appointment": "clinic_consent_appointment",
    "recall": "clinic_consent_recall",
    "marketing": "clinic_consent_marketing",
}
# Marker in the context of the addon's own writes (dispatch, planning, state
# changes): a context coming over RPC is JSON and can never hold this object.
INTERNAL = object()
# Written by the dispatcher only (never given by a user creating a message).
OUTCOME_FIELDS = frozenset(
    (
        "reason",
        "reason_detail",
        "sent_at",
        "delivered_at",
        "attempt_count",
        "units",
        "encoding",
        "provider_id",
        "provider_message_id",
        "sending_since",
        "resend_of_id",
        "resent_by_id",
        "resent_at",
    )
)
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
    sending_since = fields.Datetime(
        readonly=True,
        help="When a worker handed the message to the provider; a message left "
        "'sending' much longer than a cron run can last is recovered as unknown.",
    )
    resend_of_id = fields.Many2one(
        "clinic.sms.message",
        string="Resend of",
        readonly=True,
        ondelete="set null",
        index="btree_not_null",
    )
    resent_by_id = fields.Many2one(
        "res.users",
        string="Resent by",
        readonly=True,
        ondelete="set null",
        help="The manager who sent this message with an unknown outcome again.",
    )
    resent_at = fields.Datetime(readonly=True)

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
    _sending_index = models.Index("(sending_since) WHERE state = 'sending'")
    _unknown_index = models.Index("(company_id) WHERE state = 'unknown'")

    def _check_direct_change(self):
        """SMS users see messages and change them only through actions (send,
        stop, resend): a direct create or write of their fields is refused
        unless it comes from the addon's own code or a manager (R-8.2)."""
        if (
            self.env.su
            or self.env.context.get("clinic_sms_internal") is INTERNAL
            or self.env.user.has_group("clinic_sms_reminders.group_clinic_sms_manager")
        ):
            return
        raise AccessError(
            self.env._(
                "SMS messages cannot be edited directly; use the actions of the "
                "message or of the send wizard."
            )
        )

    def _internal(self):
        """These messages, for the addon's own writes."""
        return self.with_context(clinic_sms_internal=INTERNAL)

    @api.model_create_multi
    def create(self, vals_list):
        # a user may queue a message; its outcome is the dispatcher's to write
        if any(
            vals.get("state", "queued") != "queued" or OUTCOME_FIELDS.intersection(vals)
            for vals in vals_list
        ):
            self._check_direct_change()
        return super().create(vals_list)

    def write(self, vals):
        self._check_direct_change()
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
    # State transitions
    # ------------------------------------------------------------------
    def _set_state(self, state, reason=False, detail=False):
        if self:
            self._internal().write(
                {"state": state, "reason": reason, "reason_detail": detail}
            )

    def _write_rows(self, vals_by_id, from_states=None):
        """Write different values on many messages at once: one UPDATE per set
        of written columns (``unnest`` of one array per column) instead of one
        ORM write per message (R-7.1).

        ``vals_by_id`` maps message ids to plain column values (ids, strings,
        numbers, datetimes; False is NULL), as the dispatcher computes them;
        the cache and the fields computed from messages are invalidated.
        With ``from_states``, only the rows still in one of those states are
        written (a state only moves forward, whoever comes first). Returns the
        ids written."""
        written = set()
        groups = {}
        for message_id, vals in vals_by_id.items():
            if vals:
                groups.setdefault(tuple(sorted(vals)), []).append((message_id, vals))
        if not groups:
            return written
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
                     WHERE m.id = v.id AND %(condition)s
                 RETURNING m.id
                    """,
                    condition=SQL("m.state = ANY(%s)", list(from_states))
                    if from_states
                    else SQL("TRUE"),
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
            written.update(row[0] for row in self.env.cr.fetchall())
        records.invalidate_recordset([*fnames, "write_date", "write_uid"])
        records.modified(fnames)
        return written

    # ------------------------------------------------------------------
    # Entry points of the dispatcher (clinic.sms.dispatcher)
    # ------------------------------------------------------------------
    @api.model
    def _cron_dispatch(self):
        self.env["clinic.sms.dispatcher"]._dispatch_due(commit=True)

    @api.model
    def _cron_reconcile(self):
        self.env["clinic.sms.outcome"]._reconcile(commit=True)

    @api.model
    def _dispatch_due(self, now=None, batch_size=500, commit=False):
        return self.env["clinic.sms.dispatcher"]._dispatch_due(
            now=now, batch_size=batch_size, commit=commit
        )

    @api.model
    def _apply_delivery_reports(self, provider, events):
        return self.env["clinic.sms.outcome"]._apply_delivery_reports(provider, events)

    @api.model
    def _blacklisted_numbers(self, numbers):
        return self.env["clinic.sms.eligibility"]._blacklisted_numbers(numbers)

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_resend(self):
        """Send again messages whose outcome is unknown (R-7.3): a new message
        with the same text and recipient, queued now; the manager who decided
        is recorded on the old one. Managers only (the button asks first)."""
        if not self.env.user.has_group("clinic_sms_reminders.group_clinic_sms_manager"):
            raise AccessError(self.env._("Only an SMS manager can resend a message."))
        if any(message.state != "unknown" for message in self):
            raise UserError(
                self.env._("Only a message whose outcome is unknown can be resent.")
            )
        self.check_access("write")
        now = fields.Datetime.now()
        rows = [
            {
                "kind": message.kind,
                "purpose": message.purpose,
                "company_id": message.company_id.id,
                "rule_id": message.rule_id.id,
                "template_id": message.template_id.id,
                "appointment_id": message.appointment_id.id,
                "appointment_start": message.appointment_start,
                "partner_id": message.partner_id.id,
                "phone": message.phone,
                "idempotency_key": f"resend:{message.id}",
                "scheduled_at": now,
                "mailing_id": message.mailing_id.id,
                "schedule_id": message.schedule_id.id,
                "recall_id": message.recall_id.id,
                "channel": message.channel,
                "body": message.body,
            }
            for message in self
        ]
        self._insert_queued(rows)
        new = self.search(
            [("idempotency_key", "in", [r["idempotency_key"] for r in rows])]
        )
        for message in new:
            origin = self.browse(int(message.idempotency_key.split(":")[1]))
            message._internal().write({"resend_of_id": origin.id})
        self._internal().write({"resent_by_id": self.env.uid, "resent_at": now})
        return True
