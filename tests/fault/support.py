"""Helpers of the fault tests: a `serve` config, a webhook sender, store counts, a TCP
proxy that can play a stopped Redmine."""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import sqlite3
import threading
import time
from pathlib import Path

import common  # benchmarks/common.py (the folder's conftest puts it on sys.path)

from tests.conftest import base_document, write_config

SECRET = "fault-webhook-secret"


def serve_config(redmine, tmp_path: Path, project: dict, *, url: str | None = None,
                 name: str = "bridge", **sections) -> tuple[Path, Path]:
    """A config for `serve` scoped to one project (secrets as ${ENV}: redmine_env and
    FAULT_WEBHOOK_SECRET); returns (config path, sqlite store path)."""
    store = tmp_path / f"{name}.sqlite3"
    document = base_document(redmine, admin=False)
    document["scope"]["projects"] = [project["identifier"]]
    document["store"] = {"url": f"sqlite:///{store}"}
    document["polling"] = {"enabled": False}
    document["webhooks"] = {"secret": "${FAULT_WEBHOOK_SECRET}"}
    document["lifecycle"] = {"sweep_interval_seconds": 86400}
    document["redmine"]["timeout_seconds"] = 60
    if url:
        document["redmine"]["url"] = url
    document.update(sections)
    return write_config(tmp_path / f"{name}.yaml", document), store


def patient_gateway(redmine):
    """A gateway with a 60 s timeout: the shared WEBrick Redmine on SQLite can stall for
    tens of seconds while other test runs write to it."""
    from redmine_sla_bridge.adapters.redmine.gateway import RedmineGateway

    return RedmineGateway(redmine.url, redmine.api_key, keep_alive=False, timeout=60)


def create_issues(gateway, project: dict, tracker_id: int, count: int, subject: str, **fields) -> list[int]:
    return [common.retrying(gateway.create_issue, project_id=project["id"], tracker_id=tracker_id,
                            subject=f"{subject} {n}", description="VPN is down", **fields)["id"]
            for n in range(count)]


def body(issue_id: int, journal_id: int) -> bytes:
    return common.redmine7_body(issue_id, journal_id)


class Sender:
    """Sends signed Redmine 7 deliveries over one keep-alive connection, in order,
    remembering which got an answer (like Redmine, which retries what got none)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.answers: dict[int, tuple[int, bool]] = {}  # index -> (status, duplicate)
        self._conn: http.client.HTTPConnection | None = None

    def send(self, index: int, issue_id: int, journal_id: int, delivery: str | None = None) -> bool:
        data = body(issue_id, journal_id)
        headers = {"Content-Type": "application/json",
                   "X-Redmine-Signature-256": common.sign(SECRET, data)}
        if delivery:
            headers["X-Redmine-Delivery"] = delivery
        try:
            if self._conn is None:
                self._conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            self._conn.request("POST", "/webhooks/redmine", body=data, headers=headers)
            answer = self._conn.getresponse()
            payload = answer.read()
        except (OSError, http.client.HTTPException):
            if self._conn is not None:
                self._conn.close()
            self._conn = None
            return False
        self.answers[index] = (answer.status, b'"duplicate":true' in payload.replace(b" ", b""))
        return answer.status == 202

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()


def counts(store: Path) -> dict[str, int]:
    with sqlite3.connect(store, timeout=30) as conn:
        rows = dict(conn.execute("SELECT state, count(*) FROM inbox_events GROUP BY state").fetchall())
    return {"pending": rows.get("pending", 0), "done": rows.get("done", 0), "dead": rows.get("dead", 0)}


def wait_drained(store: Path, expected: int, seconds: float, proc=None) -> dict[str, int]:
    deadline = time.monotonic() + seconds
    while True:
        now = counts(store)
        if now["pending"] == 0 and now["done"] + now["dead"] >= expected:
            return now
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"serve exited ({proc.returncode}) with {now}")
        if time.monotonic() > deadline:
            raise AssertionError(f"not drained within {seconds:.0f} s: {now}")
        time.sleep(0.5)


def notes(gateway, issue_id: int) -> list[str]:
    return [j["notes"] for j in gateway.issue(issue_id)["journals"] if j.get("notes")]


def worker_pids(proc) -> set[int]:
    children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
    return {int(p) for p in children.read_text().split()} if children.exists() else set()


def wait_workers(proc, count: int, seconds: float = 30) -> set[int]:
    """The gunicorn master's workers once `count` are up: the first answers /healthz
    while the next may still be booting on a loaded machine."""
    deadline = time.monotonic() + seconds
    while True:
        workers = worker_pids(proc)
        if len(workers) >= count or time.monotonic() > deadline:
            return workers
        time.sleep(0.1)


class RedmineProxy:
    """A loopback TCP forwarder to Redmine that can be "stopped": while down it accepts
    and at once closes every connection (counted), as a stopped server refuses them;
    the bridge sees a failed call either way, and the count shows how often it tried."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = common.free_port()
        self.down = False
        self.refused = 0
        self.forwarded = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> RedmineProxy:
        self._thread.start()
        assert self._ready.wait(10)
        return self

    def __exit__(self, *_exc) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", self.port))
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            server.close()

    async def _handle(self, reader, writer) -> None:
        if self.down:
            self.refused += 1
            writer.transport.abort()
            return
        self.forwarded += 1
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.transport.abort()
            return

        async def pipe(src, dst):
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (OSError, asyncio.CancelledError):
                pass
            finally:
                with contextlib.suppress(OSError):
                    dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
