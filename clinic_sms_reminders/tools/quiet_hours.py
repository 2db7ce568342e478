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
"""

import bisect
import functools
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UNITS = ("minutes", "hours", "days")

_MINUTE = timedelta(minutes=1)
_TINY = timedelta(microseconds=1)
# Long enough to contain at least one allowed minute in any real time zone
# (even one that skips a whole calendar day), short enough to stay cheap.
_SEARCH_CHUNK = timedelta(days=3)


def _zone(tz_name):
    """Return the tzinfo of ``tz_name``; empty means UTC.

    An unknown name is a configuration error that the caller must report,
    not a reason to silently send at the wrong local time.
    """
    if not tz_name:
        return UTC
    try:
        return ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError, TypeError, OSError) as error:
        raise ValueError(
            f'Unknown time zone "{tz_name}". Use an IANA time zone name such as '
            '"Europe/Paris".'
        ) from error


def float_to_time(hours):
    """Wall time of a float hour as Odoo's float_time widget stores it (9.5 is
    09:30); 24.0 and beyond is the last minute of the day."""
    minutes = min(round(hours * 60), 24 * 60 - 1)
    return time(minutes // 60, minutes % 60)


def is_known_zone(tz_name):
    """True when ``tz_name`` is empty (UTC) or a time zone this system knows."""
    try:
        _zone(tz_name)
    except ValueError:
        return False
    return True


def _naive_utc(moment):
    if moment.tzinfo is not None:
        return moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def _local(instant, zone):
    """Local aware datetime of a naive UTC instant."""
    return instant.replace(tzinfo=UTC).astimezone(zone)


def _instants_of_wall(wall, zone):
    """Both readings (fold 0 and 1) of a naive local wall time, as naive UTC.

    For an ordinary wall time both readings are the same instant; for an
    ambiguous one (clocks set back) they are its two occurrences; for a
    nonexistent one (clocks set forward) they are the instants computed with
    the offsets before and after the change, neither of which shows that wall
    time.
    """
    return sorted(
        {
            wall.replace(tzinfo=zone, fold=fold).astimezone(UTC).replace(tzinfo=None)
            for fold in (0, 1)
        }
    )


def _floor_minute(moment):
    return moment.replace(second=0, microsecond=0)


def _ceil_minute(moment):
    floored = _floor_minute(moment)
    return floored if floored == moment else floored + _MINUTE


def _window(window_start, window_end):
    """Normalise and check the window limits (whole minutes, naive)."""
    start = time(window_start.hour, window_start.minute)
    end = time(window_end.hour, window_end.minute)
    if start >= end:
        raise ValueError(
            f"The sending window must start before it ends "
            f"({start:%H:%M} is not before {end:%H:%M})."
        )
    return start, end


def _offset_at(instant, zone):
    return _local(instant, zone).utcoffset()


@functools.lru_cache(maxsize=512)
def _year_transitions(zone, year):
    """Instants (naive UTC) of the UTC-offset changes of ``zone`` in ``year``.

    zoneinfo has no public list of transitions, so the offset is sampled every
    hour (real zones never change twice within an hour) and each change is
    located to the second by bisection. Cached: planners ask for the same
    zones and years over and over.
    """
    if zone is UTC:
        return ()
    first = datetime(year, 1, 1)
    last = datetime(year + 1, 1, 1)
    transitions = []
    hour = timedelta(hours=1)
    before = first
    offset_before = _offset_at(before, zone)
    while before < last:
        after = before + hour
        offset_after = _offset_at(after, zone)
        if offset_after != offset_before:
            low, high = before, after
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                middle = middle.replace(microsecond=0)
                if middle <= low:
                    break
                if _offset_at(middle, zone) == offset_after:
                    high = middle
                else:
                    low = middle
            transitions.append(high)
        before, offset_before = after, offset_after
    return tuple(transitions)


def _transitions_between(zone, low, high):
    """Offset changes of ``zone`` at instants in ``[low, high]``."""
    found = []
    for year in range(low.year, high.year + 1):
        transitions = _year_transitions(zone, year)
        first = bisect.bisect_left(transitions, low)
        last = bisect.bisect_right(transitions, high)
        found.extend(transitions[first:last])
    return found


def _local_dates(low, high, zone):
    """Local calendar dates touched by ``[low, high]``, with one day of margin
    on each side so that walls of neighbouring days are considered too."""
    first = _local(low, zone).date() - timedelta(days=1)
    last = _local(high, zone).date() + timedelta(days=1)
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def _allowed(instant, zone, start, end):
    return start <= _local(instant, zone).time() < end


def _latest_allowed_minute(limit, floor, zone, start, end):
    """Latest whole-minute instant ``<= limit`` inside the window, or ``None``
    when there is none at or after ``floor``.

    The answer is either ``limit`` itself (rounded down to the minute) or the
    last minute before the local time leaves the window: the minute whose
    wall time is ``end - 1 minute`` (in either reading around a DST change),
    or the minute before a DST jump that skips the rest of the window. When
    the quick answer does not apply, only these candidates are examined,
    chunk by chunk going back in time.
    """
    last_minute = time(*divmod(end.hour * 60 + end.minute - 1, 60))
    quick = _latest_allowed_minute_quick(limit, zone, start, end, last_minute)
    if quick is not None:
        return quick if quick >= floor else None
    chunk_high = limit
    candidates = [_floor_minute(limit)]
    while chunk_high >= floor:
        chunk_low = chunk_high - _SEARCH_CHUNK
        for day in _local_dates(chunk_low, chunk_high, zone):
            candidates.extend(
                _instants_of_wall(datetime.combine(day, last_minute), zone)
            )
        for transition in _transitions_between(zone, chunk_low, chunk_high + _MINUTE):
            candidates.append(_floor_minute(transition - _TINY))
        valid = [
            candidate
            for candidate in candidates
            if chunk_low < candidate <= limit and _allowed(candidate, zone, start, end)
        ]
        if valid:
            best = max(valid)
            return best if best >= floor else None
        chunk_high = chunk_low
        candidates = []
    return None


def _latest_allowed_minute_quick(limit, zone, start, end, last_minute):
    """The usual case without a search: ``limit`` is after the window (take
    ``end - 1 minute`` that day) or before it (the day before). Valid only
    when no UTC-offset change lies between that minute and ``limit``: local
    time then runs straight from the window's last minute to ``limit``
    without entering the window again. ``None`` means "search"."""
    wall = _local(limit, zone).replace(tzinfo=None)
    if wall.time() >= end:
        day = wall.date()
    elif wall.time() < start:
        day = wall.date() - timedelta(days=1)
    else:
        return None
    candidates = [
        instant
        for instant in _instants_of_wall(datetime.combine(day, last_minute), zone)
        if instant <= limit and _allowed(instant, zone, start, end)
    ]
    if not candidates:
        return None
    best = max(candidates)
    if _transitions_between(zone, best, limit + _MINUTE):
        return None
    return best


def _first_allowed_minute(bound, ceiling, zone, start, end):
    """First whole-minute instant ``>= bound`` and ``< ceiling`` inside the
    window, or ``None``.

    Mirror of :func:`_latest_allowed_minute`: the answer is ``bound`` rounded
    up to the minute, the minute whose wall time is ``start`` (in either
    reading), or the first minute after a DST jump into the window.
    """
    first = _ceil_minute(bound)
    quick = _first_allowed_minute_quick(first, zone, start, end)
    if quick is not None:
        return quick if quick < ceiling else None
    chunk_low = first
    candidates = [first]
    while chunk_low < ceiling:
        chunk_high = chunk_low + _SEARCH_CHUNK
        for day in _local_dates(chunk_low, chunk_high, zone):
            candidates.extend(_instants_of_wall(datetime.combine(day, start), zone))
        for transition in _transitions_between(zone, chunk_low - _MINUTE, chunk_high):
            candidates.append(_ceil_minute(transition))
        valid = [
            candidate
            for candidate in candidates
            if chunk_low <= candidate < chunk_high
            and candidate >= first
            and _allowed(candidate, zone, start, end)
        ]
        if valid:
            best = min(valid)
            return best if best < ceiling else None
        chunk_low = chunk_high
        candidates = []
    return None


def _first_allowed_minute_quick(first, zone, start, end):
    """Mirror of :func:`_latest_allowed_minute_quick`: ``first`` itself, or
    ``start`` the same day or the next day, when no UTC-offset change lies
    in between. ``None`` means "search"."""
    wall = _local(first, zone).replace(tzinfo=None)
    if start <= wall.time() < end:
        return first
    day = wall.date() if wall.time() < start else wall.date() + timedelta(days=1)
    candidates = [
        instant
        for instant in _instants_of_wall(datetime.combine(day, start), zone)
        if instant >= first and _allowed(instant, zone, start, end)
    ]
    if not candidates:
        return None
    best = min(candidates)
    if _transitions_between(zone, first - _MINUTE, best):
        return None
    return best


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
    start = _naive_utc(start_utc)
    if unit == "minutes":
        return start - timedelta(minutes=offset)
    zone = _zone(tz_name)
    local_wall = _local(start, zone).replace(tzinfo=None)
    earlier = min(_instants_of_wall(local_wall - timedelta(**{unit: offset}), zone))
    # never after the start (an hour-long rule across a DST jump)
    return min(earlier, start)


def is_inside_window(when_utc, tz_name, window_start, window_end):
    """Whether ``when_utc`` falls inside the local sending window
    ``[window_start, window_end)`` of ``tz_name``."""
    start, end = _window(window_start, window_end)
    return _allowed(_naive_utc(when_utc), _zone(tz_name), start, end)


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
    start, end = _window(window_start, window_end)
    zone = _zone(tz_name)
    planned = _naive_utc(planned_utc)
    now = _naive_utc(now_utc)
    deadline = _naive_utc(deadline_utc)
    if now >= deadline:
        return None
    if now <= planned < deadline and _allowed(planned, zone, start, end):
        return planned
    limit = planned if planned < deadline else deadline - _TINY
    if limit >= now:
        earlier = _latest_allowed_minute(limit, now, zone, start, end)
        if earlier is not None:
            return earlier
    return _first_allowed_minute(now, deadline, zone, start, end)


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
    start, end = _window(window_start, window_end)
    zone = _zone(tz_name)
    now = _naive_utc(now_utc)
    ceiling = _naive_utc(deadline_utc) if deadline_utc else now + _LOOK_AHEAD
    if now >= ceiling:
        return None
    if _allowed(now, zone, start, end):
        return now
    return _first_allowed_minute(now, ceiling, zone, start, end)
