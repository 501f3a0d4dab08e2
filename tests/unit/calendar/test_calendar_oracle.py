"""The engine against the minute-walking oracle, and its algebraic properties."""

from __future__ import annotations

import datetime as dt

import pytest
from calendar_oracle import Oracle, minute_of, moment_of
from calendar_specs import ALL
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from redmine_sla_bridge.domain.calendar import WorkingDays, WorkingMinutes, build_schedule

UTC = dt.UTC
FIRST = minute_of(dt.datetime(2024, 1, 1, tzinfo=UTC))
LAST = minute_of(dt.datetime(2027, 12, 31, tzinfo=UTC))
DAY = 24 * 60
WORKING_DAY = 9 * 60

SCHEDULES = {spec.name: build_schedule(spec) for spec in ALL}
ORACLES = {spec.name: Oracle(spec) for spec in ALL}

# Where the data is dense: New Year, February, March, May, June and November holidays,
# the DST changes, plus anywhere at all.
_HOT_DAYS = [
    dt.datetime(year, month, day, tzinfo=UTC)
    for year in (2024, 2025, 2026, 2027)
    for month, day in ((12, 24), (2, 19), (3, 4), (3, 26), (4, 26), (5, 5), (6, 9), (10, 22), (10, 29))
]
starts = st.one_of(
    st.integers(FIRST, LAST),
    st.builds(
        lambda day, offset: minute_of(day) + offset,
        st.sampled_from(_HOT_DAYS),
        st.integers(0, 12 * DAY),
    ),
)
durations = st.one_of(
    st.integers(0, WORKING_DAY),
    st.integers(0, 5 * WORKING_DAY),
    st.integers(0, 60 * WORKING_DAY),
)
long_durations = st.integers(20 * WORKING_DAY, 60 * WORKING_DAY)
# The weeks around the DST changes of 2024-2027 (Europe/Berlin; Moscow has none).
_DST_SUNDAYS = [
    dt.datetime(2024, 3, 31, tzinfo=UTC), dt.datetime(2024, 10, 27, tzinfo=UTC),
    dt.datetime(2025, 3, 30, tzinfo=UTC), dt.datetime(2025, 10, 26, tzinfo=UTC),
    dt.datetime(2026, 3, 29, tzinfo=UTC), dt.datetime(2026, 10, 25, tzinfo=UTC),
    dt.datetime(2027, 3, 28, tzinfo=UTC), dt.datetime(2027, 10, 31, tzinfo=UTC),
]
dst_starts = st.builds(
    lambda sunday, offset: minute_of(sunday) + offset,
    st.sampled_from(_DST_SUNDAYS),
    st.integers(-3 * DAY, 2 * DAY),
)
calendars = st.sampled_from(sorted(SCHEDULES))
pauses = st.lists(
    st.tuples(st.integers(-2 * DAY, 40 * DAY), st.integers(0, 3 * DAY)), max_size=3
)

ORACLE_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
FAST_SETTINGS = settings(max_examples=300, deadline=None)


def _at(minute: int) -> dt.datetime:
    return moment_of(minute, UTC)


def _pause_moments(start: int, raw: list[tuple[int, int]]) -> list[tuple[dt.datetime, dt.datetime]]:
    return [(_at(start + offset), _at(start + offset + length)) for offset, length in raw]


def _pause_minutes(start: int, raw: list[tuple[int, int]]) -> list[tuple[int, int]]:
    return [(start + offset, start + offset + length) for offset, length in raw]


@ORACLE_SETTINGS
@given(name=calendars, start=starts, minutes=durations)
def test_add_agrees_with_the_oracle(name: str, start: int, minutes: int) -> None:
    deadline = SCHEDULES[name].add(_at(start), WorkingMinutes(minutes))
    assert minute_of(deadline) == ORACLES[name].add(start, minutes)
    assert deadline.tzinfo == SCHEDULES[name].zone


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=calendars, start=starts, minutes=long_durations)
def test_long_adds_agree_with_the_oracle(name: str, start: int, minutes: int) -> None:
    deadline = SCHEDULES[name].add(_at(start), WorkingMinutes(minutes))
    assert minute_of(deadline) == ORACLES[name].add(start, minutes)


@ORACLE_SETTINGS
@given(name=calendars, start=dst_starts, minutes=st.integers(0, 3 * WORKING_DAY))
def test_adds_across_dst_changes_agree_with_the_oracle(name: str, start: int, minutes: int) -> None:
    deadline = SCHEDULES[name].add(_at(start), WorkingMinutes(minutes))
    assert minute_of(deadline) == ORACLES[name].add(start, minutes)
    span = 2 * DAY
    assert SCHEDULES[name].between(_at(start), _at(start + span)) == dt.timedelta(
        minutes=ORACLES[name].between(start, start + span)
    )


@ORACLE_SETTINGS
@given(name=calendars, start=starts, minutes=st.integers(0, 10 * WORKING_DAY), raw=pauses)
def test_add_with_pauses_agrees_with_the_oracle(
    name: str, start: int, minutes: int, raw: list[tuple[int, int]]
) -> None:
    deadline = SCHEDULES[name].add(_at(start), WorkingMinutes(minutes), _pause_moments(start, raw))
    assert minute_of(deadline) == ORACLES[name].add(start, minutes, _pause_minutes(start, raw))


@ORACLE_SETTINGS
@given(name=calendars, start=starts, span=st.integers(0, 30 * DAY), raw=pauses)
def test_between_agrees_with_the_oracle(
    name: str, start: int, span: int, raw: list[tuple[int, int]]
) -> None:
    elapsed = SCHEDULES[name].between(_at(start), _at(start + span), _pause_moments(start, raw))
    expected = ORACLES[name].between(start, start + span, _pause_minutes(start, raw))
    assert elapsed == dt.timedelta(minutes=expected)


@ORACLE_SETTINGS
@given(name=calendars, start=starts, days=st.integers(0, 60))
def test_working_days_agree_with_the_oracle(name: str, start: int, days: int) -> None:
    deadline = SCHEDULES[name].add(_at(start), WorkingDays(days))
    assert minute_of(deadline) == ORACLES[name].add_days(start, days)


@settings(max_examples=200, deadline=None)
@given(name=calendars, minute=starts)
def test_in_hours_and_next_opening_agree_with_the_oracle(name: str, minute: int) -> None:
    schedule, oracle = SCHEDULES[name], ORACLES[name]
    assert schedule.in_hours(_at(minute)) == oracle.is_open(minute)
    assert minute_of(schedule.next_opening(_at(minute))) == oracle.next_opening(minute)


@FAST_SETTINGS
@given(
    name=calendars,
    start=starts,
    micro=st.integers(0, 59_999_999),
    minutes=durations,
    raw=pauses,
)
def test_between_undoes_add(
    name: str, start: int, micro: int, minutes: int, raw: list[tuple[int, int]]
) -> None:
    schedule = SCHEDULES[name]
    begin = _at(start) + dt.timedelta(microseconds=micro)
    stops = _pause_moments(start, raw)
    deadline = schedule.add(begin, WorkingMinutes(minutes), stops)
    assert schedule.between(begin, deadline, stops) == dt.timedelta(minutes=minutes)
    if minutes:
        # Earliest: the last microsecond before the deadline was still needed.
        just_before = deadline - dt.timedelta(microseconds=1)
        assert schedule.between(begin, just_before, stops) < dt.timedelta(minutes=minutes)


@FAST_SETTINGS
@given(name=calendars, start=starts, first=durations, second=durations, raw=pauses)
def test_add_is_monotonic_and_composes(
    name: str, start: int, first: int, second: int, raw: list[tuple[int, int]]
) -> None:
    schedule = SCHEDULES[name]
    low, high = sorted((first, second))
    stops = _pause_moments(start, raw)
    assert schedule.add(_at(start), WorkingMinutes(low), stops) <= schedule.add(
        _at(start), WorkingMinutes(high), stops
    )
    if low:
        # Adding in two steps lands where adding at once does.
        middle = schedule.add(_at(start), WorkingMinutes(low))
        assert schedule.add(middle, WorkingMinutes(high)) == schedule.add(
            _at(start), WorkingMinutes(low + high)
        )


@FAST_SETTINGS
@given(name=calendars, a=starts, b=starts, c=starts)
def test_between_is_additive_and_antisymmetric(name: str, a: int, b: int, c: int) -> None:
    schedule = SCHEDULES[name]
    a, b, c = sorted((a, b, c))
    ab = schedule.between(_at(a), _at(b))
    assert ab + schedule.between(_at(b), _at(c)) == schedule.between(_at(a), _at(c))
    assert schedule.between(_at(b), _at(a)) == -ab


@FAST_SETTINGS
@given(name=calendars, start=starts, days=st.integers(0, 60), raw=pauses)
def test_paused_working_days_are_extended_by_the_paused_working_time(
    name: str, start: int, days: int, raw: list[tuple[int, int]]
) -> None:
    schedule = SCHEDULES[name]
    plain = schedule.add(_at(start), WorkingDays(days))
    stops = _pause_moments(start, raw)
    paused = schedule.add(_at(start), WorkingDays(days), stops)
    assert paused >= plain
    assert schedule.between(_at(start), paused, stops) == schedule.between(_at(start), plain)


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_the_oracle_can_tell_calendars_apart(name: str) -> None:
    # Guards against an oracle (or fixture) so weak that every calendar looks alike.
    start = minute_of(dt.datetime(2025, 12, 30, 14, tzinfo=UTC))
    answers = {other: ORACLES[other].add(start, 20 * 60) for other in SCHEDULES}
    assert len(set(answers.values())) == len(answers)
