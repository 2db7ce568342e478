"""Dispatch lanes (R-7.1, R-7.10): one cron run sends over several database
connections at once, each lane an independent worker of the dispatch engine.

Why: a batch alternates between Python (checks, rendering, case notes) and
PostgreSQL (the set-wise writes), and one lane leaves one of the two idle
at any time. Two lanes keep both busy (measured: 8.5 s -> 6.0-6.4 s for
20,000 messages on 2 cores, benchmarks/README.md). Each lane is what a second
cron worker would be: it claims its own batches (``FOR UPDATE SKIP LOCKED``),
commits them on its own connection and stops at the same time limit; nothing
is shared in memory but the counts returned. The cron's planning goes over
the same lanes (``clinic.sms.rule._plan_in_lanes``): each lane plans the
patients whose id is its index modulo the number of lanes, in its own
transaction (measured: its ``INSERT`` is most of the planning's time).

Every dispatch transaction runs at READ COMMITTED (``_begin_read_committed``):
at Odoo's REPEATABLE READ, a worker that reserves units after another one
committed a reservation of the same wallet fails with a serialization error
and prepares its whole batch again (measured: 39 of 40 batches with two
workers). At READ COMMITTED the reservation waits for the other one's commit
and reads the balance it left; the claimed rows are locked by their worker,
and every state change is an ``UPDATE`` limited to the states it may come
from, re-checked by PostgreSQL on the row as it is after such a wait.
"""

import logging
import threading

from psycopg2.extensions import TRANSACTION_STATUS_IDLE

from odoo import api, models
from odoo.modules import module as odoo_module
from odoo.sql_db import Cursor

_logger = logging.getLogger(__name__)

LANES_PARAM = "clinic_sms_reminders.dispatch_lanes"
DEFAULT_LANES = 2
MAX_LANES = 8
# context keys: set in a lane's environment (not the cron's own)
LANE_KEY = "clinic_sms_lane"
LANES_KEY = "clinic_sms_lanes"


class ClinicSmsDispatcher(models.AbstractModel):
    _inherit = "clinic.sms.dispatcher"  # pylint: disable=consider-merging-classes-inherited

    @api.model
    def _lane_count(self):
        """Lanes of one cron run: the system parameter
        ``clinic_sms_reminders.dispatch_lanes`` (1 to 8, default 2; 1 on a
        one-core server). A value that is not a number counts as the default."""
        value = self.env["ir.config_parameter"].sudo().get_param(LANES_PARAM)
        try:
            lanes = int(value) if value not in (None, False, "") else DEFAULT_LANES
        except ValueError:
            _logger.warning(
                "SMS dispatch: %s=%r is not a number; %d lanes used",
                LANES_PARAM,
                value,
                DEFAULT_LANES,
            )
            lanes = DEFAULT_LANES
        return min(max(lanes, 1), MAX_LANES)

    @api.model
    def _can_open_lanes(self):
        """Lanes need connections of their own: only on a real database
        cursor, not while Odoo's tests run (a test's data lives in its own
        uncommitted transaction, which another connection cannot see) and
        not from inside a lane."""
        return (
            isinstance(self.env.cr, Cursor)
            and not odoo_module.current_test
            and not self.env.context.get(LANE_KEY)
        )

    @api.model
    def _begin_read_committed(self):
        """Run the transaction about to begin at READ COMMITTED (see the
        module's docstring); nothing when one is already open or on a test
        cursor."""
        cr = self.env.cr
        if not isinstance(cr, Cursor):
            return
        if cr._cnx.info.transaction_status == TRANSACTION_STATUS_IDLE:
            cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")

    @api.model
    def _dispatch_in_lanes(self, now, batch_size, lanes):
        """Run ``_dispatch_loop`` in this cron run and in ``lanes - 1`` more
        lanes; returns the messages processed by all."""
        counts = self._run_in_lanes(
            lanes,
            lambda env, _index: env["clinic.sms.dispatcher"]._dispatch_loop(
                now, batch_size, commit=True
            ),
        )
        return sum(counts)

    @api.model
    def _run_in_lanes(self, lanes, work):
        """``work(env, index)`` for each lane: lane 0 in this transaction,
        the others in threads on connections of their own, each committed
        when its work is done. Returns the results in lane order; a lane's
        error is raised once every lane is done (the others' work stays)."""
        results = [None] * lanes
        errors = []
        context = {
            key: value
            for key, value in self.env.context.items()
            # the cron's progress row is the cron run's own
            if key not in ("ir_cron_progress_id", "cron_id")
        }
        context.update({LANE_KEY: True, LANES_KEY: lanes})
        registry, uid = self.env.registry, self.env.uid
        dbname = self.env.cr.dbname

        def run(index):
            thread = threading.current_thread()
            thread.dbname, thread.uid = dbname, uid
            try:
                with registry.cursor() as cr:
                    results[index] = work(api.Environment(cr, uid, context), index)
            except Exception as error:  # noqa: BLE001 - raised by lane 0 below
                errors.append(error)

        threads = [
            threading.Thread(
                target=run, args=(index,), name=f"clinic-sms-lane-{index}", daemon=True
            )
            for index in range(1, lanes)
        ]
        for thread in threads:
            thread.start()
        try:
            results[0] = work(self.with_context(**{LANES_KEY: lanes}).env, 0)
        finally:
            for thread in threads:
                thread.join()
        if errors:
            raise errors[0]
        return results
