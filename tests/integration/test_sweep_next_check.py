"""The sweep's fast pass on the real Redmine: it asks only for the issues whose "Next SLA
check" day has come (a date custom field filtered with `<=`, plus `!*` for issues never
stamped), still writes the breach, and the full reconciliation pass catches an issue
whose field was changed by hand."""

from __future__ import annotations

import datetime as dt

import pytest

from redmine_sla_bridge.domain.processing.next_check import NEVER
from redmine_sla_bridge.service.process_issue import process_issue
from redmine_sla_bridge.service.sweep import sweep
from tests.conftest import base_document

pytestmark = pytest.mark.redmine

FIELD = "Next SLA check"


def _document(redmine, project):
    document = base_document(redmine)
    document["scope"]["projects"] = [project["identifier"]]
    document["polling"] = {"enabled": False}
    # Round the clock, so the breach is an hour after creation whatever the weekday: the
    # fast pass looks for issues without a value among those changed in the last 2 h.
    document["policy"]["calendar"] = "24x7"
    document["policy"]["targets"] = [{"when": {}, "first_response": "1h"}]
    document["sweep"] = {"fast": True}
    return document


def _fields(gateway, issue_id) -> dict:
    issue = gateway.issue(issue_id, journals=False)
    return {f["name"]: f.get("value") for f in issue["custom_fields"]}


def _accepted(rt, gateway, project, tracker, subject: str) -> int:
    issue = gateway.create_issue(project_id=project["id"], tracker_id=tracker, subject=subject,
                                 description="The VPN client stops after the update.")
    process_issue(rt, issue["id"], now=dt.datetime.now(dt.UTC))
    return int(issue["id"])


def _breach_moment(rt, gateway, issue_id) -> dt.datetime:
    from zoneinfo import ZoneInfo

    from redmine_sla_bridge.domain.processing.field_values import parse_field_time

    due = parse_field_time(_fields(gateway, issue_id)["First response due"],
                           ZoneInfo(rt.rules.timezone))
    return due + dt.timedelta(minutes=1)


def test_a_fast_pass_reads_only_the_due_issues_and_writes_the_breach(
        make_runtime, redmine, gateway, project, support_tracker, people):
    rt = make_runtime(_document(redmine, project))
    due = _accepted(rt, gateway, project, support_tracker, "unanswered")
    answered = []
    for n in range(3):
        issue_id = _accepted(rt, gateway, project, support_tracker, f"answered {n}")
        people["engineer"].gateway.update_issue(issue_id, notes="We are on it.")
        process_issue(rt, issue_id, now=dt.datetime.now(dt.UTC))
        answered.append(issue_id)
    stamped = _fields(gateway, due)[FIELD]
    assert stamped and stamped != NEVER
    assert {_fields(gateway, i)[FIELD] for i in answered} == {NEVER}  # no open target

    when = _breach_moment(rt, gateway, due)
    calls = rt.redmine.gateway.calls
    before = dict(calls.by_method)
    report = sweep(rt, now=when)
    used = {m: n - before.get(m, 0) for m, n in calls.by_method.items() if n != before.get(m, 0)}
    assert not report.full
    assert report.seen == 1 and report.changed == {due: "breached"}
    # Two list queries (`<=` the horizon day, and "no value"), one write: 2 + due/100.
    assert used == {"GET": 2, "PUT": 1}
    after = _fields(gateway, due)
    assert after["SLA state"] == "breached" and after[FIELD] == NEVER

    # The full pass reads all four (and finds nothing more to do).
    full = sweep(rt, now=when, full=True)
    assert full.full and full.seen == 4 and not full.changed and not full.stamped


def test_reconciliation_catches_an_issue_whose_field_was_changed_by_hand(
        make_runtime, redmine, gateway, project, support_tracker):
    rt = make_runtime(_document(redmine, project))
    moved, cleared = (_accepted(rt, gateway, project, support_tracker, s) for s in ("moved", "cleared"))
    field_id = next(f["id"] for f in gateway.issue(moved, journals=False)["custom_fields"]
                    if f["name"] == FIELD)
    # Someone (an admin) puts the day far ahead on one, and clears it on the other; no
    # event reaches the bridge (no webhook, no polling).
    gateway.update_issue(moved, custom_fields=[{"id": field_id, "value": "2031-01-01"}])
    gateway.update_issue(cleared, custom_fields=[{"id": field_id, "value": ""}])
    when = max(_breach_moment(rt, gateway, i) for i in (moved, cleared))

    fast = sweep(rt, now=when)
    # A value that is missing is found ("!*"); one moved ahead is not, until the full pass.
    assert not fast.full and fast.changed == {cleared: "breached"}
    assert _fields(gateway, moved)["SLA state"] == "on track"

    full = sweep(rt, now=when, full=True)
    assert full.full and full.changed == {moved: "breached"}
    assert _fields(gateway, moved)[FIELD] == NEVER and _fields(gateway, cleared)[FIELD] == NEVER
