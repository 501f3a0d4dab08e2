"""Calendar periods: "1 year", "6 months", "30 days" counted on the civil calendar.

The regulations state license terms and "since purchase" windows in years (AR-3/AR-4
«с момента покупки прошло менее 1 года», AR-5 «действует в течение 1 года», AS-1 «в
течение одного года после приобретения», ID-3 «подписка действует в течение года»). A
year is a calendar year, not 365 days: counted in days, a purchase made before a 29 February
loses its tier one day early.

Arithmetic (the Civil Code of the Russian Federation, art. 192):

* "Срок, исчисляемый годами, истекает в соответствующие месяц и число последнего года
  срока" (art. 192 p. 1): D + N years is the same month and day N years later;
* "Срок, исчисляемый месяцами, истекает в соответствующее число последнего месяца срока
  ... Если окончание срока, исчисляемого месяцами, приходится на такой месяц, в котором
  нет соответствующего числа, то срок истекает в последний день этого месяца" (art. 192
  p. 3): D + N months is the same day N months later, or the month's last day when that
  month is shorter.

CHOICE: p. 3's "last day of the month" is applied to years as well (p. 1 says nothing of
a missing day), so 2024-02-29 + 1 year = 2025-02-28, not 2025-03-01; and 2025-01-31 +
1 month = 2025-02-28. Years and months are added first (as one count of months), days
after, so {years: 1, days: 1} from 2024-02-29 is 2025-03-01.

How a period is laid over a license or a purchase (the `days:` form has always counted
this way, and the customer directories write licenses this way: "starts 2026-03-01,
expires 2027-02-28" is one year): the start day is the first day of the period, and
the period ends the day before start + period. "Less than 1 year since purchase" holds
on day X when X < D + 1 year; a one-year license starting on D is valid through
D + 1 year - 1 day. So a purchase of 2024-02-29 counts through 2025-02-27, and one of
2023-03-01 through 2024-02-29 (365 days would have stopped at 2024-02-28).
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later (or earlier), clamped to the month's last day (art. 192 p. 3)."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def _plural(count: int, unit: str) -> str:
    return f"{count} {unit}" if count == 1 else f"{count} {unit}s"


@dataclass(frozen=True, slots=True)
class CalendarPeriod:
    """Years, months and days of the civil calendar (not working time)."""

    years: int = 0
    months: int = 0
    days: int = 0

    def __post_init__(self) -> None:
        if min(self.years, self.months, self.days) < 0:
            raise ValueError("a calendar period cannot be negative")
        if not (self.years or self.months or self.days):
            raise ValueError("a calendar period needs at least one of years, months, days")

    def after(self, day: dt.date) -> dt.date:
        """`day` + this period (art. 192: years and months first, clamped; then days)."""
        return add_months(day, self.years * 12 + self.months) + dt.timedelta(days=self.days)

    def last_day_from(self, starts: dt.date) -> dt.date:
        """The last day of this period counted from `starts` as its first day."""
        return self.after(starts) - dt.timedelta(days=1)

    def contains(self, starts: dt.date, day: dt.date) -> bool:
        """Is `day` within this period counted from `starts` (starts <= day < starts + period)?"""
        return starts <= day < self.after(starts)

    def describe(self) -> str:
        parts = [
            _plural(count, unit)
            for count, unit in ((self.years, "year"), (self.months, "month"), (self.days, "day"))
            if count
        ]
        return " ".join(parts)


__all__ = ["CalendarPeriod", "add_months"]
