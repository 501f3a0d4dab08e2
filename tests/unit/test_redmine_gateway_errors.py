"""Error paths of the Redmine gateway: which failures are `RedmineUnavailable` (the inbox
keeps the event and retries later) and which are `RedmineRejected` (dead letter), and the
in-call retry policy of `BridgeEngine`.

Two kinds of fake, no network in either:

* `responses` (the project's rule: for error paths only) answers at the requests-adapter
  level. It replays the urllib3 `Retry` for *status* retries, but it neither retries an
  exception (a connection error, a timeout) nor ever calls `Retry.sleep`.
* So the retry/backoff tests at the end run the real requests -> urllib3 stack and fake
  only the socket: `urllib3.util.connection.create_connection` is replaced by a script
  that refuses the connection or hands back one end of a `socket.socketpair()` preloaded
  with an HTTP answer, and urllib3's sleep is recorded instead of slept.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import types

import prometheus_client
import pytest
import requests
import responses
import urllib3.util.connection
import urllib3.util.retry

from redmine_sla_bridge.adapters.redmine.gateway import (
    RedmineGateway,
    RedmineRejected,
    RedmineUnavailable,
)

URL = "http://redmine.test"
KEY = "k" * 40


@pytest.fixture(autouse=True)
def no_proxy_from_the_environment(monkeypatch):
    # The gateway resolves proxies once at start: a proxy in the environment would change
    # the address the socket-level fake is asked for.
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY", "http_proxy",
                 "https_proxy", "no_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def sleeps(monkeypatch) -> list[float]:
    """urllib3's Retry sleeps through `time.sleep` of its module: record, never sleep."""
    recorded: list[float] = []
    monkeypatch.setattr(urllib3.util.retry, "time",
                        types.SimpleNamespace(sleep=recorded.append, time=time.time))
    return recorded


@pytest.fixture()
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture()
def gateway() -> RedmineGateway:
    return RedmineGateway(URL, KEY, timeout=2.5, retries=3)


def errors_counted(kind: str) -> float:
    return prometheus_client.REGISTRY.get_sample_value(
        "bridge_redmine_errors_total", {"kind": kind}) or 0.0


def only_call(rsps, method: str, url: str) -> responses.Call:
    """The single request made; an unmatched URL would also surface as a ConnectionError
    from `responses`, so every test pins the exact request."""
    assert [(c.request.method, c.request.url) for c in rsps.calls] == [(method, url)]
    return rsps.calls[0]


# -- RedmineUnavailable: try again later -------------------------------------------


def test_connection_refused_is_unavailable(rsps, gateway):
    before = errors_counted("ConnectionError")
    rsps.get(f"{URL}/users/current.json",
             body=requests.ConnectionError("[Errno 111] Connection refused"))

    with pytest.raises(RedmineUnavailable) as caught:
        gateway.current_user()

    assert str(caught.value) == "ConnectionError: [Errno 111] Connection refused"
    assert isinstance(caught.value.__cause__, requests.ConnectionError)
    call = only_call(rsps, "GET", f"{URL}/users/current.json")
    assert call.request.headers["X-Redmine-API-Key"] == KEY
    assert errors_counted("ConnectionError") == before + 1


@pytest.mark.parametrize("error", [requests.ReadTimeout, requests.ConnectTimeout])
def test_timeouts_are_unavailable_and_every_call_carries_the_timeout(rsps, gateway, error):
    rsps.get(f"{URL}/issues/7.json", body=error("timed out (read timeout=2.5)"))

    with pytest.raises(RedmineUnavailable) as caught:
        gateway.issue(7)

    assert str(caught.value) == f"{error.__name__}: timed out (read timeout=2.5)"
    call = only_call(rsps, "GET", f"{URL}/issues/7.json?include=journals")
    # python-redmine alone drops the timeout (engine.py): a hung Redmine would hang us.
    assert call.request.req_kwargs["timeout"] == 2.5


def test_500_is_unavailable_and_not_retried_in_the_call(rsps, gateway):
    rsps.get(f"{URL}/trackers.json", status=500, body="boom")

    with pytest.raises(RedmineUnavailable) as caught:
        gateway.trackers()

    assert str(caught.value) == (
        "ServerError: Redmine returned internal error, check Redmine logs for details")
    only_call(rsps, "GET", f"{URL}/trackers.json")  # 500 is not in the status_forcelist


@pytest.mark.parametrize("status", [502, 503, 504])
def test_gateway_errors_on_a_read_are_retried_then_unavailable(rsps, gateway, sleeps, status):
    rsps.get(f"{URL}/issue_statuses.json", status=status)

    with pytest.raises(RedmineUnavailable) as caught:
        gateway.statuses()

    assert str(caught.value) == (
        f"UnknownError: Redmine returned unknown error with the status code {status}")
    assert caught.value.__cause__.status_code == status
    # retries=3: the first try and three retries, all of the same GET.
    assert [(c.request.method, c.request.url, c.response.status_code) for c in rsps.calls] == [
        ("GET", f"{URL}/issue_statuses.json", status)] * 4
    assert gateway.calls.by_method == {"GET": 1}  # one gateway call, retried underneath


def test_the_number_of_retries_is_the_configured_one(rsps):
    gateway = RedmineGateway(URL, KEY, retries=1)
    rsps.get(f"{URL}/roles.json", status=503)

    with pytest.raises(RedmineUnavailable, match="status code 503"):
        gateway.roles()

    assert len(rsps.calls) == 2


def test_a_read_that_fails_once_then_answers_succeeds(rsps, gateway):
    rsps.get(f"{URL}/roles.json", status=503)
    rsps.get(f"{URL}/roles.json", json={"roles": [{"id": 3, "name": "Manager"}]})

    assert gateway.roles() == [{"id": 3, "name": "Manager"}]
    assert [c.response.status_code for c in rsps.calls] == [503, 200]


def test_a_write_is_never_retried_in_the_call(rsps, gateway):
    # A POST or PUT whose answer was lost may have been applied; the inbox re-reads the
    # issue before trying again, so the engine sends each write exactly once.
    rsps.put(f"{URL}/issues/7.json", status=503)
    rsps.post(f"{URL}/issues/7/watchers.json", status=502)

    with pytest.raises(RedmineUnavailable, match="status code 503"):
        gateway.update_issue(7, notes="SLA: reaction overdue")
    with pytest.raises(RedmineUnavailable, match="status code 502"):
        gateway.add_watcher(7, 5)

    assert [(c.request.method, c.request.url) for c in rsps.calls] == [
        ("PUT", f"{URL}/issues/7.json"), ("POST", f"{URL}/issues/7/watchers.json")]
    assert json.loads(rsps.calls[0].request.body) == {"issue": {"notes": "SLA: reaction overdue"}}
    assert json.loads(rsps.calls[1].request.body) == {"user_id": 5}


def test_a_bad_api_key_is_unavailable_not_a_dead_letter(rsps, gateway):
    # A wrong or revoked key fails every call alike: a deployment fault to fix, after
    # which the kept events go through; dead-lettering them would lose them.
    rsps.get(f"{URL}/issues/7.json", status=401, body="")

    with pytest.raises(RedmineUnavailable) as caught:
        gateway.issue(7, journals=False)

    assert not isinstance(caught.value, RedmineRejected)
    assert "rejected the API key (401)" in str(caught.value)
    assert "redmine.api_key" in str(caught.value)
    call = only_call(rsps, "GET", f"{URL}/issues/7.json")  # 401 is not retried in the call
    assert call.request.headers["X-Redmine-API-Key"] == KEY


def test_a_non_json_body_on_a_200_is_unavailable(rsps, gateway):
    # e.g. an SSO or maintenance page in front of Redmine answering 200 with HTML.
    page = "<html><body>Please log in</body></html>"
    rsps.get(f"{URL}/users/current.json", body=page, content_type="text/html")

    with pytest.raises(RedmineUnavailable) as caught:
        gateway.current_user()

    assert str(caught.value).startswith("JSONDecodeError: Unable to decode received JSON")
    assert caught.value.__cause__.response.text == page  # python-redmine keeps the answer
    only_call(rsps, "GET", f"{URL}/users/current.json")


@pytest.mark.parametrize("status", [408, 429])
def test_request_timeout_and_rate_limit_are_unavailable(rsps, gateway, status):
    # "Try again later" answers (a reverse proxy's rate limit, typically): dead-lettering
    # the event would drop its SLA.
    rsps.get(f"{URL}/issues/7.json", status=status, headers={"Retry-After": "30"})

    with pytest.raises(RedmineUnavailable) as caught:
        gateway.issue(7, journals=False)

    assert str(caught.value) == (
        f"UnknownError: Redmine returned unknown error with the status code {status}")
    # Not retried inside the call: the inbox's backoff does that, without holding a lease.
    only_call(rsps, "GET", f"{URL}/issues/7.json")


def test_a_failing_page_fails_the_iteration_after_the_pages_before(rsps, gateway):
    rsps.get(f"{URL}/issues.json",
             json={"issues": [{"id": 1}, {"id": 2}], "total_count": 4, "offset": 0, "limit": 2})
    rsps.get(f"{URL}/issues.json", body=requests.ConnectionError("reset by peer"))

    pages = gateway.iter_issues(page_size=2, project_id=9)
    assert [next(pages)["id"], next(pages)["id"]] == [1, 2]
    with pytest.raises(RedmineUnavailable, match=r"^ConnectionError: reset by peer$"):
        next(pages)

    assert [c.request.url for c in rsps.calls] == [
        f"{URL}/issues.json?offset=0&limit=2&project_id=9",
        f"{URL}/issues.json?offset=2&limit=2&project_id=9",
    ]


# -- RedmineRejected: Redmine refused, retrying will not help ------------------------


def test_403_is_rejected(rsps, gateway):
    before = errors_counted("ForbiddenError")
    rsps.get(f"{URL}/custom_fields.json", status=403, body="")

    with pytest.raises(RedmineRejected) as caught:
        gateway.custom_fields()

    assert (caught.value.status, caught.value.detail) == (403, "Requested resource is forbidden")
    assert str(caught.value) == "Redmine refused the call (403): Requested resource is forbidden"
    only_call(rsps, "GET", f"{URL}/custom_fields.json")
    assert errors_counted("ForbiddenError") == before + 1


def test_404_is_rejected(rsps, gateway):
    rsps.get(f"{URL}/issues/404404.json", status=404, body="")

    with pytest.raises(RedmineRejected) as caught:
        gateway.issue(404404)

    assert (caught.value.status, caught.value.detail) == (404, "Requested resource doesn't exist")
    only_call(rsps, "GET", f"{URL}/issues/404404.json?include=journals")


@pytest.mark.parametrize(("status", "detail"), [
    (409, "Resource version on the server is newer than on the client"),
    (412, "Impersonate login provided doesn't exist or isn't active"),
    (413, "The requested resource doesn't allow POST requests or the size of the request "
          "exceeds the capacity limit"),
])
def test_other_refusals_python_redmine_names_are_rejected(rsps, gateway, status, detail):
    rsps.put(f"{URL}/issues/7.json", status=status, body="")

    with pytest.raises(RedmineRejected) as caught:
        gateway.update_issue(7, notes="x")

    assert caught.value.status == status
    assert caught.value.detail == detail
    only_call(rsps, "PUT", f"{URL}/issues/7.json")


def test_422_carries_redmine_s_error_text(rsps, gateway):
    rsps.put(f"{URL}/issues/7.json", status=422, json={
        "errors": ["Due date must be greater than start date", "Sla tier is not included in the list"]})

    with pytest.raises(RedmineRejected) as caught:
        gateway.update_issue(7, due_date="2020-01-01")

    expected = "Due date must be greater than start date, Sla tier is not included in the list"
    assert (caught.value.status, caught.value.detail) == (422, expected)
    assert str(caught.value) == f"Redmine refused the call (422): {expected}"
    call = only_call(rsps, "PUT", f"{URL}/issues/7.json")
    assert json.loads(call.request.body) == {"issue": {"due_date": "2020-01-01"}}


def test_422_on_a_create_is_rejected_with_the_text(rsps, gateway):
    rsps.post(f"{URL}/projects/support/issues.json", status=422,
              json={"errors": ["Subject cannot be blank"]})

    with pytest.raises(RedmineRejected) as caught:
        gateway.create_issue(project_id="support", subject="")

    assert (caught.value.status, caught.value.detail) == (422, "Subject cannot be blank")
    call = only_call(rsps, "POST", f"{URL}/projects/support/issues.json")
    assert json.loads(call.request.body) == {"issue": {"subject": ""}}


@pytest.mark.parametrize("status", [400, 405, 410])
def test_an_unnamed_4xx_is_rejected_with_its_status(rsps, gateway, status):
    rsps.get(f"{URL}/projects/support.json", status=status, body="")

    with pytest.raises(RedmineRejected) as caught:
        gateway.project("support")

    assert caught.value.status == status
    assert caught.value.detail == f"Redmine returned unknown error with the status code {status}"
    only_call(rsps, "GET",
              f"{URL}/projects/support.json?include=trackers%2Cissue_custom_fields")


# -- the in-call retry policy, on the real urllib3 stack (fake sockets) ---------------


class FakeSockets:
    """Stands in for urllib3's `create_connection`: each connection attempt takes the next
    step of the script (an exception to raise, or the bytes the server answers)."""

    def __init__(self) -> None:
        self.script: list[BaseException | bytes] = []
        self.attempts: list[tuple[tuple[str, int], float | None]] = []
        self._servers: list[socket.socket] = []
        self._watchdogs: list[threading.Timer] = []

    def __call__(self, address, timeout=None, source_address=None, socket_options=None):
        self.attempts.append((address, timeout))
        assert self.script, f"unscripted connection to {address}"
        step = self.script.pop(0)
        if isinstance(step, BaseException):
            raise step
        client, server = socket.socketpair()
        server.sendall(step)
        self._servers.append(server)
        if not step:
            # A silent server: if the call had no timeout, end the wait with an EOF (the
            # test then fails on the error) rather than hang the run.
            watchdog = threading.Timer(5.0, server.shutdown, (socket.SHUT_WR,))
            watchdog.daemon = True
            watchdog.start()
            self._watchdogs.append(watchdog)
        return client

    def request_lines(self) -> list[str]:
        """The first line of each request the client sent, in order."""
        lines = []
        for server in self._servers:
            server.setblocking(False)
            try:
                data = server.recv(65536)
            except BlockingIOError:
                data = b""
            lines.append(data.split(b"\r\n", 1)[0].decode())
        return lines

    def close(self) -> None:
        for watchdog in self._watchdogs:
            watchdog.cancel()
        for server in self._servers:
            server.close()


@pytest.fixture()
def sockets(monkeypatch):
    fake = FakeSockets()
    monkeypatch.setattr(urllib3.util.connection, "create_connection", fake)
    yield fake
    fake.close()


def answer(status: int, reason: str, body: bytes = b"", **headers: str) -> bytes:
    head = "".join(f"{name.replace('_', '-')}: {value}\r\n" for name, value in headers.items())
    return (f"HTTP/1.1 {status} {reason}\r\n{head}Content-Length: {len(body)}\r\n"
            f"Connection: close\r\n\r\n").encode() + body


REFUSED = ConnectionRefusedError(111, "Connection refused")


def test_refused_connections_are_retried_with_exponential_backoff(sockets, sleeps, gateway):
    sockets.script = [REFUSED] * 4

    with pytest.raises(RedmineUnavailable) as caught:
        gateway.current_user()

    assert str(caught.value).startswith("ConnectionError: ")
    assert "Max retries exceeded with url: /users/current.json" in str(caught.value)
    assert "Connection refused" in str(caught.value)
    assert sockets.attempts == [(("redmine.test", 80), 2.5)] * 4
    # backoff_factor 0.2: no pause before the first retry, then 0.4 s and 0.8 s.
    assert sleeps == [0.4, 0.8]


def test_a_refused_write_is_retried_too_since_nothing_was_sent(sockets, sleeps, gateway):
    sockets.script = [REFUSED, REFUSED, answer(204, "No Content")]

    gateway.update_issue(7, notes="x")

    assert len(sockets.attempts) == 3
    assert sockets.request_lines() == ["PUT /issues/7.json HTTP/1.1"]
    assert sleeps == [0.4]


def test_a_read_that_times_out_is_retried_but_a_write_is_not(sockets, sleeps):
    # Nothing is ever answered: the per-call timeout (0.05 s here) must reach the socket.
    gateway = RedmineGateway(URL, KEY, timeout=0.05, retries=2)
    sockets.script = [b"", b"", b""]
    with pytest.raises(RedmineUnavailable, match="Read timed out"):
        gateway.issue(7, journals=False)
    assert sockets.request_lines() == ["GET /issues/7.json HTTP/1.1"] * 3
    assert sleeps == [0.4]

    sockets.script = [b""]
    with pytest.raises(RedmineUnavailable, match=r"^ReadTimeout: .*Read timed out"):
        gateway.update_issue(7, notes="may have been applied")
    assert sockets.request_lines()[3:] == ["PUT /issues/7.json HTTP/1.1"]
    assert sockets.script == [] and len(sockets.attempts) == 4


def test_retry_after_does_not_stretch_a_call_past_the_backoff(sockets, sleeps, gateway):
    # urllib3 honours Retry-After by default, up to 6 hours a pause: three retries of a
    # 503 "Retry-After: 3600" would hold the event's 120 s inbox lease for 3 hours.
    sockets.script = [answer(503, "Service Unavailable", Retry_After="3600")] * 3 + [
        answer(200, "OK", b'{"user": {"id": 1, "login": "sla-bridge"}}')]

    assert gateway.current_user() == {"id": 1, "login": "sla-bridge"}

    assert sockets.request_lines() == ["GET /users/current.json HTTP/1.1"] * 4
    assert sleeps == [0.4, 0.8]


def test_no_retries_means_one_attempt_and_no_pause(sockets, sleeps):
    gateway = RedmineGateway(URL, KEY, retries=0)
    sockets.script = [answer(503, "Service Unavailable")]

    with pytest.raises(RedmineUnavailable, match="status code 503"):
        gateway.trackers()

    assert sockets.request_lines() == ["GET /trackers.json HTTP/1.1"]
    assert sleeps == []
