"""The dispatch engine's hand-over (R-7.3, R-7.10): paid messages go to the
provider chunk by chunk within the cron's time limit, each chunk stamped
before it leaves, held while it is out and its answers committed at once."""

import logging
import random
import time

from odoo import api, models
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY

from .clinic_sms_dispatcher import MAX_CONFLICTS, MIN_SECONDS_FOR_A_BATCH

_logger = logging.getLogger(__name__)


class ClinicSmsDispatcher(models.AbstractModel):
    _inherit = "clinic.sms.dispatcher"

    @api.model
    def _within_deadline(self, messages, deadline):
        """The claimed messages that can be handed over before ``deadline``;
        the others are left queued, untouched, for the next cron run."""
        provider = messages.company_id._clinic_sms_get_provider()
        if deadline is None or not provider:
            return messages
        return messages[: self._room(provider, deadline)]

    @api.model
    def _room(self, provider, deadline):
        """How many messages fit before ``deadline`` if every request took
        the provider's whole timeout (at least one chunk)."""
        left = deadline - time.monotonic() - MIN_SECONDS_FOR_A_BATCH
        size = max(provider.batch_size or 1, 1)
        if provider.timeout <= 0:
            return size
        return max(size, int(left / provider.timeout))

    @api.model
    def _chunks(self, messages, provider):
        size = max(provider.batch_size or 1, 1)
        return [messages[i : i + size] for i in range(0, len(messages), size)]

    @api.model
    def _call_provider(self, provider, chunk, deadline):
        """``provider._send_batch(chunk, deadline=...)``; a provider that
        predates the deadline argument is called without it."""
        try:
            return provider._send_batch(chunk, deadline=deadline)
        except TypeError as error:
            if "deadline" not in str(error):
                raise
            return provider._send_batch(chunk)

    def _send_chunks(self, paid, provider, now, deadline, stamped=(), payload=None):
        """Hand the paid messages to the provider chunk by chunk, each chunk's
        answer committed at once; what could not be attempted before the
        deadline goes back to the queue and is refunded.

        Near the deadline a chunk is cut to what can end in time even if
        every request took the provider's whole timeout (requests run
        ``max_connections`` at a time). Each chunk is
        stamped ``sending_since`` (committed) just before it is handed over;
        ``stamped``: ids stamped already, with the 'sending' commit that
        comes right before the first chunk; ``payload``: the rows' values
        the gateway reads (``_payload_snapshot``), put back in the cache that
        each commit empties.
        While it is with the provider, its rows and the rest of the batch are
        held with ``FOR KEY SHARE``: a delivery report can still update them
        (no conflict with that lock), but the stuck-message recovery (``FOR
        UPDATE SKIP LOCKED``) never touches a live worker's rows, and a row
        it took in between is not sent."""
        Message = self.env["clinic.sms.message"]
        size = max(provider.batch_size or 1, 1)
        # requests run over the provider's pool of connections: a chunk of n
        # takes at most n / connections times the timeout
        per_message = provider.timeout / provider._lane_connections()
        pending = paid
        while pending:
            left = self._time_left(deadline=deadline)
            if left < MIN_SECONDS_FOR_A_BATCH:
                break
            chunk_size = size
            if deadline is not None and per_message > 0:
                fits = int((left - MIN_SECONDS_FOR_A_BATCH) / per_message)
                chunk_size = max(1, min(size, fits))
            head = pending[:chunk_size]
            if stamped and set(head.ids) <= stamped:
                # stamped with the 'sending' commit just before (first chunk)
                chunk, stamped = head, ()
            else:
                chunk = self._hand_over(head)
            pending = self._hold(pending)
            chunk &= pending
            if not chunk:
                break
            outgoing = Message.browse(chunk.ids)
            if payload:
                outgoing._restore_payload(payload)
            results = self._call_provider(provider, outgoing, deadline)
            pending -= chunk
            self._record_results(chunk, results, now, hold=pending)
        if pending:
            self._record_results(pending, {}, now)

    def _hand_over(self, chunk):
        """Stamp ``sending_since`` on the rows about to be handed to the
        provider, committed: a row 'sending' without it was never handed
        over (a stopped worker's rest of batch goes back to the queue)."""
        self._begin_read_committed()
        self.env.cr.execute(
            "UPDATE clinic_sms_message SET sending_since = now() AT TIME ZONE 'UTC'"
            " WHERE id = ANY(%s) AND state = 'sending' RETURNING id",
            [chunk.ids],
            log_exceptions=False,
        )
        stamped = {row[0] for row in self.env.cr.fetchall()}
        chunk.invalidate_recordset(["sending_since"])
        self.env["ir.cron"]._commit_progress(0)
        return chunk.browse([i for i in chunk.ids if i in stamped])

    def _hold(self, messages):
        """Lock ``messages`` for this worker (``FOR KEY SHARE``); returns
        those still 'sending' (the others are no longer this worker's)."""
        if not messages:
            return messages
        for attempt in range(1, MAX_CONFLICTS + 1):
            try:
                self._begin_read_committed()
                self.env.cr.execute(
                    "SELECT id FROM clinic_sms_message"
                    " WHERE id = ANY(%s) AND state = 'sending' FOR KEY SHARE",
                    [messages.ids],
                    log_exceptions=False,
                )
                held = {row[0] for row in self.env.cr.fetchall()}
                return messages.browse([i for i in messages.ids if i in held])
            except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
                self.env.cr.rollback()
                if attempt == MAX_CONFLICTS:
                    raise
                time.sleep(random.uniform(0.01, 0.05 * attempt))
        return messages

    def _record_results(self, messages, results, now, hold=None):
        """Persist what the provider answered, in a fresh transaction retried on
        concurrency conflicts (a delivery report may have moved a row since
        the snapshot): the answer is in memory and must not be lost."""
        for attempt in range(1, MAX_CONFLICTS + 1):
            try:
                self._begin_read_committed()
                self.env["clinic.sms.outcome"]._apply_results(
                    messages.browse(messages.ids), results, now
                )
                self.env["ir.cron"]._commit_progress(0)
                return
            except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY as error:
                self.env.cr.rollback()
                if attempt == MAX_CONFLICTS:
                    raise
                _logger.debug("SMS results: conflict %d retried (%s)", attempt, error)
                self.env.invalidate_all()
                if hold:
                    self._hold(hold)
                time.sleep(random.uniform(0.01, 0.05 * attempt))
