"""The calendars the calendar tests run on."""

from __future__ import annotations

import datetime as dt

from redmine_sla_bridge.domain.calendar import CalendarSpec

T = dt.time
WEEKDAYS = range(5)

MOSCOW = CalendarSpec(
    name="moscow",
    timezone="Europe/Moscow",
    week={day: ((T(9), T(18)),) for day in WEEKDAYS},
    holiday_country="RU",
)

MOSCOW_SPLIT = CalendarSpec(
    name="moscow-split",
    timezone="Europe/Moscow",
    week={day: ((T(9), T(13)), (T(14), T(18))) for day in WEEKDAYS},
    holiday_country="RU",
    # Longer than the afternoon interval: the cut goes on into the morning.
    short_day_minutes=300,
    extra_days_off=frozenset({dt.date(2026, 12, 30), dt.date(2025, 3, 12)}),
    extra_working_days=frozenset({dt.date(2025, 12, 27), dt.date(2026, 1, 9)}),
)

BERLIN = CalendarSpec(
    name="berlin",
    timezone="Europe/Berlin",
    week={
        **{day: ((T(8), T(12)), (T(13), T(17, 30))) for day in WEEKDAYS},
        5: ((T(10), T(14)),),
    },
    holiday_country="DE",
)

# Open every night across midnight, Sundays included: its intervals touch at 24:00 and
# the DST changes (Sunday 02:00/03:00) fall inside open time.
BERLIN_NIGHTS = CalendarSpec(
    name="berlin-nights",
    timezone="Europe/Berlin",
    week={day: ((T(0), T(6)), (T(22), None)) for day in range(7)},
)

ALWAYS_OPEN = CalendarSpec(name="24x7", timezone="Europe/Berlin", always_open=True)

ALL = (MOSCOW, MOSCOW_SPLIT, BERLIN, BERLIN_NIGHTS, ALWAYS_OPEN)
