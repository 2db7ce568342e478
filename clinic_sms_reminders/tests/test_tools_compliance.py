"""Marketing caps, quiet days and hours (R-11.1, R-11.2)."""

from collections import Counter
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from odoo.addons.clinic_sms_reminders.tools import compliance

UTC = ZoneInfo("UTC")
PARIS = "Europe/Paris"
POLICY = compliance.MarketingPolicy()


def utc(tz_name, *args):
    """Naive UTC instant of a wall time in ``tz_name``."""
    local = datetime(*args, tzinfo=ZoneInfo(tz_name))
    return local.astimezone(UTC).replace(tzinfo=None)


def test_r112_inside_window_on_a_weekday_is_ok():
    """R-11.2: Tuesday 1 December 2026, 11:00 in Paris: sent at once."""
    when = utc(PARIS, 2026, 12, 1, 11, 0)
    assert compliance.hold(when, PARIS, [], POLICY) == ("ok", None)


def test_r112_sunday_waits_for_monday_ten():
    """R-11.2: a mass mailing due on Sunday 6 December leaves Monday at 10:00
    Paris time."""
    when = utc(PARIS, 2026, 12, 6, 11, 0)
    assert compliance.hold(when, PARIS, [], POLICY) == (
        "wait",
        utc(PARIS, 2026, 12, 7, 10, 0),
    )


def test_r112_evening_waits_for_next_morning_recipient_time():
    """R-11.2: 20:00 is outside 10:00-20:00; in the patient's zone, not the
    clinic's: 21:00 in Paris is 15:00 in New York, inside the window."""
    paris_evening = utc(PARIS, 2026, 12, 1, 21, 0)
    assert compliance.hold(paris_evening, PARIS, [], POLICY) == (
        "wait",
        utc(PARIS, 2026, 12, 2, 10, 0),
    )
    assert compliance.hold(paris_evening, "America/New_York", [], POLICY) == (
        "ok",
        None,
    )
    at_eight = utc(PARIS, 2026, 12, 1, 20, 0)
    assert compliance.hold(at_eight, PARIS, [], POLICY)[0] == "wait"


def test_r112_public_holiday_from_the_calendar():
    """R-11.2: Friday 25 December 2026 (a time off of the clinic's calendar,
    stored in UTC) is skipped; Saturday 26 is allowed."""
    christmas = compliance.holiday_dates(
        [(datetime(2026, 12, 24, 23, 0), datetime(2026, 12, 25, 22, 59, 59))], PARIS
    )
    assert christmas == {date(2026, 12, 25)}
    policy = compliance.MarketingPolicy(holidays=christmas)
    when = utc(PARIS, 2026, 12, 25, 10, 30)
    assert compliance.hold(when, PARIS, [], policy) == (
        "wait",
        utc(PARIS, 2026, 12, 26, 10, 0),
    )


def test_r111_once_a_day_and_three_times_a_week():
    """R-11.1: after a greeting this morning the next marketing message waits
    for tomorrow; after three in the last 7 days it waits until the oldest
    one leaves the week."""
    morning = utc(PARIS, 2026, 12, 1, 10, 5)
    afternoon = utc(PARIS, 2026, 12, 1, 15, 0)
    assert compliance.hold(afternoon, PARIS, [morning], POLICY) == (
        "wait",
        utc(PARIS, 2026, 12, 2, 10, 0),
    )
    sent = [utc(PARIS, 2026, 11, day, 11, 0) for day in (27, 28, 30)]
    # 27 (Fri), 28 (Sat) and 30 (Mon) November are all within the 7 days
    # ending Tue 1, Wed 2 and Thu 3 December; Fri 4 is the first day whose
    # every 7-day week holds fewer than three
    assert compliance.hold(afternoon, PARIS, sent, POLICY) == (
        "wait",
        utc(PARIS, 2026, 12, 4, 10, 0),
    )


def test_r111_caps_are_settings_and_zero_means_none():
    """R-11.1: per clinic caps; 0 is no cap."""
    sent = [utc(PARIS, 2026, 12, 1, 10, minute) for minute in range(5)]
    policy = compliance.MarketingPolicy(daily_cap=0, weekly_cap=0)
    when = utc(PARIS, 2026, 12, 1, 12, 0)
    assert compliance.hold(when, PARIS, sent, policy) == ("ok", None)


def test_r111_skip_reasons_beyond_the_horizon():
    """R-11.1 R-11.2: a birthday greeting not sendable within 3 days is
    skipped, with the cap or the quiet days as the reason."""
    when = utc(PARIS, 2026, 12, 1, 11, 0)
    short = compliance.MarketingPolicy(horizon_days=0)
    assert compliance.hold(when, PARIS, [when - timedelta(hours=1)], short) == (
        "skip",
        "marketing_cap",
    )
    closed = compliance.MarketingPolicy(
        horizon_days=3,
        holidays=frozenset(date(2026, 12, d) for d in range(1, 6)),
    )
    assert compliance.hold(when, PARIS, [], closed) == ("skip", "marketing_quiet")


def test_r112_marketing_kinds():
    """R-11.2: mass mailings, birthdays and campaigns are marketing;
    reminders and confirmations are not, unless their purpose is."""
    assert compliance.is_marketing("mass", "marketing")
    assert compliance.is_marketing("birthday", "marketing")
    assert compliance.is_marketing("recall", "recall")
    assert compliance.is_marketing("private", "marketing")
    assert not compliance.is_marketing("reminder", "appointment")
    assert not compliance.is_marketing("stop_reply", "essential")


ZONES = ["Europe/Paris", "America/New_York", "Pacific/Auckland", "Asia/Kolkata", ""]


@settings(max_examples=300, deadline=None)
@given(
    when=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31)),
    tz_name=st.sampled_from(ZONES),
    sent_offsets=st.lists(st.integers(min_value=-10 * 24, max_value=0), max_size=6),
    holidays=st.sets(st.integers(min_value=-2, max_value=20), max_size=6),
    daily=st.integers(min_value=0, max_value=2),
    weekly=st.integers(min_value=0, max_value=4),
)
def test_r111_r112_hold_properties(
    when, tz_name, sent_offsets, holidays, daily, weekly
):
    """R-11.1 R-11.2: whatever the moment, zone (daylight-saving included),
    history and holidays, an allowed moment is never before the due time,
    always inside 10:00-20:00 local, never on a Sunday or a holiday, keeps
    both caps, and no earlier day would have done."""
    today = compliance.local_date(when, tz_name)
    policy = compliance.MarketingPolicy(
        daily_cap=daily,
        weekly_cap=weekly,
        holidays=frozenset(today + timedelta(days=d) for d in holidays),
    )
    sent = [when + timedelta(hours=h) for h in sent_offsets]
    status, value = compliance.hold(when, tz_name, sent, policy)
    sent_days = Counter(compliance.local_date(s, tz_name) for s in sent)
    if status == "skip":
        assert value in ("marketing_cap", "marketing_quiet")
        return
    moment = when if status == "ok" else value
    assert moment >= when
    day = compliance.local_date(moment, tz_name)
    zone = ZoneInfo(tz_name) if tz_name else UTC
    wall = moment.replace(tzinfo=UTC).astimezone(zone).time()
    assert time(10, 0) <= wall < time(20, 0)
    assert day.weekday() != 6
    assert day not in policy.holidays
    assert compliance.caps_allow(day, sent_days, policy)
    assert (day - today).days <= policy.horizon_days
    for offset in range((day - today).days):
        earlier = today + timedelta(days=offset)
        if compliance.is_open_day(earlier, policy) and compliance.caps_allow(
            earlier, sent_days, policy
        ):
            end = datetime.combine(earlier, time(20, 0), tzinfo=zone)
            assert end.astimezone(UTC).replace(tzinfo=None) <= when


def test_r111_wait_reason_tells_cap_from_quiet_hours():
    """R-11.1 R-11.2: a wait that quiet hours alone explain is
    ``marketing_quiet``; a longer one is the caps'."""
    evening = utc(PARIS, 2026, 12, 1, 21, 0)
    morning = utc(PARIS, 2026, 12, 2, 10, 0)
    assert compliance.wait_reason(evening, PARIS, morning, POLICY) == (
        "marketing_quiet"
    )
    later = utc(PARIS, 2026, 12, 3, 10, 0)
    assert compliance.wait_reason(evening, PARIS, later, POLICY) == "marketing_cap"
