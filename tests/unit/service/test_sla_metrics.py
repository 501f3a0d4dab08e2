"""The SLA metrics Grafana reads: an outcome is counted once, when the bridge writes it
and Redmine took it; the open-requests gauge is what the last whole sweep saw. On fake
ports, reading the process's default Prometheus registry (deltas, as other tests count
too)."""

from __future__ import annotations

import dataclasses

import pytest
from prometheus_client import REGISTRY

from redmine_sla_bridge.domain.lifecycle.history import Role
from redmine_sla_bridge.domain.ports import RedmineRejected
from redmine_sla_bridge.service.bridge import Bridge
from redmine_sla_bridge.service.process_issue import process_issue
from redmine_sla_bridge.service.settings import Settings
from redmine_sla_bridge.service.sweep import sweep
from tests.unit.processing.builders import Journal, at, document, listed, rules_of, snapshot
from tests.unit.service.fakes import FakeIssues, FakeNotifier, FakeStore, Log

ON_TRACK = {"tier": "standard", "license_status": "none", "sla_priority": "P3",
            "sla_state": "on track", "first_response_due": "2026-03-02 18:00",
            "resolution_due": "2026-03-10 18:00"}


def outcomes(outcome: str, tier: str = "standard", priority: str = "P3") -> float:
    return REGISTRY.get_sample_value("bridge_sla_outcomes_total",
                                     {"outcome": outcome, "tier": tier, "priority": priority}) or 0.0


def open_requests(state: str, tier: str = "standard") -> float | None:
    return REGISTRY.get_sample_value("bridge_open_requests", {"state": state, "tier": tier})


@pytest.fixture(scope="module")
def rules(tmp_path_factory):
    return rules_of(tmp_path_factory.mktemp("metrics"), document())


@pytest.fixture()
def world(rules):
    log = Log()
    issues = FakeIssues(log)
    bridge = Bridge(settings=Settings(), rules=rules, redmine=issues, store=FakeStore(log),
                    notifier=FakeNotifier(log), clock=lambda: at(2, 10, 5))
    return bridge, issues


def test_a_breach_the_sweep_writes_counts_once_and_a_refused_write_not_at_all(world):
    bridge, issues = world
    late = {**ON_TRACK, "first_response_at": None}
    issues.listed = [dataclasses.replace(listed(at(2, 10), late), issue_id=7),
                     dataclasses.replace(listed(at(2, 10), late), issue_id=8)]
    issues.fail_apply[7] = RedmineRejected(422, "Assignee is invalid")
    before = outcomes("breached")
    report = sweep(bridge, at(3, 12))
    assert report.changed == {8: "breached"} and report.failed.keys() == {7}
    assert outcomes("breached") == before + 1

    # The next sweep reads the state as written: nothing new to count.
    issues.listed = [dataclasses.replace(listed(at(2, 10), {**late, "sla_state": "breached"}),
                                         issue_id=8)]
    sweep(bridge, at(3, 13))
    assert outcomes("breached") == before + 1


def test_resolving_a_request_in_time_counts_met_with_its_tier_and_priority(world):
    bridge, issues = world
    journal = (Journal(at(2, 10)).note(at(2, 10, 1), Role.BRIDGE, "registered")
               .field(at(2, 10, 1), "cf:sla_state", None, "on track")
               .note(at(2, 11), Role.SUPPORT, "An answer").move(at(3, 12), "Resolved"))
    values = {**ON_TRACK, "first_response_at": "2026-03-02 11:00"}
    issues.snapshots[7] = dataclasses.replace(snapshot(journal, values=values), time_entries=())
    before_met, before_breached = outcomes("met"), outcomes("breached")
    process_issue(bridge, 7, at(3, 12, 5))
    (update,) = issues.applied
    assert update.fields["sla_state"] == "met"
    assert outcomes("met") == before_met + 1 and outcomes("breached") == before_breached


def test_the_open_requests_gauge_is_the_last_sweep_and_empties_to_zero(world):
    bridge, issues = world
    issues.listed = [dataclasses.replace(listed(at(2, 10), ON_TRACK), issue_id=n) for n in (1, 2, 3)]
    issues.listed.append(dataclasses.replace(
        listed(at(2, 10), {**ON_TRACK, "tier": "premium", "sla_state": "paused"}, status="Feedback"),
        issue_id=4))
    issues.listed.append(None)  # not the bridge's: not counted
    sweep(bridge, at(2, 10, 10))
    assert open_requests("on track") == 3
    assert open_requests("paused", "premium") == 1

    issues.listed = issues.listed[:1]
    sweep(bridge, at(2, 10, 20))
    assert open_requests("on track") == 1
    assert open_requests("paused", "premium") == 0


def test_the_gauge_counts_the_state_a_sweep_leaves(world):
    bridge, issues = world
    late = {**ON_TRACK, "first_response_at": None}
    issues.listed = [dataclasses.replace(listed(at(2, 10), late), issue_id=n) for n in (1, 2)]
    sweep(bridge, at(3, 12))  # both are now past their first-response due
    assert open_requests("breached") == 2
    assert not open_requests("on track")  # 0, or never set when this test runs alone


def test_the_open_requests_gauge_keeps_its_value_when_a_sweep_cannot_list(world):
    bridge, issues = world
    issues.listed = [dataclasses.replace(listed(at(2, 10), ON_TRACK), issue_id=1)]
    sweep(bridge, at(2, 10, 10))

    def down():
        raise ConnectionError("Redmine is down")
        yield  # a generator, as the port's is

    issues.open_issues = down  # type: ignore[method-assign]
    with pytest.raises(ConnectionError):
        sweep(bridge, at(2, 10, 20))
    assert open_requests("on track") == 1


def test_a_pass_that_reads_only_the_due_issues_leaves_the_gauge_alone(world):
    """Only a pass over every open issue knows how many are in each state. (Guards the
    sweep's fast pass, which lists only the issues due: skipped in a build without it.)"""
    bridge, issues = world
    if not hasattr(issues, "due"):
        pytest.skip("this build's sweep has no fast pass")
    issues.listed = [dataclasses.replace(listed(at(2, 10), ON_TRACK), issue_id=n) for n in (1, 2, 3)]
    sweep(bridge, at(2, 10, 10), full=True)
    assert open_requests("on track") == 3
    issues.due = issues.listed[:1]
    sweep(bridge, at(2, 10, 20))
    assert open_requests("on track") == 3
