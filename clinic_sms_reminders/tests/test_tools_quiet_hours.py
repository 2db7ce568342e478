"""Reminder send times and quiet hours (R-2.1, R-2.3).

All datetimes are naive UTC, as Odoo stores them. DST dates of 2026:
Europe/Paris 29 March (02:00 CET -> 03:00 CEST, 01:00 UTC) and 25 October
(03:00 CEST -> 02:00 CET, 01:00 UTC); America/New_York 8 March (02:00 EST ->
03:00 EDT, 07:00 UTC) and 1 November (02:00 EDT -> 01:00 EST, 06:00 UTC).
"""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from odoo.addons.clinic_sms_reminders.tools import quiet_hours

NINE, SEVEN_PM = time(9, 0), time(19, 0)
PARIS, NEW_YORK = "Europe/Paris", "America/New_York"
FAR = datetime(2027, 1, 1)
LONG_AGO = datetime(2025, 1, 1)


def utc(*args):
    return datetime(*args)


def local(instant, tz_name):
    """Local aware datetime of a naive UTC instant, for readable asserts."""
    return instant.replace(tzinfo=UTC).astimezone(ZoneInfo(tz_name))


def shift(planned, tz_name=PARIS, window=(NINE, SEVEN_PM), now=LONG_AGO, deadline=FAR):
    return quiet_hours.shift_into_window(
        planned, tz_name, window[0], window[1], now, deadline
    )


# ---------------------------------------------------------------------------
# reminder_time
# ---------------------------------------------------------------------------


def test_r21_minutes_are_durations_hours_count_on_the_wall_clock():
    """R-2.1: "24 hours before" counts on the appointment's wall clock: 10:00
    CEST on the day clocks go forward -> 10:00 CET the day before (an elapsed
    24 h would be 09:00 CET); minutes stay an elapsed duration."""
    start = utc(2026, 3, 29, 8, 0)  # 10:00 CEST, the day clocks go forward
    assert quiet_hours.reminder_time(start, 24, "hours", PARIS) == utc(
        2026, 3, 28, 9, 0
    )
    assert quiet_hours.reminder_time(start, 90, "minutes", PARIS) == utc(
        2026, 3, 29, 6, 30
    )
    assert quiet_hours.reminder_time(start, 0, "hours", PARIS) == start


ZONES = {
    "Europe/Paris": [(2026, 3, 29), (2026, 10, 25), (2027, 3, 28), (2027, 10, 31)],
    "Europe/London": [(2026, 3, 29), (2026, 10, 25), (2027, 3, 28), (2027, 10, 31)],
    "America/New_York": [(2026, 3, 8), (2026, 11, 1), (2027, 3, 14), (2027, 11, 7)],
    "Australia/Sydney": [(2026, 4, 5), (2026, 10, 4), (2027, 4, 4), (2027, 10, 3)],
}


@pytest.mark.parametrize(
    ("tz_name", "day"),
    [(zone, day) for zone, days in ZONES.items() for day in days],
)
@pytest.mark.parametrize(
    ("offset", "unit"), [(24, "hours"), (48, "hours"), (1, "days")]
)
def test_r21_before_start_keeps_the_wall_time_on_both_dst_changes(
    tz_name, day, offset, unit
):
    """R-2.1: on the day of each DST change of 2026 and 2027 in Paris,
    London, New York and Sydney, "24 h / 48 h / 1 day before" a 09:30
    appointment is 09:30 local time one or two days earlier."""
    zone = ZoneInfo(tz_name)
    start = (
        datetime(*day, 9, 30, tzinfo=zone)
        .astimezone(ZoneInfo("UTC"))
        .replace(tzinfo=None)
    )
    result = quiet_hours.reminder_time(start, offset, unit, tz_name)
    days = offset // 24 if unit == "hours" else offset
    wall = local(result, tz_name)
    assert wall.replace(tzinfo=None) == datetime(*day, 9, 30) - timedelta(days=days)
    assert quiet_hours.is_inside_window(result, tz_name, time(9), time(19))


@pytest.mark.parametrize(
    ("start", "tz_name", "expected"),
    [
        # 10:00 CEST on 29 March -> 10:00 CET on 28 March (09:00 UTC).
        (utc(2026, 3, 29, 8, 0), PARIS, utc(2026, 3, 28, 9, 0)),
        # 10:00 CET on 25 October -> 10:00 CEST on 24 October (08:00 UTC).
        (utc(2026, 10, 25, 9, 0), PARIS, utc(2026, 10, 24, 8, 0)),
        # 09:00 EDT on 8 March -> 09:00 EST on 7 March (14:00 UTC).
        (utc(2026, 3, 8, 13, 0), NEW_YORK, utc(2026, 3, 7, 14, 0)),
        # 09:00 EST on 1 November -> 09:00 EDT on 31 October (13:00 UTC).
        (utc(2026, 11, 1, 14, 0), NEW_YORK, utc(2026, 10, 31, 13, 0)),
    ],
)
def test_r21_days_keep_the_local_wall_time_across_dst(start, tz_name, expected):
    """R-2.1/R-2.3: "1 day before" keeps the local time; DST does not shift
    it by an hour."""
    result = quiet_hours.reminder_time(start, 1, "days", tz_name)
    assert result == expected
    assert local(result, tz_name).time() == local(start, tz_name).time()


def test_r21_days_nonexistent_wall_time_takes_the_earlier_reading():
    """R-2.1: 02:30 on 29 March does not exist in Paris; the reminder of a
    02:30 appointment on 30 March goes at 01:30 CET (early, never late)."""
    start = utc(2026, 3, 30, 0, 30)  # 02:30 CEST
    result = quiet_hours.reminder_time(start, 1, "days", PARIS)
    assert result == utc(2026, 3, 29, 0, 30)
    assert local(result, PARIS).strftime("%H:%M %Z") == "01:30 CET"


def test_r21_days_ambiguous_wall_time_takes_the_first_occurrence():
    """R-2.1: 02:30 on 25 October happens twice in Paris; the first one
    (CEST) is used, once."""
    start = utc(2026, 10, 26, 1, 30)  # 02:30 CET
    result = quiet_hours.reminder_time(start, 1, "days", PARIS)
    assert result == utc(2026, 10, 25, 0, 30)
    assert local(result, PARIS).strftime("%H:%M %Z") == "02:30 CEST"


def test_r21_days_without_time_zone_is_utc():
    """R-2.1: a partner without time zone is treated as UTC, like Odoo."""
    start = utc(2026, 3, 29, 8, 0)
    assert quiet_hours.reminder_time(start, 2, "days", False) == utc(2026, 3, 27, 8)


def test_r21_aware_input_is_converted_to_naive_utc():
    """R-2.1: an aware datetime is accepted; the result is naive UTC."""
    start = datetime(2026, 3, 29, 10, 0, tzinfo=ZoneInfo(PARIS))
    result = quiet_hours.reminder_time(start, 1, "days", PARIS)
    assert result == utc(2026, 3, 28, 9, 0)
    assert result.tzinfo is None


@pytest.mark.parametrize(
    ("offset", "unit", "tz_name"),
    [(1, "weeks", PARIS), (-1, "days", PARIS), (1, "days", "Mars/Olympus_Mons")],
)
def test_r21_invalid_arguments_raise_value_error(offset, unit, tz_name):
    """R-2.1: a bad rule is reported with a sentence, not a crash."""
    with pytest.raises(ValueError) as caught:
        quiet_hours.reminder_time(utc(2026, 1, 1), offset, unit, tz_name)
    assert str(caught.value).endswith(".")


@settings(max_examples=150, deadline=None)
@given(
    st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31)),
    st.integers(min_value=1, max_value=7),
    st.sampled_from([PARIS, NEW_YORK, "Australia/Lord_Howe", "Asia/Kolkata"]),
)
def test_r21_days_reminder_is_same_wall_time_n_days_earlier(start, days, tz_name):
    """R-2.1: the reminder falls N local days earlier at the appointment's
    local wall time, or earlier when that wall time does not exist."""
    result = quiet_hours.reminder_time(start, days, "days", tz_name)
    start_local = local(start, tz_name)
    result_local = local(result, tz_name)
    assert result < start
    target = start_local.replace(tzinfo=None) - timedelta(days=days)
    wall = result_local.replace(tzinfo=None)
    assert wall <= target
    assert target - wall <= timedelta(hours=1)
    if wall != target:
        # Only a wall time that does not exist may be moved.
        readings = {
            target.replace(tzinfo=ZoneInfo(tz_name), fold=fold)
            .astimezone(UTC)
            .replace(tzinfo=None)
            for fold in (0, 1)
        }
        assert all(local(r, tz_name).replace(tzinfo=None) != target for r in readings)


# ---------------------------------------------------------------------------
# is_inside_window
# ---------------------------------------------------------------------------


def test_r23_window_end_is_exclusive():
    """R-2.3: 09:00-19:00 allows 09:00 to 18:59, not 19:00."""
    day = (2026, 6, 1)  # CEST, UTC+2
    inside = quiet_hours.is_inside_window
    assert inside(utc(*day, 7, 0), PARIS, NINE, SEVEN_PM)
    assert inside(utc(*day, 16, 59), PARIS, NINE, SEVEN_PM)
    assert not inside(utc(*day, 17, 0), PARIS, NINE, SEVEN_PM)
    assert not inside(utc(*day, 6, 59), PARIS, NINE, SEVEN_PM)


@pytest.mark.parametrize(
    ("start", "end"),
    [(time(19), time(9)), (time(9), time(9)), (time(9), time(9, 0, 30))],
)
def test_r23_window_must_start_before_it_ends(start, end):
    """R-2.3: a window spanning midnight or empty is a configuration error."""
    with pytest.raises(ValueError) as caught:
        quiet_hours.shift_into_window(
            utc(2026, 6, 1, 12), PARIS, start, end, LONG_AGO, FAR
        )
    assert "must start before it ends" in str(caught.value)
    with pytest.raises(ValueError):
        quiet_hours.is_inside_window(utc(2026, 6, 1, 12), PARIS, start, end)


# ---------------------------------------------------------------------------
# shift_into_window
# ---------------------------------------------------------------------------


def test_r23_inside_the_window_is_kept_exactly():
    """R-2.3: a send time inside the window is not touched (seconds kept)."""
    planned = utc(2026, 6, 1, 10, 15, 42)
    assert shift(planned) == planned


def test_r23_after_the_window_moves_to_last_minute_same_day():
    """R-2.3: 20:30 local moves back to 18:59 the same day."""
    planned = utc(2026, 6, 1, 18, 30)  # 20:30 CEST
    assert shift(planned) == utc(2026, 6, 1, 16, 59)


def test_r23_before_the_window_moves_to_the_evening_before():
    """R-2.3: 07:00 local moves to 18:59 the evening before, never later."""
    planned = utc(2026, 6, 2, 5, 0)  # 07:00 CEST
    assert shift(planned) == utc(2026, 6, 1, 16, 59)


def test_r23_unusual_window_limits():
    """R-2.3: any whole-minute window works, e.g. 07:30-21:15."""
    window = (time(7, 30), time(21, 15))
    assert shift(utc(2026, 6, 1, 19, 15), window=window) == utc(2026, 6, 1, 19, 14)
    assert shift(utc(2026, 6, 2, 5, 29), window=window) == utc(2026, 6, 1, 19, 14)
    assert shift(utc(2026, 6, 2, 5, 30), window=window) == utc(2026, 6, 2, 5, 30)


@pytest.mark.parametrize(
    ("planned", "tz_name", "expected", "expected_local"),
    [
        # 07:00 CEST on 29 March -> 18:59 CET on 28 March.
        (utc(2026, 3, 29, 5, 0), PARIS, utc(2026, 3, 28, 17, 59), "18:59 CET"),
        # 07:00 CET on 25 October -> 18:59 CEST on 24 October.
        (utc(2026, 10, 25, 6, 0), PARIS, utc(2026, 10, 24, 16, 59), "18:59 CEST"),
        # 08:00 EDT on 8 March -> 18:59 EST on 7 March.
        (utc(2026, 3, 8, 12, 0), NEW_YORK, utc(2026, 3, 7, 23, 59), "18:59 EST"),
        # 08:00 EST on 1 November -> 18:59 EDT on 31 October.
        (utc(2026, 11, 1, 13, 0), NEW_YORK, utc(2026, 10, 31, 22, 59), "18:59 EDT"),
        # 03:30 EDT (just after the jump) on 8 March -> 18:59 EST on 7 March.
        (utc(2026, 3, 8, 7, 30), NEW_YORK, utc(2026, 3, 7, 23, 59), "18:59 EST"),
        # 01:30 EST (the repeated hour) on 1 November -> 18:59 EDT on 31 October.
        (utc(2026, 11, 1, 6, 30), NEW_YORK, utc(2026, 10, 31, 22, 59), "18:59 EDT"),
    ],
)
def test_r23_evening_before_across_dst(planned, tz_name, expected, expected_local):
    """R-2.3: the evening before is 18:59 local on the eve of a DST change."""
    result = shift(planned, tz_name=tz_name)
    assert result == expected
    assert local(result, tz_name).strftime("%H:%M %Z") == expected_local


def test_r23_window_ending_inside_the_spring_gap():
    """R-2.3: a 00:00-02:30 window on 29 March in Paris: 02:00-02:59 does not
    exist, so the last allowed minute is 01:59 CET, not a nonexistent 02:29."""
    window = (time(0, 0), time(2, 30))
    result = shift(utc(2026, 3, 29, 3, 0), window=window)  # 05:00 CEST
    assert result == utc(2026, 3, 29, 0, 59)
    assert local(result, PARIS).strftime("%H:%M %Z") == "01:59 CET"


def test_r23_window_starting_inside_the_spring_gap():
    """R-2.3: a 02:30-19:00 window on 29 March in Paris opens at 03:00 CEST,
    the first minute that exists after 02:30."""
    now = utc(2026, 3, 29, 0, 30)  # 01:30 CET, before the window
    result = shift(now, window=(time(2, 30), SEVEN_PM), now=now)
    assert result == utc(2026, 3, 29, 1, 0)
    assert local(result, PARIS).strftime("%H:%M %Z") == "03:00 CEST"


def test_r23_window_limit_inside_the_repeated_hour():
    """R-2.3: with a 02:30-19:00 window on 25 October in Paris, 02:30-02:59
    CEST is allowed, 02:00-02:29 CET (the repeat) is not: a send time at
    02:15 CET moves back to 02:59 CEST."""
    planned = utc(2026, 10, 25, 1, 15)  # 02:15 CET
    now = utc(2026, 10, 25, 0, 0)  # 02:00 CEST
    result = shift(planned, window=(time(2, 30), SEVEN_PM), now=now)
    assert result == utc(2026, 10, 25, 0, 59)
    assert local(result, PARIS).strftime("%H:%M %Z") == "02:59 CEST"


def test_r23_moved_time_in_the_past_falls_back_to_first_minute_after_now():
    """R-2.3: planned 07:30 for a 09:30 appointment, planned at 22:00 the day
    before: the evening before is past, so 09:00 the same morning."""
    now = utc(2026, 6, 1, 20, 0)  # 22:00 CEST
    deadline = utc(2026, 6, 2, 7, 30)  # 09:30 CEST
    planned = utc(2026, 6, 2, 5, 30)  # 07:30 CEST
    assert shift(planned, now=now, deadline=deadline) == utc(2026, 6, 2, 7, 0)


def test_r23_late_planning_rounds_now_up_to_the_minute():
    """R-2.3: a send time already past is sent at the next whole minute."""
    now = utc(2026, 6, 1, 10, 0, 20)
    planned = utc(2026, 6, 1, 9, 0)
    assert shift(planned, now=now) == utc(2026, 6, 1, 10, 1)
    assert shift(planned, now=utc(2026, 6, 1, 10, 0)) == utc(2026, 6, 1, 10, 0)


def test_r23_no_allowed_minute_before_the_start_returns_none():
    """R-2.3: 20:00 now, appointment at 08:30 tomorrow: nothing can be sent
    inside 09:00-19:00 before it starts, so the reminder is skipped."""
    now = utc(2026, 6, 1, 18, 0)  # 20:00 CEST
    deadline = utc(2026, 6, 2, 6, 30)  # 08:30 CEST
    assert shift(utc(2026, 6, 2, 5, 0), now=now, deadline=deadline) is None
    assert shift(utc(2026, 6, 1, 12), now=deadline, deadline=deadline) is None


def test_r23_never_after_the_appointment_starts():
    """R-2.3: a send time at or after the start moves before it."""
    deadline = utc(2026, 6, 1, 10, 0)  # 12:00 CEST
    assert shift(deadline, deadline=deadline) == utc(2026, 6, 1, 9, 59)
    assert shift(utc(2026, 6, 1, 11), deadline=deadline) == utc(2026, 6, 1, 9, 59)


def test_r23_aware_inputs_and_utc_default():
    """R-2.3: aware datetimes are accepted; an empty time zone is UTC."""
    planned = datetime(2026, 6, 1, 20, 30, tzinfo=ZoneInfo(PARIS))
    assert shift(planned) == utc(2026, 6, 1, 16, 59)
    assert shift(utc(2026, 6, 1, 20, 30), tz_name=None) == utc(2026, 6, 1, 18, 59)


def _brute_force(planned, tz_name, window, now, deadline):
    """Reference implementation: look at every minute between now and the
    deadline."""
    zone = ZoneInfo(tz_name)

    def allowed(instant):
        wall = instant.replace(tzinfo=UTC).astimezone(zone).time()
        return window[0] <= wall < window[1]

    if now >= deadline:
        return None
    if now <= planned < deadline and allowed(planned):
        return planned
    minute = now.replace(second=0, microsecond=0)
    if minute < now:
        minute += timedelta(minutes=1)
    allowed_minutes = []
    while minute < deadline:
        if allowed(minute):
            allowed_minutes.append(minute)
        minute += timedelta(minutes=1)
    earlier = [m for m in allowed_minutes if m <= planned]
    if earlier:
        return max(earlier)
    return min(allowed_minutes) if allowed_minutes else None


DST_ANCHORS = [
    datetime(2026, 3, 29, 1),
    datetime(2026, 10, 25, 1),
    datetime(2026, 3, 8, 7),
    datetime(2026, 11, 1, 6),
    datetime(2026, 4, 5, 15),  # Lord Howe, clocks back 30 minutes
    datetime(2026, 10, 4, 15),  # Lord Howe, clocks forward 30 minutes
    datetime(2026, 7, 1, 12),
]
ZONES = [PARIS, NEW_YORK, "Australia/Lord_Howe", "Asia/Kolkata", "UTC"]
WINDOWS = st.one_of(
    st.just((NINE, SEVEN_PM)),
    st.just((time(7, 30), time(21, 15))),
    st.tuples(
        st.integers(min_value=0, max_value=24 * 60 - 2),
        st.integers(min_value=1, max_value=24 * 60 - 1),
    )
    .filter(lambda pair: pair[0] < pair[1])
    .map(lambda pair: (time(*divmod(pair[0], 60)), time(*divmod(pair[1], 60)))),
)
MINUTES = st.integers(min_value=-36 * 60, max_value=36 * 60).map(
    lambda minutes: timedelta(minutes=minutes)
)


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(DST_ANCHORS),
    MINUTES,
    st.integers(min_value=-24 * 3600, max_value=36 * 3600),
    st.integers(min_value=0, max_value=72 * 60),
    st.sampled_from(ZONES),
    WINDOWS,
)
def test_r23_shift_matches_minute_by_minute_reference(
    anchor, now_offset, planned_seconds, deadline_minutes, tz_name, window
):
    """R-2.3: around DST changes, for any window, the result equals a
    minute-by-minute search: inside the window, >= now, < the start, the
    last allowed minute not after the planned time when one exists after
    now, else the first allowed minute after now, else None."""
    now = anchor + now_offset + timedelta(seconds=planned_seconds % 60)
    planned = now + timedelta(seconds=planned_seconds)
    deadline = now + timedelta(minutes=deadline_minutes)
    result = shift(planned, tz_name, window, now, deadline)
    assert result == _brute_force(planned, tz_name, window, now, deadline)
    if result is not None:
        assert quiet_hours.is_inside_window(result, tz_name, *window)
        assert now <= result < deadline


@settings(max_examples=150, deadline=None)
@given(
    st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31)),
    st.integers(min_value=0, max_value=10 * 24 * 60),
    st.integers(min_value=1, max_value=3 * 24 * 60),
    st.sampled_from(ZONES),
    WINDOWS,
)
def test_r23_shift_never_later_than_planned_when_an_earlier_minute_exists(
    now, lead_minutes, reminder_minutes, tz_name, window
):
    """R-2.3: when planned is not in the past, the result is never later
    than planned as long as an allowed minute exists in [now, planned]."""
    now = now.replace(second=0, microsecond=0)
    planned = now + timedelta(minutes=lead_minutes)
    deadline = planned + timedelta(minutes=reminder_minutes)
    result = shift(planned, tz_name, window, now, deadline)
    earlier_exists = any(
        quiet_hours.is_inside_window(candidate, tz_name, *window)
        for candidate in (
            planned - timedelta(minutes=minutes)
            for minutes in range(min(lead_minutes, 26 * 60) + 1)
        )
    )
    if earlier_exists:
        assert result is not None
        assert result <= planned
    if result is not None:
        assert now <= result < deadline
        assert quiet_hours.is_inside_window(result, tz_name, *window)


def test_is_known_zone_r_2_3():
    """R-2.3: unknown time zones are detected so the clinic's zone is used."""
    assert quiet_hours.is_known_zone("Europe/Paris")
    assert quiet_hours.is_known_zone("")
    assert not quiet_hours.is_known_zone("Mars/Olympus_Mons")


def test_float_to_time_r_2_3():
    """R-2.3: the clinic's window in float hours becomes wall times."""
    assert quiet_hours.float_to_time(9.0) == time(9, 0)
    assert quiet_hours.float_to_time(18.5) == time(18, 30)
    assert quiet_hours.float_to_time(24.0) == time(23, 59)


# ----------------------------------------------------------------------
# the window at the moment of sending (dispatch side)
# ----------------------------------------------------------------------
def test_next_allowed_instant_waits_for_the_morning():
    """R-2.3: due at 21:30 in Paris, a message waits for 09:00 the next day;
    inside the window it goes now; not before an 08:30 appointment."""
    night = datetime(2026, 3, 10, 20, 30)  # 21:30 in Paris (UTC+1)
    assert quiet_hours.next_allowed_instant(
        night, "Europe/Paris", time(9), time(19)
    ) == datetime(2026, 3, 11, 8, 0)
    noon = datetime(2026, 3, 10, 11, 17, 42)
    assert (
        quiet_hours.next_allowed_instant(noon, "Europe/Paris", time(9), time(19))
        == noon
    )
    assert (
        quiet_hours.next_allowed_instant(
            night, "Europe/Paris", time(9), time(19), datetime(2026, 3, 11, 7, 30)
        )
        is None
    )


@settings(max_examples=150, deadline=None, database=None, derandomize=True)
@given(
    now=st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2027, 12, 31)),
    zone=st.sampled_from(["Europe/Paris", "America/New_York", "Asia/Kolkata", "UTC"]),
    hours=st.integers(min_value=1, max_value=200),
)
def test_next_allowed_instant_is_allowed_and_in_range(now, zone, hours):
    deadline = now + timedelta(hours=hours)
    when = quiet_hours.next_allowed_instant(now, zone, time(9), time(19), deadline)
    if when is not None:
        assert now <= when < deadline
        assert quiet_hours.is_inside_window(when, zone, time(9), time(19))
    elif hours >= 48:
        pytest.fail("a two-day span always holds an allowed minute")
