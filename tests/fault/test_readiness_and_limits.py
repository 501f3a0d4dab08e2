"""`/readyz` and the body limits, against the real `serve` (gunicorn, 2 workers).

- A store on a full filesystem (a 4 MiB tmpfs filled to the last byte): webhooks get
  503, and so does /readyz, naming the store; freeing the space makes both work again.
- 100 /readyz probes cost Redmine at most one call per worker (an HTTP-aware counting
  proxy in front of the real Redmine counts `GET /users/current.json`).
- Chunked bodies (http.client's chunked encoding, no Content-Length): over
  `max_body_bytes` 413, exactly at it taken whole; JSON nested 100,000 deep 400 on both
  webhook formats and the intake API.
"""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Iterator
from pathlib import Path

import common
import pytest

from tests.fault import mounts
from tests.fault.http_faults import FORWARD, FaultProxy
from tests.fault.support import SECRET, serve_config

pytestmark = pytest.mark.redmine

PROBES = 100
PING = ("GET", "/users/current.json")


@pytest.fixture()
def env(monkeypatch, redmine_env) -> dict[str, str]:
    monkeypatch.setenv("FAULT_WEBHOOK_SECRET", SECRET)
    return redmine_env


def _get(port: int, path: str) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path)
        answer = conn.getresponse()
        return answer.status, json.loads(answer.read())
    finally:
        conn.close()


def _post(port: int, path: str, body: bytes | Iterator[bytes], headers: dict[str, str], *,
          chunked: bool = False) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        headers = {"Content-Type": "application/json", **headers}
        conn.request("POST", path, body=body, headers=headers, encode_chunked=chunked)
        answer = conn.getresponse()
        return answer.status, json.loads(answer.read())
    finally:
        conn.close()


def _webhook(port: int, issue_id: int, journal_id: int) -> int:
    body = common.redmine7_body(issue_id, journal_id)
    status, _ = _post(port, "/webhooks/redmine", body,
                      {"X-Redmine-Signature-256": common.sign(SECRET, body)})
    return status


def _settled(count, seconds: float = 30.0) -> int:
    """The count once it has not moved for 2 s (the workers' start-up jobs are done)."""
    deadline = time.monotonic() + seconds
    last, since = count(), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.25)
        now = count()
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= 2.0:
            break
    return last


def test_100_readyz_probes_ask_redmine_at_most_once_per_worker(redmine, project, env, tmp_path):
    with FaultProxy(redmine.url, lambda method, path, n: FORWARD) as proxy:
        config, _ = serve_config(redmine, tmp_path, project, url=proxy.url)
        port = common.free_port()
        proc = common.start_serve(config, port)
        try:
            assert _get(port, "/readyz")[0] == 200
            before = _settled(lambda: proxy.seen.get(PING, 0))
            started = time.monotonic()
            answers = [_get(port, "/readyz") for _ in range(PROBES)]
            seconds = time.monotonic() - started
            calls = proxy.seen.get(PING, 0) - before
        finally:
            common.stop(proc)
    print(f"{PROBES} probes in {seconds:.2f} s: {calls} Redmine call(s)")
    assert all(status == 200 and body["ready"] for status, body in answers)
    # One per worker per 10 s; the probes may straddle one refresh of each.
    assert calls <= 2 * (1 + int(seconds // 10) + 1), calls
    assert calls < PROBES / 10


def test_a_full_disk_makes_webhooks_and_readyz_503_and_freeing_it_recovers(
        redmine, project, env, tmp_path):
    with mounts.small_tmpfs(tmp_path / "small", size_kib=4096) as small:
        config, _ = serve_config(redmine, tmp_path, project,
                                 store={"url": f"sqlite:///{small / 'bridge.sqlite3'}"})
        port = common.free_port()
        log_file = tmp_path / "serve.log"
        with log_file.open("wb") as out:
            proc = common.start_serve(config, port, output=out)
            try:
                status, body = _get(port, "/readyz")
                assert status == 200, body
                assert [_webhook(port, 900_000_000, n) for n in range(1, 6)] == [202] * 5

                filler = mounts.fill(small)
                full = [_webhook(port, 900_000_001, n) for n in range(1, 21)]
                status, body = _get(port, "/readyz")
                print(f"disk full: webhooks {sorted(set(full))}, readyz {status} {body}")
                assert full == [503] * 20
                assert status == 503 and body["ready"] is False
                assert body["checks"]["store"].startswith("error: OperationalError"), body
                assert body["checks"]["redmine"] == "ok"

                filler.unlink()
                status, body = _get(port, "/readyz")
                assert status == 200, body
                assert _webhook(port, 900_000_002, 1) == 202
                assert proc.poll() is None  # no worker died of it
            finally:
                common.stop(proc)


def _chunks(body: bytes, size: int = 8192) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start:start + size]


def _padded_webhook(size: int, issue_id: int = 900_000_010) -> bytes:
    body = common.redmine7_body(issue_id, 1)
    return body[:-1] + b" " * (size - len(body)) + b"}"


def test_chunked_and_deep_bodies_against_serve(redmine, project, env, tmp_path, monkeypatch):
    monkeypatch.setenv("FAULT_INTAKE_TOKEN", "fault-intake-token")
    monkeypatch.setenv("FAULT_PLUGIN_TOKEN", "fault-plugin-token")
    # Redmine at a closed port: nothing here needs it, and the shared one is spared.
    config, store = serve_config(
        redmine, tmp_path, project, url=f"http://127.0.0.1:{common.free_port()}",
        webhooks={"secret": "${FAULT_WEBHOOK_SECRET}", "token": "${FAULT_PLUGIN_TOKEN}"},
        intake_api={"token": "${FAULT_INTAKE_TOKEN}", "project": project["identifier"]})
    limit = 1_048_576  # webhooks.max_body_bytes' default
    port = common.free_port()
    proc = common.start_serve(config, port)
    try:
        results: dict[str, int] = {}
        for name, size in (("limit + 1", limit + 1), ("limit + 64 KiB", limit + 65536)):
            body = _padded_webhook(size)
            status, answer = _post(port, "/webhooks/redmine", _chunks(body),
                                   {"X-Redmine-Signature-256": common.sign(SECRET, body)},
                                   chunked=True)
            results[f"chunked {name}"] = status
            assert status == 413, answer
        body = _padded_webhook(limit)
        status, answer = _post(port, "/webhooks/redmine", _chunks(body),
                               {"X-Redmine-Signature-256": common.sign(SECRET, body)}, chunked=True)
        results["chunked exactly the limit"] = status
        assert status == 202, answer  # read whole: the signature matched

        deep = "[" * 100_000 + "]" * 100_000
        redmine7 = ('{"type": "issue.updated", "data": {"issue": {"id": 1}, "x": ' + deep + "}}").encode()
        suer = ('{"payload": {"action": "updated", "issue": {"id": 1}, "x": ' + deep + "}}").encode()
        intake = ('{"subject": "VPN", "x": ' + deep + "}").encode()
        for name, path, body, headers in (
                ("redmine7", "/webhooks/redmine", redmine7,
                 {"X-Redmine-Signature-256": common.sign(SECRET, redmine7)}),
                ("suer", "/webhooks/redmine?token=fault-plugin-token", suer, {}),
                ("suer, wrong token", "/webhooks/redmine?token=wrong", suer, {}),
                ("intake", "/api/v1/requests", intake,
                 {"Authorization": "Bearer fault-intake-token"})):
            for chunked in (False, True):
                status, answer = _post(port, path, _chunks(body) if chunked else body, headers,
                                       chunked=chunked)
                results[f"{name} 100,000 deep{' chunked' if chunked else ''}"] = status
                expected = 401 if "wrong" in name else 400  # the token is checked first
                assert status == expected, (name, answer)
                if expected == 400:
                    assert "nested too deep" in answer["error"]
        print(results)
        assert proc.poll() is None
    finally:
        common.stop(proc)
    assert common.count_rows(Path(store)) == 1
