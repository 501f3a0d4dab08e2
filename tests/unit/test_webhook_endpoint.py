"""`POST /webhooks/redmine` is answered in front of Flask (webhook_endpoint.py): the
answers the Flask route gave, the wake-up only for stored events, 503 when the store
fails, 405 for another method, and every other path still Flask's.

Through Flask's test client (which calls `app.wsgi_app`, where the endpoint sits) on a
fresh SQLite store; Redmine is a closed port, never reached by these requests.
"""

from __future__ import annotations

import json
import logging

import pytest

from redmine_sla_bridge.entrypoints.web.app import create_app
from redmine_sla_bridge.entrypoints.web.webhook_formats import sign
from tests.conftest import write_config
from tests.unit.offline_bridge import offline_document

SECRET = "endpoint-webhook-secret"
TOKEN = "endpoint plugin/token+1"  # needs percent-encoding in a URL


@pytest.fixture()
def bridge(tmp_path, monkeypatch):
    from redmine_sla_bridge.bootstrap import bootstrap
    from redmine_sla_bridge.config.loader import load_config

    monkeypatch.setenv("ENDPOINT_REDMINE_KEY", "k" * 40)
    monkeypatch.setenv("ENDPOINT_SECRET", SECRET)
    monkeypatch.setenv("ENDPOINT_TOKEN", TOKEN)
    path = write_config(tmp_path / "bridge.yaml", offline_document(
        tmp_path / "endpoint.sqlite3", "${ENDPOINT_REDMINE_KEY}",
        webhooks={"secret": "${ENDPOINT_SECRET}", "token": "${ENDPOINT_TOKEN}"}))
    rt = bootstrap(load_config(path), notifier=None)
    wakes: list[None] = []
    yield rt, create_app(rt, on_enqueue=lambda: wakes.append(None)).test_client(), wakes
    rt.store.close()


def redmine7_body(journal: int = 7) -> bytes:
    return json.dumps({"type": "issue.updated",
                       "data": {"issue": {"id": 42}, "journal": {"id": journal}}}).encode()


def signed(client, body: bytes, content_type: str = "application/json", **headers: str):
    return client.post("/webhooks/redmine", data=body, content_type=content_type,
                       headers={"X-Redmine-Signature-256": sign(SECRET, body), **headers})


def test_a_stored_event_is_202_and_wakes_the_drainer_once_a_duplicate_does_not(bridge):
    rt, client, wakes = bridge
    first = signed(client, redmine7_body(), **{"X-Redmine-Delivery": "d-1"})
    again = signed(client, redmine7_body(), **{"X-Redmine-Delivery": "d-1"})
    assert (first.status_code, first.mimetype) == (202, "application/json")
    assert first.json == {"accepted": True, "duplicate": False, "issue_id": 42}
    assert int(first.headers["Content-Length"]) == len(first.data)
    assert (again.status_code, again.json["duplicate"]) == (202, True)
    assert len(wakes) == 1
    assert rt.store.pending_count() == 1


def test_content_type_parameters_are_accepted_another_type_is_415(bridge):
    rt, client, _ = bridge
    assert signed(client, redmine7_body(1), "application/json; charset=utf-8").status_code == 202
    assert signed(client, redmine7_body(2), "Application/JSON").status_code == 202
    refused = signed(client, redmine7_body(3), "text/plain")
    assert refused.status_code == 415
    assert refused.json == {"error": "expected Content-Type: application/json"}
    assert rt.store.pending_count() == 2


def test_the_plugin_token_is_read_percent_decoded_from_the_query_string(bridge):
    rt, client, _ = bridge
    body = json.dumps({"payload": {"action": "updated", "issue": {"id": 5},
                                   "journal": {"id": 9}}}).encode()
    ok = client.post("/webhooks/redmine", query_string={"token": TOKEN, "other": "x"},
                     data=body, content_type="application/json")
    wrong = client.post("/webhooks/redmine", query_string={"token": TOKEN + "x"},
                        data=body, content_type="application/json")
    assert (ok.status_code, ok.json["issue_id"]) == (202, 5)
    assert (wrong.status_code, wrong.json) == (401, {"error": "bad token"})
    assert rt.store.pending_count() == 1


def test_a_store_failure_is_503_and_logged_never_a_202(bridge, monkeypatch, caplog):
    from sqlalchemy.exc import OperationalError

    rt, client, wakes = bridge

    def full(event):
        raise OperationalError("INSERT ...", {}, Exception("database or disk is full"))

    monkeypatch.setattr(rt.store, "enqueue", full)
    with caplog.at_level(logging.ERROR):
        answer = signed(client, redmine7_body())
    assert answer.status_code == 503
    assert answer.json == {"error": "the bridge could not store the request; retry later"}
    assert "request failed" in caplog.text
    assert wakes == []


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "HEAD"])
def test_another_method_on_the_webhook_path_is_405(bridge, method):
    rt, client, _ = bridge
    answer = client.open("/webhooks/redmine", method=method, data=redmine7_body())
    assert answer.status_code == 405
    assert answer.headers["Allow"] == "POST"
    if method != "HEAD":
        assert "not allowed" in answer.json["error"]
    assert rt.store.pending_count() == 0


def test_other_paths_are_still_flasks(bridge):
    _, client, _ = bridge
    assert client.get("/healthz").json == {"status": "ok"}
    assert client.get("/webhooks/redmine/").status_code == 404  # Flask's own answer
    assert client.post("/api/v1/requests", data=b"{}",
                       content_type="application/json").status_code == 404  # intake off
