"""Grouping of a patient's consecutive appointments (R-1.4, R-2.5)."""

from collections import namedtuple
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from odoo.addons.clinic_sms_reminders.tools import grouping

TWO_HOURS = timedelta(hours=2)
Appointment = namedtuple("Appointment", "key start stop id")


def at(hour, minute=0, day=1):
    return datetime(2026, 6, day, hour, minute)


def ids(groups):
    return [[item[3] for item in group] for group in groups]


def test_r14_back_to_back_appointments_form_one_group():
    """R-1.4: appointments created together back to back: ONE message,
    citing the first start (the first item of the group)."""
    items = [
        (7, at(10, 30), at(11), "b"),
        (7, at(10), at(10, 30), "a"),
        (7, at(11), at(11, 45), "c"),
    ]
    groups = grouping.group_appointments(items, timedelta(0))
    assert ids(groups) == [["a", "b", "c"]]
    assert groups[0][0][1] == at(10)


def test_r25_gap_below_the_limit_is_grouped_and_at_the_limit_is_not():
    """R-2.5: "separated by less than 2 hours": 1h59 groups, 2h00 does not."""
    items = [
        (1, at(9), at(10), "a"),
        (1, at(11, 59), at(12, 30), "b"),
        (1, at(14, 30), at(15), "c"),
    ]
    assert ids(grouping.group_appointments(items, TWO_HOURS)) == [["a", "b"], ["c"]]


def test_r25_overlapping_appointments_are_consecutive():
    """R-2.5: overlaps count as consecutive, measured from the latest stop
    of the group so far (a long appointment covering a short one)."""
    items = [
        (1, at(9), at(13), "long"),
        (1, at(9, 30), at(10), "short"),
        (1, at(14), at(15), "after"),
    ]
    groups = grouping.group_appointments(items, timedelta(minutes=90))
    assert ids(groups) == [["long", "short", "after"]]


def test_r25_different_patients_are_never_grouped():
    """R-2.5: grouping is per patient; groups come sorted by first start."""
    items = [
        (2, at(10), at(11), "p2"),
        (1, at(10, 30), at(11), "p1"),
        (2, at(9), at(10), "p2-early"),
    ]
    groups = grouping.group_appointments(items, TWO_HOURS)
    assert ids(groups) == [["p2-early", "p2"], ["p1"]]


def test_r25_accepts_tuples_mappings_and_objects():
    """R-2.5: rows from SQL, dicts or small objects all work, and the items
    themselves are returned."""
    row = (1, at(9), at(10), 1)
    mapping = {"key": 1, "start": at(10), "stop": at(11), "id": 2}
    record = Appointment(1, at(11), at(12), 3)
    groups = grouping.group_appointments([record, mapping, row], TWO_HOURS)
    assert groups == [[row, mapping, record]]


def test_r25_default_gap_is_two_hours_and_negative_gap_is_refused():
    """R-2.5: 2 hours by default (configurable); a negative gap is an error."""
    items = [(1, at(9), at(10), "a"), (1, at(11, 30), at(12), "b")]
    assert ids(grouping.group_appointments(items)) == [["a", "b"]]
    assert grouping.DEFAULT_GAP == TWO_HOURS
    with pytest.raises(ValueError):
        grouping.group_appointments(items, timedelta(minutes=-1))


def test_r25_missing_stop_and_empty_input():
    """R-2.5: an appointment without stop is a point in time; no items, no
    groups."""
    items = [(1, at(9), None, "a"), (1, at(10), at(11), "b")]
    assert ids(grouping.group_appointments(items, timedelta(minutes=61))) == [
        ["a", "b"]
    ]
    assert grouping.group_appointments([], TWO_HOURS) == []


APPOINTMENTS = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=3),
        st.integers(min_value=0, max_value=48 * 4),
        st.integers(min_value=0, max_value=12),
    ),
    max_size=30,
).map(
    lambda rows: [
        (
            key,
            datetime(2026, 6, 1) + timedelta(minutes=15 * slot),
            datetime(2026, 6, 1) + timedelta(minutes=15 * (slot + length)),
            index,
        )
        for index, (key, slot, length) in enumerate(rows)
    ]
)


@settings(max_examples=150, deadline=None)
@given(APPOINTMENTS, st.integers(min_value=0, max_value=16))
def test_r25_groups_partition_the_input_and_respect_the_gap(items, quarters):
    """R-2.5: every appointment is in exactly one group, of a single
    patient, sorted by start; inside a group each appointment starts less
    than the gap (or not at all) after the previous ones end; two groups of
    the same patient are at least the gap apart."""
    gap = timedelta(minutes=15 * quarters)
    groups = grouping.group_appointments(items, gap)
    flat = [item for group in groups for item in group]
    assert sorted(flat) == sorted(items)
    firsts = [group[0][1] for group in groups]
    assert firsts == sorted(firsts)
    for group in groups:
        assert len({item[0] for item in group}) == 1
        starts = [item[1] for item in group]
        assert starts == sorted(starts)
        latest_stop = group[0][2]
        for item in group[1:]:
            separation = item[1] - latest_stop
            assert separation <= timedelta(0) or separation < gap
            latest_stop = max(latest_stop, item[2])
    for first in groups:
        for second in groups:
            if first is second or first[0][0] != second[0][0]:
                continue
            if first[0][1] <= second[0][1]:
                assert second[0][1] - max(item[2] for item in first) >= max(
                    gap, timedelta(microseconds=1)
                )
