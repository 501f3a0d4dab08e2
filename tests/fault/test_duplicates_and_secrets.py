"""Every delivery three times has one effect; secrets never reach the logs."""

from __future__ import annotations

import datetime as dt
import json
import random
import signal
import subprocess
import threading
import time
import urllib.request

import common
import pytest

from redmine_sla_bridge.entrypoints.web.app import create_app
from redmine_sla_bridge.entrypoints.web.webhook_formats import sign
from redmine_sla_bridge.service.inbox import drain
from tests.conftest import base_document, write_config
from tests.fault.support import SECRET, create_issues, notes, patient_gateway

pytestmark = pytest.mark.redmine


@pytest.fixture()
def gateway(redmine):
    return patient_gateway(redmine)


def _suer_body(issue_id: int, journal_id: int) -> bytes:
    payload = {"action": "updated" if journal_id else "opened", "issue": {"id": issue_id}}
    if journal_id:
        payload["journal"] = {"id": journal_id}
    return json.dumps({"payload": payload}).encode()


def _redmine7_created(issue_id: int) -> bytes:
    return json.dumps({"type": "issue.created", "data": {"issue": {"id": issue_id}}}).encode()


def test_a_burst_where_every_event_arrives_three_times_has_one_effect_each(
        redmine, make_runtime, gateway, project, support_tracker, monkeypatch):
    """20 issues x 5 versions (creation + 4 journals) = 100 events, each delivered three
    times: Redmine 7 retries (same delivery id), or the suer plugin (no delivery id:
    deduped by issue and journal), or both formats for the same journal. 300 deliveries,
    shuffled, from 6 threads at once; then the inbox is drained."""
    monkeypatch.setenv("FAULT_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("FAULT_WEBHOOK_TOKEN", "fault-token")
    document = base_document(redmine, webhooks={"secret": "${FAULT_WEBHOOK_SECRET}",
                                                "token": "${FAULT_WEBHOOK_TOKEN}"})
    document["polling"] = {"enabled": False}
    document["scope"]["projects"] = [project["identifier"]]
    rt = make_runtime(document)
    rt.redmine.gateway = gateway
    app = create_app(rt)
    issue_ids = create_issues(gateway, project, support_tracker, 20, "Thrice")
    deliveries = []
    for issue_id in issue_ids:
        for version in range(5):
            journal = 0 if version == 0 else 900_000 + issue_id * 10 + version
            event = (issue_id, journal)
            signed = _redmine7_created(issue_id) if journal == 0 else common.redmine7_body(issue_id, journal)
            delivery = f"d-{issue_id}-{journal}"
            kind = (issue_id + version) % 3
            if kind == 0:  # Redmine 7 retried its delivery twice
                deliveries += [(event, "r7", signed, delivery)] * 3
            elif kind == 1:  # the plugin sent it three times
                deliveries += [(event, "suer", _suer_body(issue_id, journal), None)] * 3
            else:  # both formats saw the same journal
                deliveries += [(event, "r7", signed, delivery),
                               (event, "suer", _suer_body(issue_id, journal), None),
                               (event, "r7", signed, delivery)]
    random.Random(7).shuffle(deliveries)
    answers: dict[tuple[int, int], list[bool]] = {}
    lock = threading.Lock()

    def deliver(chunk):
        client = app.test_client()
        for event, kind, body, delivery in chunk:
            if kind == "r7":
                headers = {"X-Redmine-Signature-256": sign(SECRET, body)}
                if delivery:
                    headers["X-Redmine-Delivery"] = delivery
                answer = client.post("/webhooks/redmine", data=body, content_type="application/json",
                                     headers=headers)
            else:
                answer = client.post("/webhooks/redmine?token=fault-token", data=body,
                                     content_type="application/json")
            assert answer.status_code == 202, answer.json
            with lock:
                answers.setdefault(event, []).append(answer.json["duplicate"])

    threads = [threading.Thread(target=deliver, args=(deliveries[i::6],)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 100
    assert all(sorted(flags) == [False, True, True] for flags in answers.values()), answers
    assert rt.store.pending_count() == 100
    processed, deadline = 0, time.monotonic() + 240
    while rt.store.pending_count() and time.monotonic() < deadline:
        report = drain(rt)
        processed += report.processed
        if report.redmine_down:
            time.sleep(1)  # a stalled Redmine: the events wait for their backoff
            processed += drain(rt, now=lambda: rt.clock() + dt.timedelta(minutes=10)).processed
    assert processed == 100 and rt.store.stats()["dead"] == 0
    for issue_id in issue_ids:
        assert len(notes(gateway, issue_id)) == 1


# -- secrets --------------------------------------------------------------------------------

SMTP_PASSWORD = "smtp-Pa55word-never-logged-7c1e"
WEBHOOK_SECRET = "webhook-secret-never-logged-92ad"
WRONG_KEY = "0123456789abcdef-wrong-api-key-never-logged"


def _cli(*args, env=None, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run([common.CLI, "--log-level", "DEBUG", *args], capture_output=True,
                          text=True, env=env, timeout=timeout)


def test_secrets_never_reach_the_logs(redmine, redmine_env, gateway, project, support_tracker,
                                      tmp_path, monkeypatch):
    """`sync --once` and `serve` at DEBUG (JSON and text logs), with a failing SMTP
    delivery, a Redmine that refuses the key, a Redmine that is not there, and bad
    configs: the API key, the webhook secret and the SMTP password appear nowhere."""
    monkeypatch.setenv("FAULT_WEBHOOK_SECRET", WEBHOOK_SECRET)
    monkeypatch.setenv("FAULT_SMTP_PASSWORD", SMTP_PASSWORD)
    monkeypatch.setenv("FAULT_WRONG_KEY", WRONG_KEY)
    import os

    env = dict(os.environ)
    email_field = next(f["id"] for f in gateway.custom_fields() if f["name"] == "Contact email")
    create_issues(gateway, project, support_tracker, 1, "Secrets",
                  custom_fields=[{"id": email_field, "value": "ivan@example.ru"}])
    closed_port = common.free_port()
    document = base_document(redmine, admin=False)
    document["scope"]["projects"] = [project["identifier"]]
    document["redmine"]["timeout_seconds"] = 60
    document["store"] = {"url": f"sqlite:///{tmp_path / 'bridge.sqlite3'}"}
    document["webhooks"] = {"secret": "${FAULT_WEBHOOK_SECRET}"}
    document["notify"] = {"enabled": True, "from_address": "support@example.ru",
                          "smtp": {"host": "127.0.0.1", "port": closed_port, "security": "starttls",
                                   "username": "bridge", "password": "${FAULT_SMTP_PASSWORD}",
                                   "timeout_seconds": 2}}
    good = write_config(tmp_path / "good.yaml", document)
    outputs: dict[str, str] = {}

    def keep(name, result):
        outputs[name] = result.stdout + result.stderr

    keep("sync json", _cli("sync", "--once", "--config", str(good), env=env))
    keep("sync text", _cli("--log-format", "text", "sync", "--once", "--config", str(good), env=env))

    port = common.free_port()
    log_file = tmp_path / "serve.log"
    with log_file.open("wb") as out:
        proc = common.start_serve(good, port, output=out, log_level="DEBUG")
        try:
            body = common.redmine7_body(1, 1)
            for signature in (sign(WEBHOOK_SECRET, body), sign("wrong", body)):
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/webhooks/redmine", data=body, method="POST",
                    headers={"Content-Type": "application/json", "X-Redmine-Signature-256": signature})
                try:
                    urllib.request.urlopen(request, timeout=10).read()
                except urllib.error.HTTPError as exc:
                    assert exc.code == 401
            for path in ("/readyz", "/metrics"):
                urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30).read()
            time.sleep(2)  # the drainer and the startup jobs log meanwhile
        finally:
            common.stop(proc, signal.SIGTERM)
    outputs["serve"] = log_file.read_text(errors="replace")

    gone = dict(document, redmine={**document["redmine"], "url": f"http://127.0.0.1:{closed_port}",
                                   "retries": 0, "timeout_seconds": 2})
    keep("redmine gone", _cli("sync", "--once", "--config",
                              str(write_config(tmp_path / "gone.yaml", gone)), env=env))
    wrong = dict(document, redmine={**document["redmine"], "api_key": "${FAULT_WRONG_KEY}"})
    keep("wrong key", _cli("sync", "--once", "--config",
                           str(write_config(tmp_path / "wrong.yaml", wrong)), env=env))

    bad = json.loads(json.dumps(document))
    bad["redmine"]["timeout_seconds"] = "soon"
    bad["webhooks"]["secrett"] = "${FAULT_WEBHOOK_SECRET}"  # a typo'd key holding a secret
    bad["notify"]["smtp"]["pasword"] = SMTP_PASSWORD  # ... or the secret written inline
    bad_path = write_config(tmp_path / "bad.yaml", bad)
    keep("bad config: check-config", _cli("check-config", str(bad_path), env=env))
    keep("bad config: sync", _cli("sync", "--once", "--config", str(bad_path), env=env))
    keep("bad config: serve", _cli("serve", "--config", str(bad_path), "--bind",
                                   f"127.0.0.1:{common.free_port()}", env=env, timeout=30))

    print({run: len(text) for run, text in outputs.items()})
    assert "processed:" in outputs["sync json"] or "error: Redmine" in outputs["sync json"], \
        outputs["sync json"][-2000:]
    assert "secrett" in outputs["bad config: check-config"]
    assert outputs["wrong key"] and outputs["redmine gone"]
    secrets = {"API key": redmine.api_key, "wrong API key": WRONG_KEY,
               "webhook secret": WEBHOOK_SECRET, "SMTP password": SMTP_PASSWORD}
    leaks = [(run, what) for run, text in outputs.items() for what, value in secrets.items()
             if value in text or value[:16] in text]
    assert leaks == [], leaks
    assert sum(len(text) for text in outputs.values()) > 2000  # DEBUG logs were captured
