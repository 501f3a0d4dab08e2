"""The intake API never files a request twice: a create whose answer is lost, an
acknowledgement Redmine did not take, a client's retry with its Idempotency-Key. On the
real Redmine behind a fault proxy, with a real SMTP server for the customer's email."""

from __future__ import annotations

import dataclasses

import pytest

from redmine_sla_bridge.adapters.notify import build_notifier
from redmine_sla_bridge.adapters.redmine.gateway import RedmineGateway
from redmine_sla_bridge.config.notify import NotifyConfig
from redmine_sla_bridge.entrypoints.web.app import create_app
from redmine_sla_bridge.service.process_issue import process_issue
from tests.conftest import base_document
from tests.fault.http_faults import DROP_ANSWER, FORWARD, FaultProxy
from tests.notify.notify_testing import SmtpServer, free_port

pytestmark = pytest.mark.redmine
AUTH = {"Authorization": "Bearer intake-token"}


@pytest.fixture()
def smtp():
    server = SmtpServer(free_port()).start()
    yield server
    server.stop()


def _bridge(make_runtime, redmine, project, smtp, monkeypatch, url):
    monkeypatch.setenv("TEST_INTAKE_TOKEN", "intake-token")
    document = base_document(redmine)
    document["redmine"]["url"] = url
    document["redmine"]["retries"] = 0  # the proxy's faults reach the bridge unmasked
    document["scope"]["projects"] = [project["identifier"]]
    document["intake_api"] = {"token": "${TEST_INTAKE_TOKEN}", "project": project["identifier"]}
    document["notify"] = {"enabled": True, "from_address": "support@vendor.example",
                          "smtp": {"host": smtp.host, "port": smtp.port, "security": "none"}}
    gateway = RedmineGateway(url, redmine.api_key, keep_alive=False, retries=0, timeout=30)
    rt = make_runtime(document, gateway=gateway)
    return dataclasses.replace(
        rt, notifier=build_notifier(NotifyConfig.model_validate(document["notify"]), rt.store))


def _request(subject: str) -> dict:
    return {"subject": subject, "description": "Не работает VPN",
            "contact": {"name": "Пётр Внешний", "email": "petr@customer.example"}}


def _issues(gateway, project, subject: str) -> list[int]:
    return [i["id"] for i in gateway.find_issues(project_id=project["id"], status_id="*",
                                                 subject=f"~{subject}", limit=100)
            if i["subject"] == subject]


def _deliver(rt, times: int = 3) -> None:
    for _ in range(times):
        rt.notifier.deliver_due(rt.clock())


def test_a_create_whose_answer_is_lost_gives_one_issue_and_one_email(
        make_runtime, redmine, gateway, project, smtp, monkeypatch):
    def rule(method: str, path: str, seen: int) -> str | int:
        # python-redmine creates through the project's collection, /projects/<id>/issues.json
        creates = method == "POST" and path.endswith("/issues.json")
        return DROP_ANSWER if creates and seen == 0 else FORWARD

    with FaultProxy(redmine.url, rule) as proxy:
        rt = _bridge(make_runtime, redmine, project, smtp, monkeypatch, proxy.url)
        answer = create_app(rt).test_client().post("/api/v1/requests", json=_request("Lost answer"),
                                                   headers=AUTH)
        assert [a for m, _, a in proxy.log if m == "POST"] == [DROP_ANSWER]
    assert answer.status_code == 201, answer.json
    issues = _issues(gateway, project, "Lost answer")
    assert issues == [answer.json["issue_id"]]
    _deliver(rt)
    assert [m.rcpt_tos for m in smtp.received] == [["petr@customer.example"]]


def test_an_acknowledgement_redmine_did_not_take_is_completed_by_the_retry_never_duplicated(
        make_runtime, redmine, gateway, project, smtp, monkeypatch):
    def rule(method: str, path: str, seen: int) -> str | int:
        if method == "PUT" and path.startswith("/issues/") and seen == 0:
            return 503
        return FORWARD

    with FaultProxy(redmine.url, rule) as proxy:
        rt = _bridge(make_runtime, redmine, project, smtp, monkeypatch, proxy.url)
        client = create_app(rt).test_client()
        key = f"order-{project['identifier']}"  # unique per run: the Redmine is shared
        headers = {**AUTH, "Idempotency-Key": key}
        first = client.post("/api/v1/requests", json=_request("Ack refused"), headers=headers)
        assert first.status_code == 503
        assert first.json["idempotency_key"] == key
        assert "registered as issue" in first.json["error"]
        _deliver(rt)
        assert smtp.received == []  # nothing is mailed about a note Redmine does not have
        second = client.post("/api/v1/requests", json=_request("Ack refused"), headers=headers)
        third = client.post("/api/v1/requests", json=_request("Ack refused"), headers=headers)
    assert (second.status_code, third.status_code) == (200, 200)
    assert second.json["duplicate"] is True
    issues = _issues(gateway, project, "Ack refused")
    assert issues == [second.json["issue_id"]] == [third.json["issue_id"]]
    notes = [j for j in gateway.issue(issues[0])["journals"] if j.get("notes")]
    assert len(notes) == 1  # one acknowledgement
    _deliver(rt)
    assert len(smtp.received) == 1


def test_an_orphan_left_by_a_client_that_gave_up_is_acknowledged_by_the_pipeline(
        make_runtime, redmine, gateway, project, smtp, monkeypatch):
    def rule(method: str, path: str, seen: int) -> str | int:
        return 503 if method == "PUT" and path.startswith("/issues/") and seen == 0 else FORWARD

    with FaultProxy(redmine.url, rule) as proxy:
        rt = _bridge(make_runtime, redmine, project, smtp, monkeypatch, proxy.url)
        first = create_app(rt).test_client().post("/api/v1/requests", json=_request("Orphan"),
                                                  headers=AUTH)
        assert first.status_code == 503
        (issue_id,) = _issues(gateway, project, "Orphan")
        outcome = process_issue(rt, issue_id)  # the webhook or poll of the new issue
        assert outcome.action == "accepted"
        assert process_issue(rt, issue_id).action == "unchanged"
    notes = [j for j in gateway.issue(issue_id)["journals"] if j.get("notes")]
    assert len(notes) == 1
    _deliver(rt)
    assert len(smtp.received) == 1


def test_redmines_subject_limit_is_checked_before_the_call(
        make_runtime, redmine, gateway, project, smtp, monkeypatch):
    rt = _bridge(make_runtime, redmine, project, smtp, monkeypatch, redmine.url)
    answer = create_app(rt).test_client().post(
        "/api/v1/requests", json=_request("x" * 256), headers=AUTH)
    assert answer.status_code == 422
    assert answer.json["errors"][0] == {
        "field": "subject", "code": "too_long", "limit": 255,
        "message": "subject has 256 characters; at most 255"}
    assert _issues(gateway, project, "x" * 256) == []
