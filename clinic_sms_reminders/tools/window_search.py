"""The minutes of a local sending window ``[start, end)`` nearest to an
instant, before or after it (R-2.3), found among a few candidates (the
window's limits on each local day, the minutes around each UTC-offset change)
rather than minute by minute, so that a daylight-saving change is never a
reason to send outside the window."""

from datetime import datetime, time, timedelta

from .tz_offsets import instants_of_wall, local_dates, to_local, transitions_between

MINUTE = timedelta(minutes=1)
TINY = timedelta(microseconds=1)
# Long enough to contain at least one allowed minute in any real time zone
# (even one that skips a whole calendar day), short enough to stay cheap.
_SEARCH_CHUNK = timedelta(days=3)


def floor_minute(moment):
    """``moment`` rounded down to the whole minute."""
    return moment.replace(second=0, microsecond=0)


def ceil_minute(moment):
    """``moment`` rounded up to the whole minute."""
    floored = floor_minute(moment)
    return floored if floored == moment else floored + MINUTE


def check_window(window_start, window_end):
    """Normalise and check the window limits (whole minutes, naive)."""
    start = time(window_start.hour, window_start.minute)
    end = time(window_end.hour, window_end.minute)
    if start >= end:
        raise ValueError(
            f"The sending window must start before it ends "
            f"({start:%H:%M} is not before {end:%H:%M})."
        )
    return start, end


def is_allowed(instant, zone, start, end):
    """Whether the local time of ``instant`` is inside ``[start, end)``."""
    return start <= to_local(instant, zone).time() < end


def latest_allowed_minute(limit, floor, zone, start, end):
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
    candidates = [floor_minute(limit)]
    while chunk_high >= floor:
        chunk_low = chunk_high - _SEARCH_CHUNK
        for day in local_dates(chunk_low, chunk_high, zone):
            candidates.extend(
                instants_of_wall(datetime.combine(day, last_minute), zone)
            )
        for transition in transitions_between(zone, chunk_low, chunk_high + MINUTE):
            candidates.append(floor_minute(transition - TINY))
        valid = [
            candidate
            for candidate in candidates
            if chunk_low < candidate <= limit
            and is_allowed(candidate, zone, start, end)
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
    wall = to_local(limit, zone).replace(tzinfo=None)
    if wall.time() >= end:
        day = wall.date()
    elif wall.time() < start:
        day = wall.date() - timedelta(days=1)
    else:
        return None
    candidates = [
        instant
        for instant in instants_of_wall(datetime.combine(day, last_minute), zone)
        if instant <= limit and is_allowed(instant, zone, start, end)
    ]
    if not candidates:
        return None
    best = max(candidates)
    if transitions_between(zone, best, limit + MINUTE):
        return None
    return best


def first_allowed_minute(bound, ceiling, zone, start, end):
    """First whole-minute instant ``>= bound`` and ``< ceiling`` inside the
    window, or ``None``.

    Mirror of :func:`latest_allowed_minute`: the answer is ``bound`` rounded
    up to the minute, the minute whose wall time is ``start`` (in either
    reading), or the first minute after a DST jump into the window.
    """
    first = ceil_minute(bound)
    quick = _first_allowed_minute_quick(first, zone, start, end)
    if quick is not None:
        return quick if quick < ceiling else None
    chunk_low = first
    candidates = [first]
    while chunk_low < ceiling:
        chunk_high = chunk_low + _SEARCH_CHUNK
        for day in local_dates(chunk_low, chunk_high, zone):
            candidates.extend(instants_of_wall(datetime.combine(day, start), zone))
        for transition in transitions_between(zone, chunk_low - MINUTE, chunk_high):
            candidates.append(ceil_minute(transition))
        valid = [
            candidate
            for candidate in candidates
            if chunk_low <= candidate < chunk_high
            and candidate >= first
            and is_allowed(candidate, zone, start, end)
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
    wall = to_local(first, zone).replace(tzinfo=None)
    if start <= wall.time() < end:
        return first
    day = wall.date() if wall.time() < start else wall.date() + timedelta(days=1)
    candidates = [
        instant
        for instant in instants_of_wall(datetime.combine(day, start), zone)
        if instant >= first and is_allowed(instant, zone, start, end)
    ]
    if not candidates:
        return None
    best = min(candidates)
    if transitions_between(zone, first - MINUTE, best):
        return None
    return best
