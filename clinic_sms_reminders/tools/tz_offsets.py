"""Time zones as the planners read them (R-2.1, R-2.3): an IANA name to a
zone, naive UTC instants to local wall times and back (both readings of an
ambiguous or nonexistent wall time), and the instants at which a zone's UTC
offset changes, found once per zone and year."""

import bisect
import functools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def zone_of(tz_name):
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


def is_known_zone(tz_name):
    """True when ``tz_name`` is empty (UTC) or a time zone this system knows."""
    try:
        zone_of(tz_name)
    except ValueError:
        return False
    return True


def naive_utc(moment):
    """``moment`` as a naive UTC datetime (as Odoo stores them)."""
    if moment.tzinfo is not None:
        return moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def to_local(instant, zone):
    """Local aware datetime of a naive UTC instant."""
    return instant.replace(tzinfo=UTC).astimezone(zone)


def instants_of_wall(wall, zone):
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


def _offset_at(instant, zone):
    return to_local(instant, zone).utcoffset()


@functools.lru_cache(maxsize=512)
def year_transitions(zone, year):
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


def transitions_between(zone, low, high):
    """Offset changes of ``zone`` at instants in ``[low, high]``."""
    found = []
    for year in range(low.year, high.year + 1):
        transitions = year_transitions(zone, year)
        first = bisect.bisect_left(transitions, low)
        last = bisect.bisect_right(transitions, high)
        found.extend(transitions[first:last])
    return found


def local_dates(low, high, zone):
    """Local calendar dates touched by ``[low, high]``, with one day of margin
    on each side so that walls of neighbouring days are considered too."""
    first = to_local(low, zone).date() - timedelta(days=1)
    last = to_local(high, zone).date() + timedelta(days=1)
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)
