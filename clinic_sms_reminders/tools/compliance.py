"""Marketing frequency caps and quiet days (R-11.1, R-11.2). Pure Python.

A marketing message (mass mailing, birthday greeting, recall campaign, or any
message whose purpose is marketing) goes out only:

* inside the marketing window (10:00-20:00 by default) of the recipient's
  local time;
* on a day that is neither a rest day (Sunday by default) nor one of the
  clinic's public holidays (local dates);
* when the patient got fewer than ``daily_cap`` marketing messages from the
  clinic that local calendar day and fewer than ``weekly_cap`` in every
  7 consecutive local days that contain it (1 and 3 by default; 0 means no
  cap).

A message due at a forbidden moment waits for the first allowed minute while
that is within ``horizon_days`` (a birthday greeting is not worth sending a
week late), else it is skipped with the reason: ``marketing_cap`` when only
the caps stand in the way, ``marketing_quiet`` otherwise.

Datetimes are naive UTC, as Odoo stores them; time zones are IANA names.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from .tz_offsets import naive_utc, zone_of
from .window_search import ceil_minute

MARKETING_KINDS = frozenset({"mass", "birthday", "recall"})
# how long a held message stays worth sending, per kind
HORIZON_DAYS = {"birthday": 3}
DEFAULT_HORIZON_DAYS = 14

OK = "ok"
WAIT = "wait"
SKIP = "skip"
REASON_CAP = "marketing_cap"
REASON_QUIET = "marketing_quiet"


def is_marketing(kind, purpose):
    """Whether a message of this kind and purpose follows R-11.1/R-11.2."""
    return purpose == "marketing" or kind in MARKETING_KINDS


@dataclass(frozen=True)
class MarketingPolicy:
    daily_cap: int = 1
    weekly_cap: int = 3
    window_start: time = time(10, 0)
    window_end: time = time(20, 0)
    rest_weekdays: frozenset = frozenset({6})  # Monday is 0, Sunday 6
    holidays: frozenset = field(default_factory=frozenset)
    horizon_days: int = DEFAULT_HORIZON_DAYS


def _instant(day, wall, zone):
    return datetime.combine(day, wall, tzinfo=zone).astimezone(UTC).replace(tzinfo=None)


def local_date(instant, tz_name):
    """Local calendar date of a naive UTC instant."""
    return naive_utc(instant).replace(tzinfo=UTC).astimezone(zone_of(tz_name)).date()


def holiday_dates(intervals, tz_name):
    """Local dates touched by ``(date_from, date_to)`` UTC intervals, such as
    the clinic's global time off (``resource.calendar.leaves``)."""
    days = set()
    for start, stop in intervals:
        first, last = local_date(start, tz_name), local_date(stop, tz_name)
        if last < first:
            continue
        days.update(first + timedelta(days=n) for n in range((last - first).days + 1))
    return frozenset(days)


def is_open_day(day, policy):
    return day.weekday() not in policy.rest_weekdays and day not in policy.holidays


def caps_allow(day, sent_days, policy):
    """Whether one more marketing message on local ``day`` keeps the caps,
    given ``sent_days`` (a Counter of local dates of the messages sent)."""
    if policy.daily_cap and sent_days[day] >= policy.daily_cap:
        return False
    if policy.weekly_cap:
        for first in range(-6, 1):
            week = (day + timedelta(days=first + n) for n in range(7))
            if sum(sent_days[d] for d in week) >= policy.weekly_cap:
                return False
    return True


def _window(day, zone, policy):
    return _instant(day, policy.window_start, zone), _instant(
        day, policy.window_end, zone
    )


def next_marketing_time(when, tz_name, sent_days, policy, use_caps=True):
    """First instant ``>= when`` (whole minute unless ``when`` itself is
    allowed) at which a marketing message may go out; ``None`` when there is
    none within the policy's horizon."""
    when = naive_utc(when)
    zone = zone_of(tz_name)
    today = local_date(when, tz_name)
    for offset in range(policy.horizon_days + 1):
        day = today + timedelta(days=offset)
        if not is_open_day(day, policy):
            continue
        if use_caps and not caps_allow(day, sent_days, policy):
            continue
        start, end = _window(day, zone, policy)
        if start <= when < end:
            return when
        candidate = ceil_minute(max(when, start))
        if candidate < end and local_date(candidate, tz_name) == day:
            return candidate
    return None


def hold(when, tz_name, sent_times, policy):
    """(``"ok"``, None), (``"wait"``, next allowed instant) or (``"skip"``,
    reason) for a marketing message due at ``when`` to a patient who was
    sent marketing messages at ``sent_times`` (naive UTC)."""
    sent_days = Counter(local_date(moment, tz_name) for moment in sent_times)
    moment = next_marketing_time(when, tz_name, sent_days, policy)
    if moment is None:
        free = next_marketing_time(when, tz_name, Counter(), policy, use_caps=False)
        return SKIP, REASON_CAP if free is not None else REASON_QUIET
    if moment == naive_utc(when):
        return OK, None
    return WAIT, moment


def wait_reason(when, tz_name, moment, policy):
    """Why a message due at ``when`` waits until ``moment``: the quiet days
    and hours alone would have let it go at ``moment`` (``marketing_quiet``),
    or only the caps held it longer (``marketing_cap``)."""
    free = next_marketing_time(when, tz_name, Counter(), policy, use_caps=False)
    return REASON_QUIET if free == moment else REASON_CAP
