"""The sweep's two passes on fake ports: the fast pass asks only for what is due by the
horizon day, the full pass reads every open issue, and either falls back to the full
read when Redmine has no `next_check` field."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from redmine_sla_bridge.service.bridge import Bridge
from redmine_sla_bridge.service.settings import Settings
from redmine_sla_bridge.service.sweep import horizon_day, sweep
from tests.unit.processing.builders import at, document, listed, rules_of
from tests.unit.service.fakes import FakeIssues, FakeNotifier, FakeStore, Log

DUE = {"tier": "standard", "license_status": "none", "sla_priority": "P3",
       "sla_state": "on track", "first_response_due": "2026-03-02 18:00",
       "resolution_due": "2026-03-10 18:00", "first_response_at": None,
       "next_check": "2026-03-02"}


@pytest.fixture(scope="module")
def rules(tmp_path_factory):
    return rules_of(tmp_path_factory.mktemp("sweep"), document())


def world(rules, **settings):
    log = Log()
    issues = FakeIssues(log)
    bridge = Bridge(settings=Settings(**settings), rules=rules, redmine=issues,
                    store=FakeStore(log), notifier=FakeNotifier(log), clock=lambda: at(2, 10))
    return bridge, issues, log


def test_the_fast_pass_reads_the_due_issues_only_and_writes_the_breach_with_the_next_day(rules):
    bridge, issues, log = world(rules)
    issues.due = [dataclasses.replace(listed(at(2, 10), DUE), issue_id=7)]
    issues.listed = [listed(at(2, 10), DUE)] * 50  # the open issues a full pass would read
    report = sweep(bridge, at(2, 18, 1))
    assert not report.full and report.seen == 1
    # Without a value: only issues changed in the last 2 h (2 March 18:01 MSK = 15:01 UTC).
    assert [c for c in log.calls if c.startswith("list")] == [
        "list due by 2026-03-02, unstamped since 2026-03-02T13:01:00Z"]
    (update,) = issues.applied
    # First response breached; the resolution target's at-risk day comes next.
    assert update.fields["sla_state"] == "breached"
    assert update.fields["next_check"] > "2026-03-02"


def test_the_horizon_is_the_day_the_next_pass_starts_in_the_regulations_zone(rules):
    bridge, *_ = world(rules, sweep_interval_seconds=300)
    assert horizon_day(bridge, at(2, 23, 50)) == "2026-03-02"
    assert horizon_day(bridge, at(2, 23, 56)) == "2026-03-03"
    # 20:56 UTC is 23:56 in Moscow.
    assert horizon_day(bridge, dt.datetime(2026, 3, 2, 20, 56, tzinfo=dt.UTC)) == "2026-03-03"


def test_the_full_pass_reads_every_open_issue_and_repairs_a_missing_value(rules):
    bridge, issues, log = world(rules)
    issues.due = []
    issues.listed = [dataclasses.replace(listed(at(2, 10), {**DUE, "next_check": None}), issue_id=8)]
    report = sweep(bridge, at(2, 11), full=True)
    assert report.full and report.stamped == [8]
    assert [c for c in log.calls if c.startswith("list")] == ["list open"]
    assert issues.applied[0].fields == {"next_check": "2026-03-02"}


@pytest.mark.parametrize("settings, due", [({"sweep_fast": False}, []), ({}, None)],
                         ids=["fast pass off", "no next_check field in Redmine"])
def test_every_pass_is_full_when_the_fast_pass_is_off_or_impossible(rules, settings, due):
    bridge, issues, log = world(rules, **settings)
    issues.due = due
    issues.listed = [listed(at(2, 10), DUE)]
    assert sweep(bridge, at(2, 11)).full
    assert "list open" in log.calls


@pytest.mark.parametrize("full", [True, False], ids=["full pass", "fast pass"])
def test_a_pass_handles_each_listed_issue_before_it_reads_the_next(rules, full):
    """What keeps a pass's memory flat at any number of open issues: it consumes the
    listing as it comes (the adapter reads a page of 100 at a time), keeping neither
    the issues nor their plans (benchmarks/bench_sweep.py measures the peak RSS)."""
    bridge, issues, log = world(rules)

    def listing():
        for n in range(1, 4):
            log(f"listed {n}")
            yield dataclasses.replace(listed(at(2, 10), {**DUE, "next_check": None}), issue_id=n)

    issues.listed = listing()  # type: ignore[assignment]
    issues.due = listing()  # type: ignore[assignment]
    report = sweep(bridge, at(2, 11), full=full)
    assert report.seen == 3 and report.stamped == [1, 2, 3]
    assert [c for c in log.calls if c.startswith(("listed", "apply"))] == [
        "listed 1", "apply 1", "listed 2", "apply 2", "listed 3", "apply 3"]
