"""Reconciliation of the dispatch engine (R-7.3, R-7.10): no message stays
'sending' past a bounded time, unknown outcomes are settled by the
provider's status API where there is one, else a manager resends."""

import logging

from odoo import api, fields, models
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY

from .clinic_sms_dispatch_results import (
    RECONCILE_BATCH,
    RECONCILE_FOR,
    STUCK_AFTER,
)

_logger = logging.getLogger(__name__)


class ClinicSmsOutcome(models.AbstractModel):
    _inherit = "clinic.sms.outcome"

    # ------------------------------------------------------------------
    # reconciliation: stuck 'sending' rows, unknown outcomes
    # ------------------------------------------------------------------
    @api.model
    def _reconcile(self, commit=False, stuck_after=STUCK_AFTER):
        """Cron: no message stays 'sending' for ever, and unknown outcomes are
        settled by the provider's status API where there is one."""
        try:
            recovered = self._recover_stuck(stuck_after)
            if commit:
                self.env["ir.cron"]._commit_progress(recovered)
        except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
            # a worker or a report moved one of them just now: next run
            self.env.cr.rollback()
            recovered = 0
        settled = self._settle_unknown()
        if commit:
            self.env["ir.cron"]._commit_progress(settled)
        return recovered, settled

    @api.model
    def _recover_stuck(self, stuck_after=STUCK_AFTER):
        """Rows left 'sending' longer than ``stuck_after`` by a worker that
        no longer holds them (killed, crashed): those it had handed to the
        provider (``sending_since`` set) become 'unknown' with the reason
        "worker stopped mid-send", never re-sent blindly; those it never
        handed over go back to the queue, refunded. A live worker holds its
        rows (``FOR KEY SHARE``): SKIP LOCKED leaves them. Returns how many
        rows were recovered."""
        Message = self.env["clinic.sms.message"]
        Message.flush_model()
        self.env.cr.execute(
            """
            SELECT id, sending_since IS NOT NULL FROM clinic_sms_message
             WHERE state = 'sending'
               AND coalesce(sending_since, write_date) < %s
             ORDER BY id
               FOR UPDATE SKIP LOCKED
            """,
            [self.env.cr.now() - stuck_after],
            log_exceptions=False,
        )
        rows = self.env.cr.fetchall()
        if not rows:
            return 0
        handed = Message.browse([i for i, was_handed in rows if was_handed])
        never = Message.browse([i for i, was_handed in rows if not was_handed])
        changes = {
            message.id: {"state": "unknown", "reason": "worker_stopped"}
            for message in handed
        }
        changes.update(
            {
                message.id: {
                    "state": "queued",
                    "attempt_count": max(message.attempt_count - 1, 0),
                }
                for message in never
            }
        )
        written = Message._write_rows(changes, from_states=("sending",))
        self._refund(never.filtered(lambda m: m.id in written))
        _logger.warning(
            "SMS dispatch: a stopped worker left %d message(s) 'sending': %d now"
            " 'unknown', %d never handed over queued again",
            len(rows),
            len(handed),
            len(never),
        )
        return len(written)

    @api.model
    def _settle_unknown(self):
        """Ask ``provider._fetch_status(messages)`` about unknown outcomes; an
        empty answer (no status API) leaves them to a manager."""
        Message = self.env["clinic.sms.message"]
        unknown = Message.search(
            [
                ("state", "=", "unknown"),
                ("provider_id", "!=", False),
                ("resent_by_id", "=", False),
                ("write_date", ">=", fields.Datetime.now() - RECONCILE_FOR),
            ],
            limit=RECONCILE_BATCH,
            order="id",
        )
        settled = 0
        for provider, messages in unknown.grouped("provider_id").items():
            fetch = getattr(provider, "_fetch_status", None)
            if fetch is None:
                continue
            try:
                statuses = fetch(messages) or {}
            except Exception:
                _logger.warning(
                    "SMS provider %s: status API failed", provider.id, exc_info=True
                )
                continue
            settled += self._apply_statuses(messages, statuses)
        return settled

    def _apply_statuses(self, messages, statuses):
        """Settle unknown messages with what the status API answered: sent,
        delivered or failed (refunded); anything else stays unknown."""
        now = fields.Datetime.now()
        changes, refunding, noting = {}, set(), set()
        for message in messages:
            status = statuses.get(message.id) or {}
            outcome = status.get("state")
            if outcome in ("sent", "delivered"):
                vals = {
                    "state": outcome,
                    "sent_at": message.sent_at or now,
                    "reason": False,
                    "reason_detail": False,
                }
                if outcome == "delivered":
                    vals["delivered_at"] = now
                noting.add(message.id)
            elif outcome == "failed":
                vals = {
                    "state": "failed",
                    "reason": "provider_rejected",
                    "reason_detail": status.get("reason") or False,
                }
                refunding.add(message.id)
            else:
                continue
            if status.get("provider_message_id") and not message.provider_message_id:
                vals["provider_message_id"] = status["provider_message_id"]
            changes[message.id] = vals
        written = messages._write_rows(changes, from_states=("unknown",))
        self._refund(messages.browse(sorted(refunding & written)))
        self.env["clinic.sms.case.note"]._log_case_notes(
            messages.browse(sorted(noting & written))
        )
        return len(written)

    # ------------------------------------------------------------------
    # a manager's Resend of unknown outcomes
    # ------------------------------------------------------------------
    @api.model
    def _resend(self, messages):
        """A new message per unknown one, same text and recipient, queued
        now (key ``resend:<id>``: at most once); who and when is recorded."""
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
            for message in messages
        ]
        messages._insert_queued(rows)
        new = messages.search(
            [("idempotency_key", "in", [r["idempotency_key"] for r in rows])]
        )
        for message in new:
            origin = messages.browse(int(message.idempotency_key.split(":")[1]))
            message.sudo()._internal().write({"resend_of_id": origin.id})
        # the manager's decision, checked by action_resend; messages are
        # read-only to users (ACL), so the record is written by the system
        messages.sudo()._internal().write(
            {"resent_by_id": self.env.uid, "resent_at": now}
        )
