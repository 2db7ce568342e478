"""Rate limit of a provider shared by every worker (R-7.4): the next send
slot is a column of the provider's row, reserved by one statement per chunk
in a transaction of its own, so that it is visible to the other workers at
once and locks the row for that statement only."""

RESERVE = """
    UPDATE clinic_sms_provider
       SET throttle_next_at = GREATEST(
               COALESCE(throttle_next_at, 0),
               EXTRACT(EPOCH FROM clock_timestamp())
           ) + %(span)s
     WHERE id = %(id)s
 RETURNING throttle_next_at - %(span)s - EXTRACT(EPOCH FROM clock_timestamp())
"""
PUSH_BACK = """
    UPDATE clinic_sms_provider
       SET throttle_next_at = GREATEST(
               COALESCE(throttle_next_at, 0),
               EXTRACT(EPOCH FROM clock_timestamp()) + %(delay)s
           )
     WHERE id = %(id)s
"""


def _execute(provider, query, params):
    with provider.env.registry.cursor() as cr:
        cr.execute(query, params)
        row = cr.fetchone() if cr.description else None
        # a cursor of its own: the slot is visible to every worker at once
        cr.commit()  # pylint: disable=invalid-commit
    return row


def reserve(provider, count):
    """Reserve ``count`` send slots; returns the seconds to wait before the
    first one (0 when the provider may send now). The slots follow each
    other at ``rate_limit`` per second; without a rate limit only a
    Retry-After pushed by the gateway delays them."""
    rate = provider.rate_limit
    span = count / rate if rate > 0 else 0.0
    row = _execute(provider, RESERVE, {"span": span, "id": provider.id})
    return max(float(row[0]), 0.0) if row else 0.0


def push_back(provider, delay):
    """No slot before ``delay`` seconds from now (a 429's Retry-After)."""
    _execute(provider, PUSH_BACK, {"delay": float(delay), "id": provider.id})
