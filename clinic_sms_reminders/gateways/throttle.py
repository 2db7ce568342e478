"""Rate limit of a provider shared by every worker (R-7.4): the next free
send slot is a column of the provider's row, reserved by one statement per
chunk in a transaction of its own, so that it is visible to the other workers
at once and locks the row for that statement only. Times are PostgreSQL's
(``statement_timestamp()``), the same clock for every worker and server."""

import logging
import random
import time

from psycopg2 import errors
from psycopg2.extensions import ISOLATION_LEVEL_READ_COMMITTED

from odoo.sql_db import Cursor

_logger = logging.getLogger(__name__)

MAX_CONFLICTS = 20
LOCK_TIMEOUT = "2s"

# Grants at most the slots that start within ``max_wait`` seconds, so that a
# worker that cannot wait that long reserves nothing (it does not push the
# other workers' slots further for messages it will not send).
RESERVE = """
    WITH current AS (
        SELECT id,
               EXTRACT(EPOCH FROM statement_timestamp()) AS now,
               GREATEST(COALESCE(throttle_next_at, 0),
                        EXTRACT(EPOCH FROM statement_timestamp())) AS start
          FROM clinic_sms_provider
         WHERE id = %(id)s
           FOR UPDATE
    ), granted AS (
        SELECT id, now, start,
               CASE WHEN start > now + %(max_wait)s THEN 0
                    WHEN %(rate)s <= 0 THEN %(count)s
                    ELSE LEAST(%(count)s,
                               FLOOR((now + %(max_wait)s - start) * %(rate)s)::int + 1)
               END AS slots
          FROM current
    )
    UPDATE clinic_sms_provider AS p
       SET throttle_next_at = g.start
           + CASE WHEN %(rate)s > 0 THEN g.slots / %(rate)s ELSE 0 END
      FROM granted AS g
     WHERE p.id = g.id
 RETURNING g.start - g.now, g.slots
"""
PUSH_BACK = """
    UPDATE clinic_sms_provider
       SET throttle_next_at = GREATEST(
               COALESCE(throttle_next_at, 0),
               EXTRACT(EPOCH FROM statement_timestamp()) + %(delay)s
           )
     WHERE id = %(id)s
"""


def _execute(provider, query, params):
    """Run ``query`` in a transaction of its own, in read committed: workers
    updating the row at the same moment wait for each other and each sees
    the other's slots. (A test cursor stays in repeatable read: a conflict
    there, or anywhere, is simply run again.)"""
    for attempt in range(MAX_CONFLICTS):
        try:
            with provider.env.registry.cursor() as cr:
                if isinstance(cr, Cursor):  # a fresh connection, no transaction yet
                    cr.connection.set_isolation_level(ISOLATION_LEVEL_READ_COMMITTED)
                    # never wait long for a transaction that holds the row
                    cr.execute("SET LOCAL lock_timeout = %s", [LOCK_TIMEOUT])
                cr.execute(query, params, log_exceptions=False)
                row = cr.fetchone() if cr.description else None
                # a cursor of its own: the slot is seen by every worker at once
                cr.commit()  # pylint: disable=invalid-commit
            return row
        except errors.LockNotAvailable:
            _logger.warning(
                "SMS provider %s: its row is locked, this batch is not throttled",
                provider.id,
            )
            return None
        except errors.SerializationFailure:
            if attempt == MAX_CONFLICTS - 1:
                raise
            time.sleep(random.uniform(0, 0.002 * (attempt + 1)))
    return None


def reserve(provider, count, max_wait):
    """Reserve up to ``count`` send slots starting within ``max_wait``
    seconds; returns (seconds to wait before the first slot, slots granted).
    The slots follow each other at ``rate_limit`` per second; without a rate
    limit only a Retry-After pushed by the gateway delays them."""
    params = {
        "id": provider.id,
        "count": int(count),
        "max_wait": float(max(max_wait, 0.0)),
        "rate": float(provider.rate_limit or 0.0),
    }
    row = _execute(provider, RESERVE, params)
    if not row:
        # the row is not there for other transactions (a provider created in
        # this very transaction, as in tests), or another transaction holds
        # it for long: this batch is not throttled
        return 0.0, int(count)
    return max(float(row[0]), 0.0), int(row[1])


def push_back(provider, delay):
    """No slot before ``delay`` seconds from now (a 429's Retry-After)."""
    _execute(provider, PUSH_BACK, {"delay": float(delay), "id": provider.id})
