"""The working-time engine: calendars, deadlines and elapsed working time.

Pure and immutable: build a `Schedule` from a `CalendarSpec` once, then ask it
`add`, `between`, `in_hours`, `next_opening`, `open_periods` and `data_gaps`.
"""

from redmine_sla_bridge.domain.calendar.duration import Duration, WorkingDays, WorkingMinutes
from redmine_sla_bridge.domain.calendar.production_calendar import (
    RU_DECREES,
    RU_SHORT_DAYS,
    official_data_years,
    official_short_days,
)
from redmine_sla_bridge.domain.calendar.schedule import (
    FIRST_YEAR,
    LAST_YEAR,
    CalendarHorizonError,
    OpenPeriod,
    Pause,
    Schedule,
    build_schedule,
)
from redmine_sla_bridge.domain.calendar.spec import (
    CalendarSpec,
    DayHours,
    OpenInterval,
    WeekHours,
    check_country,
    check_day_hours,
    check_timezone,
)

__all__ = [
    "FIRST_YEAR",
    "LAST_YEAR",
    "RU_DECREES",
    "RU_SHORT_DAYS",
    "CalendarHorizonError",
    "CalendarSpec",
    "DayHours",
    "Duration",
    "OpenInterval",
    "OpenPeriod",
    "Pause",
    "Schedule",
    "WeekHours",
    "WorkingDays",
    "WorkingMinutes",
    "build_schedule",
    "check_country",
    "check_day_hours",
    "check_timezone",
    "official_data_years",
    "official_short_days",
]
