"""Speed of the working-time engine, and of `businesstimedelta` on the same workload.

    python benchmarks/bench_calendar.py

Workload: a 09:00-18:00 Moscow calendar on RU holidays; starts at random minutes within
two weeks either side of the New Years 2024/25, 2025/26 and 2026/27 (the densest
holidays); add() of 80 working hours and between() over 30 calendar days. Each figure is
the median over repeats of the mean time per call in one pass over all starts (timing
single 2-us calls would mostly measure the timer). The year caches are warmed first;
their one-off build time is printed separately.

businesstimedelta (`pip install -e ".[bench]"`; not a run-time dependency) has no
working Saturdays or short days, so its answers differ on some starts; the count of
agreeing answers shows the two otherwise do the same job.
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import time
from collections.abc import Callable, Sequence
from zoneinfo import ZoneInfo

from redmine_sla_bridge.domain.calendar import CalendarSpec, WorkingMinutes, build_schedule

ZONE = "Europe/Moscow"
HOURS = 80
SPEC = CalendarSpec(
    name="moscow",
    timezone=ZONE,
    week={day: ((dt.time(9), dt.time(18)),) for day in range(5)},
    holiday_country="RU",
)


def random_starts(count: int, seed: int = 2025) -> list[dt.datetime]:
    rng = random.Random(seed)
    zone = ZoneInfo(ZONE)
    starts = []
    for _ in range(count):
        new_year = dt.datetime(rng.choice((2025, 2026, 2027)), 1, 1, tzinfo=zone)
        starts.append(new_year + dt.timedelta(minutes=rng.randint(-14 * 1440, 14 * 1440)))
    return starts


def per_call(run: Callable[[dt.datetime], object], starts: Sequence[dt.datetime], repeats: int) -> float:
    """Median over `repeats` of the mean seconds per call of one pass over `starts`."""
    means = []
    for _ in range(repeats):
        begin = time.perf_counter()
        for start in starts:
            run(start)
        means.append((time.perf_counter() - begin) / len(starts))
    return statistics.median(means)


def main() -> None:
    starts = random_starts(5000)
    span = dt.timedelta(days=30)
    amount = WorkingMinutes(HOURS * 60)

    begin = time.perf_counter()
    schedule = build_schedule(SPEC)
    for start in starts:  # builds the years 2024-2027 once
        schedule.add(start, amount)
    warm_up = time.perf_counter() - begin

    ours_add = per_call(lambda start: schedule.add(start, amount), starts, repeats=21)
    ours_between = per_call(lambda start: schedule.between(start, start + span), starts, repeats=21)
    print(f"redmine_sla_bridge  first use (builds 4 years): {warm_up * 1e3:8.1f} ms")
    print(f"redmine_sla_bridge  add({HOURS} working h):        {ours_add * 1e6:8.2f} us/call")
    print(f"redmine_sla_bridge  between(30 days):         {ours_between * 1e6:8.2f} us/call")

    try:
        import businesstimedelta
        import holidays
        import pytz
    except ImportError:
        print('businesstimedelta is not installed: pip install -e ".[bench]"')
        return
    tz = pytz.timezone(ZONE)
    rule = businesstimedelta.Rules(
        [
            businesstimedelta.WorkDayRule(
                start_time=dt.time(9), end_time=dt.time(18), working_days=range(5), tz=tz
            ),
            businesstimedelta.HolidayRule(holidays.country_holidays("RU", years=range(2024, 2028)), tz=tz),
        ]
    )
    delta = businesstimedelta.BusinessTimeDelta(rule, hours=HOURS)
    sample = starts[:300]
    theirs_add = per_call(lambda start: start + delta, sample, repeats=5)
    theirs_between = per_call(lambda start: rule.difference(start, start + span), sample, repeats=5)
    agree = sum(schedule.add(start, amount) == start + delta for start in sample)
    print(f"businesstimedelta   add({HOURS} working h):        {theirs_add * 1e6:8.2f} us/call")
    print(f"businesstimedelta   between(30 days):         {theirs_between * 1e6:8.2f} us/call")
    print(f"ratio add:     businesstimedelta / ours = {theirs_add / ours_add:6.1f}x")
    print(f"ratio between: businesstimedelta / ours = {theirs_between / ours_between:6.1f}x")
    print(
        f"same add() answer on {agree}/{len(sample)} starts "
        "(the others cross the working Saturday 28 Dec 2024, which businesstimedelta "
        "cannot express)"
    )


if __name__ == "__main__":
    main()
