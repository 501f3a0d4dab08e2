"""Issue 16 on the real Redmine: the reminder before an auto-close (one note, one email,
then the close) and an escalation deferred to the staff's working time."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from redmine_sla_bridge.adapters.notify import build_notifier
from redmine_sla_bridge.config.notify import NotifyConfig
from redmine_sla_bridge.entrypoints.web.app import create_app
from redmine_sla_bridge.service.process_issue import process_issue
from redmine_sla_bridge.service.sweep import sweep
from tests.conftest import rewrite_times
from tests.integration.test_lifecycle import ID10, _document, _fields, _new, at
from tests.notify.notify_testing import SmtpServer, free_port

pytestmark = pytest.mark.redmine


@pytest.fixture()
def smtp():
    server = SmtpServer(free_port()).start()
    yield server
    server.stop()


def test_the_customer_is_reminded_once_then_the_request_is_closed(
        make_runtime, redmine, gateway, project, support_tracker, smtp, monkeypatch, people):
    monkeypatch.setenv("TEST_INTAKE_TOKEN", "intake-token")
    document = _document(redmine, project, auto_close=[{**ID10, "remind_at": 0.5}])
    document["intake_api"] = {"token": "${TEST_INTAKE_TOKEN}", "project": project["identifier"]}
    document["notify"] = {"enabled": True, "from_address": "support@vendor.example",
                          "smtp": {"host": smtp.host, "port": smtp.port, "security": "none"}}
    rt = make_runtime(document)
    rt = dataclasses.replace(
        rt, notifier=build_notifier(NotifyConfig.model_validate(document["notify"]), rt.store))
    created = create_app(rt).test_client().post(
        "/api/v1/requests", headers={"Authorization": "Bearer intake-token"},
        json={"subject": "VPN", "description": "Не работает VPN",
              "contact": {"name": "Пётр Внешний", "email": "petr@customer.example"}})
    assert created.status_code == 201
    issue_id = created.json["issue_id"]
    process_issue(rt, issue_id)
    rt.notifier.deliver_due(rt.clock())
    assert len(smtp.received) == 1  # the acknowledgement

    people["engineer"].gateway.update_issue(issue_id, notes="Answer",
                                            status_id=rt.redmine.catalog.facts.status_ids["Feedback"])
    now = dt.datetime.now(dt.UTC)
    assert sweep(rt, now=now + dt.timedelta(days=3)).reminded == []
    for days in (8, 9, 10):  # past half-way: reminded on the first of these sweeps only
        later = now + dt.timedelta(days=days)
        report = sweep(rt, now=later)
        assert report.reminded == ([issue_id] if days == 8 else []) and report.closed == []
        rt.notifier.deliver_due(later)
    issue = gateway.issue(issue_id)
    assert issue["status"]["name"] == "Feedback"
    reminders = [j for j in issue["journals"] if "будет закрыто" in (j.get("notes") or "")]
    assert len(reminders) == 1 and reminders[0]["private_notes"] is False
    assert len(smtp.received) == 2
    assert "ответьте на это сообщение" in smtp.received[1].message.get_content()

    # The reminder is the bridge's last word; the close still comes, and is mailed once.
    closing = now + dt.timedelta(days=15)
    assert sweep(rt, now=closing).closed == [issue_id]
    for _ in range(2):
        rt.notifier.deliver_due(closing)
    assert gateway.issue(issue_id)["status"]["name"] == "Closed"
    assert len(smtp.received) == 3
    assert "закрыто" in smtp.received[2].message.get_content()


def test_a_breach_on_saturday_night_is_escalated_on_tuesday_at_nine(
        make_runtime, redmine, gateway, project, support_tracker, local_redmine):
    document = _document(redmine, project, escalation={
        "at_risk": None, "breached": {"private_note": True, "raise_priority": "Urgent"},
        "staff_calendar": "office"})
    rt = make_runtime(document)
    issue = _new(gateway, project, support_tracker)
    rewrite_times(local_redmine, issue["id"], at(6, 10))  # Friday 10:00, first response 18:00
    process_issue(rt, issue["id"], now=at(6, 10, 1))
    before = gateway.issue(issue["id"])

    assert sweep(rt, now=at(7, 3)).changed == {issue["id"]: "breached"}  # Saturday 03:00
    night = gateway.issue(issue["id"])
    assert _fields(gateway, issue["id"])["SLA state"] == "breached"  # at once
    assert night["priority"]["name"] == before["priority"]["name"]
    assert not any(j.get("notes") for j in night["journals"][len(before["journals"]):])

    for moment in (at(9, 12), at(10, 8, 59)):  # Monday 9 March is the day off
        report = sweep(rt, now=moment)
        assert report.changed == {} and report.escalated == []
    report = sweep(rt, now=at(10, 9))
    assert report.escalated == [issue["id"]] and report.changed == {}
    morning = gateway.issue(issue["id"])
    assert morning["priority"]["name"] == "Urgent"
    note = morning["journals"][-1]
    assert note["private_notes"] is True and "SLA нарушен" in note["notes"]
    assert sweep(rt, now=at(10, 9, 30)).escalated == []
    assert process_issue(rt, issue["id"], now=at(10, 9, 31)).action == "unchanged"
    assert len(gateway.issue(issue["id"])["journals"]) == len(morning["journals"])
