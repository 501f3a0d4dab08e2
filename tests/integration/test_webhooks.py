"""`POST /webhooks/redmine` with both formats, against the real Redmine."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from redmine_sla_bridge.entrypoints.web.app import create_app
from redmine_sla_bridge.entrypoints.web.webhook_formats import sign
from redmine_sla_bridge.service.inbox import drain
from tests.conftest import base_document

pytestmark = pytest.mark.redmine

EXAMPLES = Path(__file__).resolve().parents[2] / "webhooks" / "examples"
SECRET = "webhook-secret-for-tests"
TOKEN = "plugin-token-for-tests"


def _example(name: str, issue_id: int, journal_id: int | None = None) -> bytes:
    document = json.loads((EXAMPLES / name).read_text())
    if "payload" in document:
        document["payload"]["issue"]["id"] = issue_id
        if journal_id is not None:
            document["payload"]["journal"]["id"] = journal_id
    else:
        document["data"]["issue"]["id"] = issue_id
        if journal_id is not None:
            document["data"]["journal"]["id"] = journal_id
    return json.dumps(document, ensure_ascii=False).encode()


@pytest.fixture()
def bridge(redmine, make_runtime, monkeypatch):
    monkeypatch.setenv("TEST_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("TEST_WEBHOOK_TOKEN", TOKEN)
    document = base_document(redmine, webhooks={"secret": "${TEST_WEBHOOK_SECRET}",
                                                "token": "${TEST_WEBHOOK_TOKEN}"})
    document["polling"] = {"enabled": False}
    rt = make_runtime(document)
    return rt, create_app(rt).test_client()


def _new_issue(gateway, project, tracker):
    return gateway.create_issue(project_id=project["id"], tracker_id=tracker,
                                subject="Webhook test", description="Something broke")


def _sla_state(gateway, issue_id):
    issue = gateway.issue(issue_id, journals=False)
    return {f["name"]: f.get("value") for f in issue["custom_fields"]}["SLA state"]


def test_signed_redmine7_webhook_is_stored_then_processed(bridge, gateway, project, support_tracker):
    rt, client = bridge
    issue = _new_issue(gateway, project, support_tracker)
    body = _example("redmine7-issue-created.json", issue["id"])
    response = client.post("/webhooks/redmine", data=body, content_type="application/json",
                           headers={"X-Redmine-Signature-256": sign(SECRET, body)})
    assert response.status_code == 202, response.json
    assert response.json == {"accepted": True, "duplicate": False, "issue_id": issue["id"]}
    assert rt.store.pending_count() == 1
    report = drain(rt)
    assert [o.action for o in report.outcomes] == ["accepted"]
    assert _sla_state(gateway, issue["id"]) == "on track"


def test_suer_plugin_payload_with_url_token(bridge, gateway, project, support_tracker):
    rt, client = bridge
    issue = _new_issue(gateway, project, support_tracker)
    body = _example("suer-opened.json", issue["id"])
    response = client.post(f"/webhooks/redmine?token={TOKEN}", data=body,
                           content_type="application/json")
    assert response.status_code == 202
    drain(rt)
    assert _sla_state(gateway, issue["id"]) == "on track"


def test_suer_plugin_payload_with_header_token(bridge, gateway, project, support_tracker):
    _rt, client = bridge
    issue = _new_issue(gateway, project, support_tracker)
    body = _example("suer-updated.json", issue["id"], journal_id=987654)
    response = client.post("/webhooks/redmine", data=body, content_type="application/json",
                           headers={"X-Bridge-Token": TOKEN})
    assert response.status_code == 202


@pytest.mark.parametrize("headers, query, status", [
    ({"X-Redmine-Signature-256": "sha256=" + "0" * 64}, "", 401),
    ({"X-Redmine-Signature-256": "garbage"}, "", 401),
    ({}, "", 401),
    ({}, "?token=wrong", 401),
    ({"X-Bridge-Token": "wrong"}, "", 401),
])
def test_bad_signature_or_token_is_401_and_nothing_is_stored(bridge, headers, query, status):
    rt, client = bridge
    body = _example("redmine7-issue-created.json", 1)
    response = client.post("/webhooks/redmine" + query, data=body,
                           content_type="application/json", headers=headers)
    assert response.status_code == status
    assert rt.store.pending_count() == 0


def test_malformed_oversized_and_wrong_type_bodies(bridge):
    rt, client = bridge
    garbage = b'{"type": "issue.created", "data": {"issue": {"id": "x"}}}'
    assert client.post("/webhooks/redmine", data=garbage, content_type="application/json",
                       headers={"X-Redmine-Signature-256": sign(SECRET, garbage)}).status_code == 400
    not_json = b"not json"
    assert client.post("/webhooks/redmine", data=not_json, content_type="application/json",
                       headers={"X-Redmine-Signature-256": sign(SECRET, not_json)}).status_code == 400
    huge = b"{" + b" " * (rt.settings.max_body_bytes + 10) + b"}"
    assert client.post("/webhooks/redmine", data=huge, content_type="application/json",
                       headers={"X-Redmine-Signature-256": sign(SECRET, huge)}).status_code == 413
    body = _example("redmine7-issue-created.json", 1)
    assert client.post("/webhooks/redmine", data=body, content_type="text/plain",
                       headers={"X-Redmine-Signature-256": sign(SECRET, body)}).status_code == 415
    assert rt.store.pending_count() == 0


def test_the_same_delivery_three_times_has_one_effect(bridge, gateway, project, support_tracker):
    rt, client = bridge
    issue = _new_issue(gateway, project, support_tracker)
    body = _example("redmine7-issue-created.json", issue["id"])
    headers = {"X-Redmine-Signature-256": sign(SECRET, body), "X-Redmine-Delivery": "d-1"}
    answers = [client.post("/webhooks/redmine", data=body, content_type="application/json",
                           headers=headers).json["duplicate"] for _ in range(3)]
    assert answers == [False, True, True]
    drain(rt)
    journals = gateway.issue(issue["id"])["journals"]
    assert sum(1 for j in journals if j.get("notes")) == 1


def test_health_endpoints(bridge):
    _, client = bridge
    assert client.get("/healthz").json == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json["checks"] == {"store": "ok", "redmine": "ok"}


@pytest.mark.parametrize("synchronous", ["full", "normal"])
def test_concurrent_webhooks_share_commits_and_each_issue_is_acknowledged_once(
        redmine, make_runtime, monkeypatch, gateway, project, support_tracker, synchronous):
    """Request threads arriving together go through the group commit (and, on SQLite,
    the file write lock); every delivery is stored once, and draining them against the
    real Redmine acknowledges each issue exactly once."""
    monkeypatch.setenv("TEST_WEBHOOK_SECRET", SECRET)
    document = base_document(redmine, webhooks={"secret": "${TEST_WEBHOOK_SECRET}"})
    document["polling"] = {"enabled": False}
    document["store"] = {"url": f"sqlite:///{project['identifier']}.sqlite3",
                         "sqlite_synchronous": synchronous}
    rt = make_runtime(document)
    app = create_app(rt)
    issues = [_new_issue(gateway, project, support_tracker)["id"] for _ in range(3)]
    deliveries = [(issue, n) for issue in issues for n in range(8)]  # 24, each sent twice

    def deliver(delivery) -> bool:
        issue, n = delivery
        body = _example("redmine7-issue-updated.json", issue, journal_id=issue * 100 + n)
        response = app.test_client().post(
            "/webhooks/redmine", data=body, content_type="application/json",
            headers={"X-Redmine-Signature-256": sign(SECRET, body),
                     "X-Redmine-Delivery": f"{issue}-{n}"})
        assert response.status_code == 202
        return response.json["duplicate"]

    with ThreadPoolExecutor(max_workers=12) as pool:
        duplicates = list(pool.map(deliver, deliveries + deliveries))
    assert duplicates.count(False) == 24 and duplicates.count(True) == 24
    assert rt.store.pending_count() == 24
    drain(rt)
    assert rt.store.stats()["done"] == 24
    for issue in issues:
        assert _sla_state(gateway, issue) == "on track"
        notes = [j for j in gateway.issue(issue)["journals"] if j.get("notes")]
        assert len(notes) == 1
