"""Shared helpers of the benchmarks (and of tests/fault): the local Redmine, a dedicated
benchmark tracker and projects, configs, `serve` processes, a signed-webhook load
generator, percentiles and machine facts.

Isolation from the test suite, which shares the same local Redmine: every benchmark
issue is filed under its own tracker, "SLA Bench", so a test whose scope is "all
projects, tracker Support" never pages through (or sweeps) the 10,000 issues of the sweep
benchmark. The tracker is created once (Ruby, `rails runner`) with Support's workflow,
and the bridge's custom fields are enabled for it by `provision` (additive: it never
removes the trackers or list values the tests rely on).

Imports are kept light (stdlib at module level): gunicorn loads `create_hello_app()`
from here for the hello-world baseline.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import multiprocessing
import os
import platform
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
CLI = str(VENV_BIN / "redmine-sla-bridge")
BENCH_TRACKER = "SLA Bench"
WEBHOOK_SECRET = "bench-webhook-secret-5b1f"
SIGNATURE_HEADER = "X-Redmine-Signature-256"
# Same values as tests/conftest.py's provisioning, so provisioning for the benchmark
# tracker adds no list value (provision only ever adds).
TIERS = ("partner", "premium", "trial", "update", "standard", "basic", "warranty",
         "individual", "subscription", "demo", "none", "other")
PRIORITIES = ("P1", "P2", "P3", "P4")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- machine ----------------------------------------------------------------------------

def machine() -> str:
    mem_kb = 0
    with open("/proc/meminfo") as fh:
        for line in fh:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    model = ""
    try:
        with open("/proc/cpuinfo") as fh:
            model = next((line.split(":", 1)[1].strip() for line in fh
                          if line.startswith("model name")), "")
    except OSError:
        pass
    return (f"nproc={os.cpu_count()} memory={mem_kb / 1048576:.1f} GiB cpu={model or '?'} "
            f"python={platform.python_version()}")


def percentile(values, p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty sequence."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), math.ceil(p / 100 * len(ordered))))
    return ordered[rank - 1]


def peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- webhooks ---------------------------------------------------------------------------

def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


_TEMPLATE = json.loads((ROOT / "webhooks" / "examples" / "redmine7-issue-updated.json").read_text())


def redmine7_body(issue_id: int, journal_id: int) -> bytes:
    """A Redmine 7 `issue.updated` webhook body (the example's shape and size)."""
    document = json.loads(json.dumps(_TEMPLATE))
    document["data"]["issue"]["id"] = issue_id
    document["data"]["journal"]["id"] = journal_id
    return json.dumps(document, ensure_ascii=False).encode()


# -- the local Redmine --------------------------------------------------------------------

@dataclass(frozen=True)
class Redmine:
    url: str
    api_key: str
    port: int
    server: str = "?"  # the app server answering on the port (puma, webrick)

    @property
    def keep_alive(self) -> bool:
        """Kept-alive connections to Puma (as production); `Connection: close` to
        WEBrick, which answers kept-alive calls late (delayed ACK, docs/PERFORMANCE.md).
        BENCH_KEEP_ALIVE=0/1 overrides."""
        chosen = os.environ.get("BENCH_KEEP_ALIVE")
        if chosen is not None:
            return chosen not in ("0", "false", "no")
        return self.server != "webrick"

    def gateway(self):
        from redmine_sla_bridge.adapters.redmine.gateway import RedmineGateway

        return RedmineGateway(self.url, self.api_key, keep_alive=self.keep_alive, timeout=60)

    def local(self):
        from redmine_sla_bridge.devtools.local_redmine import LocalRedmine

        return LocalRedmine(port=self.port)


def redmine() -> Redmine:
    """The local Redmine (started if it does not answer; never stopped here)."""
    from redmine_sla_bridge.devtools.local_redmine import LocalRedmine

    port = int(os.environ.get("REDMINE_TEST_PORT", "3000"))
    local = LocalRedmine(port=port)
    key = local.start(log=log)
    os.environ["BENCH_REDMINE_API_KEY"] = key
    os.environ["BENCH_WEBHOOK_SECRET"] = WEBHOOK_SECRET
    return Redmine(local.url, key, port, running_server(local))


def running_server(local) -> str:
    """What serves the port, from the command line of the pid in `dev-redmine`'s pid
    file ("?" when another tool started it)."""
    try:
        pid = int((local.state_dir / f"redmine-{local.port}.pid").read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except (OSError, ValueError):
        return "?"
    return "puma" if "puma" in cmdline else "webrick" if "webrick" in cmdline else "?"


_TRACKER_RUBY = """
name = %(name)r
support = Tracker.find_by!(name: "Support")
t = Tracker.find_by(name: name)
unless t
  t = Tracker.new(name: name, default_status: support.default_status, is_in_roadmap: false)
  t.core_fields = support.core_fields
  t.save!
  t.copy_workflow_rules(support)
end
puts "TRACKER #{t.id}"
"""


def bench_tracker(rm: Redmine) -> int:
    """The id of the "SLA Bench" tracker, created (with Support's workflow) if missing,
    with the bridge's fields enabled for it."""
    gateway = rm.gateway()
    found = {t["name"]: t["id"] for t in retrying(gateway.trackers)}
    if BENCH_TRACKER not in found:
        log(f"creating the {BENCH_TRACKER!r} tracker (rails runner, ~5 s) ...")
        rm.local().runner(_TRACKER_RUBY % {"name": BENCH_TRACKER})
        found = {t["name"]: t["id"] for t in gateway.trackers()}
    tracker_id = found[BENCH_TRACKER]
    fields = {f["name"]: f for f in retrying(gateway.custom_fields)}
    if any(name not in fields or tracker_id not in {t["id"] for t in fields[name].get("trackers", ())}
           for name in ("SLA state", "Next SLA check", "First response due (date)")):
        provision(rm)
    return tracker_id


def provision(rm: Redmine) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        document = document_for(rm, projects="all", store=f"sqlite:///{tmp}/p.sqlite3")
        document["redmine"]["api_key"] = rm.api_key
        document["redmine"]["admin"] = {"login": "admin", "password": "admin"}
        document["policy"]["tiers"] = [{"name": n, "when": {"partner": True}} for n in TIERS[:-1]]
        document["policy"]["tiers"].append({"name": TIERS[-1], "when": {}})
        document["policy"]["priority"]["levels"] = list(PRIORITIES)
        document["policy"]["priority"]["default_impact"] = PRIORITIES[-1]
        # The same field marker as the tests' English fields (tests/conftest.py), so both
        # provision the same fields instead of claiming each other's.
        document["provision"] = {"instance": "tests-en"}
        path = write_config(Path(tmp) / "provision.yaml", document)
        log("provisioning the bridge's fields for the benchmark tracker ...")
        subprocess.run([CLI, "provision", "--config", str(path)], check=True,
                       stdout=subprocess.DEVNULL)


def bench_project(rm: Redmine, identifier: str, tracker_id: int) -> dict:
    """A dedicated project with only the benchmark tracker (created once, reused)."""
    from redmine_sla_bridge.adapters.redmine.gateway import RedmineRejected

    gateway = rm.gateway()
    try:
        return retrying(gateway.project, identifier)
    except RedmineRejected:
        return retrying(gateway.create_project, identifier, f"Benchmark {identifier}",
                        tracker_ids=[tracker_id])


_DELETE_RUBY = """
p = Project.find_by(identifier: %(project)r)
if p
  ids = Issue.where(project_id: p.id).pluck(:id)
  ids.each_slice(1000) do |slice|
    Issue.transaction do
      CustomValue.where(customized_type: "Issue", customized_id: slice).delete_all
      journals = Journal.where(journalized_type: "Issue", journalized_id: slice).pluck(:id)
      JournalDetail.where(journal_id: journals).delete_all
      Journal.where(id: journals).delete_all
      Watcher.where(watchable_type: "Issue", watchable_id: slice).delete_all
      Issue.where(id: slice).delete_all
    end
  end
  p.reload.destroy
end
puts "DELETED"
"""


def delete_project(rm: Redmine, identifier: str) -> None:
    """Delete a benchmark project and its issues in SQL (1,000 at a time): Redmine's own
    destroy runs every issue's callbacks, minutes for 10,000 issues."""
    log(f"deleting project {identifier} ...")
    rm.local().runner(_DELETE_RUBY % {"project": identifier})


_BULK_SQL_RUBY = """
p = Project.find_by!(identifier: %(project)r)
t = Tracker.find_by!(name: %(tracker)r)
cf = IssueCustomField.where(name: %(names)s).pluck(:name, :id).to_h
plain = %(plain)s
every = %(every)d
due = %(due)s
c = ActiveRecord::Base.connection
q = ->(v) { c.quote(v) }
status = t.default_status
priority = IssuePriority.default || IssuePriority.active.first
author = User.find_by_login("admin")
at = Time.iso8601(%(at)r).utc
fresh = "project_id = #{p.id} AND root_id IS NULL"
Issue.transaction do
  c.execute(<<~SQL)
    INSERT INTO issues (project_id, tracker_id, status_id, priority_id, author_id, subject,
                        description, start_date, done_ratio, is_private, lock_version, lft, rgt,
                        created_on, updated_on)
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < #{%(count)d})
    SELECT #{p.id}, #{t.id}, #{status.id}, #{priority.id}, #{author.id},
           #{q.(%(subject)r)} || ' ' || i, #{q.("The VPN client stops after the update.")},
           #{q.(at.to_date)}, 0, #{c.quoted_false}, 0, 1, 2, #{q.(at)}, #{q.(at)}
    FROM n
  SQL
  first = c.select_value("SELECT min(id) FROM issues WHERE #{fresh}").to_i
  plain.each do |name, value|
    pick = due.key?(name) && every > 0 ?
      "CASE WHEN (id - #{first}) %% #{every} = 0 THEN #{q.(due[name])} ELSE #{q.(value)} END" : q.(value)
    c.execute("INSERT INTO custom_values (customized_type, customized_id, custom_field_id, value) " \
              "SELECT 'Issue', id, #{cf.fetch(name)}, #{pick} FROM issues WHERE #{fresh}")
  end
  last = c.select_value("SELECT max(id) FROM issues WHERE #{fresh}").to_i
  c.execute("UPDATE issues SET root_id = id WHERE #{fresh}")
  puts "CREATED #{first} #{last}"
end
"""


def _ruby(value) -> str:
    """A Ruby literal for JSON-like data (JSON is valid Ruby for strings, numbers and
    arrays; hashes need `=>`)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_ruby(k)} => {_ruby(v)}" for k, v in value.items()) + "}"
    return json.dumps(value)


def bulk_issues(rm: Redmine, project: str, count: int, *, subject: str, values: dict[str, str],
                at: str, every: int = 0, due: dict[str, str] | None = None) -> tuple[int, int]:
    """`count` open issues of the benchmark tracker in `project`, inserted in SQL in one
    transaction (`INSERT ... SELECT` over a recursive counter, one statement per custom
    field: seconds for 100,000, where ActiveRecord's `insert_all` in batches took ~6 s a
    thousand). Ids are consecutive; returns (first id, last id).

    Every issue gets `values` (custom field name -> value), each `every`-th from the
    first the `due` values instead; `created_on`/`updated_on` are `at` (ISO timestamp).
    Redmine's callbacks do not run: nested-set columns are those of a root issue, no
    journal is written."""
    out = rm.local().runner(_BULK_SQL_RUBY % {
        "project": project, "tracker": BENCH_TRACKER, "count": count, "subject": subject,
        "names": json.dumps(list(values)), "plain": _ruby(values), "every": every,
        "due": _ruby(due or {}), "at": at})
    line = next(line for line in out.splitlines() if line.startswith("CREATED "))
    first, last = (int(x) for x in line.split()[1:])
    if last - first + 1 != count:
        raise RuntimeError(f"bulk insert made ids {first}..{last}, not {count} consecutive ones")
    return first, last


_SET_RUBY = """
rows = %(rows)s
names = rows.values.flat_map { |row| row.fetch("values", {}).keys }.uniq
cf = IssueCustomField.where(name: names).pluck(:name, :id).to_h
Issue.transaction do
  rows.each do |id, row|
    row.fetch("values", {}).each do |name, value|
      CustomValue.where(customized_type: "Issue", customized_id: id,
                        custom_field_id: cf.fetch(name)).update_all(value: value)
    end
    if row["created_on"]
      at = Time.iso8601(row["created_on"]).utc
      Issue.where(id: id).update_all(created_on: at, updated_on: at, start_date: at.to_date)
    end
  end
end
puts "SET #{rows.size}"
"""


def set_issues(rm: Redmine, rows: dict[int, dict]) -> None:
    """Rewrite a few bulk-inserted issues in SQL, without a journal: issue id ->
    {"values": {field name: value}, "created_on": ISO timestamp (also `updated_on`)}."""
    rm.local().runner(_SET_RUBY % {"rows": _ruby({int(k): v for k, v in rows.items()})})


def retrying(fn, *args, attempts: int = 4, **kwargs):
    """A setup call to the shared Redmine, retried: on SQLite, Redmine answers 500 after
    its 15 s busy timeout when two writers meet (other test runs use it too)."""
    from redmine_sla_bridge.adapters.redmine.gateway import RedmineUnavailable

    for attempt in range(attempts):
        try:
            return fn(*args, **kwargs)
        except RedmineUnavailable as exc:
            # Only a quick 500 (a lock wait that gave up) is retried: after a timeout the
            # request is still queued in WEBrick, and a retry would only add to the queue.
            if attempt == attempts - 1 or "ServerError" not in str(exc):
                raise
            log(f"Redmine unavailable ({exc}); retrying")
            time.sleep(2)


MINIMAL_DESCRIPTION = "The VPN client stops after the update."


def create_issues(rm: Redmine, project_id: int, tracker_id: int, count: int, subject: str,
                  description: str = MINIMAL_DESCRIPTION) -> list[int]:
    gateway = rm.gateway()
    return [retrying(gateway.create_issue, project_id=project_id, tracker_id=tracker_id,
                     subject=f"{subject} {n + 1}", description=description)["id"]
            for n in range(count)]


def open_issue_ids(rm: Redmine, project_id: int, tracker_id: int, limit: int = 100) -> list[int]:
    issues = retrying(rm.gateway().find_issues, project_id=project_id, tracker_id=tracker_id,
                                      status_id="open", sort="id", limit=limit)
    return [int(i["id"]) for i in issues]


# -- configs ------------------------------------------------------------------------------

def document_for(rm: Redmine, *, projects, store: str, tracker: str = BENCH_TRACKER,
                 polling: dict | None = None, **sections) -> dict:
    """A bridge config like the tests' (keep-alive as `rm.keep_alive`), secrets from ${ENV}."""
    document: dict = {
        "language": "en",
        "redmine": {"url": rm.url, "api_key": "${BENCH_REDMINE_API_KEY}", "keep_alive": rm.keep_alive,
                    "timeout_seconds": 60},
        "scope": {"projects": projects, "trackers": [tracker]},
        "store": {"url": store},
        "polling": polling or {"enabled": False},
        "webhooks": {"secret": "${BENCH_WEBHOOK_SECRET}"},
        "calendars": {"office": {"timezone": "Europe/Moscow",
                                 "week": {"mon-fri": [["09:00", "18:00"]]}, "holidays": "RU"}},
        "policy": {
            "calendar": "office",
            "tiers": [{"name": "standard", "when": {}}],
            "priority": {"mode": "impact", "default_impact": "P3"},
            "targets": [{"when": {}, "first_response": "8h", "resolution": "5d"}],
        },
    }
    document.update(sections)
    return document


def write_config(path: Path, document: dict) -> Path:
    import yaml

    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def runtime_for(config_path: Path):
    """A bridge like serve's (store from the config), built in this process."""
    from redmine_sla_bridge.bootstrap import bootstrap
    from redmine_sla_bridge.config.loader import load_config

    return bootstrap(load_config(config_path), notifier=None)


# -- processes ------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, seconds: float = 30.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before {url} answered")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not answer within {seconds:.0f} s")
        time.sleep(0.1)


def start_serve(config_path: Path, port: int, *, workers: int = 2, output=None,
                log_level: str = "WARNING", extra_env: dict | None = None) -> subprocess.Popen:
    """`redmine-sla-bridge serve` (gunicorn, gthread) in its own process group."""
    proc = subprocess.Popen(
        [CLI, "--log-level", log_level, "serve", "--config", str(config_path),
         "--bind", f"127.0.0.1:{port}", "--workers", str(workers)],
        stdout=output or subprocess.DEVNULL, stderr=subprocess.STDOUT if output else subprocess.DEVNULL,
        stdin=subprocess.DEVNULL, start_new_session=True,
        env={**os.environ, **(extra_env or {})},
    )
    wait_http(f"http://127.0.0.1:{port}/healthz", proc=proc)
    return proc


def start_hello(port: int, *, workers: int = 2) -> subprocess.Popen:
    """The baseline: a Flask hello-world under the same gunicorn settings as `serve`
    (taken from entrypoints/serve.py: gthread, threads, timeouts, keep-alive; no access
    log)."""
    from redmine_sla_bridge.entrypoints import serve

    proc = subprocess.Popen(
        [str(VENV_BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
         "--worker-class", "gthread", "--threads", str(serve.THREADS),
         "--timeout", str(serve.WORKER_TIMEOUT_S), "--graceful-timeout", str(serve.GRACEFUL_TIMEOUT_S),
         "--keep-alive", str(serve.KEEPALIVE_S), "--pythonpath", str(ROOT / "benchmarks"),
         "common:create_hello_app()"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    wait_http(f"http://127.0.0.1:{port}/healthz", proc=proc)
    return proc


def stop(proc: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 30.0) -> None:
    """Signal a process group started by this module; SIGKILL it if it lingers."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


def server_cpu(proc: subprocess.Popen) -> float:
    """CPU seconds (user + system) used so far by a gunicorn master and its workers, and
    the drainer process (forked by a thread of the master: its children are listed
    under that thread's task)."""
    ticks = os.sysconf("SC_CLK_TCK")
    pids = [proc.pid]
    for children in Path(f"/proc/{proc.pid}/task").glob("*/children"):
        try:
            pids += [int(p) for p in children.read_text().split()]
        except OSError:
            continue
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def create_hello_app():
    from flask import Flask, jsonify, request

    app = Flask("hello")

    @app.post("/webhooks/redmine")
    def hello():
        request.get_data(cache=False)
        return jsonify({"hello": "world"}), 202

    @app.get("/healthz")
    def healthz():
        return jsonify({"status": "ok"})

    return app


# -- the load generator ---------------------------------------------------------------

@dataclass
class LoadResult:
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    stored: int = 0  # 202 and not a duplicate
    duplicates: int = 0
    errors: int = 0
    client_cpu: float = 0.0
    server_cpu: float = 0.0
    # Precomputed latencies (seconds), from a generator that does not return each one
    # (wrk); None: computed from `latencies`.
    p50: float | None = None
    p99: float | None = None
    max_latency: float | None = None
    generator: str = "python"
    notes: list[str] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    def latency_summary(self) -> tuple[float, float, float]:
        """(p50, p99, max) in seconds, precomputed or from the raw list."""
        if self.p50 is not None:
            return self.p50, self.p99, self.max_latency
        lat = self.latencies
        return percentile(lat, 50), percentile(lat, 99), max(lat) if lat else float("nan")


def _load_worker(port: int, index: int, issue_ids: list[int], start_at: float, stop_at: float,
                 journal_base: int, queue, pregenerate: int = 0, sync=None) -> None:
    """One client process. With `pregenerate`, that many signed requests are built (and
    `sync` = (ready queue, go event, shared start time) synchronises the start after
    every process has built its own); beyond them, or without it, each request is built
    and signed inside the measured loop."""
    import http.client

    def build(n: int) -> tuple[bytes, dict]:
        journal = journal_base + index * 10_000_000 + n
        body = redmine7_body(issue_ids[n % len(issue_ids)], journal)
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(WEBHOOK_SECRET, body),
                   "X-Redmine-Delivery": f"bench-{journal}"}
        return body, headers

    prepared = [build(n) for n in range(1, pregenerate + 1)]
    if sync is not None:
        ready, go, shared_start = sync
        ready.put(index)
        go.wait()
        start_at, stop_at = shared_start.value, shared_start.value + (stop_at - start_at)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    stored = duplicates = errors = built_in_loop = 0
    n = 0
    while time.time() < start_at:
        time.sleep(0.001)
    cpu0 = time.process_time()
    while True:
        now = time.perf_counter()
        if time.time() >= stop_at:
            break
        n += 1
        if n <= pregenerate:
            body, headers = prepared[n - 1]
        else:
            body, headers = build(n)
            built_in_loop += 1
        try:
            conn.request("POST", "/webhooks/redmine", body=body, headers=headers)
            resp = conn.getresponse()
            payload = resp.read()
        except (OSError, http.client.HTTPException):
            errors += 1
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            continue
        latencies.append(time.perf_counter() - now)
        statuses[resp.status] = statuses.get(resp.status, 0) + 1
        if resp.status == 202:
            if b'"duplicate":false' in payload.replace(b" ", b""):
                stored += 1
            else:
                duplicates += 1
    queue.put((latencies, statuses, stored, duplicates, errors, time.process_time() - cpu0,
               built_in_loop))
    conn.close()


def generate_load(port: int, *, issue_ids: list[int], processes: int, seconds: float,
                  journal_base: int = 0, server: subprocess.Popen | None = None,
                  pregenerate: int = 0) -> LoadResult:
    """Closed loop: `processes` client processes, one keep-alive connection each, every
    request a fresh signed Redmine 7 body (its own journal id and delivery id), for
    `seconds`. Every process starts at the same instant (after a fork-and-import pause).

    By default each request is built and signed inside the measured loop. With
    `pregenerate`=N, each process builds and signs its first N requests before the common
    start (which then waits for every process to be ready), so the measured loop only
    sends; requests beyond N are built in the loop, and a note says how many."""
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    start_at = time.time() + 0.5
    stop_at = start_at + seconds
    sync = None
    if pregenerate:
        sync = (ctx.Queue(), ctx.Event(), ctx.Value("d", 0.0))
    procs = [ctx.Process(target=_load_worker, args=(port, i, issue_ids, start_at, stop_at,
                                                     journal_base, queue, pregenerate, sync))
             for i in range(processes)]
    for proc in procs:
        proc.start()
    if sync is not None:
        ready, go, shared_start = sync
        for _ in procs:
            ready.get(timeout=300)
        shared_start.value = time.time() + 0.2
        go.set()
    result = LoadResult(seconds=seconds)
    cpu_before = server_cpu(server) if server is not None else 0.0
    built_in_loop = 0
    for _ in procs:
        latencies, statuses, stored, duplicates, errors, cpu, built = queue.get(timeout=seconds + 120)
        result.latencies += latencies
        for status, count in statuses.items():
            result.statuses[status] = result.statuses.get(status, 0) + count
        result.stored += stored
        result.duplicates += duplicates
        result.errors += errors
        result.client_cpu += cpu
        built_in_loop += built
    if server is not None:
        result.server_cpu = server_cpu(server) - cpu_before
    for proc in procs:
        proc.join()
    if pregenerate:
        result.generator = "python, pre-generated"
        if built_in_loop:
            result.notes.append(f"python: {built_in_loop} requests built and signed inside the "
                                f"measured loop (the {pregenerate} pre-generated per process ran out)")
    return result


def count_rows(sqlite_path: Path, where: str = "1=1") -> int:
    import sqlite3

    with sqlite3.connect(sqlite_path) as conn:
        return conn.execute(f"SELECT count(*) FROM inbox_events WHERE {where}").fetchone()[0]
