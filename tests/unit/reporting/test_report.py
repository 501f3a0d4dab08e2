"""Aggregation of the SLA report (issue 18): counts, nearest-rank percentiles, every
week of the period, open targets judged at the report's "now", the JSON document."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from redmine_sla_bridge.domain.reporting.outcome import TargetOutcome
from redmine_sla_bridge.domain.reporting.report import (
    AT_RISK,
    FIRST_RESPONSE,
    RESOLUTION,
    ContractInfo,
    IssueResult,
    SlaReport,
    TargetResult,
    percentile,
    summarize,
    target_result,
    weeks,
    what_if_section,
)

MSK = ZoneInfo("Europe/Moscow")


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=MSK)


def wall(start: dt.datetime, end: dt.datetime) -> dt.timedelta:
    return end - start  # a 24x7 calendar


def result(issue_id: int, day: int = 3, *, accepted: bool = True, fr=None, res=None,
           **extra) -> IssueResult:
    targets = {k: v for k, v in ((FIRST_RESPONSE, fr), (RESOLUTION, res)) if v is not None}
    return IssueResult(issue_id=issue_id, url=f"http://r/issues/{issue_id}", subject=f"#{issue_id}",
                       received_on=dt.date(2026, 3, day), customer=extra.pop("customer", "7707083893"),
                       customer_label="Alpha", tier="standard", priority="P3", product=None,
                       assignee=None, accepted=accepted, targets=targets, **extra)


def test_percentiles_are_nearest_rank_values():
    assert percentile([], 0.5) is None
    assert percentile([30], 0.9) == 30
    assert percentile([20, 30, 30, 70, 90, 180], 0.5) == 30
    assert percentile([20, 30, 30, 70, 90, 180], 0.9) == 180
    assert percentile(list(range(1, 11)), 0.9) == 9


def test_every_iso_week_of_the_period_is_listed_with_its_monday():
    assert weeks(dt.date(2026, 3, 4), dt.date(2026, 3, 16)) == [
        ("2026-W10", dt.date(2026, 3, 2)), ("2026-W11", dt.date(2026, 3, 9)),
        ("2026-W12", dt.date(2026, 3, 16))]
    assert weeks(dt.date(2026, 12, 30), dt.date(2027, 1, 2)) == [("2026-W53", dt.date(2026, 12, 28))]


def test_an_open_target_is_judged_at_the_reports_now():
    recorded = TargetOutcome("open", None, 120)
    due = at(3, 12)
    assert target_result(recorded, due, at(3, 10, 30), 0.75, wall).state == "open"
    assert target_result(recorded, due, at(3, 11, 30), 0.75, wall).state == AT_RISK
    late = target_result(recorded, due, at(3, 12, 45), 0.75, wall)
    assert (late.state, late.overdue_minutes) == ("breached", 45)
    met_late = target_result(TargetOutcome("breached", 180, 120), due, at(9, 9), 0.75, wall)
    assert (met_late.state, met_late.minutes, met_late.overdue_minutes) == ("breached", 180, 60)


def test_a_summary_counts_each_request_once_and_times_only_what_was_taken():
    met = TargetResult("met", 60, 120)
    results = [
        result(1, fr=met, res=TargetResult("met", 240, 960), reopened=1, paused_minutes=30),
        result(2, fr=TargetResult("breached", 180, 120, at(3, 12), 60),
               res=TargetResult("open", None, 960)),
        result(3, fr=TargetResult(AT_RISK, None, 120), res=TargetResult("open", None, 960)),
        result(4, fr=TargetResult("met", 10, None), auto_closed=True),  # not limited
        result(5, accepted=False, refused=("missing_field", "invalid_inn")),
        result(6, accepted=False, refused=("missing_field",)),
    ]
    summary = summarize(results).as_dict()
    assert summary == {
        "received": 6, "accepted": 4, "refused": 2,
        "refused_by_code": {"invalid_inn": 1, "missing_field": 2}, "queued": 0,
        "auto_closed": 1, "reopened": 1,
        "first_response": {"met": 1, "breached": 1, "open": 1, "at_risk": 1,
                           "median_minutes": 60, "p90_minutes": 180},
        "resolution": {"met": 1, "breached": 0, "open": 2, "at_risk": 0,
                       "median_minutes": 240, "p90_minutes": 240},
        "paused_minutes": 30}


def _report(results, contracts=None) -> SlaReport:
    return SlaReport(language="en", period_from=dt.date(2026, 3, 2), period_to=dt.date(2026, 3, 15),
                     time_zone="Europe/Moscow", generated_at=at(16, 9), project=None, customer=None,
                     results=tuple(results), contracts=contracts or {})


def test_the_document_has_every_section_and_empty_weeks_too():
    late = TargetResult("breached", 180, 120, at(3, 12), 60)
    results = [result(1, fr=late), result(2, customer="7736050003", contract="7736050003",
                                           fr=TargetResult("met", 30, 60))]
    contracts = {"7736050003": ContractInfo("Beta", "SLA-7", {"first_response": "1h"})}
    document = _report(results, contracts).as_dict()
    assert document["schema"] == "redmine-sla-bridge/report/1"
    assert document["period"] == {"from": "2026-03-02", "to": "2026-03-15",
                                  "time_zone": "Europe/Moscow"}
    assert [(w["key"], w["label"], w["summary"]["received"]) for w in document["by_week"]] == [
        ("2026-W10", "2026-03-02", 2), ("2026-W11", "2026-03-09", 0)]
    assert [b["issue"] for b in document["breaches"]] == [1]
    assert document["breaches"][0]["due"] == "2026-03-03T12:00:00+03:00"
    assert document["first_response_times"] == [
        {"issue": 1, "tier": "standard", "minutes": 180, "target_minutes": 120},
        {"issue": 2, "tier": "standard", "minutes": 30, "target_minutes": 60}]
    (contract,) = document["contracts"]
    assert (contract["customer"], contract["label"], contract["contract"]) == (
        "7736050003", "Beta", "SLA-7")
    assert contract["summary"]["received"] == 1 and contract["breaches"] == []
    assert [g["key"] for g in document["by_customer"]] == ["7707083893", "7736050003"]


def test_what_if_lists_the_breaches_each_side_alone_has():
    recorded = _report([result(1, fr=TargetResult("breached", 180, 120, at(3, 12), 60)),
                        result(2, fr=TargetResult("met", 70, 120))])
    stricter = _report([result(1, fr=TargetResult("breached", 180, 60, at(3, 11), 120)),
                        result(2, fr=TargetResult("breached", 70, 60, at(3, 11), 10))])
    section = what_if_section(recorded, stricter, "strict.yaml")
    assert [b["issue"] for b in section["additional_breaches"]] == [2]
    assert section["resolved_breaches"] == []
    assert section["report"]["overall"]["first_response"]["breached"] == 2
