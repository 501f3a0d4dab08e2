"""Deadlines worked out by hand from the 2025-2026 production calendars."""

from __future__ import annotations

import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from calendar_specs import ALWAYS_OPEN, BERLIN, BERLIN_NIGHTS, MOSCOW, MOSCOW_SPLIT

from redmine_sla_bridge.domain.calendar import (
    CalendarHorizonError,
    CalendarSpec,
    WorkingDays,
    WorkingMinutes,
    build_schedule,
)

MSK = ZoneInfo("Europe/Moscow")
BER = ZoneInfo("Europe/Berlin")
UTC = dt.UTC
H = 60  # minutes

moscow = build_schedule(MOSCOW)
split = build_schedule(MOSCOW_SPLIT)
berlin = build_schedule(BERLIN)
nights = build_schedule(BERLIN_NIGHTS)
always = build_schedule(ALWAYS_OPEN)


def msk(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=MSK)


def ber(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=BER)


def hours_of(schedule, day: dt.date) -> list[tuple[str, str]]:
    return [
        (period.start.strftime("%H:%M"), period.end.strftime("%H:%M"))
        for period in schedule.open_periods(day)
    ]


# --- the New Year of 2025/2026 -------------------------------------------------------


def test_dec_30_2025_is_a_full_day_so_two_hours_from_17_end_on_jan_12_at_10() -> None:
    # 31 Dec 2025 is a day off moved from Sun 5 Jan by Decree No. 1335 of 04.10.2024; it
    # is a "выходной", not an art. 112 holiday, so art. 95 does not shorten 30 Dec (the
    # official 2025 calendar has 4 short days: 7 Mar, 30 Apr, 11 Jun, 1 Nov). One hour
    # is left on 30 Dec (17:00-18:00); 31 Dec, 1-8 Jan (holidays), 9 Jan (moved from
    # Sat 3 Jan by Decree No. 1466) and the weekend are closed; the second hour is
    # 09:00-10:00 on Mon 12 Jan.
    assert hours_of(moscow, dt.date(2025, 12, 30)) == [("09:00", "18:00")]
    assert moscow.add(msk(2025, 12, 30, 17), WorkingMinutes(2 * H)) == msk(2026, 1, 12, 10)


def test_twenty_working_days_across_the_new_year_shutdown() -> None:
    start = msk(2025, 12, 15, 9)  # a Monday
    # Working days after 15 Dec: 16-19, 22-26, 29, 30 Dec (11), then 12-16, 19-22 Jan.
    assert moscow.add(start, WorkingDays(20)) == msk(2026, 1, 22, 18)
    # 20 x 9 hours from 15 Dec 09:00 counts 15 Dec itself: the 20th day is 21 Jan.
    assert moscow.add(start, WorkingMinutes(20 * 9 * H)) == msk(2026, 1, 21, 18)
    assert moscow.between(start, msk(2026, 1, 21, 18)) == dt.timedelta(hours=20 * 9)


def test_a_start_on_a_holiday_starts_the_clock_at_the_next_opening() -> None:
    assert moscow.next_opening(msk(2026, 1, 5, 12)) == msk(2026, 1, 12, 9)
    assert moscow.add(msk(2026, 1, 5, 12), WorkingMinutes(1 * H)) == msk(2026, 1, 12, 10)
    assert not moscow.in_hours(msk(2026, 1, 9, 12))  # moved day off


# --- short days and working Saturdays -----------------------------------------------


def test_short_day_2025_04_30_closes_at_17() -> None:
    assert hours_of(moscow, dt.date(2025, 4, 30)) == [("09:00", "17:00")]
    assert not moscow.in_hours(msk(2025, 4, 30, 17, 30))
    # Ends exactly at the short day's closing time, not the next morning.
    assert moscow.add(msk(2025, 4, 30, 16), WorkingMinutes(1 * H)) == msk(2025, 4, 30, 17)
    # 1-4 May are closed (holiday, day off moved from 4 Jan, weekend).
    assert moscow.add(msk(2025, 4, 30, 16), WorkingMinutes(2 * H)) == msk(2025, 5, 5, 10)


def test_the_day_before_a_moved_day_off_is_not_short() -> None:
    # 8 May 2025 is a day off moved from 23 Feb; 9 May is the holiday.
    assert hours_of(moscow, dt.date(2025, 5, 7)) == [("09:00", "18:00")]


def test_working_saturday_2025_11_01_is_open_and_short() -> None:
    # Decree No. 1335 moves the day off of Sat 1 Nov to Mon 3 Nov; Sat 1 Nov is worked in
    # place of 3 Nov, the eve of the 4 Nov holiday, hence one hour shorter.
    assert hours_of(moscow, dt.date(2025, 11, 1)) == [("09:00", "17:00")]
    assert moscow.in_hours(msk(2025, 11, 1, 12))
    assert not moscow.in_hours(msk(2025, 11, 8, 12))  # an ordinary Saturday
    assert moscow.add(msk(2025, 10, 31, 17), WorkingMinutes(2 * H)) == msk(2025, 11, 1, 10)
    # 30 minutes on Saturday, then 2 Nov (Sun), 3 Nov (moved), 4 Nov (holiday) are closed.
    assert moscow.add(msk(2025, 11, 1, 16, 30), WorkingMinutes(1 * H)) == msk(2025, 11, 5, 9, 30)


def test_a_long_short_day_cut_eats_into_the_morning() -> None:
    # MOSCOW_SPLIT takes 300 minutes off a short day: the 4 afternoon hours and 1 morning hour.
    assert hours_of(split, dt.date(2025, 4, 30)) == [("09:00", "12:00")]


def test_the_calendars_own_exceptions_win_over_the_country_data() -> None:
    # An extra working day on a weekday with hours keeps that weekday's hours...
    assert hours_of(split, dt.date(2026, 1, 9)) == [("09:00", "13:00"), ("14:00", "18:00")]
    # ...and on a Saturday gets the standard day (Monday's hours).
    assert hours_of(split, dt.date(2025, 12, 27)) == [("09:00", "13:00"), ("14:00", "18:00")]
    assert hours_of(split, dt.date(2026, 12, 30)) == []
    assert hours_of(moscow, dt.date(2026, 12, 30)) == [("09:00", "18:00")]


# --- closing time, lunch, seconds ----------------------------------------------------


def test_a_deadline_that_uses_up_the_day_is_closing_time() -> None:
    assert moscow.add(msk(2025, 10, 6, 10), WorkingMinutes(8 * H)) == msk(2025, 10, 6, 18)
    assert moscow.add(msk(2025, 10, 6, 9), WorkingMinutes(9 * H)) == msk(2025, 10, 6, 18)
    assert moscow.add(msk(2025, 10, 6, 17, 59), WorkingMinutes(1)) == msk(2025, 10, 6, 18)
    assert moscow.add(msk(2025, 10, 6, 17, 59), WorkingMinutes(2)) == msk(2025, 10, 7, 9, 1)
    # ...and for a lunch break, the start of lunch.
    assert split.add(msk(2025, 10, 6, 12), WorkingMinutes(1 * H)) == msk(2025, 10, 6, 13)
    assert split.add(msk(2025, 10, 6, 12, 30), WorkingMinutes(1 * H)) == msk(2025, 10, 6, 14, 30)


def test_open_at_opening_closed_at_closing() -> None:
    assert moscow.in_hours(msk(2025, 10, 6, 9))
    assert not moscow.in_hours(msk(2025, 10, 6, 18))
    assert not moscow.in_hours(msk(2025, 10, 6, 8, 59, 59))
    assert moscow.next_opening(msk(2025, 10, 6, 18)) == msk(2025, 10, 7, 9)
    assert moscow.next_opening(msk(2025, 10, 6, 10, 30)) == msk(2025, 10, 6, 10, 30)


def test_zero_is_the_start_itself_and_results_are_in_the_calendar_zone() -> None:
    start = dt.datetime(2025, 10, 6, 20, tzinfo=UTC)  # 23:00 in Moscow, closed
    assert moscow.add(start, WorkingMinutes(0)) == start
    deadline = moscow.add(start, WorkingMinutes(1 * H))
    assert deadline.tzinfo == MSK and deadline == msk(2025, 10, 7, 10)


def test_seconds_and_microseconds_are_kept_exactly() -> None:
    start = msk(2025, 10, 6, 10, 0, 30, 500_000)
    assert moscow.add(start, WorkingMinutes(1)) == msk(2025, 10, 6, 10, 1, 30, 500_000)
    assert moscow.add(msk(2025, 10, 6, 17, 59, 59, 1), WorkingMinutes(1)) == msk(
        2025, 10, 7, 9, 0, 59, 1
    )
    assert moscow.between(start, msk(2025, 10, 6, 10, 0, 31)) == dt.timedelta(microseconds=500_000)


# --- pauses -----------------------------------------------------------------------------


def test_a_pause_stops_the_clock() -> None:
    start = msk(2025, 10, 6, 10)
    pause = [(msk(2025, 10, 6, 11), msk(2025, 10, 6, 12))]
    assert moscow.add(start, WorkingMinutes(4 * H), pause) == msk(2025, 10, 6, 15)
    assert moscow.between(msk(2025, 10, 6, 9), msk(2025, 10, 6, 18), pause) == dt.timedelta(hours=8)


def test_overlapping_unsorted_pauses_count_once() -> None:
    pauses = [
        (msk(2025, 10, 6, 12, 30), msk(2025, 10, 6, 13)),
        (msk(2025, 10, 6, 11), msk(2025, 10, 6, 12)),
        (msk(2025, 10, 6, 11, 30), msk(2025, 10, 6, 12, 15)),
    ]
    # 1:15 + 0:30 paused.
    assert moscow.add(msk(2025, 10, 6, 10), WorkingMinutes(4 * H), pauses) == msk(2025, 10, 6, 15, 45)


def test_a_deadline_falling_where_a_pause_begins_is_that_instant() -> None:
    pause = [(msk(2025, 10, 6, 11), msk(2025, 10, 6, 12))]
    assert moscow.add(msk(2025, 10, 6, 10), WorkingMinutes(1 * H), pause) == msk(2025, 10, 6, 11)


def test_pauses_across_the_night_and_around_the_start() -> None:
    overnight = [(msk(2025, 10, 6, 17, 30), msk(2025, 10, 7, 10))]
    assert moscow.add(msk(2025, 10, 6, 17), WorkingMinutes(2 * H), overnight) == msk(2025, 10, 7, 11, 30)
    started_paused = [(msk(2025, 10, 6, 9), msk(2025, 10, 6, 10, 30))]
    assert moscow.add(msk(2025, 10, 6, 10), WorkingMinutes(1 * H), started_paused) == msk(
        2025, 10, 6, 11, 30
    )


def test_a_reversed_pause_is_refused() -> None:
    with pytest.raises(ValueError, match="pause ends before it starts"):
        moscow.add(msk(2025, 10, 6, 10), WorkingMinutes(1), [(msk(2025, 10, 6, 12), msk(2025, 10, 6, 11))])


# --- working days -------------------------------------------------------------------


def test_working_days_end_at_closing_of_the_nth_day_after_the_clock_starts() -> None:
    assert moscow.add(msk(2025, 10, 6, 10), WorkingDays(5)) == msk(2025, 10, 13, 18)
    assert moscow.add(msk(2025, 10, 6, 10), WorkingDays(0)) == msk(2025, 10, 6, 18)
    # Before opening or after closing: registered at the next opening.
    assert moscow.add(msk(2025, 10, 6, 7), WorkingDays(1)) == msk(2025, 10, 7, 18)
    assert moscow.add(msk(2025, 10, 6, 18), WorkingDays(0)) == msk(2025, 10, 7, 18)
    assert moscow.add(msk(2025, 10, 10, 20), WorkingDays(1)) == msk(2025, 10, 14, 18)
    # A short last day ends at its short closing time.
    assert moscow.add(msk(2025, 4, 29, 10), WorkingDays(1)) == msk(2025, 4, 30, 17)


def test_paused_working_days_move_by_the_paused_working_time() -> None:
    pause = [(msk(2025, 10, 7, 10), msk(2025, 10, 7, 12))]
    assert moscow.add(msk(2025, 10, 6, 10), WorkingDays(5), pause) == msk(2025, 10, 14, 11)


# --- DST ------------------------------------------------------------------------------


def test_berlin_hours_stay_at_wall_clock_time_across_both_dst_changes() -> None:
    # Spring forward on Sun 30 Mar 2025: Saturday is CET, Monday CEST.
    assert berlin.add(ber(2025, 3, 29, 13), WorkingMinutes(2 * H)) == ber(2025, 3, 31, 9)
    assert berlin.add(ber(2025, 3, 29, 13), WorkingMinutes(2 * H)).utcoffset() == dt.timedelta(hours=2)
    assert berlin.next_opening(ber(2025, 3, 30, 12)) == dt.datetime(2025, 3, 31, 6, tzinfo=UTC)
    # Fri 13:00-17:30, Sat 10:00-14:00, Mon 08:00-12:00.
    assert berlin.between(ber(2025, 3, 28, 12), ber(2025, 3, 31, 12)) == dt.timedelta(hours=12.5)
    # Fall back on Sun 26 Oct 2025: Saturday is CEST, Monday CET.
    assert berlin.add(ber(2025, 10, 25, 13), WorkingMinutes(2 * H)) == ber(2025, 10, 27, 9)
    assert berlin.next_opening(ber(2025, 10, 26, 12)) == dt.datetime(2025, 10, 27, 7, tzinfo=UTC)


def test_open_time_is_elapsed_time_on_dst_nights() -> None:
    # 00:00-06:00 wall clock is 5 real hours on the spring Sunday and 7 on the autumn one.
    assert nights.between(ber(2025, 3, 29, 12), ber(2025, 3, 30, 12)) == dt.timedelta(hours=2 + 5)
    assert nights.between(ber(2025, 10, 25, 12), ber(2025, 10, 26, 12)) == dt.timedelta(hours=2 + 7)
    # The 24:00 close and the 00:00 opening touch: time runs on through midnight.
    assert nights.add(ber(2025, 10, 6, 23), WorkingMinutes(2 * H)) == ber(2025, 10, 7, 1)


def test_24x7_is_wall_time_and_ignores_holidays() -> None:
    assert always.in_hours(ber(2026, 1, 1, 3))
    assert always.add(ber(2025, 3, 29, 12), WorkingMinutes(24 * H)) == ber(2025, 3, 30, 13)
    assert always.between(ber(2025, 3, 30, 0), ber(2025, 3, 31, 0)) == dt.timedelta(hours=23)
    assert always.add(ber(2025, 3, 29, 12), WorkingDays(1)) == ber(2025, 3, 31, 0)
    assert always.add(ber(2025, 3, 29, 12), WorkingDays(0)) == ber(2025, 3, 30, 0)


# --- long spans, data gaps, misuse ---------------------------------------------------


def test_long_spans_never_give_up() -> None:
    start = msk(2025, 6, 2, 9)
    years = moscow.add(start, WorkingMinutes(4 * 247 * 9 * H))
    assert dt.date(2029, 5, 1) < years.date() < dt.date(2029, 7, 1)
    assert moscow.between(start, years) == dt.timedelta(hours=4 * 247 * 9)
    assert moscow.add(start, WorkingDays(1000)) > years


def test_beyond_the_horizon_is_a_clear_error() -> None:
    with pytest.raises(CalendarHorizonError, match="horizon"):
        moscow.add(msk(2100, 12, 1, 10), WorkingDays(60))
    with pytest.raises(CalendarHorizonError, match="horizon"):
        moscow.in_hours(msk(2101, 1, 10, 10))


def test_years_without_decree_data_are_reported() -> None:
    assert moscow.data_gaps(2024, 2027) == ()
    gaps = moscow.data_gaps(2026, 2029)
    assert len(gaps) == 2
    assert "2028" in gaps[0] and "moscow" in gaps[0] and "short days" in gaps[0]
    assert "2029" in gaps[1]
    explicit = build_schedule(dataclasses.replace(MOSCOW, short_days=frozenset()))
    assert "short days" not in explicit.data_gaps(2028, 2028)[0]
    assert always.data_gaps(2028, 2030) == ()
    assert berlin.data_gaps(2028, 2030) == ()  # DE holidays are rules, not decrees
    # 2028 still computes, on the fixed holidays only.
    assert moscow.add(msk(2028, 1, 7, 12), WorkingMinutes(1 * H)) == msk(2028, 1, 10, 10)


def test_misuse_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        moscow.add(dt.datetime(2025, 10, 6, 10), WorkingMinutes(1))
    with pytest.raises(TypeError, match="WorkingMinutes or WorkingDays"):
        moscow.add(msk(2025, 10, 6, 10), 60)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no working hours"):
        CalendarSpec(name="closed", timezone="Europe/Moscow")
    with pytest.raises(ValueError, match="unknown time zone"):
        CalendarSpec(name="x", timezone="Europe/Mosow", always_open=True)


def test_schedules_and_specs_are_values() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        moscow.spec = MOSCOW_SPLIT  # type: ignore[misc]
    same = CalendarSpec(
        name="moscow",
        timezone="Europe/Moscow",
        week=MOSCOW.week,
        holiday_country="ru",
    )
    assert same == MOSCOW and hash(same) == hash(MOSCOW)
    assert MOSCOW.week[0] == ((dt.time(9), dt.time(18)),) and MOSCOW.week[5] == ()
