"""10,000 fuzzed deliveries to `POST /webhooks/redmine`: never a 5xx.

Through Flask's test client on a fresh SQLite store; the handler only authenticates,
parses and stores, so no Redmine is needed (its URL points at a closed port). Bodies are
random bytes, random JSON, and valid Redmine 7 / suer shapes with random values; headers
are signed correctly, signed wrongly, token-authenticated or bare, with random content
types. Expected answers: 202 (stored or duplicate), 400, 401, 413, 415 and nothing else;
a wrong signature is 401 whatever the body; a body over the limit is 413.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from redmine_sla_bridge.entrypoints.web.app import create_app
from redmine_sla_bridge.entrypoints.web.webhook_formats import sign
from tests.conftest import write_config

SECRET = "fuzz-webhook-secret"
TOKEN = "fuzz-plugin-token"
MAX_BODY = 4096
ALLOWED = {202, 400, 401, 413, 415}
FUZZ = settings(max_examples=2500, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    from redmine_sla_bridge.bootstrap import bootstrap
    from redmine_sla_bridge.config.loader import load_config

    tmp = tmp_path_factory.mktemp("fuzz")
    env = pytest.MonkeyPatch()
    env.setenv("FUZZ_REDMINE_KEY", "k" * 40)
    env.setenv("FUZZ_WEBHOOK_SECRET", SECRET)
    env.setenv("FUZZ_WEBHOOK_TOKEN", TOKEN)
    path = write_config(tmp / "bridge.yaml", {
        "language": "en",
        "redmine": {"url": "http://127.0.0.1:9", "api_key": "${FUZZ_REDMINE_KEY}"},
        "store": {"url": f"sqlite:///{tmp / 'fuzz.sqlite3'}"},
        "polling": {"enabled": False},
        "webhooks": {"secret": "${FUZZ_WEBHOOK_SECRET}", "token": "${FUZZ_WEBHOOK_TOKEN}",
                     "max_body_bytes": MAX_BODY},
        "calendars": {"office": {"timezone": "Europe/Moscow",
                                 "week": {"mon-fri": [["09:00", "18:00"]]}, "holidays": "RU"}},
        "policy": {"calendar": "office", "tiers": [{"name": "standard", "when": {}}],
                   "priority": {"mode": "impact", "default_impact": "P3"}},
    })
    config = load_config(path)
    rt = bootstrap(config, notifier=None)
    app = create_app(rt)
    yield app.test_client(), rt
    rt.store.close()
    env.undo()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-2**70, max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
ids = (st.integers(min_value=-5, max_value=2**63 + 5) | st.text(max_size=12) | st.none()
       | st.booleans() | st.floats() | st.just("") | st.lists(st.integers(), max_size=2))


@st.composite
def shaped(draw):
    """A Redmine 7 or suer-shaped document with random values in the places that matter."""
    issue = draw(st.dictionaries(st.sampled_from(["id", "subject", "project"]), json_values, max_size=2))
    if draw(st.booleans()):
        issue["id"] = draw(ids)
    journal = draw(st.none() | st.fixed_dictionaries({"id": ids}) | json_values)
    if draw(st.booleans()):
        data = {"issue": draw(st.sampled_from([issue, None, [], "x"])), "journal": journal}
        return {"type": draw(st.sampled_from(["issue.created", "issue.updated"]) | json_values),
                "data": draw(st.sampled_from([data, None, [data], "data"]))}
    payload = {"action": draw(st.sampled_from(["opened", "updated"]) | json_values),
               "issue": issue, "journal": journal}
    return {"payload": draw(st.sampled_from([payload, None, "p"]) | json_values)}


bodies = (st.binary(max_size=600)
          | json_values.map(lambda v: json.dumps(v).encode())
          | shaped().map(lambda d: json.dumps(d, ensure_ascii=False).encode())
          | shaped().map(lambda d: json.dumps(d).encode()[:-1])  # truncated
          | st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")))
auth = st.sampled_from(["signed", "bad-signature", "garbage-signature", "token-header",
                        "token-url", "bad-token", "none"])
content_types = st.sampled_from(["application/json", "application/json; charset=utf-8",
                                 "text/plain", "application/x-www-form-urlencoded", None])
header_text = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=80)


def post(client, body: bytes, mode: str, content_type, delivery: str | None):
    headers, query = {}, ""
    if mode == "signed":
        headers["X-Redmine-Signature-256"] = sign(SECRET, body)
    elif mode == "bad-signature":
        headers["X-Redmine-Signature-256"] = sign(SECRET + "x", body)
    elif mode == "garbage-signature":
        headers["X-Redmine-Signature-256"] = delivery or "sha256="
    elif mode == "token-header":
        headers["X-Bridge-Token"] = TOKEN
    elif mode == "token-url":
        query = f"?token={TOKEN}"
    elif mode == "bad-token":
        headers["X-Bridge-Token"] = TOKEN + "!"
    if delivery is not None:
        headers["X-Redmine-Delivery"] = delivery
    kwargs = {"content_type": content_type} if content_type else {}
    return client.post("/webhooks/redmine" + query, data=body, headers=headers, **kwargs)


@FUZZ
@given(body=bodies, mode=auth, content_type=content_types, delivery=st.none() | header_text)
def test_random_bodies_and_headers_never_get_a_5xx(client, body, mode, content_type, delivery):
    test_client, _ = client
    answer = post(test_client, body, mode, content_type, delivery)
    assert answer.status_code in ALLOWED, (answer.status_code, answer.get_data())
    assert answer.is_json
    if content_type and content_type.startswith("application/json"):
        if mode in ("bad-signature", "bad-token", "none"):
            assert answer.status_code == 401
        if mode == "garbage-signature" and answer.status_code != 401:
            pytest.fail("an unchecked signature was accepted")


@FUZZ
@given(document=shaped(), mode=st.sampled_from(["signed", "token-header", "token-url"]),
       delivery=st.none() | header_text)
def test_authenticated_shapes_are_stored_or_refused_with_a_4xx(client, document, mode, delivery):
    test_client, _rt = client
    body = json.dumps(document, ensure_ascii=False).encode()
    answer = post(test_client, body, mode, "application/json", delivery)
    assert answer.status_code in ALLOWED - {415}, (answer.status_code, answer.get_data())
    if answer.status_code == 202:
        assert set(answer.json) == {"accepted", "duplicate", "issue_id"}


@FUZZ
@given(extra=st.integers(min_value=1, max_value=3 * MAX_BODY), mode=auth,
       content_type=content_types)
def test_oversized_bodies_are_413(client, extra, mode, content_type):
    test_client, _ = client
    body = b"{" + b" " * (MAX_BODY + extra - 2) + b"}"
    answer = post(test_client, body, mode, content_type, None)
    assert answer.status_code == 413


@FUZZ
@given(issue_id=st.integers(min_value=1, max_value=2**62),
       journal_id=st.integers(min_value=1, max_value=2**62),
       tamper=st.integers(min_value=0, max_value=10_000), flip=st.integers(min_value=0, max_value=7))
def test_a_valid_body_with_one_bit_changed_is_401(client, issue_id, journal_id, tamper, flip):
    test_client, rt = client
    body = json.dumps({"type": "issue.updated", "data": {"issue": {"id": issue_id},
                                                         "journal": {"id": journal_id}}}).encode()
    signature = sign(SECRET, body)
    position = tamper % len(body)
    changed = body[:position] + bytes([body[position] ^ (1 << flip)]) + body[position + 1:]
    before = rt.store.pending_count()
    answer = test_client.post("/webhooks/redmine", data=changed, content_type="application/json",
                              headers={"X-Redmine-Signature-256": signature})
    assert answer.status_code == 401
    assert rt.store.pending_count() == before
