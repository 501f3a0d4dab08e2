"""The shipped short days, re-derived from the `holidays` data and the Labour Code."""

from __future__ import annotations

import datetime as dt
import re

import holidays
import pytest

from redmine_sla_bridge.domain.calendar import (
    RU_DECREES,
    RU_SHORT_DAYS,
    CalendarSpec,
    WorkingMinutes,
    build_schedule,
)

YEARS = sorted(RU_DECREES)
ONE_DAY = dt.timedelta(days=1)
# Labour Code art. 112: the non-working public holidays.
ART_112 = {(1, d) for d in range(1, 9)} | {(2, 23), (3, 8), (5, 1), (5, 9), (6, 12), (11, 4)}
_SUBSTITUTED = re.compile(r"substituted from (\d\d)/(\d\d)/(\d{4})")


def _is_holiday(day: dt.date) -> bool:
    return (day.month, day.day) in ART_112


def _ru(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("RU", years=year)


def _working(day: dt.date, ru: holidays.HolidayBase) -> bool:
    return day in ru.weekend_workdays or (day.weekday() < 5 and day not in ru)


def _stand_ins(ru: holidays.HolidayBase) -> dict[dt.date, dt.date]:
    """Working weekend day -> the weekday that took its day off, from the decree data."""
    result = {}
    for day, name in ru.items():
        match = _SUBSTITUTED.search(name)
        if match:
            month, dom, year = map(int, match.groups())
            result[dt.date(year, month, dom)] = day
    return result


def _derived_short_days(year: int) -> set[dt.date]:
    ru = _ru(year)
    stand_ins = _stand_ins(ru)
    short = set()
    day = dt.date(year, 1, 1)
    while day.year == year:
        if _working(day, ru):
            # The working day right before a holiday; a decree-made working weekend day
            # is worked in place of a weekday and has that weekday's length.
            replaced = stand_ins.get(day, day) if day.weekday() >= 5 else day
            if _is_holiday(replaced + ONE_DAY):
                short.add(day)
        day += ONE_DAY
    return short


def test_decree_years_and_short_day_years_match() -> None:
    assert sorted(RU_SHORT_DAYS) == YEARS == [2024, 2025, 2026, 2027]


@pytest.mark.parametrize("year", YEARS)
def test_the_holidays_package_knows_the_decree_of_each_shipped_year(year: int) -> None:
    assert _stand_ins(_ru(year)), f"holidays has no transfers for {year}"


@pytest.mark.parametrize("year", YEARS)
def test_shipped_short_days_follow_art_95(year: int) -> None:
    assert RU_SHORT_DAYS[year] == _derived_short_days(year)


@pytest.mark.parametrize("year", YEARS)
def test_every_short_day_is_a_working_day_before_a_day_off(year: int) -> None:
    ru = _ru(year)
    for day in RU_SHORT_DAYS[year]:
        assert day.year == year and _working(day, ru), day
        following = day + ONE_DAY
        while following.weekday() >= 5 and following not in ru:
            following += ONE_DAY
        assert following in ru, f"{day}: the next non-weekend day {following} is not a day off"


def test_known_answers_of_the_official_calendars() -> None:
    assert dt.date(2025, 12, 30) not in RU_SHORT_DAYS[2025]
    assert dt.date(2025, 5, 7) not in RU_SHORT_DAYS[2025]
    assert dt.date(2024, 12, 28) not in RU_SHORT_DAYS[2024]
    assert {dt.date(2025, 3, 7), dt.date(2025, 4, 30), dt.date(2025, 11, 1)} <= RU_SHORT_DAYS[2025]


# Norms for a 40-hour week (8-hour days): 2024 and 2025 as published by the Ministry of
# Labour (1979 h and 1972 h); 2026 and 2027 are 247 days with 4 short days each. The
# last working day of 2024 is the working Saturday 28 Dec (30 and 31 Dec were moved).
@pytest.mark.parametrize(
    ("year", "hours", "last_day"),
    [
        (2024, 1979, dt.date(2024, 12, 28)),
        (2025, 1972, dt.date(2025, 12, 30)),
        (2026, 1972, dt.date(2026, 12, 30)),
        (2027, 1972, dt.date(2027, 12, 30)),
    ],
)
def test_the_engine_reproduces_the_yearly_norm(year: int, hours: int, last_day: dt.date) -> None:
    eight_hours = CalendarSpec(
        name="norm",
        timezone="Europe/Moscow",
        week={day: ((dt.time(9), dt.time(17)),) for day in range(5)},
        holiday_country="RU",
    )
    schedule = build_schedule(eight_hours)
    zone = schedule.zone
    start = dt.datetime(year, 1, 1, tzinfo=zone)
    end = dt.datetime(year + 1, 1, 1, tzinfo=zone)
    assert schedule.between(start, end) == dt.timedelta(hours=hours)
    year_end = dt.datetime.combine(last_day, dt.time(17), tzinfo=zone)
    assert schedule.add(start, WorkingMinutes(hours * 60)) == year_end
