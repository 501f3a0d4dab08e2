"""Config of one working-time calendar (`calendars.<name>` in the YAML).

```yaml
calendars:
  moscow:
    timezone: Europe/Moscow
    week:                             # or: week: 24x7
      mon-fri: [["09:00", "18:00"]]   # mon..sun or ranges; several intervals a day allowed
      sat: []                         # optional; days not listed are closed
    holidays: RU                      # or: none
    short_days: official              # official | none | ["2026-12-30", ...]
    short_day_minutes: 60
    extra_days_off: ["2026-12-30"]
    extra_working_days: []
    extra_working_day_hours: [["09:00", "18:00"]]   # optional; default: Monday's hours
```
The checks live in the domain (`CalendarSpec` and its helpers) so that the YAML and the
code cannot disagree; here they run inside validators so pydantic reports the path.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Annotated, Any, Final, Literal

from pydantic import (
    BeforeValidator,
    Field,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from redmine_sla_bridge.config.base import StrictModel
from redmine_sla_bridge.config.types import Date, parse_clock_time
from redmine_sla_bridge.domain.calendar import Schedule, build_schedule
from redmine_sla_bridge.domain.calendar.spec import (
    CalendarSpec,
    DayHours,
    check_country,
    check_day_hours,
    check_timezone,
)

_DAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALWAYS_OPEN: Final = "24x7"

_INTERVALS_SCHEMA = {
    "type": "array",
    "items": {
        "type": "array",
        "items": {"type": "string", "pattern": r"^([01]\d|2[0-4]):[0-5]\d$"},
        "minItems": 2,
        "maxItems": 2,
    },
    "examples": [[["09:00", "13:00"], ["14:00", "18:00"]]],
}


def weekdays_of(key: str) -> tuple[int, ...]:
    """`mon` -> (0,); `mon-fri` -> (0, 1, 2, 3, 4)."""
    names = [part.strip().lower() for part in str(key).split("-")]
    unknown = [name for name in names if name not in _DAY_KEYS]
    if unknown or len(names) > 2:
        raise ValueError(
            f"unknown weekday key {key!r}: use mon, tue, wed, thu, fri, sat, sun or a range "
            "such as mon-fri"
        )
    first, last = _DAY_KEYS.index(names[0]), _DAY_KEYS.index(names[-1])
    if last < first:
        raise ValueError(f"weekday range {key!r} runs backwards; write it Monday-first")
    return tuple(range(first, last + 1))


def _intervals_text(value: Any, what: str) -> tuple[tuple[str, str], ...]:
    """Check a list of ["HH:MM", "HH:MM"] pairs; keep the admin's text."""
    if not isinstance(value, (list, tuple)):
        raise ValueError(f'{what}: expected a list of ["HH:MM", "HH:MM"] pairs, got {value!r}')
    pairs = []
    for number, pair in enumerate(value, start=1):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise ValueError(
                f'{what}: interval {number} must be a pair ["HH:MM", "HH:MM"], got {pair!r}'
            )
        for text in pair:
            try:
                parse_clock_time(text)
            except ValueError as error:
                raise ValueError(f"{what}: interval {number}: {error}") from None
        pairs.append((pair[0].strip(), pair[1].strip()))
    check_day_hours(_parsed(pairs), what)
    return tuple(pairs)


def _parsed(pairs: tuple[tuple[str, str], ...] | list[tuple[str, str]]) -> list[tuple]:
    return [(parse_clock_time(start), parse_clock_time(end)) for start, end in pairs]


def _week_text(value: Any) -> str | dict[str, tuple[tuple[str, str], ...]]:
    if isinstance(value, str):
        if value.strip().lower() == ALWAYS_OPEN:
            return ALWAYS_OPEN
        raise ValueError(f"week: expected {ALWAYS_OPEN!r} or a mapping of weekdays, got {value!r}")
    if not isinstance(value, dict):
        raise ValueError(f"week: expected {ALWAYS_OPEN!r} or a mapping of weekdays, got {value!r}")
    seen: dict[int, str] = {}
    week: dict[str, tuple[tuple[str, str], ...]] = {}
    for key, intervals in value.items():
        for weekday in weekdays_of(key):
            if weekday in seen:
                raise ValueError(
                    f"week: {_DAY_KEYS[weekday]} is listed twice (in {seen[weekday]!r} "
                    f"and {key!r})"
                )
            seen[weekday] = key
        week[str(key)] = _intervals_text(intervals, f"week.{key}")
    return week


_DATE: TypeAdapter = TypeAdapter(Date)


def _short_days(value: Any) -> str | tuple:
    if isinstance(value, str):
        if value.strip().lower() in ("official", "none"):
            return value.strip().lower()
        raise ValueError(
            f'short_days: expected "official", "none" or a list of dates, got {value!r}'
        )
    if isinstance(value, (list, tuple)):
        # Parsed here so that a bad date gives one error, not one per union branch.
        days = []
        for number, item in enumerate(value, start=1):
            try:
                days.append(_DATE.validate_python(item))
            except ValidationError as error:
                message = error.errors()[0]["msg"].removeprefix("Value error, ")
                raise ValueError(f"short_days item {number}: {message}") from None
        return tuple(days)
    raise ValueError(f'short_days: expected "official", "none" or a list of dates, got {value!r}')


WeekText = Annotated[
    Literal["24x7"] | dict[str, tuple[tuple[str, str], ...]],
    BeforeValidator(_week_text),
    WithJsonSchema(
        {
            "oneOf": [
                {"const": ALWAYS_OPEN},
                {
                    "type": "object",
                    "propertyNames": {
                        "pattern": r"^(mon|tue|wed|thu|fri|sat|sun)(-(mon|tue|wed|thu|fri|sat|sun))?$"
                    },
                    "additionalProperties": _INTERVALS_SCHEMA,
                },
            ]
        }
    ),
]
"""`24x7`, or weekday keys (mon..sun, ranges like mon-fri) to lists of intervals."""

IntervalsText = Annotated[
    tuple[tuple[str, str], ...],
    BeforeValidator(lambda value: _intervals_text(value, "extra_working_day_hours")),
    WithJsonSchema(_INTERVALS_SCHEMA),
]

ShortDays = Annotated[
    Literal["official", "none"] | tuple[Date, ...],
    BeforeValidator(_short_days),
]


class CalendarConfig(StrictModel):
    """One named working-time calendar."""

    timezone: str = Field(description="IANA time zone, e.g. Europe/Moscow.")
    week: WeekText = Field(
        description='Opening hours per weekday ("mon-fri": [["09:00", "18:00"]]), or 24x7.'
    )
    holidays: str | None = Field(
        default=None,
        description="Country of the public holidays (RU), or none. Required unless week is 24x7.",
    )
    short_days: ShortDays = Field(
        default="official",
        description="Pre-holiday short days (Labour Code art. 95): official (shipped data), "
        "none, or an explicit list of dates.",
    )
    short_day_minutes: int = Field(default=60, ge=0, le=600)
    extra_days_off: tuple[Date, ...] = ()
    extra_working_days: tuple[Date, ...] = ()
    extra_working_day_hours: IntervalsText | None = Field(
        default=None,
        description="Hours of a working day on a weekday without hours (working Saturday). "
        "Default: Monday's hours.",
    )

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        check_timezone(value.strip())
        return value.strip()

    @field_validator("holidays")
    @classmethod
    def _holidays(cls, value: str | None) -> str | None:
        if value is None or value.strip().lower() == "none":
            return None if value is None else "none"
        return check_country(value)

    @model_validator(mode="after")
    def _consistent(self) -> CalendarConfig:
        if self.week == ALWAYS_OPEN:
            ignored = [
                name
                for name, unset in (
                    ("holidays", self.holidays in (None, "none")),
                    ("short_days", self.short_days in ("official", "none")),
                    ("extra_days_off", not self.extra_days_off),
                    ("extra_working_days", not self.extra_working_days),
                    ("extra_working_day_hours", self.extra_working_day_hours is None),
                )
                if not unset
            ]
            if ignored:
                raise ValueError(
                    f"a 24x7 calendar is open on every day; remove {', '.join(ignored)}"
                )
        elif self.holidays is None:
            raise ValueError("say which public holidays apply: `holidays: RU` or `holidays: none`")
        both = sorted(set(self.extra_days_off) & set(self.extra_working_days))
        if both:
            raise ValueError(
                "listed both in extra_days_off and extra_working_days: "
                + ", ".join(day.isoformat() for day in both)
            )
        # The spec runs the remaining whole-calendar checks (e.g. no hours on any day).
        self.to_spec("check")
        return self

    def to_spec(self, name: str) -> CalendarSpec:
        """The domain description of this calendar, named `name`."""
        if self.week == ALWAYS_OPEN:
            return CalendarSpec(name=name, timezone=self.timezone, always_open=True)
        week: dict[int, DayHours] = {}
        for key, pairs in self.week.items():
            for weekday in weekdays_of(key):
                week[weekday] = tuple(_parsed(pairs))
        short_days: frozenset[dt.date] | None
        if self.short_days == "official":
            short_days = None
        elif self.short_days == "none":
            short_days = frozenset()
        else:
            short_days = frozenset(self.short_days)
        return CalendarSpec(
            name=name,
            timezone=self.timezone,
            week=week,  # type: ignore[arg-type]  # a mapping is normalised by the spec
            holiday_country=None if self.holidays in (None, "none") else self.holidays,
            short_days=short_days,
            short_day_minutes=self.short_day_minutes,
            extra_days_off=frozenset(self.extra_days_off),
            extra_working_days=frozenset(self.extra_working_days),
            extra_working_day_hours=(
                None
                if self.extra_working_day_hours is None
                else tuple(_parsed(self.extra_working_day_hours))
            ),
        )


def build_schedules(
    calendars: Mapping[str, CalendarConfig], default_calendar: str
) -> dict[str, Schedule]:
    """A schedule per configured calendar, plus the built-in `ALWAYS_OPEN` one.

    The built-in calendar lets a target be wall-clock time (RB-3/4) without every config
    declaring one; it shows times in the zone of `default_calendar` (UTC if that is not
    configured), so its deadlines read like the others. A configured calendar of that
    name is kept as written.
    """
    schedules = {name: build_schedule(cal.to_spec(name)) for name, cal in calendars.items()}
    default = calendars.get(default_calendar)
    zone = default.timezone if default is not None else "UTC"
    schedules.setdefault(
        ALWAYS_OPEN,
        build_schedule(CalendarSpec(name=ALWAYS_OPEN, timezone=zone, always_open=True)),
    )
    return schedules
