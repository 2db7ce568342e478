import uuid

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools.sql import drop_index, make_index_name

from .clinic_sms_message_constants import (  # noqa: F401 - re-exported
    CONSENT_FIELD,
    INTERNAL,
    MESSAGE_KINDS,
    MESSAGE_STATES,
    OUTCOME_FIELDS,
    PURPOSES,
    QUEUED_COLUMNS,
    QUEUED_DEFAULTS,
    REASONS,
    retry_delay,
)

# columns that had an index of their own; the queries on them use the
# partial or composite indexes below
OBSOLETE_INDEXED_COLUMNS = ("company_id", "scheduled_at", "rule_id", "kind", "state")


class ClinicSmsMessage(models.Model):
    """Outbox and history of every SMS (R-7.3, R-7.8).

    A row is planned in state ``queued`` with its ``scheduled_at`` already moved
    into the clinic's sending window, then claimed by the dispatch cron. Rows are
    never deleted: the history is kept."""

    _name = "clinic.sms.message"
    _inherit = "clinic.sms.clinic.mixin"
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
    # kind and state have no index of their own: every UPDATE of a message
    # (sending, then sent) re-indexes the row, and the queries that matter
    # use the partial indexes below (due, sending, unknown)
    kind = fields.Selection(MESSAGE_KINDS, required=True)
    purpose = fields.Selection(
        PURPOSES,
        required=True,
        default="appointment",
        help="Which consent the patient must have given (essential messages ignore "
        "consent but never an opt-out).",
    )
    state = fields.Selection(
        MESSAGE_STATES, required=True, default="queued", readonly=True
    )
    reason = fields.Selection(REASONS, readonly=True)
    reason_detail = fields.Char(readonly=True, help="The provider's own words.")
    partner_id = fields.Many2one(
        "res.partner", string="Recipient", index=True, ondelete="set null"
    )
    phone = fields.Char(help="Number in E.164 form, as sent.")
    body = fields.Text(help="Rendered text, as sent.")
    template_id = fields.Many2one("clinic.sms.template", ondelete="set null")
    # no index: searched with the appointment only (planner, planned lines);
    # deleting a rule (rare: rules are archived) scans the table once
    rule_id = fields.Many2one("clinic.sms.rule", ondelete="set null")
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
    # indexed with the clinic (_company_scheduled_index), as it is searched
    scheduled_at = fields.Datetime(
        string="Scheduled", required=True, default=fields.Datetime.now
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
    # the clinic's messages of a day (dashboard, "Today" filter, under the
    # record rule's company_id IN ...), and every lookup by clinic alone: one
    # index instead of one on company_id and one on scheduled_at, each
    # updated on every row written
    company_id = fields.Many2one(index=False)
    _company_scheduled_index = models.Index("(company_id, scheduled_at)")

    def init(self):
        res = super().init()
        # Rows left 'sending' by a version without ``sending_since`` may have
        # reached the gateway: counted as handed over, so that the recovery
        # makes them 'unknown' instead of queueing them again.
        self.env.cr.execute(
            "UPDATE clinic_sms_message SET sending_since = write_date"
            " WHERE state = 'sending' AND sending_since IS NULL"
        )
        # column indexes of earlier versions: Odoo keeps an index a field no
        # longer asks for, and each one costs on every insert and update
        for column in OBSOLETE_INDEXED_COLUMNS:
            drop_index(self.env.cr, make_index_name(self._table, column), self._table)
        return res

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
        # messages are read-only to every user (ACL): the clinic rules decide
        # whose messages this manager may resend
        self.check_access("read")
        self.env["clinic.sms.outcome"]._resend(self)
        return True
