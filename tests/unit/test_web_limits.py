"""Every limit on a request body has its 4xx, on both webhook formats and the intake API:
size (chunked bodies included) 413, malformed UTF-8 400, JSON nested too deep 400, never
a 5xx and never a RecursionError. The signature is still checked before the JSON.

Through Flask's test client on a fresh SQLite store; Redmine is a closed port (no
handler here reaches it before the limits). A real `serve` gets the chunked case too:
tests/fault/test_readiness_and_limits.py.
"""

from __future__ import annotations

import io
import json
import threading
from dataclasses import dataclass
from typing import Any

import pytest
from werkzeug.datastructures import Headers
from werkzeug.test import EnvironBuilder, run_wsgi_app

from redmine_sla_bridge.entrypoints.web.app import create_app
from redmine_sla_bridge.entrypoints.web.readiness import CachedCheck
from redmine_sla_bridge.entrypoints.web.request_body import (
    MAX_JSON_DEPTH,
    BodyRejected,
    json_depth,
    json_text,
    read_body,
)
from redmine_sla_bridge.entrypoints.web.webhook_formats import sign
from tests.conftest import write_config
from tests.hang_guard import finishes
from tests.unit.offline_bridge import offline_document

SECRET = "limits-webhook-secret"
TOKEN = "limits-plugin-token"
BEARER = "limits-intake-token"
MAX_BODY = 262_144  # room for 100,000 levels (200 KB)


@pytest.fixture()
def bridge(tmp_path, monkeypatch):
    from redmine_sla_bridge.bootstrap import bootstrap
    from redmine_sla_bridge.config.loader import load_config

    monkeypatch.setenv("LIMITS_REDMINE_KEY", "k" * 40)
    monkeypatch.setenv("LIMITS_SECRET", SECRET)
    monkeypatch.setenv("LIMITS_TOKEN", TOKEN)
    monkeypatch.setenv("LIMITS_BEARER", BEARER)
    path = write_config(tmp_path / "bridge.yaml", offline_document(
        tmp_path / "limits.sqlite3", "${LIMITS_REDMINE_KEY}",
        webhooks={"secret": "${LIMITS_SECRET}", "token": "${LIMITS_TOKEN}",
                  "max_body_bytes": MAX_BODY},
        intake_api={"token": "${LIMITS_BEARER}", "project": "support"}))
    rt = bootstrap(load_config(path), notifier=None)
    yield rt, create_app(rt).test_client()
    rt.store.close()


def redmine7(issue_id: int = 1, **extra: Any) -> dict[str, Any]:
    return {"type": "issue.updated", "data": {"issue": {"id": issue_id}, "journal": {"id": 7},
                                              **extra}}


def suer(issue_id: int = 1) -> dict[str, Any]:
    return {"payload": {"action": "updated", "issue": {"id": issue_id}, "journal": {"id": 7}}}


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


ROUTES = ("redmine7", "suer", "intake")


def headers_for(route: str, body: bytes) -> tuple[str, dict[str, str]]:
    if route == "redmine7":
        return "/webhooks/redmine", {"X-Redmine-Signature-256": sign(SECRET, body)}
    if route == "suer":
        return "/webhooks/redmine", {"X-Bridge-Token": TOKEN}
    return "/api/v1/requests", {"Authorization": f"Bearer {BEARER}"}


def post(client, route: str, body: bytes):
    path, headers = headers_for(route, body)
    return client.post(path, data=body, content_type="application/json", headers=headers)


@dataclass
class Answer:
    status_code: int
    headers: Headers
    json: Any


def post_chunked(client, route: str, body: bytes) -> Answer:
    """As gunicorn hands a chunked request to the app: no Content-Length, and the server
    ends the stream (`wsgi.input_terminated`). The WSGI app is called directly: the test
    client would rebuild the environ with a Content-Length."""
    path, headers = headers_for(route, body)
    environ = EnvironBuilder(method="POST", path=path, content_type="application/json",
                             headers={**headers, "Transfer-Encoding": "chunked"},
                             input_stream=io.BytesIO(body)).get_environ()
    del environ["CONTENT_LENGTH"]
    environ["wsgi.input_terminated"] = True
    app_iter, status, answer_headers = run_wsgi_app(client.application, environ)
    payload = b"".join(app_iter)
    return Answer(int(status.split()[0]), answer_headers, json.loads(payload))


def deep_document(route: str, depth: int) -> bytes:
    """A document of the route's shape, nested `depth` levels deep in all."""
    if route == "redmine7":
        text = ('{"type": "issue.updated", "data": {"issue": {"id": 1}, "journal": {"id": 7}, '
                f'"x": {nested(depth - 2)}}}}}')
    elif route == "suer":
        text = ('{"payload": {"action": "updated", "issue": {"id": 1}, "journal": {"id": 7}, '
                f'"x": {nested(depth - 2)}}}}}')
    else:
        text = f'{{"subject": "VPN is down", "x": {nested(depth - 1)}}}'
    return text.encode()


# -- the depth count ---------------------------------------------------------------------


@pytest.mark.parametrize("text, depth", [
    ("", 0), ("1", 0), ('"[[["', 0), ("[]", 1), ("{}", 1), ('{"a": [1, {"b": []}]}', 4),
    ('["]"]', 1), ('["\\\\"]', 1), ('["\\"]", []]', 2), ('"\\u005b"', 0),
    ("]]]", 0), ('"unterminated [[[', 0), ('[[["unterminated', 3),
])
def test_json_depth_counts_brackets_outside_strings_only(text, depth):
    assert json_depth(text) == depth
    assert json_depth(text) == _reference_depth(text)


def _reference_depth(text: str) -> int:
    """The same count, one character at a time (slow, obviously right)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def test_json_depth_matches_the_parser_on_random_documents():
    import random

    rng = random.Random(14)
    atoms = ['"a"', '"[{"', '"\\"]"', '"\\\\"', "1", "null", "[]", "{}"]
    for _ in range(300):
        def value(level: int) -> str:
            if level > 6 or rng.random() < 0.3:
                return rng.choice(atoms)
            if rng.random() < 0.5:
                return "[" + ", ".join(value(level + 1) for _ in range(rng.randint(0, 3))) + "]"
            return "{" + ", ".join(f'"k{i}": {value(level + 1)}' for i in range(rng.randint(0, 3))) + "}"
        text = value(0)
        json.loads(text)  # a valid document
        assert json_depth(text) == _reference_depth(text), text


def test_json_text_refuses_exactly_what_the_depth_count_refuses():
    """json_text skips the scan when there are too few brackets to nest too deep; at
    small limits, random texts (brackets in strings included) cross both branches."""
    import random

    rng = random.Random(19)
    pieces = ["[", "]", "{", "}", '"[{"', '"\\"', ", ", "1", '"\\"]"']
    for _ in range(2000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
        for limit in (0, 1, 2, 3, 5):
            try:
                json_text(text.encode(), max_depth=limit)
                refused = False
            except BodyRejected as exc:
                assert "nested too deep" in exc.message
                refused = True
            assert refused == (_reference_depth(text) > limit), (text, limit)


@pytest.mark.parametrize("text, too_deep", [
    ('"' * 1_000_000, False),                      # half a million empty strings
    ('"' + '\\"' * 500_000, False),                # one string that never ends
    ('"\\' + "[" * 1_000_000, False),              # brackets inside that string
    ("[" * 1_000_000, True),
    ("[]" * 500_000, False),
])
def test_json_depth_never_hangs_on_hostile_megabytes(text, too_deep):
    assert (finishes(json_depth, text, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) == too_deep


# -- read_body ---------------------------------------------------------------------------


def _environ(body: bytes, **extra: Any) -> dict[str, Any]:
    return {"wsgi.input": io.BytesIO(body), **extra}


def test_without_length_or_chunks_there_is_no_body():
    assert read_body(_environ(b"never read"), 100) == b""


def test_read_body_takes_exactly_the_limit_and_refuses_one_byte_more():
    assert read_body(_environ(b"x" * 100, CONTENT_LENGTH="100"), 100) == b"x" * 100
    assert read_body(_environ(b"x" * 100, **{"wsgi.input_terminated": True}), 100) == b"x" * 100
    for environ in (_environ(b"x" * 101, CONTENT_LENGTH="101"),
                    _environ(b"x" * 101, **{"wsgi.input_terminated": True})):
        with pytest.raises(BodyRejected) as refused:
            read_body(environ, 100)
        assert refused.value.status == 413


@pytest.mark.parametrize("environ, status", [
    (_environ(b"abc", CONTENT_LENGTH="10"), 400),   # the client stopped early
    (_environ(b"abc", CONTENT_LENGTH="ten"), 400),
    (_environ(b"abc", CONTENT_LENGTH="-1"), 400),
    (_environ(b"abc", HTTP_TRANSFER_ENCODING="chunked"), 411),  # the server does not end it
])
def test_read_body_refuses_what_it_cannot_read_safely(environ, status):
    with pytest.raises(BodyRejected) as refused:
        read_body(environ, 100)
    assert refused.value.status == status


# -- the routes --------------------------------------------------------------------------


@pytest.mark.parametrize("route", ROUTES)
def test_a_body_nested_100000_deep_is_400_not_a_5xx(bridge, route):
    rt, client = bridge
    for depth in (MAX_JSON_DEPTH + 1, 1000, 100_000):
        body = deep_document(route, depth)
        assert json.loads(body) if depth < 500 else True  # a valid document, only deep
        answer = post(client, route, body)
        assert answer.status_code == 400, answer.json
        assert "nested too deep" in answer.json["error"]
    assert rt.store.pending_count() == 0


@pytest.mark.parametrize("route", ["redmine7", "suer"])
def test_nesting_up_to_the_limit_is_accepted(bridge, route):
    _, client = bridge
    body = deep_document(route, MAX_JSON_DEPTH)
    assert json_depth(body.decode()) == MAX_JSON_DEPTH
    answer = post(client, route, body)
    assert answer.status_code == 202, answer.json


def test_brackets_inside_strings_do_not_count(bridge):
    _, client = bridge
    body = json.dumps(redmine7(subject="[" * 2000 + "{" * 1000)).encode()
    assert post(client, "redmine7", body).status_code == 202


def test_the_signature_is_checked_before_the_depth(bridge):
    _, client = bridge
    body = deep_document("redmine7", 1000)
    answer = client.post("/webhooks/redmine", data=body, content_type="application/json",
                         headers={"X-Redmine-Signature-256": sign("wrong", body)})
    assert answer.status_code == 401
    answer = client.post("/webhooks/redmine", data=body, content_type="application/json")
    assert answer.status_code == 401


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("body", [
    b'{"type": "issue.updated", "subject": "\xff\xfe"}',
    b'{"subject": "\xc3"}',                            # a truncated sequence
    b'{"subject": "\xed\xa0\x80"}',                     # an encoded surrogate
])
def test_malformed_utf8_is_400(bridge, route, body):
    rt, client = bridge
    answer = post(client, route, body)
    assert answer.status_code == 400, answer.json
    assert "UTF-8" in answer.json["error"]
    assert rt.store.pending_count() == 0


@pytest.mark.parametrize("route", ROUTES)
def test_utf16_and_nul_bytes_are_400(bridge, route):
    _, client = bridge
    # json.loads(bytes) would read this as UTF-16 and find the brackets a byte scan misses.
    utf16 = ("[" + "[" * 200 + "]" * 200 + "]").encode("utf-16-le")
    for body in (utf16, b'{"a": 1}\x00'):
        answer = post(client, route, body)
        assert answer.status_code == 400, answer.json


@pytest.mark.parametrize("route", ROUTES)
def test_a_chunked_body_over_the_limit_is_413(bridge, route):
    rt, client = bridge
    body = json.dumps(redmine7(padding="x" * MAX_BODY)).encode()
    answer = post_chunked(client, route, body)
    assert answer.status_code == 413, answer.json
    assert rt.store.pending_count() == 0


def test_a_chunked_body_of_exactly_the_limit_is_taken_whole(bridge):
    rt, client = bridge
    body = json.dumps(redmine7()).encode()
    body = body[:-1] + b" " * (MAX_BODY - len(body)) + b"}"
    assert len(body) == MAX_BODY
    answer = post_chunked(client, "redmine7", body)
    assert answer.status_code == 202, answer.json
    assert rt.store.pending_count() == 1


@pytest.mark.parametrize("route", ROUTES)
def test_a_declared_length_over_the_limit_is_413(bridge, route):
    _, client = bridge
    answer = post(client, route, b"[" + b" " * MAX_BODY + b"]")
    assert answer.status_code == 413


def test_the_intake_api_still_authenticates_before_the_body_limits(bridge):
    _, client = bridge
    body = deep_document("intake", 1000)
    answer = client.post("/api/v1/requests", data=body, content_type="application/json",
                         headers={"Authorization": "Bearer wrong"})
    assert answer.status_code == 401


# -- /readyz -----------------------------------------------------------------------------


def test_readyz_names_an_unwritable_store(bridge, monkeypatch):
    from sqlalchemy.exc import OperationalError

    rt, client = bridge

    def full(now) -> None:
        raise OperationalError("INSERT ...", {}, Exception("database or disk is full"))

    assert client.get("/readyz").json["checks"]["store"] == "ok"
    monkeypatch.setattr(rt.store, "check_writable", full)
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json["checks"]["store"] == "error: OperationalError: database or disk is full"


def test_100_readyz_probes_ask_redmine_once(bridge):
    rt, client = bridge
    calls = rt.redmine.gateway.calls
    before = calls.total
    answers = [client.get("/readyz") for _ in range(100)]
    assert calls.total - before == 1
    assert {a.status_code for a in answers} == {503}  # Redmine is a closed port here
    assert all(a.json["checks"]["redmine"].startswith("error: RedmineUnavailable") for a in answers)


def test_a_cached_check_is_asked_again_after_its_ttl():
    now = [0.0]
    asked: list[float] = []
    check = CachedCheck(lambda: asked.append(now[0]) or "ok", ttl_s=10.0, clock=lambda: now[0])
    for moment in (0.0, 1.0, 9.9, 10.0, 15.0, 20.5):
        now[0] = moment
        assert check() == "ok"
    assert asked == [0.0, 10.0, 20.5]


def test_probes_during_a_slow_refresh_get_the_previous_answer_at_once():
    now = [0.0]
    release = threading.Event()
    answers = iter(["ok", "error: RedmineUnavailable"])

    refreshing = threading.Event()

    def slow() -> str:
        if now[0] > 0:
            refreshing.set()
            release.wait(30)
        return next(answers)

    check = CachedCheck(slow, ttl_s=10.0, clock=lambda: now[0])
    assert check() == "ok"
    now[0] = 11.0
    refresher = threading.Thread(target=check)
    refresher.start()
    assert refreshing.wait(30)
    # The refresh blocks until `release`, which is set only after this probe returned:
    # a probe that waited for the refresh could not return "ok" here at all.
    probe: list[str] = []
    prober = threading.Thread(target=lambda: probe.append(check()))
    prober.start()
    prober.join(30)
    answered_while_refreshing = not prober.is_alive()
    release.set()
    prober.join(30)
    refresher.join(30)
    assert answered_while_refreshing and probe == ["ok"]
    assert check() == "error: RedmineUnavailable"
