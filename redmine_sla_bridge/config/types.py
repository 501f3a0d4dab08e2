"""Scalar types for config values that YAML 1.1 silently mangles when left unquoted.

PyYAML reads `18:00` as the base-60 integer 1080, `0105012345` as an octal integer,
`7.10` as the float 7.1 and `no` as False. Each type below refuses such a value and tells
the admin to quote it, instead of letting a wrong number reach the policy.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

if TYPE_CHECKING:
    from redmine_sla_bridge.domain.calendar.duration import Duration

_CLOCK = re.compile(r"^(?P<h>[01]\d|2[0-4]):(?P<m>[0-5]\d)$")


def _sexagesimal(value: int) -> str:
    # 1080 -> "18:00": what the admin most likely typed.
    hours, minutes = divmod(value, 60)
    return f"{hours:02d}:{minutes:02d}"


def parse_clock_time(value: Any) -> dt.time | None:
    """Return a time of day; "24:00" is returned as None meaning end of day."""
    if isinstance(value, bool) or not isinstance(value, str):
        if isinstance(value, int):
            raise ValueError(
                f"got the number {value}: YAML reads an unquoted time as a base-60 number; "
                f'write it in quotes, e.g. "{_sexagesimal(value)}"'
            )
        raise ValueError(f'expected a time "HH:MM" in quotes, got {value!r}')
    match = _CLOCK.match(value.strip())
    if not match:
        raise ValueError(f'expected a time "HH:MM" (00:00 to 24:00), got {value!r}')
    hours, minutes = int(match["h"]), int(match["m"])
    if hours == 24:
        if minutes:
            raise ValueError(f"{value!r} is past the end of the day")
        return None
    return dt.time(hours, minutes)


def _clock_text(value: Any) -> str:
    parse_clock_time(value)
    return value.strip()


ClockTime = Annotated[
    str,
    BeforeValidator(_clock_text),
    WithJsonSchema({"type": "string", "pattern": _CLOCK.pattern, "examples": ["09:00", "18:00"]}),
]
"""A wall-clock time "HH:MM" kept as text; "24:00" is allowed as an end of day."""


def _quoted_text(kind: str, example: str):
    def check(value: Any) -> str:
        if isinstance(value, str):
            return value.strip()
        if isinstance(value, bool):
            raise ValueError(
                f"got {value!r}: YAML reads unquoted yes/no/on/off as booleans; "
                f"write the {kind} in quotes"
            )
        if isinstance(value, (int, float)):
            raise ValueError(
                f"got the number {value!r}: a {kind} must be written in quotes "
                f"(unquoted, YAML drops leading zeros, reads 0-prefixed digits as octal "
                f'and 7.10 as 7.1), e.g. "{example}"'
            )
        raise ValueError(f"expected a {kind} in quotes, got {value!r}")

    return check


InnText = Annotated[
    str,
    BeforeValidator(_quoted_text("INN", "0105012345")),
    WithJsonSchema({"type": "string", "pattern": r"^\d{10}(\d{2})?$"}),
]
"""An organization's INN as text (validity is the intake gate's business, not the loader's)."""

VersionText = Annotated[
    str,
    BeforeValidator(_quoted_text("version", "7.10")),
    WithJsonSchema({"type": "string"}),
]
"""A product version as written by the vendor, e.g. "7.2 build 456"."""

Text = Annotated[
    str,
    BeforeValidator(_quoted_text("text value", "no")),
    WithJsonSchema({"type": "string"}),
]
"""Free text that must not be a YAML boolean or number by accident (names, labels)."""


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        # The forms YAML itself reads as a date or timestamp (it is loaded as text here,
        # so that an impossible day is reported instead of crashing the YAML reader).
        match = _YAML_DATE.match(value.strip())
        if match:
            try:
                return dt.date(int(match["y"]), int(match["m"]), int(match["d"]))
            except ValueError as error:
                raise ValueError(f"expected a date YYYY-MM-DD, got {value.strip()!r}, which is "
                                 f"not a real date ({error})") from None
    raise ValueError(f"expected a date YYYY-MM-DD, got {value!r}")


_YAML_DATE = re.compile(r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})([Tt ]\s*\d{1,2}:\d\d(:\d\d)?.*)?$")


Date = Annotated[
    dt.date,
    BeforeValidator(_date),
    PlainSerializer(lambda d: d.isoformat(), return_type=str),
    WithJsonSchema({"type": "string", "format": "date"}),
]


NEVER = "never"
"""`expires: never`: a license that never ends, whatever default term its kind has."""


def _expiry(value: Any) -> dt.date | str:
    if isinstance(value, str) and value.strip().casefold() == NEVER:
        return NEVER
    try:
        return _date(value)
    except ValueError as error:
        raise ValueError(f"{error} (or {NEVER} for a license that never ends)") from None


ExpiryDate = Annotated[
    dt.date | Literal["never"],
    BeforeValidator(_expiry),
    PlainSerializer(lambda d: d if isinstance(d, str) else d.isoformat(), return_type=str),
    WithJsonSchema({"anyOf": [{"type": "string", "format": "date"}, {"const": NEVER}]}),
]
"""A license's last day, or "never"; left out = the policy's default term for the kind."""


_DURATION = re.compile(r"^\s*(?P<n>\d+)\s*(?P<unit>m|min|h|d)\s*$")


def parse_duration(value: Any) -> Duration | None:
    """"30m", "8h" -> WorkingMinutes; "5d" -> WorkingDays; "unlimited" -> None.

    Counted on whatever calendar the setting names; on a 24x7 calendar it is wall time.
    """
    from redmine_sla_bridge.domain.calendar.duration import WorkingDays, WorkingMinutes

    if isinstance(value, str) and value.strip().lower() == "unlimited":
        return None
    if isinstance(value, bool) or not isinstance(value, str):
        raise ValueError(
            f'expected a duration such as "30m", "8h", "5d" or "unlimited", got {value!r}'
        )
    match = _DURATION.match(value.lower())
    if not match:
        raise ValueError(
            f'expected a duration such as "30m", "8h", "5d" or "unlimited", got {value!r}'
        )
    amount, unit = int(match["n"]), match["unit"]
    if unit == "d":
        return WorkingDays(amount)
    return WorkingMinutes(amount * 60 if unit == "h" else amount)


def _duration_text(value: Any) -> str:
    parse_duration(value)
    return value.strip()


DurationText = Annotated[
    str,
    BeforeValidator(_duration_text),
    WithJsonSchema(
        {"type": "string", "pattern": r"^(\d+\s*(m|min|h|d)|unlimited)$", "examples": ["8h", "5d"]}
    ),
]
"""A duration on a named calendar, kept as text; parse with `parse_duration`."""


def is_loopback_host(host: str) -> bool:
    """A server on this machine: plain-text SMTP or IMAP is tolerated only there."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
