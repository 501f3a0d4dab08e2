"""The service layer on fake ports: what it reads, in which order it acts, what it
records, and how one failing issue is contained. No network, no database."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from redmine_sla_bridge.domain.intake.request import Organization
from redmine_sla_bridge.domain.lifecycle.history import Role
from redmine_sla_bridge.domain.ports import RedmineRejected, RedmineUnavailable
from redmine_sla_bridge.service.bridge import Bridge
from redmine_sla_bridge.service.poll import CURSOR, poll
from redmine_sla_bridge.service.process_issue import process_issue
from redmine_sla_bridge.service.settings import Settings
from redmine_sla_bridge.service.sweep import sweep
from tests.unit.processing.builders import Journal, at, document, listed, rules_of, snapshot
from tests.unit.service.fakes import FakeIssues, FakeNotifier, FakeStore, Log

ON_TRACK = {"tier": "standard", "license_status": "none", "sla_priority": "P3",
            "sla_state": "on track", "first_response_due": "2026-03-02 18:00",
            "resolution_due": "2026-03-10 18:00"}


@pytest.fixture(scope="module")
def rules(tmp_path_factory):
    return rules_of(tmp_path_factory.mktemp("svc"), document(
        intake={"first_request_only": ["organization.inn"]},
        lifecycle={
            "escalation": {"breached": {"private_note": True}},
            "auto_close": [{"name": "ID-10", "from_statuses": ["Feedback"],
                            "idle_since": "support_answer", "after": "14d"}],
            "time_accounting": {"minimum_minutes": 30, "activity": "Support"},
        }))


@pytest.fixture()
def world(rules):
    log = Log()
    issues, store, notifier = FakeIssues(log), FakeStore(log), FakeNotifier(log)
    bridge = Bridge(settings=Settings(initial_lookback=dt.timedelta(hours=1)), rules=rules,
                    redmine=issues, store=store, notifier=notifier, clock=lambda: at(2, 10, 5))
    return bridge, issues, store, notifier, log


def known_contact(issues: FakeIssues) -> None:
    issues.earlier["ivan@customer.example"] = (Organization("Romashka", "7707083893"),)


def test_a_new_request_costs_one_read_one_write_and_its_mail_is_queued_first(world):
    bridge, issues, _store, notifier, log = world
    known_contact(issues)
    issues.snapshots[7] = snapshot(Journal(at(2, 10)))
    outcome = process_issue(bridge, 7)
    assert outcome.action == "accepted"
    assert log.calls == ["load 7", "earlier ivan@customer.example", "mail ack:7:0", "apply 7",
                         "release ack:7:0"]
    (update,) = issues.applied
    assert update.fields["inn"] == "7707083893"
    assert list(notifier.queued) == ["ack:7:0"] and notifier.held == set()


def test_a_notice_about_an_update_redmine_refused_is_never_sent(world):
    bridge, issues, _store, notifier, log = world
    known_contact(issues)
    issues.snapshots[7] = snapshot(Journal(at(2, 10)))
    issues.fail_apply[7] = RedmineRejected(422, "Subject is too long")
    with pytest.raises(RedmineRejected):
        process_issue(bridge, 7)
    assert log.calls[-2:] == ["apply 7", "cancel ack:7:0"]
    assert "Subject is too long" in notifier.cancelled["ack:7:0"]


def test_a_notice_waits_on_hold_while_redmine_is_down(world):
    bridge, issues, _store, notifier, _log = world
    known_contact(issues)
    issues.snapshots[7] = snapshot(Journal(at(2, 10)))
    issues.fail_apply[7] = RedmineUnavailable("down")
    with pytest.raises(RedmineUnavailable):
        process_issue(bridge, 7)
    assert notifier.held == {"ack:7:0"} and not notifier.cancelled
    del issues.fail_apply[7]
    process_issue(bridge, 7)
    assert notifier.held == set()


def test_an_issue_outside_the_scope_is_skipped_without_a_write(world):
    bridge, _issues, *_ , log = world
    assert process_issue(bridge, 8).action == "skipped"
    assert log.calls == ["load 8"]


def test_effects_are_recorded_only_after_redmine_took_them(world):
    bridge, issues, store, _notifier, log = world
    journal = (Journal(at(2, 10)).note(at(2, 10, 1), Role.BRIDGE, "registered")
               .field(at(2, 10, 1), "cf:sla_state", None, "on track")
               .note(at(2, 11), Role.SUPPORT, "An answer"))
    values = {**ON_TRACK, "first_response_at": "2026-03-02 11:00"}
    issues.snapshots[7] = dataclasses.replace(snapshot(journal, values=values), time_entries=None)
    issues.fail_apply[7] = RedmineUnavailable("down")
    with pytest.raises(RedmineUnavailable):
        process_issue(bridge, 7, at(2, 12))
    assert store.keys == set()  # the answer is still to be accounted on the retry

    del issues.fail_apply[7]
    log.calls.clear()
    process_issue(bridge, 7, at(2, 12))
    assert log.calls[:3] == ["load 7", "time entries 7", "apply 7"]
    (update,) = issues.applied
    assert [e.hours for e in update.time_entries] == [0.5]
    assert store.keys == {f"time:7:{journal.notes[1].journal_id}"}

    log.calls.clear()
    process_issue(bridge, 7, at(2, 12))
    assert "time entries 7" not in log.calls  # accounted: no second read of the time log


def test_the_sweep_contains_a_failing_issue_and_reads_journals_only_where_it_may_close(world):
    bridge, issues, _store, notifier, log = world
    late = {**ON_TRACK, "first_response_at": None}
    issues.listed = [dataclasses.replace(listed(at(2, 10), late), issue_id=7),
                     None,  # listed, but not the bridge's to manage
                     dataclasses.replace(listed(at(2, 10), late), issue_id=8),
                     dataclasses.replace(listed(at(2, 10), ON_TRACK, status="Feedback"), issue_id=9)]
    issues.fail_apply[7] = RedmineRejected(422, "Assignee is invalid")
    feedback = (Journal(at(2, 10)).note(at(2, 11), Role.SUPPORT, "Works now?")
                .move(at(2, 11), "Feedback"))
    issues.snapshots[9] = dataclasses.replace(
        snapshot(feedback, values={**ON_TRACK, "contact_email": "ivan@customer.example"}), issue_id=9)
    report = sweep(bridge, at(17, 9))
    assert report.seen == 4
    assert report.failed.keys() == {7}
    assert report.changed == {8: "breached"}
    assert report.closed == [9]
    assert [c for c in log.calls if c.startswith("load")] == ["load 9"]
    assert list(notifier.queued) == ["closed:9:1"]


def test_polling_pages_by_cursor_and_enqueues_each_version_once(world):
    bridge, issues, store, *_ = world
    issues.updates = [(n, "2026-03-02T07:00:00Z") for n in range(1, 151)]
    issues.updates.append((7, "2026-03-02T07:01:00Z"))
    first = poll(bridge, at(2, 10, 5))
    assert (first.seen, first.enqueued) == (151, 151)
    assert store.cursors[CURSOR] == "2026-03-02T07:01:00Z"
    again = poll(bridge, at(2, 10, 6))
    assert (again.seen, again.enqueued) == (1, 0)  # the cursor's own second, seen before
