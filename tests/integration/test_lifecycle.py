"""Issue lifecycle on the real Redmine with an injected clock: SLA states by time,
escalation, auto-close, reopen, development hand-over, BA-9 time, customer email."""

from __future__ import annotations

import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from redmine_sla_bridge.adapters.notify import build_notifier
from redmine_sla_bridge.config.notify import NotifyConfig
from redmine_sla_bridge.entrypoints.web.app import create_app
from redmine_sla_bridge.service.process_issue import process_issue
from redmine_sla_bridge.service.sweep import sweep
from tests.conftest import base_document, rewrite_times
from tests.notify.notify_testing import SmtpServer, free_port

pytestmark = pytest.mark.redmine

MSK = ZoneInfo("Europe/Moscow")
TUE_10 = dt.datetime(2026, 3, 3, 10, 0, tzinfo=MSK)  # a plain working Tuesday


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=MSK)


def _document(redmine, project, **lifecycle):
    document = base_document(redmine, language="ru")
    document["scope"]["projects"] = [project["identifier"]]
    document["polling"] = {"enabled": False}
    document["policy"]["targets"] = [{"when": {}, "first_response": "8h"}]
    document["lifecycle"] = lifecycle
    return document


def _fields(gateway, issue_id) -> dict:
    issue = gateway.issue(issue_id, journals=False)
    return {f["name"]: f.get("value") for f in issue["custom_fields"]}


def _journals(gateway, issue_id) -> list[dict]:
    return gateway.issue(issue_id)["journals"]


def _new(gateway, project, tracker, subject="Lifecycle", **extra):
    return gateway.create_issue(project_id=project["id"], tracker_id=tracker, subject=subject,
                                description="Something broke", **extra)


def test_at_risk_then_breached_each_written_once(make_runtime, redmine, gateway, project,
                                                 support_tracker, local_redmine, people):
    document = _document(redmine, project, escalation={
        "at_risk": {"private_note": True, "add_watchers": [f"Engineer {people['engineer'].login}"]},
        "breached": {"private_note": True, "raise_priority": "Urgent"},
    })
    rt = make_runtime(document)
    issue = _new(gateway, project, support_tracker)
    rewrite_times(local_redmine, issue["id"], TUE_10)
    process_issue(rt, issue["id"], now=at(3, 10, 1))
    assert _fields(gateway, issue["id"])["SLA state"] == "on track"

    assert sweep(rt, now=at(3, 15, 0)).changed == {}  # 5 of 8 h used: below 75 %
    assert sweep(rt, now=at(3, 16, 30)).changed == {issue["id"]: "at risk"}
    assert sweep(rt, now=at(3, 16, 45)).changed == {}
    after_risk = gateway.issue(issue["id"])
    assert _fields(gateway, issue["id"])["SLA state"] == "at risk"
    note = after_risk["journals"][-1]
    assert note["private_notes"] is True and "SLA под угрозой" in note["notes"]
    watchers = gateway._get(f"/issues/{issue['id']}.json", include="watchers")["issue"]["watchers"]
    assert people["engineer"].id in [w["id"] for w in watchers]

    assert sweep(rt, now=at(3, 18, 1)).changed == {issue["id"]: "breached"}
    assert sweep(rt, now=at(4, 12, 0)).changed == {}
    after = gateway.issue(issue["id"])
    assert after["priority"]["name"] == "Urgent"
    state_writes = [j for j in after["journals"]
                    if any(d["property"] == "cf" and d["new_value"] in ("at risk", "breached")
                           for d in j["details"])]
    assert len(state_writes) == 2


def test_an_answered_issue_is_not_escalated(make_runtime, redmine, gateway, project, support_tracker,
                                            local_redmine, people):
    rt = make_runtime(_document(redmine, project))
    issue = _new(gateway, project, support_tracker)
    people["engineer"].gateway.update_issue(issue["id"], notes="We are on it.")
    answer = _journals(gateway, issue["id"])[-1]["id"]
    rewrite_times(local_redmine, issue["id"], TUE_10, {answer: at(3, 11)})
    process_issue(rt, issue["id"], now=at(3, 11, 1))
    assert _fields(gateway, issue["id"])["First response at"] == "2026-03-03 11:00"
    assert sweep(rt, now=at(5, 10)).changed == {}


AR6 = {"name": "AR-6", "from_statuses": ["Feedback"], "idle_since": "customer_message",
       "after": "14d", "calendar": "24x7", "to_status": "Closed"}
ID10 = {"name": "ID-10", "from_statuses": ["Feedback"], "idle_since": "support_answer",
        "after": "14d", "calendar": "24x7", "to_status": "Closed"}
BA8 = {"name": "BA-8", "from_statuses": ["Resolved"], "idle_since": "status_change",
       "after": "24h", "calendar": "24x7", "to_status": "Closed"}


def _answered(gateway, people, issue_id, status_id, answer_at, local_redmine, created=TUE_10):
    people["engineer"].gateway.update_issue(issue_id, notes="Here is the answer.",
                                            status_id=status_id)
    journal = _journals(gateway, issue_id)[-1]["id"]
    rewrite_times(local_redmine, issue_id, created, {journal: answer_at})


@pytest.mark.parametrize("rule", [AR6, ID10], ids=["AR-6", "ID-10"])
def test_feedback_rules_close_exactly_the_idle_issues(rule, make_runtime, redmine, gateway, project,
                                                      support_tracker, people, local_redmine):
    rt = make_runtime(_document(redmine, project, auto_close=[rule]))
    feedback = rt.redmine.catalog.facts.status_ids["Feedback"]
    customer, engineer = people["customer"], people["engineer"]
    issues = {}
    for name, day in (("idle", 3), ("recent", 10)):
        issue = customer.gateway.create_issue(project_id=project["id"], tracker_id=support_tracker,
                                              subject=name, description="help")
        process_issue(rt, issue["id"], now=at(3, 10, 5))
        customer.gateway.update_issue(issue["id"], notes="More details: it fails at boot.")
        engineer.gateway.update_issue(issue["id"], notes="Try this fix.", status_id=feedback)
        question, answer = [j["id"] for j in _journals(gateway, issue["id"]) if j.get("notes")][-2:]
        rewrite_times(local_redmine, issue["id"], TUE_10,
                      {question: at(day, 11), answer: at(day, 12)})
        issues[name] = issue["id"]

    report = sweep(rt, now=at(18, 12, 1))  # 15 days after the first exchange, 8 after the second
    assert report.closed == [issues["idle"]]
    closed = gateway.issue(issues["idle"])
    assert closed["status"]["name"] == "Closed"
    note = closed["journals"][-1]["notes"]
    assert "закрыто" in note and "14 дней" in note
    assert gateway.issue(issues["recent"])["status"]["name"] == "Feedback"
    assert sweep(rt, now=at(18, 12, 2)).closed == []


def test_an_issue_whose_customer_waits_is_not_auto_closed(make_runtime, redmine, gateway, project,
                                                          support_tracker, people, local_redmine):
    rt = make_runtime(_document(redmine, project, auto_close=[ID10]))
    issue = people["customer"].gateway.create_issue(project_id=project["id"],
                                                    tracker_id=support_tracker, subject="waits",
                                                    description="help")
    process_issue(rt, issue["id"], now=at(3, 10, 5))
    _answered(gateway, people, issue["id"], rt.redmine.catalog.facts.status_ids["Feedback"], at(3, 12),
              local_redmine)
    people["customer"].gateway.update_issue(issue["id"], notes="That did not help, still broken.")
    question = _journals(gateway, issue["id"])[-1]["id"]
    answer = [j["id"] for j in _journals(gateway, issue["id"]) if j.get("notes")][-2]
    rewrite_times(local_redmine, issue["id"], TUE_10, {answer: at(3, 12), question: at(3, 13)})
    # (the bridge would move it back to In Progress on that reply; here no reply rule is set)
    assert sweep(rt, now=at(25, 12)).closed == []


def test_ba8_closes_resolved_issues_after_24_hours(make_runtime, redmine, gateway, project,
                                                   support_tracker, people, local_redmine):
    rt = make_runtime(_document(redmine, project, auto_close=[BA8]))
    resolved = rt.redmine.catalog.facts.status_ids["Resolved"]
    old = _new(gateway, project, support_tracker, subject="resolved long ago")
    new = _new(gateway, project, support_tracker, subject="resolved just now")
    for issue in (old, new):
        process_issue(rt, issue["id"], now=at(3, 10, 5))
    _answered(gateway, people, old["id"], resolved, at(3, 12), local_redmine)
    _answered(gateway, people, new["id"], resolved, at(4, 11), local_redmine)
    assert sweep(rt, now=at(4, 12, 30)).closed == [old["id"]]
    assert "подтверждения не поступило" in _journals(gateway, old["id"])[-1]["notes"]


def test_a_reply_reopens_within_the_window_and_not_after(make_runtime, redmine, gateway, project,
                                                         support_tracker, people, local_redmine):
    rt = make_runtime(_document(redmine, project, customer_reply=[
        {"from_statuses": ["Feedback"], "to_status": "In Progress"},
        {"from_statuses": ["Closed"], "to_status": "New", "within": "30d"},
    ]))
    customer = people["customer"]
    closed = rt.redmine.catalog.facts.status_ids["Closed"]
    issues = {}
    for name in ("fresh", "stale"):
        issue = customer.gateway.create_issue(project_id=project["id"], tracker_id=support_tracker,
                                              subject=name, description="help")
        process_issue(rt, issue["id"])
        gateway.update_issue(issue["id"], status_id=closed, notes="Closed by the time limit.")
        issues[name] = issue["id"]
    stale_close = _journals(gateway, issues["stale"])[-1]["id"]
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=40)
    rewrite_times(local_redmine, issues["stale"], long_ago - dt.timedelta(days=1),
                  {stale_close: long_ago})
    for issue_id in issues.values():
        customer.gateway.update_issue(issue_id, notes="The problem is back.")

    assert process_issue(rt, issues["fresh"]).action == "reopened"
    fresh = gateway.issue(issues["fresh"])
    assert fresh["status"]["name"] == "New"
    assert "возобновлено" in fresh["journals"][-1]["notes"]

    assert process_issue(rt, issues["stale"]).detail == "reply after the reopen window"
    stale = gateway.issue(issues["stale"])
    assert stale["status"]["name"] == "Closed"
    assert "создайте новое обращение" in stale["journals"][-1]["notes"]
    process_issue(rt, issues["stale"])
    process_issue(rt, issues["stale"])
    told = [j for j in gateway.issue(issues["stale"])["journals"]
            if "создайте новое обращение" in (j.get("notes") or "")]
    assert len(told) == 1


def test_a_reply_in_feedback_resumes_the_work(make_runtime, redmine, gateway, project,
                                              support_tracker, people):
    rt = make_runtime(_document(redmine, project, customer_reply=[
        {"from_statuses": ["Feedback"], "to_status": "In Progress"}]))
    customer = people["customer"]
    issue = customer.gateway.create_issue(project_id=project["id"], tracker_id=support_tracker,
                                          subject="resume", description="help")
    process_issue(rt, issue["id"])
    people["engineer"].gateway.update_issue(issue["id"], notes="Send logs please.",
                                            status_id=rt.redmine.catalog.facts.status_ids["Feedback"])
    assert process_issue(rt, issue["id"]).action != "resumed"
    assert _fields(gateway, issue["id"])["SLA state"] == "paused"
    customer.gateway.update_issue(issue["id"], notes="Logs attached.")
    before = len(_journals(gateway, issue["id"]))
    assert process_issue(rt, issue["id"]).action == "resumed"
    assert gateway.issue(issue["id"])["status"]["name"] == "In Progress"
    # Issue 15: the state is right in the pass that changes the status, in one journal:
    # no longer paused, and (the only target, the first response, was met by the
    # engineer's answer) met, which is what the next pass finds unchanged.
    assert _fields(gateway, issue["id"])["SLA state"] == "met"
    assert len(_journals(gateway, issue["id"])) == before + 1
    assert process_issue(rt, issue["id"]).action == "unchanged"


def test_handing_over_to_development_posts_the_expected_term_once(
        make_runtime, redmine, gateway, project, support_tracker, people):
    rt = make_runtime(_document(redmine, project, development={
        "statuses": ["In Progress"], "expected_term": "10d", "calendar": "office"}))
    issue = _new(gateway, project, support_tracker)
    process_issue(rt, issue["id"])
    people["engineer"].gateway.update_issue(
        issue["id"], status_id=rt.redmine.catalog.facts.status_ids["In Progress"])
    outcome = process_issue(rt, issue["id"], now=TUE_10)
    assert "development term posted" in outcome.detail
    note = _journals(gateway, issue["id"])[-1]
    assert note["private_notes"] is False
    # 10 working days after Tue 3 March: Mon 9 March is the day off for Sunday 8 March.
    assert "передан в отдел разработки" in note["notes"] and "18.03.2026 18:00" in note["notes"]
    assert process_issue(rt, issue["id"], now=TUE_10).action == "unchanged"


def test_ba9_each_answer_is_accounted_once(make_runtime, redmine, gateway, project, support_tracker,
                                           people):
    rt = make_runtime(_document(redmine, project, time_accounting={
        "minimum_minutes": 30, "activity": "Development"}))
    issue = _new(gateway, project, support_tracker)
    process_issue(rt, issue["id"])
    engineer = people["engineer"]
    engineer.gateway.update_issue(issue["id"], notes="First answer.")
    engineer.gateway.update_issue(issue["id"], notes="Second answer.")
    process_issue(rt, issue["id"])
    process_issue(rt, issue["id"])
    entries = gateway.time_entries(issue["id"])
    assert [(e["user"]["id"], e["hours"]) for e in entries] == [(engineer.id, 1.0)]
    engineer.gateway.update_issue(issue["id"], notes="Third answer.")
    process_issue(rt, issue["id"])
    entries = gateway.time_entries(issue["id"])
    assert sorted(e["hours"] for e in entries) == [0.5, 1.0]


@pytest.fixture()
def smtp():
    server = SmtpServer(free_port()).start()
    yield server
    server.stop()


def test_a_requester_who_is_not_a_redmine_user_gets_exactly_one_email_per_notice(
        make_runtime, redmine, gateway, project, support_tracker, smtp, monkeypatch, people):
    monkeypatch.setenv("TEST_INTAKE_TOKEN", "intake-token")
    document = _document(redmine, project, auto_close=[ID10])
    document["intake_api"] = {"token": "${TEST_INTAKE_TOKEN}", "project": project["identifier"]}
    document["notify"] = {"enabled": True, "from_address": "support@vendor.example",
                          "smtp": {"host": smtp.host, "port": smtp.port, "security": "none"}}
    rt = make_runtime(document)
    rt = dataclasses.replace(
        rt, notifier=build_notifier(NotifyConfig.model_validate(document["notify"]), rt.store))
    client = create_app(rt).test_client()
    request = {"subject": "VPN", "description": "Не работает VPN",
               "contact": {"name": "Пётр Внешний", "email": "petr@customer.example"}}
    created = client.post("/api/v1/requests", json=request,
                          headers={"Authorization": "Bearer intake-token"})
    assert created.status_code == 201
    issue_id = created.json["issue_id"]
    for _ in range(3):  # repeated processing and delivery runs
        process_issue(rt, issue_id)
        rt.notifier.deliver_due(rt.clock())
    assert [m.rcpt_tos for m in smtp.received] == [["petr@customer.example"]]
    ack = smtp.received[0]
    assert f"№{issue_id}" in ack.decoded_header("Subject")
    assert "зарегистрировано" in ack.message.get_content()

    # The auto-close notice goes out once too.
    people["engineer"].gateway.update_issue(issue_id, notes="Answer",
                                            status_id=rt.redmine.catalog.facts.status_ids["Feedback"])
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=15)
    assert sweep(rt, now=later).closed == [issue_id]
    for _ in range(2):
        rt.notifier.deliver_due(later)
    assert len(smtp.received) == 2
    assert "закрыто" in smtp.received[1].message.get_content()
