"""Grouping of a patient's consecutive appointments (R-1.4, R-2.5).

A patient booked for a cleaning at 10:00 and an X-ray at 10:30 must get ONE
confirmation or reminder citing 10:00, not two messages. This module decides
which appointments belong together; the Odoo layer then sends one message per
group, citing the first start.
"""

from datetime import timedelta
from operator import itemgetter

_FIELDS = ("key", "start", "stop", "id")

# "separated by less than 2 hours (configurable)".
DEFAULT_GAP = timedelta(hours=2)


def _fields_of(item):
    """Return ``(key, start, stop, id)`` of an item.

    Items may be tuples/lists in that order, mappings with those keys, or
    objects with those attributes (e.g. a small dataclass or named tuple), so
    that callers can pass rows straight from SQL or from the ORM.
    """
    if isinstance(item, tuple | list):
        return tuple(item[:4])
    if isinstance(item, dict):
        return itemgetter(*_FIELDS)(item)
    return tuple(getattr(item, field) for field in _FIELDS)


def group_appointments(items, gap=DEFAULT_GAP):
    """Group appointments of the same key (patient) that follow each other.

    Two appointments of the same key are in the same group when the next one
    starts less than ``gap`` after the group's latest stop so far: back to
    back (no gap at all) and overlapping appointments are always grouped,
    whatever ``gap`` is. Each group is sorted by start (ties keep the input
    order) and groups are sorted by their first start, so the first item of
    each group is the appointment to cite. The items themselves are returned,
    untouched. Runs in O(n log n).

    Raises ValueError when ``gap`` is negative.
    """
    if gap < timedelta(0):
        raise ValueError("The grouping gap cannot be negative.")
    by_key = {}
    for position, item in enumerate(items):
        key, start, stop, _item_id = _fields_of(item)
        # An appointment without an end is treated as a point in time.
        stop = start if stop is None or stop < start else stop
        by_key.setdefault(key, []).append((start, position, stop, item))
    groups = []
    for entries in by_key.values():
        entries.sort(key=itemgetter(0, 1))
        current = []
        latest_stop = None
        for start, position, stop, item in entries:
            separation = None if latest_stop is None else start - latest_stop
            if current and (separation <= timedelta(0) or separation < gap):
                current.append((start, position, item))
                latest_stop = max(latest_stop, stop)
            else:
                if current:
                    groups.append(current)
                current = [(start, position, item)]
                latest_stop = stop
        if current:
            groups.append(current)
    groups.sort(key=lambda group: (group[0][0], group[0][1]))
    return [[item for _start, _position, item in group] for group in groups]
