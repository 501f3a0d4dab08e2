"""Cost of the HTML report page and of `/dashboard` with its cache.

    python benchmarks/bench_report_html.py

Workloads: the report document of a month (tests/report_sample.py: 5 weeks, 3 tiers,
13 first-response times, 2 breaches) and of a year of a large desk (53 weeks, 12 tiers, 60 customers, 40
products, 10,000 first-response times, 1,000 breaches). Printed: the median time to
render each page (over repeats), its size, and how many SVG bars it draws; then 50
reloads of `/dashboard` (Flask's test client, a report source that counts its calls)
with the cache on and off: the source calls are what Redmine would be asked for.
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from redmine_sla_bridge.entrypoints.report_html import render
from tests.report_sample import group, sample_report

RELOADS = 50


def large_report() -> dict:
    rng = random.Random(18)
    report = sample_report("ru", weeks=53, period_from="2026-01-01", period_to="2026-12-31")
    report["by_tier"] = [group(f"tier-{n}", f"tier-{n}", (rng.randint(0, 900), rng.randint(0, 60)),
                               (rng.randint(0, 900), rng.randint(0, 60))) for n in range(12)]
    report["by_customer"] = [group(str(7700000000 + n), f"Customer {n}", (rng.randint(0, 300), 3), (200, 2))
                             for n in range(60)]
    report["by_product"] = [group(f"p{n}", f"Product {n}", (rng.randint(0, 300), rng.randint(0, 20)),
                                  (200, rng.randint(0, 20))) for n in range(40)]
    report["first_response_times"] = [
        {"issue": n, "tier": f"tier-{n % 12}", "minutes": int(rng.expovariate(1 / 90)),
         "target_minutes": (60, 240, 480)[n % 3]} for n in range(10_000)]
    breach = report["breaches"][0]
    report["breaches"] = [{**breach, "issue": 10_000 + n,
                           "url": f"http://redmine.example/issues/{10_000 + n}",
                           "overdue_minutes": rng.randint(1, 5000)} for n in range(1_000)]
    return report


def timed_render(report: dict, repeats: int) -> tuple[float, int, int]:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        page = render(report)
        times.append(time.perf_counter() - started)
    return statistics.median(times), len(page.encode()), page.count('class="bar"')


def dashboard_reloads(cache_seconds: int) -> tuple[int, float]:
    from flask import Flask

    from redmine_sla_bridge.entrypoints.web.dashboard import Dashboard, DashboardSettings, register

    calls = []

    def source(period_from, period_to, project, customer):
        calls.append(period_from)
        return sample_report("ru")

    app = Flask("bench")
    settings = DashboardSettings("bench-token-0123456789", {}, cache_seconds, "Europe/Moscow")
    register(app, Dashboard(settings, source, lambda: dt.datetime(2026, 11, 20, tzinfo=dt.UTC)))
    client = app.test_client()
    headers = {"Authorization": "Bearer bench-token-0123456789"}
    started = time.perf_counter()
    for _ in range(RELOADS):
        assert client.get("/dashboard", headers=headers).status_code == 200
    return len(calls), (time.perf_counter() - started) / RELOADS


def main() -> None:
    for name, report, repeats in (("month", sample_report("ru"), 20), ("large year", large_report(), 5)):
        seconds, size, bars = timed_render(report, repeats)
        print(f"render {name:10}: {seconds * 1000:8.1f} ms  {size / 1024:8.1f} KiB  {bars:5} bars  "
              f"({len(report['breaches'])} breaches, {len(report['first_response_times'])} times)")
    for cache in (120, 0):
        calls, per_request = dashboard_reloads(cache)
        print(f"/dashboard x{RELOADS}, cache_seconds={cache:3}: {calls:3} report computations, "
              f"{per_request * 1000:6.1f} ms per request (fake source)")


if __name__ == "__main__":
    main()
