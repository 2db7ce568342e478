"""The dispatch engine (R-7.1, R-7.3, R-7.10): claim, reserve, send, record.

Messages are the data (``clinic.sms.message``, set-wise writes in
clinic_sms_message_rows.py); this abstract model is the
engine that moves them. One file per responsibility:

* this file: the loop, the claim and one batch (check, reserve);
* clinic_sms_dispatch_chunks.py: the hand-over to the provider chunk by
  chunk within the cron's time limit, answers committed per chunk;
* ``clinic.sms.eligibility`` (clinic_sms_dispatch_checks.py): what may go out
  (appointment, number, opt-out, consent, sending window) and the texts;
* ``clinic.sms.outcome`` (clinic_sms_dispatch_results.py): what the provider
  and its delivery reports said, forward-only; clinic_sms_reconcile.py: the
  recovery of stuck rows and the reconciliation of unknown outcomes;
* ``clinic.sms.case.note`` (clinic_sms_case_note.py): the case notes on the
  recipients' chatter.
"""

import logging
import random
import time

from odoo import api, fields, models
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY
from odoo.tools import SQL, config

from odoo.addons.base.models.ir_cron import MIN_TIME_PER_JOB

_logger = logging.getLogger(__name__)

# Concurrency conflicts (another worker, a top-up, a delivery report touching
# the same wallet) tolerated in a row before the dispatcher gives up for now.
MAX_CONFLICTS = 8
# Share of the cron's hard time limit a batch may use: the rest is left for
# recording the last answers and for the other jobs of the same cron run.
HARD_LIMIT_SHARE = 0.7
# Below this many seconds left, no new batch is claimed.
MIN_SECONDS_FOR_A_BATCH = 1.0


class ClinicSmsDispatcher(models.AbstractModel):
    _name = "clinic.sms.dispatcher"
    _description = "Clinic SMS dispatch engine"

    # ------------------------------------------------------------------
    # time budget
    # ------------------------------------------------------------------
    @api.model
    def _hard_deadline(self):
        """Monotonic instant a batch must be done by, or None outside a cron.

        ``ir.cron`` puts ``cron_end_time`` (job start + MIN_TIME_PER_JOB) in
        the context; the server kills a cron worker (prefork) or flags a cron
        thread after ``limit_time_real_cron`` seconds (``limit_time_real``
        when it is -1). The job start is the best known start of that clock.
        """
        end = self.env.context.get("cron_end_time")
        if end is None:
            return None
        limit = config.get("limit_time_real_cron") or 0
        if limit < 0:
            limit = config.get("limit_time_real") or 0
        if limit <= 0:
            return None
        return end - MIN_TIME_PER_JOB + limit * HARD_LIMIT_SHARE

    @api.model
    def _time_left(self, processed=0, remaining=None, deadline=None):
        """Commit the progress; seconds left before the soft end of the cron
        run (``_commit_progress``) or the hard deadline, whichever is first."""
        left = self.env["ir.cron"]._commit_progress(processed, remaining=remaining)
        end = self.env.context.get("cron_end_time")
        if end is not None:
            # a lane (clinic_sms_dispatch_lanes.py) has no progress row of
            # its own, but the cron run's end
            left = min(left, end - time.monotonic())
        if deadline is not None:
            left = min(left, deadline - time.monotonic())
        return left

    # ------------------------------------------------------------------
    # the loop and the claim
    # ------------------------------------------------------------------
    @api.model
    def _dispatch_due(self, now=None, batch_size=500, commit=False):
        """Send every due message in batches; returns the number processed.

        With ``commit`` (the cron), each batch and each provider chunk is
        committed on its own, and no batch is started, nor chunk handed to
        the provider, that cannot end before the cron's time limit. A
        concurrency conflict before the provider call rolls the batch back to
        the queue and tries again (logged at debug level only: it is
        expected with several workers). With ``commit`` on a real database
        cursor, the run goes over ``_lane_count()`` lanes at once
        (clinic_sms_dispatch_lanes.py)."""
        now = now or fields.Datetime.now()
        if commit:
            deadline = self._hard_deadline()
            if self._time_left(deadline=deadline) < MIN_SECONDS_FOR_A_BATCH:
                # no time for a batch in this cron run: say what is left, so
                # that the cron runner calls again as soon as it can
                self.env["ir.cron"]._commit_progress(remaining=self._count_due(now))
                return 0
            lanes = self._lane_count() if self._can_open_lanes() else 1
            if lanes > 1:
                return self._dispatch_in_lanes(now, batch_size, lanes)
        return self._dispatch_loop(now, batch_size, commit)

    @api.model
    def _dispatch_loop(self, now, batch_size, commit):
        """One worker's loop of ``_dispatch_due``: claim a batch, send it,
        until nothing is due or the time is up."""
        deadline = self._hard_deadline() if commit else None
        short_companies = set()
        processed = conflicts = 0
        remaining = None
        while True:
            try:
                messages = self._claim_due_messages(now, batch_size, short_companies)
                if not messages:
                    break
                company = messages.company_id
                messages = self._within_deadline(messages, deadline)
                if not self._dispatch_batch(messages, now, commit, deadline):
                    short_companies.add(company.id)
                elif self._untouched(messages, now):
                    # the provider attempted none of them (it left them all
                    # out, or holds everything back): they wait for the next
                    # run, the next clinic goes on instead of a busy loop
                    short_companies.add(company.id)
            except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY as error:
                conflicts += 1
                if not commit or conflicts > MAX_CONFLICTS:
                    raise
                _logger.debug(
                    "SMS dispatch: conflict %d retried (%s)", conflicts, error
                )
                self.env.cr.rollback()
                time.sleep(random.uniform(0.01, 0.05 * conflicts))
                continue
            processed += len(messages)
            conflicts = 0  # tolerated in a row, not over a whole cron run
            if commit:
                if remaining is None:
                    # counted once: recounting after every batch would cost
                    # O(backlog) each time; this is a progress estimate only
                    remaining = self._count_due(now)
                else:
                    remaining = max(remaining - len(messages), 0)
                left = self._time_left(len(messages), remaining, deadline)
                if left < MIN_SECONDS_FOR_A_BATCH:
                    break
        return processed

    @api.model
    def _untouched(self, messages, now):
        """True when every one of ``messages`` is still queued and due, as
        claimed: nothing was sent, held, skipped or retried."""
        self.env.flush_all()
        # the state is tested in the FILTER, not in WHERE: with it in WHERE,
        # PostgreSQL walks the partial index of due rows (the whole backlog,
        # 12 ms at 100,000 queued) instead of the primary key
        self.env.cr.execute(
            "SELECT count(*) FILTER (WHERE state = 'queued' AND scheduled_at <= %s)"
            " FROM clinic_sms_message WHERE id = ANY(%s)",
            [now, messages.ids],
        )
        return self.env.cr.fetchone()[0] == len(messages)

    @api.model
    def _count_due(self, now):
        return self.env["clinic.sms.message"].search_count(
            [("state", "=", "queued"), ("scheduled_at", "<=", now)]
        )

    @api.model
    def _claim_due_messages(self, now, limit, exclude_company_ids=()):
        """Lock and return due queued messages of ONE clinic that no other
        worker holds. One clinic per claim: a batch commits midway (before the
        provider call), which releases the locks of everything claimed with it.
        The clinic is the one of the oldest due message no other worker holds
        (another lane or worker busy with a clinic's last due rows does not
        stop this one)."""
        self.env.flush_all()
        self._begin_read_committed()
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
                                      WHERE %(due)s ORDER BY scheduled_at, id LIMIT 1
                                        FOR UPDATE SKIP LOCKED)
                 ORDER BY scheduled_at, id
                 LIMIT %(limit)s
                   FOR UPDATE SKIP LOCKED
                """,
                due=due,
                limit=limit,
            ),
            log_exceptions=False,  # a conflict is retried: not an ERROR
        )
        return self.env["clinic.sms.message"].browse(
            [row[0] for row in self.env.cr.fetchall()]
        )

    # ------------------------------------------------------------------
    # one batch: check, reserve, send chunk by chunk
    # ------------------------------------------------------------------
    def _dispatch_batch(self, messages, now, commit=False, deadline=None):
        """Send messages of one company; False when the wallet ran short.

        Every per-message outcome (current number, rendered text, units, state)
        is gathered in ``changes`` and written in a few set-wise statements
        (``_write_rows``), not one ORM write per message."""
        company = messages.company_id
        company.ensure_one()
        emails = messages.filtered(lambda m: m.channel == "email")
        eligibility = self.env["clinic.sms.eligibility"]
        eligibility._send_emails(emails, now)
        changes = {}
        sendable = eligibility._check_sendable(messages - emails, now, changes)
        # marketing caps, quiet days and hours
        sendable = sendable._clinic_hold_marketing(now)
        sendable, units = eligibility._prepare_texts(sendable, company, changes)
        provider = company._clinic_sms_get_provider()
        if sendable and not provider:
            for message_id in sendable.ids:
                changes[message_id].update(
                    state="failed", reason="no_provider", reason_detail=False
                )
            messages._write_rows(changes)
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
        # the first chunk goes to the provider right after this commit: it is
        # stamped handed over now, which spares one UPDATE of every row of it
        # (a crash in between leaves it 'unknown', never sent twice)
        first = set(self._chunks(paid, provider)[0].ids) if commit and paid else set()
        stamp = self.env.cr.now()
        for message in paid:
            changes[message.id].update(
                state="sending",
                reason=False,
                reason_detail=False,
                provider_id=provider.id,
                attempt_count=message.attempt_count + 1,
                sending_since=stamp if message.id in first else False,
            )
        messages._write_rows(changes)
        if not paid:
            return not unpaid
        wallet._log_moves(paid, "debit")
        if commit:
            # From here on a crash leaves the rows 'sending': never sent twice
            # (the reconciliation cron turns them into 'unknown' later).
            payload = paid._payload_snapshot()
            self.env["ir.cron"]._commit_progress(0)
            self._send_chunks(
                paid, provider, now, deadline, stamped=first, payload=payload
            )
        else:
            results = {}
            for chunk in self._chunks(paid, provider):
                results.update(self._call_provider(provider, chunk, deadline))
            self.env["clinic.sms.outcome"]._apply_results(paid, results, now)
        return not unpaid
