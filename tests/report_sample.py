"""A report document (schema redmine-sla-bridge/report/1) for the renderer's and the
dashboard's tests: built from a few parameters, so each test can say what it expects
from the same inputs, with customer text that tries to be markup."""

from __future__ import annotations

import datetime as dt
from typing import Any

HOSTILE = '<script>alert("x")</script> & <b>bold</b>'


def target(met: int = 0, breached: int = 0, open_: int = 0, at_risk: int = 0,
           median: int | None = None, p90: int | None = None) -> dict[str, Any]:
    return {"met": met, "breached": breached, "open": open_, "at_risk": at_risk,
            "median_minutes": median, "p90_minutes": p90}


def summary(fr: tuple[int, int] = (0, 0), res: tuple[int, int] = (0, 0), **extra: Any) -> dict[str, Any]:
    received = sum(fr) + extra.get("refused", 0)
    out = {"received": received, "accepted": sum(fr), "refused": 0, "refused_by_code": {},
           "queued": 0, "auto_closed": 0, "reopened": 0,
           "first_response": target(*fr, median=45, p90=200),
           "resolution": target(*res, median=600, p90=1800), "paused_minutes": 30}
    out.update(extra)
    return out


def group(key: str, label: str, fr: tuple[int, int], res: tuple[int, int]) -> dict[str, Any]:
    return {"key": key, "label": label, "summary": summary(fr, res)}


def sample_report(language: str = "en", *, weeks: int = 5, period_from: str = "2026-11-01",
                  period_to: str = "2026-11-30", customer: str | None = None) -> dict[str, Any]:
    monday = dt.date(2026, 10, 26)
    by_week = []
    for index in range(weeks):
        day = monday + dt.timedelta(weeks=index)
        iso = day.isocalendar()
        by_week.append(group(f"{iso.year}-W{iso.week:02d}", day.isoformat(),
                             (index + 1, index % 2), (index, 1 if index == 2 else 0)))
    breaches = [
        {"issue": 101, "url": "http://redmine.example/issues/101", "subject": HOSTILE,
         "customer": "ООО «Ромашка» <i>", "tier": "premium", "priority": "P1",
         "product": "Product <A>", "target": "first_response", "due": "2026-11-03T09:00:00+00:00",
         "assignee": "Ivan <Petrov>", "overdue_minutes": 95},
        {"issue": 102, "url": "javascript:alert(1)", "subject": "plain", "customer": None,
         "tier": None, "priority": None, "product": None, "target": "resolution",
         "due": "2026-11-10T12:30:00+00:00", "assignee": None, "overdue_minutes": 30},
    ]
    return {
        "schema": "redmine-sla-bridge/report/1",
        "language": language,
        "period": {"from": period_from, "to": period_to, "time_zone": "Europe/Moscow"},
        "generated_at": "2026-12-01T10:00:00+00:00",
        "filters": {"project": None, "customer": customer},
        "overall": summary((15, 2), (10, 1), refused=2, refused_by_code={"ID-2": 1, "AR-3": 1}),
        "by_customer": [group("7707083893", "ООО «Ромашка» <i>", (10, 1), (6, 1)),
                        group("", "—", (5, 1), (4, 0))],
        "by_tier": [group("premium", "premium", (9, 2), (6, 1)),
                    group("standard", "standard", (6, 0), (4, 0)),
                    group("basic", "basic", (0, 0), (0, 0))],
        "by_priority": [group("P1", "P1", (3, 1), (2, 1)), group("P3", "P3", (12, 1), (8, 0))],
        "by_product": [group("a", "Product <A>", (8, 1), (5, 1)), group("b", "Product B", (7, 1), (5, 0)),
                       group("c", "Product C", (0, 0), (0, 0))],
        "by_week": by_week,
        "breaches": breaches,
        "first_response_times": [
            {"issue": 100 + i, "tier": "premium" if i % 2 else "standard", "minutes": m,
             "target_minutes": 60 if i % 2 else 240}
            for i, m in enumerate((5, 12, 33, 59, 61, 90, 130, 239, 250, 400, 15, 20))
        ] + [{"issue": 200, "tier": None, "minutes": 10, "target_minutes": None}],
        "contracts": [
            {"customer": "7707083893", "label": "ООО «Ромашка» <i>", "contract": "AS-4/2026 <1>",
             "terms": {"first_response": "1 h <working>", "resolution": "8 h"},
             "summary": summary((10, 1), (6, 1)), "breaches": breaches[:1]},
        ],
        "cost": {"issues": 17, "api_calls": 1, "journal_reads": 0},
    }
