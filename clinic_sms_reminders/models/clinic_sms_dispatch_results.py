"""What the provider said, forward-only (R-7.3, R-7.4, R-7.5): used by the
dispatch engine ``clinic.sms.dispatcher``.

A message's state only moves forward, queued -> sending -> sent ->
delivered / failed, whichever of the provider's answer and its delivery
report arrives first: every change below is an UPDATE limited to the states
it may come from. An ambiguous outcome becomes ``unknown`` and is never sent
again by itself: the reconciliation cron asks the provider's status API where
there is one, else a manager decides (Resend)."""

from datetime import timedelta

from odoo import api, fields, models

from .clinic_sms_message import retry_delay

# A row 'sending' this long with no worker holding it: its worker stopped.
STUCK_AFTER = timedelta(minutes=10)
RECONCILE_BATCH = 500
RECONCILE_FOR = timedelta(days=7)
# outcome -> (states it may come from) for answers and delivery reports
FROM_STATES = {
    "sent": ("sending", "unknown"),
    "delivered": ("sending", "sent", "unknown"),
    "failed": ("sending", "sent", "unknown"),
}


class ClinicSmsOutcome(models.AbstractModel):
    _name = "clinic.sms.outcome"
    _description = "Clinic SMS dispatch: outcomes and reports"

    # ------------------------------------------------------------------
    # the provider's answer
    # ------------------------------------------------------------------
    def _apply_results(self, messages, results, now):
        """Record what the provider answered on the messages still
        ``sending``: sent or delivered; retried later with back-off (before
        acceptance: refunded, reserved again next time); failed (refunded);
        unknown (kept paid, never re-sent blindly). A message absent from
        ``results`` was not attempted: back to the queue, refunded, the
        attempt not counted."""
        changes, refunding, noting = {}, set(), set()
        max_attempts = messages.provider_id[:1].max_attempts or 1
        for message in messages:
            result = results.get(message.id)
            vals = {}
            if result is None:
                vals.update(
                    state="queued",
                    attempt_count=max(message.attempt_count - 1, 0),
                    sending_since=False,
                )
                refunding.add(message.id)
                changes[message.id] = vals
                continue
            outcome = result.get("state")
            detail = result.get("reason") or False
            vals["provider_message_id"] = result.get("provider_message_id") or False
            if outcome in ("sent", "delivered"):
                vals.update(
                    state=outcome, sent_at=now, reason=False, reason_detail=False
                )
                if outcome == "delivered":
                    vals["delivered_at"] = now
                noting.add(message.id)
            elif outcome == "retry" and message.attempt_count < max_attempts:
                delay = retry_delay(message.attempt_count)
                after = result.get("retry_after")
                if isinstance(after, int | float) and after > 0:
                    delay = max(delay, timedelta(seconds=min(after, 86400)))
                vals.update(
                    state="queued",
                    scheduled_at=now + delay,
                    reason="provider_temporary",
                    reason_detail=detail,
                )
                refunding.add(message.id)
            elif outcome in ("retry", "failed"):
                vals.update(
                    state="failed",
                    reason="provider_temporary"
                    if outcome == "retry"
                    else "provider_rejected",
                    reason_detail=detail,
                )
                refunding.add(message.id)
            else:
                vals.update(state="unknown", reason="ambiguous", reason_detail=detail)
            changes[message.id] = vals
        written = messages._write_rows(changes, from_states=("sending",))
        # a delivery report came first: keep its state, learn the provider's id
        late_ids = {
            message_id: {"provider_message_id": vals["provider_message_id"]}
            for message_id, vals in changes.items()
            if message_id not in written and vals.get("provider_message_id")
        }
        if late_ids:
            self.env.cr.execute(
                "SELECT id FROM clinic_sms_message"
                " WHERE id = ANY(%s) AND provider_message_id IS NULL",
                [list(late_ids)],
            )
            missing = {row[0] for row in self.env.cr.fetchall()}
            messages._write_rows({i: late_ids[i] for i in missing})
        self._refund(messages.browse(sorted(refunding & written)))
        self.env["clinic.sms.case.note"]._log_case_notes(
            messages.browse(sorted(noting & written))
        )

    @api.model
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

    # ------------------------------------------------------------------
    # delivery reports
    # ------------------------------------------------------------------
    @api.model
    def _apply_delivery_reports(self, provider, events):
        """Map delivery reports onto message states (R-7.5), forward-only: a
        replayed or late report changes nothing, and a report that comes
        before the provider's answer (matched by our reference or the
        provider's id) is kept and never overwritten by that answer. Returns
        how many reports matched a message of this provider."""
        Message = self.env["clinic.sms.message"]
        matched = 0
        now = fields.Datetime.now()
        for event in events:
            if not event.get("status"):
                raise ValueError("Unknown delivery status.")
            keys = [
                (key, event[key])
                for key in ("reference", "provider_message_id")
                if isinstance(event.get(key), str) and event[key]
            ]
            if not keys:
                raise ValueError("A delivery report must name its message.")
            domain = [(key, "=", value) for key, value in keys]
            if len(domain) == 2:
                domain.insert(0, "|")
            message = Message.search(
                [("provider_id", "=", provider.id), *domain], limit=1
            )
            if not message:
                continue
            matched += 1
            status = event["status"]
            outcome = status if status in ("sent", "delivered") else "failed"
            before = message.state
            vals = {"state": outcome, "sent_at": message.sent_at or now}
            if outcome == "delivered":
                vals.update(delivered_at=now, reason=False, reason_detail=False)
            elif outcome == "failed":
                vals.update(
                    reason="provider_rejected"
                    if event.get("refund")
                    else "undelivered",
                    reason_detail=event.get("detail") or False,
                )
            else:
                vals.update(reason=False, reason_detail=False)
            if not message.provider_message_id and event.get("provider_message_id"):
                vals["provider_message_id"] = event["provider_message_id"]
            if not message._write_rows({message.id: vals}, FROM_STATES[outcome]):
                continue
            if outcome == "failed":
                if event.get("refund"):
                    self._refund(message)
            elif before in ("sending", "unknown"):
                self.env["clinic.sms.case.note"]._log_case_notes(message)
        return matched
