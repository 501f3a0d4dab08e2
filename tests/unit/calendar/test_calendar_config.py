"""`calendars.<name>` in the YAML: what is accepted, what is refused and how it reads."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml
from pydantic import BaseModel, ValidationError

from redmine_sla_bridge.config.calendars import CalendarConfig, weekdays_of
from redmine_sla_bridge.domain.calendar import CalendarSpec, WorkingMinutes, build_schedule

T = dt.time


class _Root(BaseModel):
    calendars: dict[str, CalendarConfig]


def _load(text: str) -> dict[str, CalendarConfig]:
    return _Root.model_validate(yaml.safe_load(text)).calendars


def _error(body: str) -> tuple[str, str]:
    """(dotted location, message) of the single error of calendar `x` with `body`."""
    with pytest.raises(ValidationError) as caught:
        _load("calendars:\n  x:\n" + "".join(f"    {line}\n" for line in body.strip().splitlines()))
    errors = caught.value.errors()
    assert len(errors) == 1, errors
    return ".".join(map(str, errors[0]["loc"])), errors[0]["msg"]


FULL = """
calendars:
  moscow:
    timezone: Europe/Moscow
    week:
      mon-fri: [["14:00", "18:00"], ["09:00", "13:00"]]
      sat: []
    holidays: RU
    short_days: official
    short_day_minutes: 60
    extra_days_off: ["2026-12-30"]
    extra_working_days: []
  ops:
    timezone: Europe/Moscow
    week: 24x7
  custom:
    timezone: Europe/Berlin
    week:
      mon: [["08:00", "12:00"]]
      tue-thu: [["08:00", "24:00"]]
    holidays: none
    short_days: ["2026-12-23"]
    short_day_minutes: 30
    extra_working_days: ["2026-12-26"]
    extra_working_day_hours: [["10:00", "14:00"]]
"""


def test_a_full_config_becomes_the_expected_specs() -> None:
    calendars = _load(FULL)
    assert calendars["moscow"].to_spec("moscow") == CalendarSpec(
        name="moscow",
        timezone="Europe/Moscow",
        week={day: ((T(9), T(13)), (T(14), T(18))) for day in range(5)},
        holiday_country="RU",
        short_days=None,
        extra_days_off=frozenset({dt.date(2026, 12, 30)}),
    )
    assert calendars["ops"].to_spec("ops") == CalendarSpec(
        name="ops", timezone="Europe/Moscow", always_open=True
    )
    custom = calendars["custom"].to_spec("custom")
    assert custom.week[0] == ((T(8), T(12)),)
    assert custom.week[1] == custom.week[3] == ((T(8), None),)
    assert custom.week[4] == ()
    assert custom.holiday_country is None
    assert custom.short_days == frozenset({dt.date(2026, 12, 23)})
    assert custom.short_day_minutes == 30
    assert custom.extra_working_day_hours == ((T(10), T(14)),)


def test_a_configured_calendar_computes() -> None:
    schedule = build_schedule(_load(FULL)["moscow"].to_spec("moscow"))
    start = dt.datetime(2026, 12, 29, 17, tzinfo=schedule.zone)
    # 30 Dec is this calendar's own day off, 31 Dec the decree's.
    assert schedule.add(start, WorkingMinutes(120)) == dt.datetime(2027, 1, 11, 10, tzinfo=schedule.zone)


def test_short_days_none_means_none() -> None:
    config = _load(FULL.replace("short_days: official", "short_days: none"))["moscow"]
    assert config.to_spec("moscow").short_days == frozenset()


@pytest.mark.parametrize(
    ("key", "days"),
    [("mon", (0,)), ("mon-fri", (0, 1, 2, 3, 4)), ("sat-sun", (5, 6)), ("Wed", (2,))],
)
def test_weekday_keys(key: str, days: tuple[int, ...]) -> None:
    assert weekdays_of(key) == days


@pytest.mark.parametrize(
    ("body", "where", "message"),
    [
        (
            'timezone: Europe/Mosow\nweek: 24x7',
            "calendars.x.timezone",
            "unknown time zone 'Europe/Mosow'",
        ),
        (
            'timezone: Europe/Moscow\nweek: {mon-fri: [["09:00", 18:00]]}\nholidays: RU',
            "calendars.x.week",
            'write it in quotes, e.g. "18:00"',
        ),
        (
            'timezone: Europe/Moscow\nweek: {mon-fri: [["18:00", "09:00"]]}\nholidays: RU',
            "calendars.x.week",
            "interval 1 ends (09:00) before or when it starts (18:00)",
        ),
        (
            'timezone: Europe/Moscow\nweek: {mon: [["09:00", "13:00"], ["12:00", "18:00"]]}\nholidays: RU',
            "calendars.x.week",
            "09:00-13:00 and 12:00-18:00 overlap",
        ),
        (
            'timezone: Europe/Moscow\nweek: {mon-fri: [], fri: []}\nholidays: RU',
            "calendars.x.week",
            "fri is listed twice",
        ),
        (
            'timezone: Europe/Moscow\nweek: {mon-fr: []}\nholidays: RU',
            "calendars.x.week",
            "unknown weekday key 'mon-fr'",
        ),
        (
            'timezone: Europe/Moscow\nweek: {fri-mon: []}\nholidays: RU',
            "calendars.x.week",
            "runs backwards",
        ),
        (
            'timezone: Europe/Moscow\nweek: {mon: [["09:00", "18:00"]]}\nholidays: XX',
            "calendars.x.holidays",
            "unknown holiday country 'XX'",
        ),
        (
            'timezone: Europe/Moscow\nweek: {mon: [["09:00", "18:00"]]}',
            "calendars.x",
            "holidays: RU` or `holidays: none",
        ),
        (
            'timezone: Europe/Moscow\nweek: 24x7\nholidays: RU',
            "calendars.x",
            "24x7 calendar is open on every day; remove holidays",
        ),
        (
            'timezone: Europe/Moscow\nweek: {sat: []}\nholidays: RU',
            "calendars.x",
            "no working hours on any day",
        ),
        (
            'timezone: Europe/Moscow\nweek: {mon: [["09:00", "18:00"]]}\nholidays: RU\n'
            'extra_days_off: ["2026-01-12"]\nextra_working_days: ["2026-01-12"]',
            "calendars.x",
            "listed both in extra_days_off and extra_working_days: 2026-01-12",
        ),
        (
            'timezone: Europe/Moscow\nweek: {mon: [["09:00", "18:00"]]}\nholidays: RU\n'
            'short_days: ["2025-13-01"]',
            "calendars.x.short_days",
            "short_days item 1: expected a date YYYY-MM-DD",
        ),
        (
            'timezone: Europe/Moscow\nweek: {mon: [["09:00", "18:00"]]}\nholidays: RU\n'
            "short_days: oficial",
            "calendars.x.short_days",
            'expected "official", "none" or a list of dates',
        ),
        (
            'timezone: Europe/Moscow\nweek: {mon: [["09:00", "18:00"]]}\nholidays: RU\nhoildays: RU',
            "calendars.x.hoildays",
            "Extra inputs are not permitted",
        ),
    ],
)
def test_mistakes_are_refused_clearly_at_their_path(body: str, where: str, message: str) -> None:
    location, text = _error(body)
    assert location == where
    assert message in text


def test_the_config_is_frozen() -> None:
    config = _load(FULL)["moscow"]
    with pytest.raises(ValidationError):
        config.timezone = "Europe/Berlin"  # type: ignore[misc]
