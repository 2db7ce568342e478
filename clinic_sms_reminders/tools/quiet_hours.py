"""Send-time arithmetic for reminders and quiet hours (R-2.1, R-2.3).

Every datetime given to or returned by this module is a naive UTC datetime,
as Odoo stores them (an aware datetime is accepted and converted to UTC). A
time zone is an IANA name (``"Europe/Paris"``); an empty one means UTC, as
Odoo does for a user or partner without a time zone.

The sending window is a pair of local wall times ``[window_start,
window_end)``: 09:00-19:00 allows 09:00 up to 18:59, the last allowed minute.
Windows that span midnight are not supported (the window is the day part,
quiet hours are the rest). Send times are planned to the minute: window limits
are read in whole minutes and a moved send time is always on a whole minute.

Daylight-saving changes are handled by computing with real instants: a result
is always an instant, so it can never be a nonexistent local time, and the
functions are pure, so planning the same appointment twice gives the same
instant (the caller's idempotency key then prevents a duplicate).

The time-zone arithmetic is in :mod:`tz_offsets`, the search of allowed
minutes in :mod:`window_search`.
"""

from datetime import time, timedelta

from .tz_offsets import instants_of_wall, is_known_zone, naive_utc, to_local, zone_of
from .tz_offsets import year_transitions as _year_transitions  # noqa: F401
from .window_search import (
    TINY,
    check_window,
    first_allowed_minute,
    is_allowed,
    latest_allowed_minute,
)

# ``_year_transitions`` stays reachable here: the tests clear its cache.
__all__ = [
    "UNITS",
    "float_to_time",
    "is_inside_window",
    "is_known_zone",
    "next_allowed_instant",
    "reminder_time",
    "shift_into_window",
]

UNITS = ("minutes", "hours", "days")


def float_to_time(hours):
    """Wall time of a float hour as Odoo's float_time widget stores it (9.5 is
    09:30); 24.0 and beyond is the last minute of the day."""
    minutes = min(round(hours * 60), 24 * 60 - 1)
    return time(minutes // 60, minutes % 60)


def reminder_time(start_utc, offset, unit, tz_name):
    """When a reminder "``offset`` ``unit`` before the start" is due (R-2.1).

    ``tz_name`` is the appointment's time zone. Hours and days count on its
    wall clock: the reminder is at the appointment's local wall time minus
    ``offset`` hours or days, so "24 hours before" a Sunday 09:30 appointment
    is Saturday 09:30 even on the night the clocks change (where an elapsed
    24 hours would give 08:30 or 10:30). Minutes are an elapsed duration (a
    "30 minutes before" reminder is never 90 minutes early because the clocks
    went back in between). If the wall time is ambiguous (clocks set back)
    the earlier occurrence is used; if it does not exist (clocks set forward)
    the earlier of its two readings is used, i.e. the time shifted back by
    the DST jump (02:30 becomes 01:30 standard time on the night clocks go
    from 02:00 to 03:00): a reminder may come early, never late.

    Raises ValueError for an unknown unit, a negative offset or an unknown
    time zone.
    """
    if unit not in UNITS:
        raise ValueError(f'Unknown reminder unit "{unit}". Use minutes, hours or days.')
    if offset is None or offset < 0:
        raise ValueError("The reminder offset must be zero or a positive number.")
    start = naive_utc(start_utc)
    if unit == "minutes":
        return start - timedelta(minutes=offset)
    zone = zone_of(tz_name)
    local_wall = to_local(start, zone).replace(tzinfo=None)
    earlier = min(instants_of_wall(local_wall - timedelta(**{unit: offset}), zone))
    # never after the start (an hour-long rule across a DST jump)
    return min(earlier, start)


def is_inside_window(when_utc, tz_name, window_start, window_end):
    """Whether ``when_utc`` falls inside the local sending window
    ``[window_start, window_end)`` of ``tz_name``."""
    start, end = check_window(window_start, window_end)
    return is_allowed(naive_utc(when_utc), zone_of(tz_name), start, end)


def shift_into_window(
    planned_utc, tz_name, window_start, window_end, now_utc, deadline_utc
):
    """Move a planned send time into the sending window (R-2.3).

    * ``planned`` inside the window, not in the past and before the deadline:
      it is kept as it is.
    * Otherwise the send time moves EARLIER, to the last allowed minute before
      it: ``window_end - 1 minute`` the same local day when ``planned`` is
      after the window, the evening before when it is before the window.
      When ``planned`` is at or after the deadline (the appointment start),
      the last allowed minute before the deadline is used.
    * If that earlier minute is already in the past, or ``planned`` itself is
      in the past (planning late), the first allowed minute at or after
      ``now`` (rounded up to the minute) is used, which may be later than
      ``planned`` but is still before the deadline: a late reminder is better
      than none.
    * If no allowed minute exists in ``[now, deadline)``, returns ``None``: the
      caller skips the reminder and logs why.

    The result is always inside the window, ``>= now_utc`` and
    ``< deadline_utc``. Raises ValueError when ``window_start`` is not before
    ``window_end`` or the time zone is unknown.
    """
    start, end = check_window(window_start, window_end)
    zone = zone_of(tz_name)
    planned = naive_utc(planned_utc)
    now = naive_utc(now_utc)
    deadline = naive_utc(deadline_utc)
    if now >= deadline:
        return None
    if now <= planned < deadline and is_allowed(planned, zone, start, end):
        return planned
    limit = planned if planned < deadline else deadline - TINY
    if limit >= now:
        earlier = latest_allowed_minute(limit, now, zone, start, end)
        if earlier is not None:
            return earlier
    return first_allowed_minute(now, deadline, zone, start, end)


# ----------------------------------------------------------------------
# the window at the moment of sending (R-2.3, dispatch side)
# ----------------------------------------------------------------------
_LOOK_AHEAD = timedelta(days=8)


def next_allowed_instant(now_utc, tz_name, window_start, window_end, deadline_utc=None):
    """When a message due at ``now_utc`` may go out (R-2.3, at dispatch).

    ``now_utc`` itself when it is inside the window; else the first allowed
    minute after it, if that is before ``deadline_utc`` (the appointment
    start; a week ahead when there is none); else ``None``: the message is
    no longer useful. Raises ValueError like :func:`shift_into_window`."""
    start, end = check_window(window_start, window_end)
    zone = zone_of(tz_name)
    now = naive_utc(now_utc)
    ceiling = naive_utc(deadline_utc) if deadline_utc else now + _LOOK_AHEAD
    if now >= ceiling:
        return None
    if is_allowed(now, zone, start, end):
        return now
    return first_allowed_minute(now, ceiling, zone, start, end)
