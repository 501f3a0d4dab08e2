"""Redmine behind HTTPS, as production runs it: a TLS-terminating relay (a thread here,
nginx there) in front of the real Redmine, with a self-signed certificate.

Both of the gateway's HTTP clients take the same trust: requests for most calls, libcurl
for every event's GET and PUT of an issue (BridgeEngine.direct_request). A CA bundle
named in the environment at start (REQUESTS_CA_BUNDLE) is trusted by both, the default
trust store refuses the self-signed certificate in both, and `verify_tls: false` turns
checking off in both."""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from collections.abc import Iterator

import pytest
import requests

from redmine_sla_bridge.adapters.redmine.gateway import RedmineGateway, RedmineUnavailable
from tests.tls_testing import Certificate, self_signed

pytestmark = pytest.mark.redmine


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> Certificate:
    return self_signed(tmp_path_factory.mktemp("redmine-tls"))


@pytest.fixture(autouse=True)
def no_tls_or_proxy_env(monkeypatch):
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "HTTP_PROXY", "HTTPS_PROXY",
                 "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)


def _pump(source: socket.socket, target: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            target.sendall(data)
    with contextlib.suppress(OSError):
        target.shutdown(socket.SHUT_WR)


@contextlib.contextmanager
def tls_relay(certificate: Certificate, redmine_port: int) -> Iterator[str]:
    """https://127.0.0.1:PORT, relayed to Redmine's plain HTTP port."""
    context = certificate.server_context()
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()
    connections: list[socket.socket] = []

    def serve() -> None:
        while not stop.is_set():
            try:
                raw, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            raw.settimeout(10)
            try:
                client = context.wrap_socket(raw, server_side=True)
            except (ssl.SSLError, OSError):  # a client that refused our certificate
                raw.close()
                continue
            upstream = socket.create_connection(("127.0.0.1", redmine_port), timeout=30)
            connections.extend((client, upstream))
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pump, args=(source, target), daemon=True).start()

    acceptor = threading.Thread(target=serve, daemon=True)
    acceptor.start()
    try:
        yield f"https://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        acceptor.join(5)
        listener.close()
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.close()


def _redmine_port(redmine) -> int:
    return int(redmine.url.rsplit(":", 1)[1].split("/", 1)[0])


@pytest.fixture()
def issue_id(gateway, project) -> int:
    tracker = next(t["id"] for t in gateway.trackers() if t["name"] == "Support")
    return gateway.create_issue(project_id=project["id"], tracker_id=tracker,
                                subject="Over HTTPS", description="Проверка TLS")["id"]


def test_a_ca_bundle_from_the_environment_is_trusted_by_both_clients(
        redmine, certificate, issue_id, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(certificate.cert))
    with tls_relay(certificate, _redmine_port(redmine)) as url:
        gateway = RedmineGateway(url, redmine.api_key, timeout=10, retries=0)
        monkeypatch.delenv("REQUESTS_CA_BUNDLE")  # read once, at start
        assert gateway.current_user()["api_key"] == redmine.api_key  # requests
        gateway.update_issue(issue_id, notes="Записано по HTTPS")  # libcurl
        issue = gateway.issue(issue_id)  # libcurl, on the kept-alive connection
    assert issue["journals"][-1]["notes"] == "Записано по HTTPS"
    assert gateway.calls.by_method == {"GET": 2, "PUT": 1}


def test_an_untrusted_certificate_is_refused_by_both_clients(redmine, certificate, issue_id):
    with tls_relay(certificate, _redmine_port(redmine)) as url:
        gateway = RedmineGateway(url, redmine.api_key, timeout=10, retries=0)
        with pytest.raises(RedmineUnavailable) as through_requests:
            gateway.current_user()
        with pytest.raises(RedmineUnavailable) as read:
            gateway.issue(issue_id)
        with pytest.raises(RedmineUnavailable) as write:
            gateway.update_issue(issue_id, notes="never written")
    for caught in (through_requests, read, write):
        assert isinstance(caught.value.__cause__, requests.exceptions.SSLError), caught.value
        assert caught.value.status is None
    assert "certificate" in str(read.value).lower()
    assert all(j.get("notes") != "never written" for j in RedmineGateway(
        redmine.url, redmine.api_key).issue(issue_id)["journals"])


def test_verify_tls_off_accepts_any_certificate_in_both_clients(redmine, certificate, issue_id):
    with tls_relay(certificate, _redmine_port(redmine)) as url:
        gateway = RedmineGateway(url, redmine.api_key, timeout=10, retries=0, verify_tls=False)
        with pytest.warns(Warning, match="Unverified HTTPS request"):  # urllib3's, for requests
            assert gateway.current_user()["api_key"] == redmine.api_key
        gateway.update_issue(issue_id, notes="Без проверки сертификата")
        assert gateway.issue(issue_id)["journals"][-1]["notes"] == "Без проверки сертификата"
