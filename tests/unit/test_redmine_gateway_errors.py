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
* The two calls of every event, `issue` and `update_issue`, go to libcurl without
  requests (`BridgeEngine.direct_request`), where `responses` does not reach: their
  answers are scripted at the same fake sockets (libcurl asks the test for each
  connection's socket, and the fake host names resolve to addresses that name them
  back), and each is checked to come out as the same call through requests would.
"""

from __future__ import annotations

import contextlib
import datetime
import io
import json
import socket
import threading
import time
import types

import prometheus_client
import pycurl
import pytest
import requests
import responses
import urllib3.util.connection
import urllib3.util.retry

from redmine_sla_bridge.adapters.redmine.curl_transport import CurlTransport
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
    rsps.get(f"{URL}/issues.json", body=error("timed out (read timeout=2.5)"))

    with pytest.raises(RedmineUnavailable) as caught:
        gateway.find_issues(issue_id="7")

    assert str(caught.value) == f"{error.__name__}: timed out (read timeout=2.5)"
    call = only_call(rsps, "GET", f"{URL}/issues.json?issue_id=7")
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
    # issue before trying again, so the engine sends each write exactly once (an issue's
    # PUT, sent directly: test_a_direct_write_is_never_retried_in_the_call).
    rsps.put(f"{URL}/projects/7.json", status=503)
    rsps.post(f"{URL}/issues/7/watchers.json", status=502)

    with pytest.raises(RedmineUnavailable, match="status code 503"):
        gateway._call(gateway._redmine.project.update, 7, name="Support")
    with pytest.raises(RedmineUnavailable, match="status code 502"):
        gateway.add_watcher(7, 5)

    assert [(c.request.method, c.request.url) for c in rsps.calls] == [
        ("PUT", f"{URL}/projects/7.json"), ("POST", f"{URL}/issues/7/watchers.json")]
    assert json.loads(rsps.calls[0].request.body) == {"project": {"name": "Support"}}
    assert json.loads(rsps.calls[1].request.body) == {"user_id": 5}


def test_a_non_json_body_on_a_200_is_unavailable(rsps, gateway):
    # e.g. an SSO or maintenance page in front of Redmine answering 200 with HTML.
    page = "<html><body>Please log in</body></html>"
    rsps.get(f"{URL}/users/current.json", body=page, content_type="text/html")

    with pytest.raises(RedmineUnavailable) as caught:
        gateway.current_user()

    assert str(caught.value).startswith("JSONDecodeError: Unable to decode received JSON")
    assert caught.value.__cause__.response.text == page  # python-redmine keeps the answer
    only_call(rsps, "GET", f"{URL}/users/current.json")


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
    step of the script (an exception to raise, the bytes the server answers, or a tuple
    of answers, each sent once its request has arrived: a kept-alive connection)."""

    def __init__(self) -> None:
        self.script: list[BaseException | bytes | tuple[bytes, ...]] = []
        self.attempts: list[tuple[tuple[str, int], float | None]] = []
        self._servers: list[socket.socket] = []
        self._received: list[bytes] = []
        self._conversations: set[int] = set()
        self._watchdogs: list[threading.Timer] = []

    def __call__(self, address, timeout=None, source_address=None, socket_options=None):
        self.attempts.append((address, timeout))
        assert self.script, f"unscripted connection to {address}"
        step = self.script.pop(0)
        if isinstance(step, BaseException):
            raise step
        client, server = socket.socketpair()
        if isinstance(step, tuple):
            self._received += [b""] * (len(self._servers) - len(self._received))
            self._received.append(b"")
            self._conversations.add(len(self._servers))
            self._servers.append(server)
            threading.Thread(target=self._converse, args=(server, len(self._servers) - 1, step),
                             daemon=True).start()
            return client
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

    def received(self) -> list[bytes]:
        """What the server end of each connection received so far, in order."""
        self._received += [b""] * (len(self._servers) - len(self._received))
        for index, server in enumerate(self._servers):
            if index in self._conversations:
                continue  # read by its own thread
            server.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                self._received[index] += server.recv(65536)
        return list(self._received)

    def _converse(self, server: socket.socket, index: int, answers: tuple[bytes, ...]) -> None:
        server.settimeout(5.0)
        buffer = b""
        for reply in answers:
            while b"\r\n\r\n" not in buffer:
                buffer += server.recv(65536)
            head, _, rest = buffer.partition(b"\r\n\r\n")
            length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length:")), 0)
            while len(rest) < length:
                rest += server.recv(65536)
            self._received[index] += head + b"\r\n\r\n" + rest[:length]
            buffer = rest[length:]
            server.sendall(reply)

    def request_lines(self) -> list[str]:
        """The first line of each request the client sent, in order."""
        return [data.split(b"\r\n", 1)[0].decode() for data in self.received()]

    def close(self) -> None:
        for watchdog in self._watchdogs:
            watchdog.cancel()
        for server in self._servers:
            server.close()


# libcurl resolves a host before it asks for a socket: each fake host gets an address
# of its own, by which the socket request names it back.
FAKE_HOSTS = {"redmine.test": "127.0.0.11", "proxy.corp": "127.0.0.12"}


def curl_on(fake: FakeSockets):
    """`CurlTransport._new_handle`, with every connection taken from `fake`."""
    new_handle = CurlTransport._new_handle
    host_of = {address: host for host, address in FAKE_HOSTS.items()}
    given: list[socket.socket] = []

    def handle_on_fake(transport: CurlTransport) -> pycurl.Curl:
        handle = new_handle(transport)

        def open_socket(purpose, address):
            ip, port = address.addr[:2]
            try:
                connection = fake((host_of.get(ip, ip), port), transport.timeout)
            except OSError:
                return pycurl.SOCKET_BAD  # libcurl: "could not connect"
            given.append(connection)  # libcurl uses a duplicate of it
            return connection

        handle.setopt(pycurl.RESOLVE, [f"{host}:{port}:{address}" for host, address
                                       in FAKE_HOSTS.items() for port in (80, 3128)])
        handle.setopt(pycurl.OPENSOCKETFUNCTION, open_socket)
        handle.setopt(pycurl.SOCKOPTFUNCTION, lambda *_: pycurl.SOCKOPT_ALREADY_CONNECTED)
        return handle

    return handle_on_fake, given


@pytest.fixture()
def sockets(monkeypatch):
    fake = FakeSockets()
    monkeypatch.setattr(urllib3.util.connection, "create_connection", fake)
    handle_on_fake, given = curl_on(fake)
    monkeypatch.setattr(CurlTransport, "_new_handle", handle_on_fake)
    yield fake
    fake.close()
    for connection in given:
        connection.close()


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


# -- the calls of every event (issue, update_issue), sent on libcurl directly ---------


def kept(status: int, reason: str, body: bytes = b"", **headers: str) -> bytes:
    """An answer that leaves the connection open for the next request."""
    return answer(status, reason, body, **headers).replace(b"Connection: close\r\n", b"")


def request_of(data: bytes) -> tuple[str, dict[str, str], bytes]:
    """(request line, headers by lower-cased name, body) of one request sent."""
    head, _, body = data.partition(b"\r\n\r\n")
    line, *fields = head.decode().split("\r\n")
    return line, {k.lower(): v for k, v in (f.split(": ", 1) for f in fields)}, body


ISSUE = {"issue": {"id": 7, "subject": "VPN", "journals": [{"id": 1, "notes": "Ещё"}]}}


@pytest.mark.parametrize("keep_alive", [True, False])
def test_the_direct_calls_send_and_read_what_the_calls_through_requests_do(sockets, keep_alive):
    gateway = RedmineGateway(URL, KEY, timeout=2.5, keep_alive=keep_alive)
    body = json.dumps(ISSUE, ensure_ascii=False).encode()
    sockets.script = [answer(200, "OK", body, Content_Type="application/json; charset=utf-8"),
                      answer(204, "No Content")] * 2
    fields = {"notes": "Принято", "private_notes": True,
              "custom_fields": [{"id": 3, "value": "at_risk"}, {"id": 4, "value": ""}]}

    direct = (gateway.issue(7), gateway.update_issue(7, **fields))
    engine = gateway._redmine.engine
    through_requests = (engine.request("get", f"{URL}/issues/7.json",
                                       params={"include": "journals"})["issue"],
                        engine.request("put", f"{URL}/issues/7.json", data={"issue": fields}))

    assert direct[0] == through_requests[0] == ISSUE["issue"]
    assert direct[1] is None and through_requests[1] is True  # 204: nothing to return
    sent = [request_of(data) for data in sockets.received()]
    assert sent[0] == sent[2] and sent[1] == sent[3]
    assert sent[0][0] == "GET /issues/7.json?include=journals HTTP/1.1"
    assert sent[0][1]["x-redmine-api-key"] == KEY
    assert sent[1][0] == "PUT /issues/7.json HTTP/1.1"
    assert json.loads(sent[1][2]) == {"issue": fields}
    assert ("connection" in sent[1][1]) is not keep_alive
    assert sockets.attempts == [(("redmine.test", 80), 2.5)] * 4
    assert gateway.calls.by_method == {"GET": 2, "PUT": 2}


def test_the_direct_calls_keep_their_connection_alive(sockets, gateway):
    # libcurl keeps a connection of its own (requests keeps another for the other calls).
    sockets.script = [(kept(200, "OK", b'{"issue": {"id": 7}}'), kept(204, "No Content"),
                       kept(200, "OK", b'{"issue": {"id": 7, "subject": "VPN"}}'))]

    assert gateway.issue(7) == {"id": 7}
    gateway.update_issue(7, notes="x")
    assert gateway.issue(7) == {"id": 7, "subject": "VPN"}

    assert len(sockets.attempts) == 1
    received = sockets.received()[0]
    assert [received.count(m) for m in (b"GET /issues/7.json", b"PUT /issues/7.json")] == [2, 1]


def test_each_thread_has_its_own_direct_connection(sockets, gateway):
    # A libcurl handle must not be shared between threads: each has its own.
    sockets.script = [(kept(200, "OK", b'{"issue": {"id": 7}}'),),
                      (kept(200, "OK", b'{"issue": {"id": 8}}'),)]
    seen: list[dict] = []

    assert gateway.issue(7) == {"id": 7}
    other = threading.Thread(target=lambda: seen.append(gateway.issue(8)))
    other.start()
    other.join(10)

    assert seen == [{"id": 8}]
    assert len(sockets.attempts) == 2


def test_a_bad_api_key_is_unavailable_not_a_dead_letter(sockets, gateway):
    # A wrong or revoked key fails every call alike: a deployment fault to fix, after
    # which the kept events go through; dead-lettering them would lose them.
    sockets.script = [answer(401, "Unauthorized")]

    with pytest.raises(RedmineUnavailable) as caught:
        gateway.issue(7, journals=False)

    assert not isinstance(caught.value, RedmineRejected)
    assert "rejected the API key (401)" in str(caught.value)
    assert "redmine.api_key" in str(caught.value)
    assert sockets.request_lines() == ["GET /issues/7.json HTTP/1.1"]  # not retried
    assert request_of(sockets.received()[0])[1]["x-redmine-api-key"] == KEY


@pytest.mark.parametrize("status", [408, 429])
def test_request_timeout_and_rate_limit_are_unavailable(sockets, gateway, status):
    # "Try again later" answers (a reverse proxy's rate limit, typically): dead-lettering
    # the event would drop its SLA.
    sockets.script = [answer(status, "Later", Retry_After="30")]

    with pytest.raises(RedmineUnavailable) as caught:
        gateway.issue(7, journals=False)

    assert str(caught.value) == (
        f"UnknownError: Redmine returned unknown error with the status code {status}")
    assert caught.value.status == status
    # Not retried inside the call: the inbox's backoff does that, without holding a lease.
    assert sockets.request_lines() == ["GET /issues/7.json HTTP/1.1"]


def test_500_on_a_direct_read_is_unavailable_with_its_status(sockets, gateway):
    before = errors_counted("ServerError")
    sockets.script = [answer(500, "Internal Server Error", b"boom")]

    with pytest.raises(RedmineUnavailable) as caught:
        gateway.issue(7)

    assert caught.value.status == 500
    assert sockets.request_lines() == ["GET /issues/7.json?include=journals HTTP/1.1"]
    assert errors_counted("ServerError") == before + 1


def test_gateway_errors_on_a_direct_read_are_retried_then_unavailable(sockets, sleeps, gateway):
    sockets.script = [answer(502, "Bad Gateway"), answer(503, "Service Unavailable"),
                      answer(504, "Gateway Timeout"), answer(503, "Service Unavailable")]

    with pytest.raises(RedmineUnavailable, match="status code 503"):
        gateway.issue(7, journals=False)

    assert sockets.request_lines() == ["GET /issues/7.json HTTP/1.1"] * 4
    assert sleeps == [0.4, 0.8]
    assert gateway.calls.by_method == {"GET": 1}  # one gateway call, retried underneath


def test_a_direct_write_is_never_retried_in_the_call(sockets, sleeps, gateway):
    sockets.script = [answer(503, "Service Unavailable")]

    with pytest.raises(RedmineUnavailable, match="status code 503"):
        gateway.update_issue(7, notes="SLA: reaction overdue")

    assert sockets.request_lines() == ["PUT /issues/7.json HTTP/1.1"]
    assert json.loads(request_of(sockets.received()[0])[2]) == {
        "issue": {"notes": "SLA: reaction overdue"}}
    assert sleeps == []


def test_404_is_rejected(sockets, gateway):
    sockets.script = [answer(404, "Not Found")]

    with pytest.raises(RedmineRejected) as caught:
        gateway.issue(404404)

    assert (caught.value.status, caught.value.detail) == (404, "Requested resource doesn't exist")
    assert sockets.request_lines() == ["GET /issues/404404.json?include=journals HTTP/1.1"]


@pytest.mark.parametrize(("status", "detail"), [
    (403, "Requested resource is forbidden"),
    (409, "Resource version on the server is newer than on the client"),
    (412, "Impersonate login provided doesn't exist or isn't active"),
    (413, "The requested resource doesn't allow POST requests or the size of the request "
          "exceeds the capacity limit"),
    (400, "Redmine returned unknown error with the status code 400"),
])
def test_other_refusals_of_a_direct_write_are_rejected(sockets, gateway, status, detail):
    sockets.script = [answer(status, "Refused")]

    with pytest.raises(RedmineRejected) as caught:
        gateway.update_issue(7, notes="x")

    assert (caught.value.status, caught.value.detail) == (status, detail)
    assert sockets.request_lines() == ["PUT /issues/7.json HTTP/1.1"]


def test_422_carries_redmine_s_error_text(sockets, gateway):
    errors = ["Due date must be greater than start date", "Sla tier is not included in the list"]
    sockets.script = [answer(422, "Unprocessable Entity", json.dumps({"errors": errors}).encode(),
                             Content_Type="application/json; charset=utf-8")]

    with pytest.raises(RedmineRejected) as caught:
        gateway.update_issue(7, due_date="2020-01-01")

    expected = "Due date must be greater than start date, Sla tier is not included in the list"
    assert (caught.value.status, caught.value.detail) == (422, expected)
    assert str(caught.value) == f"Redmine refused the call (422): {expected}"
    assert json.loads(request_of(sockets.received()[0])[2]) == {"issue": {"due_date": "2020-01-01"}}


def test_a_non_json_body_on_a_direct_200_is_unavailable(sockets, gateway):
    # e.g. an SSO or maintenance page in front of Redmine answering 200 with HTML.
    page = b"<html><body>Please log in</body></html>"
    sockets.script = [answer(200, "OK", page, Content_Type="text/html")]

    with pytest.raises(RedmineUnavailable) as caught:
        gateway.issue(7)

    assert str(caught.value).startswith("JSONDecodeError: Unable to decode received JSON")
    assert caught.value.status == 200
    assert caught.value.__cause__.response.text == page.decode()


def test_a_redirect_of_a_direct_call_is_left_to_requests_and_python_redmine(sockets, gateway):
    # requests follows it, python-redmine warns (a wrong redmine.url, typically).
    moved = answer(301, "Moved Permanently", Location=f"{URL}/redmine/issues/7.json")
    sockets.script = [moved, moved, answer(200, "OK", b'{"issue": {"id": 7}}')]

    with pytest.warns(Warning, match="Redirect detected"):
        assert gateway.issue(7, journals=False) == {"id": 7}

    assert sockets.request_lines() == ["GET /issues/7.json HTTP/1.1"] * 2 + [
        "GET /redmine/issues/7.json HTTP/1.1"]
    assert gateway.calls.by_method == {"GET": 1}


def test_a_refused_direct_read_is_a_connection_error_as_through_requests(sockets, sleeps, gateway):
    sockets.script = [REFUSED] * 4

    with pytest.raises(RedmineUnavailable) as caught:
        gateway.issue(7)

    assert str(caught.value).startswith("ConnectionError: ")
    assert "Max retries exceeded with url: /issues/7.json?include=journals" in str(caught.value)
    assert caught.value.status is None
    assert isinstance(caught.value.__cause__, requests.ConnectionError)
    assert sockets.attempts == [(("redmine.test", 80), 2.5)] * 4


def test_direct_calls_go_through_the_proxy_of_the_environment_at_start(sockets, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.corp:3128")
    gateway = RedmineGateway(URL, KEY, timeout=2.5)
    monkeypatch.delenv("HTTP_PROXY")  # read at start only
    sockets.script = [answer(200, "OK", b'{"issue": {"id": 7}}'), answer(200, "OK", b'{"user": {}}')]

    assert gateway.issue(7, journals=False) == {"id": 7}
    gateway.current_user()

    # An HTTP proxy is sent the absolute URL, by both paths alike.
    assert sockets.request_lines() == [f"GET {URL}/issues/7.json HTTP/1.1",
                                       f"GET {URL}/users/current.json HTTP/1.1"]
    assert sockets.attempts == [(("proxy.corp", 3128), 2.5)] * 2


def test_a_gateway_with_a_login_sends_the_hot_calls_through_requests(rsps):
    gateway = RedmineGateway(URL, login=("admin", "secret"))
    rsps.get(f"{URL}/issues/7.json", json={"issue": {"id": 7}})
    rsps.put(f"{URL}/issues/7.json", status=204)

    assert gateway.issue(7, journals=False) == {"id": 7}
    gateway.update_issue(7, notes="x")

    assert [c.request.headers["Authorization"].startswith("Basic ") for c in rsps.calls] == [True] * 2


def test_an_update_with_files_or_dates_takes_python_redmine(rsps, gateway):
    # python-redmine uploads the files first, and formats dates.
    rsps.post(f"{URL}/uploads.json", json={"upload": {"token": "1.abc"}})
    rsps.put(f"{URL}/issues/7.json", status=204)
    rsps.put(f"{URL}/issues/8.json", status=204)

    gateway.update_issue(7, notes="log", uploads=[{"path": io.BytesIO(b"x"), "filename": "a.log"}])
    gateway.update_issue(8, due_date=datetime.date(2026, 12, 1))

    assert json.loads(rsps.calls[1].request.body) == {"issue": {
        "notes": "log", "uploads": [{"filename": "a.log", "token": "1.abc"}]}}
    assert json.loads(rsps.calls[2].request.body) == {"issue": {"due_date": "2026-12-01"}}


def test_a_422_without_errors_is_a_concurrent_update_and_is_tried_again(sockets, gateway):
    # Redmine's optimistic lock: another update of the issue landed while this one was
    # saved (ActiveRecord::StaleObjectError), and the API answers 422 with no error
    # (IssuesController#update). The same write succeeds a moment later.
    sockets.script = [answer(422, "Unprocessable Entity", json.dumps({"errors": []}).encode(),
                             Content_Type="application/json; charset=utf-8")]

    with pytest.raises(RedmineUnavailable) as caught:
        gateway.update_issue(7, notes="x")

    assert caught.value.status == 422
    assert "another update" in str(caught.value)
    assert sockets.request_lines() == ["PUT /issues/7.json HTTP/1.1"]  # not retried blindly
