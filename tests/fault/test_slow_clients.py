"""64 stalled clients cannot stop the bridge behind the shipped nginx config.

gunicorn's gthread workers give a connection a thread as soon as it sends a byte, and
read the rest with no time-out: 16 clients that send half a request (2 workers x 8
threads) leave `serve` unable to answer anyone. The recommended setup puts Debian's
nginx in front (deploy/nginx/redmine-sla-bridge.conf), which reads every request whole,
with time-outs, before it passes it on.

This starts a private nginx (its own prefix, pid file, error log and temp dirs; no
system service) with the shipped config, changed only in its ports and paths (TLS with
a throw-away certificate), and `serve` behind it; opens 64 TLS connections to the public
side that each send half a request and stop (half the head, or the head and half the
body); then probes: signed webhooks on the public side and /healthz on the private side
must all be answered quickly, and nginx must drop the stalled clients after its 10 s
time-outs. Redmine is a closed port: nothing here needs it.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import common
import pytest

from tests.conftest import write_config

CONFIG = common.ROOT / "deploy" / "nginx" / "redmine-sla-bridge.conf"
SECRET = "slow-clients-webhook-secret"
STALLED = 64
PROBES = 20
PROBE_TIMEOUT_S = 10.0
NGINX_TIMEOUT_S = 10  # client_header_timeout and client_body_timeout in the shipped config


def nginx_binary() -> str:
    """Debian's nginx, installed if missing (as the project's scripts/test does)."""
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if found:
        return found
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        pytest.skip("nginx is not installed (apt-get install nginx needs root)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-qq", "nginx"]
    if subprocess.run(install, env=env, capture_output=True, timeout=600).returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True, timeout=600)
        subprocess.run(install, env=env, capture_output=True, timeout=600)
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if not found:
        pytest.skip("apt-get could not install nginx")
    return found


def certificate(directory: Path) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed for a throw-away certificate")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True, timeout=60)
    return cert, key


def site_config(directory: Path, *, public: int, private: int, upstream: int,
                cert: Path, key: Path) -> Path:
    """The shipped file with its ports and paths replaced, each exactly once (so that a
    change to the file that this no longer matches fails here, loudly)."""
    text = CONFIG.read_text()
    for old, new in (("listen 443 ssl;", f"listen 127.0.0.1:{public} ssl;"),
                     ("listen 127.0.0.1:8081;", f"listen 127.0.0.1:{private};"),
                     ("server 127.0.0.1:8080;", f"server 127.0.0.1:{upstream};"),
                     ("/etc/ssl/certs/bridge.example.com.pem", str(cert)),
                     ("/etc/ssl/private/bridge.example.com.key", str(key)),
                     ("/var/log/nginx/redmine-sla-bridge.access.log", str(directory / "access.log"))):
        assert text.count(old) == 1, f"{old!r} is not once in {CONFIG}"
        text = text.replace(old, new)
    path = directory / "redmine-sla-bridge.conf"
    path.write_text(text)
    return path


def main_config(directory: Path, site: Path) -> Path:
    """What Debian's /etc/nginx/nginx.conf provides around a site, in `directory`."""
    temp = {name: directory / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    for path in temp.values():
        path.mkdir()
    user = "user root;\n" if os.geteuid() == 0 else ""  # the temp dirs are root's only
    path = directory / "nginx.conf"
    path.write_text(
        f"{user}worker_processes 2;\npid {directory / 'nginx.pid'};\n"
        f"error_log {directory / 'error.log'} info;\n"
        "events { worker_connections 1024; }\n"
        "http {\n"
        + "".join(f"    {name}_temp_path {p};\n" if name != "body" else f"    client_body_temp_path {p};\n"
                  for name, p in temp.items())
        + f"    include {site};\n}}\n")
    return path


@contextlib.contextmanager
def nginx(directory: Path, conf: Path) -> Iterator[None]:
    binary = nginx_binary()
    base = [binary, "-p", str(directory), "-c", str(conf), "-e", str(directory / "error.log")]
    checked = subprocess.run([*base, "-t"], capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stderr
    proc = subprocess.Popen([*base, "-g", "daemon off;"], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        yield
    finally:
        common.stop(proc, timeout=15)


def wait_port(port: int, seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while True:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        if time.monotonic() > deadline:
            raise AssertionError(f"nothing listens on {port} after {seconds:.0f} s")
        time.sleep(0.1)


def tls_context(cert: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(cert))


def stall(port: int, context: ssl.SSLContext, n: int) -> ssl.SSLSocket:
    """A TLS connection that sends half a request and stops."""
    sock = context.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10),
                               server_hostname="127.0.0.1")
    if n % 2:
        sock.sendall(b"POST /webhooks/redmine HTTP/1.1\r\nHost: localhost\r\nContent-Ty")
    else:
        sock.sendall(b"POST /webhooks/redmine HTTP/1.1\r\nHost: localhost\r\n"
                     b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
                     + b'{"type": "issue.updated", "data": ' + b" " * 100)
    return sock


def closed_by_peer(sock: ssl.SSLSocket) -> bool:
    sock.settimeout(0.05)
    try:
        while True:
            if not sock.recv(4096):  # EOF (after nginx's 408, if it sent one)
                return True
    except (TimeoutError, ssl.SSLWantReadError, BlockingIOError):
        return False
    except (OSError, ssl.SSLError):
        return True


def probe_webhook(port: int, context: ssl.SSLContext, n: int) -> int:
    body = common.redmine7_body(900_000_100, n + 1)
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=PROBE_TIMEOUT_S)
    try:
        conn.request("POST", "/webhooks/redmine", body=body,
                     headers={"Content-Type": "application/json",
                              "X-Redmine-Signature-256": common.sign(SECRET, body)})
        answer = conn.getresponse()
        answer.read()
        return answer.status
    finally:
        conn.close()


def get(port: int, path: str, context: ssl.SSLContext | None = None) -> int:
    conn: http.client.HTTPConnection = (
        http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=PROBE_TIMEOUT_S)
        if context else http.client.HTTPConnection("127.0.0.1", port, timeout=PROBE_TIMEOUT_S))
    try:
        conn.request("GET", path)
        answer = conn.getresponse()
        answer.read()
        return answer.status
    finally:
        conn.close()


def serve_document(tmp_path: Path) -> dict:
    return {
        "language": "en",
        "redmine": {"url": f"http://127.0.0.1:{common.free_port()}", "api_key": "${SLOW_REDMINE_KEY}",
                    "keep_alive": False, "retries": 0, "timeout_seconds": 2},
        "scope": {"projects": "all", "trackers": ["Support"]},
        "store": {"url": f"sqlite:///{tmp_path / 'bridge.sqlite3'}"},
        "polling": {"enabled": False},
        "webhooks": {"secret": "${SLOW_WEBHOOK_SECRET}"},
        "lifecycle": {"sweep_interval_seconds": 86400},
        "calendars": {"office": {"timezone": "Europe/Moscow",
                                 "week": {"mon-fri": [["09:00", "18:00"]]}, "holidays": "RU"}},
        "policy": {"calendar": "office", "tiers": [{"name": "standard", "when": {}}],
                   "priority": {"mode": "impact", "default_impact": "P3"}},
    }


def test_64_stalled_clients_through_nginx_leave_every_probe_answered(tmp_path):
    nginx_binary()
    directory = tmp_path / "nginx"
    directory.mkdir()
    cert, key = certificate(directory)
    serve_port, public, private = common.free_port(), common.free_port(), common.free_port()
    site = site_config(directory, public=public, private=private, upstream=serve_port,
                       cert=cert, key=key)
    config = write_config(tmp_path / "bridge.yaml", serve_document(tmp_path))
    env = {"SLOW_REDMINE_KEY": "k" * 40, "SLOW_WEBHOOK_SECRET": SECRET}
    context = tls_context(cert)
    proc = common.start_serve(config, serve_port, extra_env=env)
    stalled: list[ssl.SSLSocket] = []
    try:
        with nginx(directory, main_config(directory, site)):
            wait_port(public)
            wait_port(private)
            # Only the private side shows health and metrics.
            assert get(private, "/healthz") == 200 and get(private, "/metrics") == 200
            assert get(public, "/healthz", context) == 404 and get(public, "/metrics", context) == 404

            for n in range(STALLED):
                stalled.append(stall(public, context, n))
            stalled_at = time.monotonic()
            time.sleep(0.5)  # let nginx take them all in

            latencies: list[float] = []
            answers: list[int] = []
            for n in range(PROBES):
                started = time.monotonic()
                try:
                    status = probe_webhook(public, context, n) if n % 2 else get(private, "/healthz")
                except (OSError, http.client.HTTPException) as exc:
                    status = -1
                    print(f"probe {n}: {exc!r}")
                latencies.append(time.monotonic() - started)
                answers.append(status)
            answered = sum(1 for status, took in zip(answers, latencies, strict=True)
                           if status in (200, 202) and took < PROBE_TIMEOUT_S)
            print(f"{STALLED} stalled clients through nginx: {answered}/{PROBES} probes answered, "
                  f"max {max(latencies):.3f} s, statuses {sorted(set(answers))}")
            assert answered == PROBES, answers

            # nginx's own time-outs drop the stalled clients (serve never saw them).
            deadline = stalled_at + NGINX_TIMEOUT_S + 8
            open_ = list(stalled)
            while open_ and time.monotonic() < deadline:
                open_ = [sock for sock in open_ if not closed_by_peer(sock)]
                time.sleep(0.5)
            print(f"stalled clients dropped by nginx after {time.monotonic() - stalled_at:.1f} s: "
                  f"{STALLED - len(open_)}/{STALLED}")
            assert not open_
            assert proc.poll() is None
    finally:
        for sock in stalled:
            with contextlib.suppress(OSError):
                sock.close()
        common.stop(proc)
