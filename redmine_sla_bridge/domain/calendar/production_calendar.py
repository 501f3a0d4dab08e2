"""Russian production-calendar data that the `holidays` package does not carry.

`holidays` (pinned 0.109) knows the public holidays of Labour Code art. 112, the days
off moved by each year's Government decree and the working weekend days those decrees
create (`weekend_workdays`). It does not know the pre-holiday short days of art. 95:
"the working day immediately preceding a non-working public holiday is one hour
shorter". They are shipped here, year by year, with the decree each year rests on.

How the days below were derived (and checked against the published production
calendars of ConsultantPlus / the Ministry of Labour's year norms):
- a working day whose next calendar day is an art. 112 holiday is short;
- the day before a day off that a decree *moved* (e.g. 31 December, 8 May 2025) is not:
  a moved day off is a "выходной день", not a "нерабочий праздничный день";
- a working Saturday created by a decree is worked as the weekday that took its day
  off; if that weekday would have been a short day, so is the Saturday (2024-11-02 ->
  2024-04-30, 2025-11-01 -> 2025-11-03, 2027-02-20 -> 2027-02-22).
The counts agree with the published 40-hour-week norms: 2024: 248 days, 1979 h
(5 short days); 2025: 247 days, 1972 h (4 short days); 2026 and 2027: 247 days, 4 short
days each. `tests/unit/calendar/test_production_calendar.py` re-derives every day from
the `holidays` data with the rules above.

A year missing here is reported by `Schedule.data_gaps`; it is never filled by guessing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from types import MappingProxyType

_D = dt.date

RU_DECREES: Mapping[int, str] = MappingProxyType(
    {
        2024: "Government Decree No. 1314 of 10.08.2023 «О переносе выходных дней в 2024 году»",
        2025: "Government Decree No. 1335 of 04.10.2024 «О переносе выходных дней в 2025 году»",
        2026: "Government Decree No. 1466 of 24.09.2025 «О переносе выходных дней в 2026 году»",
        2027: "Government Decree No. 1187 of 17.09.2026 «О переносе выходных дней в 2027 году»",
    }
)
"""Years whose production calendar is fully known, with the decree on transfers."""

RU_SHORT_DAYS: Mapping[int, frozenset[dt.date]] = MappingProxyType(
    {
        2024: frozenset(
            {
                _D(2024, 2, 22),  # before Fri 23 Feb
                _D(2024, 3, 7),  # before Fri 8 Mar
                _D(2024, 5, 8),  # before Thu 9 May
                _D(2024, 6, 11),  # before Wed 12 Jun
                _D(2024, 11, 2),  # working Saturday standing in for Tue 30 Apr (before 1 May)
                # Not short: Sat 27 Apr (stands in for Mon 29 Apr) and Sat 28 Dec (for
                # Mon 30 Dec; 31 Dec is a moved day off, not a holiday).
            }
        ),
        2025: frozenset(
            {
                _D(2025, 3, 7),  # before Sat 8 Mar
                _D(2025, 4, 30),  # before Thu 1 May
                _D(2025, 6, 11),  # before Thu 12 Jun
                _D(2025, 11, 1),  # working Saturday standing in for Mon 3 Nov (before 4 Nov)
                # Not short: Wed 7 May (8 May is a moved day off) and Tue 30 Dec
                # (31 Dec is a moved day off under Decree No. 1335).
            }
        ),
        2026: frozenset(
            {
                _D(2026, 4, 30),  # before Fri 1 May
                _D(2026, 5, 8),  # before Sat 9 May
                _D(2026, 6, 11),  # before Fri 12 Jun
                _D(2026, 11, 3),  # before Wed 4 Nov
                # Not short: Fri 6 Mar (a weekend lies between it and Sun 8 Mar) and
                # Wed 30 Dec (31 Dec is a moved day off).
            }
        ),
        2027: frozenset(
            {
                _D(2027, 2, 20),  # working Saturday standing in for Mon 22 Feb (before 23 Feb)
                _D(2027, 4, 30),  # before Sat 1 May
                _D(2027, 6, 11),  # before Sat 12 Jun
                _D(2027, 11, 3),  # before Thu 4 Nov
                # Not short: Thu 30 Dec (31 Dec is a moved day off).
            }
        ),
    }
)


def official_short_days(country: str | None) -> frozenset[dt.date]:
    """Every shipped pre-holiday short day of `country` (empty for countries without data)."""
    if country != "RU":
        return frozenset()
    return frozenset().union(*RU_SHORT_DAYS.values())


def official_data_years(country: str | None) -> frozenset[int]:
    """Years whose decree data (transfers and short days) is shipped for `country`."""
    return frozenset(RU_DECREES) if country == "RU" else frozenset()
