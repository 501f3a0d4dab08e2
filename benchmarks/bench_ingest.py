"""Webhook ingest: durably accepted Redmine 7 webhooks per second under `serve`, against a
Flask hello-world under the same gunicorn settings.

    .venv/bin/python benchmarks/bench_ingest.py [--seconds 10] [--workers 2]
        [--generator wrk] [--threads 2] [--connections 16] [--max-rate 8000]
        [--generator python|python-pregen] [--clients 4]
        [--synchronous full|normal] [--runs bridge,acceptance,hello] [--split-cpus]

What runs:
- `redmine-sla-bridge serve` (gunicorn, gthread, 8 threads per worker) on a loopback
  port, with a fresh SQLite store (WAL, synchronous=FULL by default: one fsync per
  commit; concurrent webhooks share a commit, and the mean events per commit is printed),
  polling off. Its drainers really process the events in the background against the
  local Redmine: the events name 20 real issues of the dedicated project
  `sla-bench-ingest` (tracker "SLA Bench"), so the measured rate includes that work
  competing for the same CPUs, as in production. (At most one Redmine call at a time
  per worker: the load on the shared Redmine stays bounded.)
- The load generator, in a closed loop, on the same 2 CPUs as the server (its CPU time
  is printed). Every request is a distinct Redmine 7 `issue.updated` event (the
  example's size, ~1 KB) with its own journal id and `X-Redmine-Delivery`, signed with
  HMAC-SHA256. Each measured run follows a 1 s warm-up whose events have other ids.
  - `wrk` (default; installed with apt-get if missing): `--threads` threads,
    `--connections` keep-alive connections. Lua cannot sign, so the requests are
    pre-generated and signed (not timed) into a file sized for `--max-rate` requests/s
    x 1.5 (a run that outpaces it warns); see wrk_load.py. Latencies are wrk's
    histogram with its coordinated-omission correction undone (raw, as Python's).
  - `python`: `--clients` processes with http.client, one keep-alive connection each,
    building and signing each request inside the measured loop (the original
    generator); `python-pregen`: the same, each process building and signing its
    requests before the common start.
- The same again with Redmine's URL pointing at a closed port ("acceptance only"): the
  drainers fail at once and back off, so the figure is the acceptance path alone.
- The same generator against a Flask app that reads the body and answers 202 JSON,
  under the same gunicorn options as `serve` (common.start_hello takes them from
  entrypoints/serve.py), once before and once after the bridge's runs: the ratio is to
  the mean of the two, and their quotient shows how much the shared machine's load
  changed meanwhile.

`--split-cpus` stands in for Redmine on a host of its own, as production runs it: Redmine's
app server (every process and thread) is pinned to the machine's last CPU and this process, with
everything it starts (serve, its drainers, the hello-world, wrk), to the others, for the
whole run; both pinnings are undone at the end. On 2 CPUs that leaves the bridge and the
hello-world one CPU each time, so the ratio compares like with like; without it Redmine's
work for the drainers takes its share of the same 2 CPUs the hello-world has to itself.

Printed: accepted events/s, p50/p99 latency, the ratio to hello-world, and the check that
the store holds exactly as many events as were answered 202 "stored". No assertion.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import common
import wrk_load

PROJECT = "sla-bench-ingest"
ISSUES = 20


def issues(rm, tracker_id: int) -> list[int]:
    project = common.bench_project(rm, PROJECT, tracker_id)
    ids = common.open_issue_ids(rm, project["id"], tracker_id)
    if len(ids) < ISSUES:
        ids += common.create_issues(rm, project["id"], tracker_id, ISSUES - len(ids),
                                    "Ingest benchmark")
    return ids[:ISSUES]


def report(name: str, result: common.LoadResult) -> float:
    bridge = name.startswith("bridge")
    rate = (result.stored if bridge else result.statuses.get(202, 0)) / result.seconds
    p50, p99, worst = result.latency_summary()
    print(f"{name}: {result.requests} requests in {result.seconds:.0f} s ({result.generator}):\n    "
          f"{rate:8.1f} {'accepted events' if bridge else 'answers'}/s  "
          f"p50 {p50 * 1e3:6.2f} ms  p99 {p99 * 1e3:6.2f} ms  "
          f"max {worst * 1e3:7.2f} ms  statuses {dict(sorted(result.statuses.items()))}  "
          f"client errors {result.errors}\n    server CPU {result.server_cpu:.1f} s = "
          f"{result.server_cpu / max(1, result.requests) * 1e3:.2f} ms per request (all its processes, "
          f"background work included); load generator CPU {result.client_cpu:.1f} s")
    for note in result.notes:
        print(f"    {note}")
    return rate


class Load:
    """The chosen load generator; for wrk, the pre-generated requests (in `tmp`)."""

    WARM_BASE = 900_000_000  # journal ids of the warm-ups: never those of a measured run

    def __init__(self, args, issue_ids: list[int], tmp: Path):
        self.args, self.issue_ids, self.tmp = args, issue_ids, tmp
        if args.generator == "wrk":
            self.wrk = wrk_load.ensure_wrk()
            self.warm_data = self._write("warm", 1.0, self.WARM_BASE)
            self.data = self._write("measured", args.seconds, 0)

    def _write(self, name: str, seconds: float, journal_base: int, rate: float | None = None):
        total = wrk_load.requests_needed(seconds, rate or self.args.max_rate)
        started = time.perf_counter()
        data = wrk_load.write_requests(self.tmp / f"{name}.tsv", issue_ids=self.issue_ids,
                                       threads=self.args.threads, total=total,
                                       journal_base=journal_base)
        common.log(f"pre-generated {data.capacity} signed requests for the {name} runs in "
                   f"{time.perf_counter() - started:.1f} s ({data.path.stat().st_size / 1e6:.0f} MB)")
        return data

    def describe(self) -> str:
        a = self.args
        if a.generator == "wrk":
            return (f"wrk, {a.threads} threads x {a.connections} keep-alive connections in all, "
                    f"{self.data.capacity} pre-generated events per measured run")
        return (f"{a.clients} Python client processes x 1 keep-alive connection"
                + (", requests pre-generated" if a.generator == "python-pregen" else ""))

    def run(self, port: int, *, warm: bool = False, server=None) -> common.LoadResult:
        a = self.args
        seconds = 1.0 if warm else a.seconds
        if a.generator == "wrk":
            result = wrk_load.run(port, self.warm_data if warm else self.data,
                                  connections=a.connections, seconds=seconds, server=server,
                                  wrk=self.wrk)
            if warm:
                self._fit(result.requests / result.seconds)
            return result
        pregenerate = 0
        if a.generator == "python-pregen":
            pregenerate = math.ceil(wrk_load.requests_needed(seconds, a.max_rate) / a.clients)
        return common.generate_load(port, issue_ids=self.issue_ids, processes=a.clients,
                                    seconds=seconds, journal_base=self.WARM_BASE if warm else 0,
                                    server=server, pregenerate=pregenerate)

    def _fit(self, warm_rate: float) -> None:
        """Regenerate the measured requests if the warm-up ran so fast that they might run
        out (the slice of one thread would repeat events)."""
        if warm_rate * self.args.seconds * 1.3 > self.data.capacity:
            common.log(f"the warm-up ran at {warm_rate:.0f} requests/s: more requests are needed")
            self.data = self._write("measured", self.args.seconds, 0, rate=warm_rate * 1.3)


def main() -> None:
    parser = argparse.ArgumentParser(
        description="Webhook ingest under serve vs a Flask hello-world (see the module docstring).")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per run (10)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument("--generator", choices=("wrk", "python", "python-pregen"), default="wrk",
                        help="load generator (wrk)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    parser.add_argument("--connections", type=int, default=16,
                        help="wrk keep-alive connections in all (16)")
    parser.add_argument("--max-rate", type=float, default=8000.0,
                        help="requests/s the pre-generated requests are sized for, x 1.5 (8000)")
    parser.add_argument("--clients", type=int, default=4,
                        help="client processes of the python generators (4)")
    parser.add_argument("--synchronous", choices=("full", "normal"), default="full",
                        help="the bridge's store.sqlite_synchronous (full, the default)")
    parser.add_argument("--split-cpus", action="store_true",
                        help="Redmine on the last CPU, the benchmark on the others (see above)")
    parser.add_argument("--runs", default="bridge,acceptance,hello",
                        help="which runs, comma-separated (bridge,acceptance,hello)")
    args = parser.parse_args()
    wanted = set(args.runs.split(","))
    if not wanted or wanted - {"bridge", "acceptance", "hello"}:
        parser.error("--runs takes bridge, acceptance and/or hello")
    if args.threads < 1 or args.connections % args.threads:
        parser.error("--connections must be a multiple of --threads (each wrk thread opens "
                     "connections / threads)")
    if args.generator == "wrk":
        try:
            wrk_load.ensure_wrk()
        except wrk_load.WrkUnavailable as exc:
            sys.exit(f"bench_ingest: {exc}.\nRun with --generator python to use the Python "
                     f"load generator instead.")

    print(f"machine: {common.machine()}")
    rm = common.redmine()
    tracker_id = common.bench_tracker(rm)
    issue_ids = issues(rm, tracker_id)
    if args.split_cpus:
        with split_cpus(rm.port):
            measure(args, rm, issue_ids)
    else:
        measure(args, rm, issue_ids)


def measure(args, rm, issue_ids: list[int]) -> None:
    wanted = set(args.runs.split(","))
    with tempfile.TemporaryDirectory(prefix="bench-ingest-load-") as tmp:
        load = Load(args, issue_ids, Path(tmp))
        print(f"serve: {args.workers} gunicorn gthread workers x 8 threads, store "
              f"sqlite_synchronous={args.synchronous}; load: "
              f"{load.describe()}; {args.seconds:.0f} s each after a 1 s warm-up")
        runs = {}
        hellos = []
        # The hello-world runs before and after the bridge's: on a shared machine the
        # load changes within a minute, and the ratio is to the mean of the two.
        if "hello" in wanted:
            hellos.append(run_hello(args, load))
        for key, name, url in (
                ("bridge", "bridge", rm.url),
                ("acceptance", "bridge, acceptance only", f"http://127.0.0.1:{common.free_port()}")):
            if key in wanted:
                runs[name] = run_bridge(rm, args, load, redmine_url=url)
        if "hello" in wanted and runs:
            hellos.append(run_hello(args, load))

    rates = [report(f"hello-world ({when})", hello)
             for when, hello in zip(("before", "after"), hellos, strict=False)]
    hello_rate = sum(rates) / len(rates) if rates else None
    if len(rates) == 2:
        print(f"hello-world mean {hello_rate:.1f} answers/s (before/after = "
              f"{rates[0] / rates[1]:.2f}: how much the machine changed meanwhile)")
    for name, (result, stored_rows, processed, per_commit) in runs.items():
        rate = report(name, result)
        p99 = result.latency_summary()[1] * 1e3
        ratio = f"{rate / hello_rate * 100:5.1f} %" if hello_rate else "(no hello-world run)"
        print(f"  ratio to hello-world = {ratio}; store check: "
              f"{stored_rows} rows written, {result.stored} answered 202 stored, "
              f"{result.duplicates} answered duplicate -> "
              f"{'EXACT' if stored_rows == result.stored else 'MISMATCH'}; processed in the "
              f"background meanwhile: {processed}; events per inbox commit: {per_commit}")
        print(f"  targets: >= 1000 accepted events/s ({rate:.0f}), >= 50 % of hello-world "
              f"({ratio.strip()}), p99 <= 50 ms ({p99:.1f} ms)")


def run_hello(args, load: Load) -> common.LoadResult:
    port = common.free_port()
    proc = common.start_hello(port, workers=args.workers)
    try:
        load.run(port, warm=True)
        return load.run(port, server=proc)
    finally:
        common.stop(proc)


def run_bridge(rm, args, load: Load, *, redmine_url: str):
    """One `serve` on a fresh store; with a closed port as Redmine's URL the drainers fail
    fast and back off, which leaves the acceptance path alone on the CPUs."""
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        store = Path(tmp) / "bridge.sqlite3"
        document = common.document_for(rm, projects=[PROJECT], store=f"sqlite:///{store}",
                                        lifecycle={"sweep_interval_seconds": 86400})
        document["store"]["sqlite_synchronous"] = args.synchronous
        document["redmine"].update(url=redmine_url, **({} if redmine_url == rm.url else
                                                       {"retries": 0, "timeout_seconds": 1}))
        config = common.write_config(Path(tmp) / "bridge.yaml", document)
        port = common.free_port()
        proc = common.start_serve(config, port, workers=args.workers)
        try:
            load.run(port, warm=True)  # warm-up (stored too, other journal ids)
            warm = common.count_rows(store)
            redmine = redmine_cpu(rm.port)
            result = load.run(port, server=proc)
            redmine = redmine_cpu(rm.port) - redmine
            processed = common.count_rows(store, "state = 'done'")
            dead = common.count_rows(store, "state = 'dead'")
            per_commit = events_per_commit(port)
        finally:
            common.stop(proc)
        if redmine_url == rm.url:
            result.notes.append(f"Redmine's CPU meanwhile (its app server processes, the run "
                                f"with its ~1 s start and the grace included): {redmine:.1f} s")
        if dead:  # e.g. a field the config names missing in Redmine: nothing is processed
            result.notes.append(f"WARNING: {dead} events dead-lettered in the background")
        return result, common.count_rows(store) - warm, processed, per_commit


def redmine_cpu(port: int) -> float:
    """CPU seconds used so far by the process serving Redmine on `port`; 0 if none is
    found. On the benchmark's 2 CPUs it competes with `serve` for the same cores."""
    ticks = 0
    for proc in redmine_processes(port):
        try:
            stat = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # a worker that has ended since
            continue
        ticks += int(stat[11]) + int(stat[12])
    return ticks / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def split_cpus(port: int):
    """Redmine's server (all its threads) on the last CPU, this process and what it starts
    on the others; both restored afterwards."""
    procs = redmine_processes(port)
    cpus = sorted(os.sched_getaffinity(0))
    if not procs or len(cpus) < 2:
        sys.exit(f"bench_ingest: --split-cpus needs Redmine's server on port {port} "
                 f"(found: {bool(procs)}) and 2 CPUs or more (this process may use {cpus})")
    threads = [int(t.name) for proc in procs for t in (proc / "task").iterdir()]
    before = {tid: os.sched_getaffinity(tid) for tid in threads}
    for tid in threads:
        os.sched_setaffinity(tid, {cpus[-1]})
    os.sched_setaffinity(0, set(cpus[:-1]))
    print(f"split CPUs: Redmine ({len(procs)} processes, {len(threads)} threads) on CPU "
          f"{cpus[-1]}, the benchmark and everything it starts on {cpus[:-1]}")
    try:
        yield
    finally:
        os.sched_setaffinity(0, set(cpus))
        for tid, mask in before.items():
            with contextlib.suppress(OSError):  # a thread that has ended since
                os.sched_setaffinity(tid, mask)


def redmine_processes(port: int) -> list[Path]:
    """/proc/<pid> of the process serving Redmine on `port` and of its children (Puma's
    cluster workers); empty if none is found."""
    main = redmine_process(port)
    if main is None:
        return []
    children = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and (proc / "stat").read_text().rsplit(")", 1)[1].split()[1] == main.name:
                children.append(proc)
        except OSError:
            continue
    return [main, *children]


def redmine_process(port: int) -> Path | None:
    """/proc/<pid> of the process serving Redmine on `port`: Puma (its master in cluster
    mode), found by the title it gives itself, or WEBrick, by `-p <port>`."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            command = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        words = [w.decode(errors="replace") for w in command]
        # Puma retitles itself "puma 5.6.5 (tcp://127.0.0.1:3000) [redmine]"
        if (f"(tcp://127.0.0.1:{port})" in " ".join(words) and words[0].startswith("puma")) or (
                "server" in words and "-p" in words and str(port) in words):
            return proc
    return None


def events_per_commit(port: int) -> str:
    """Mean events per inbox commit over the whole run (warm-up included), from the
    bridge's own /metrics: how many webhooks shared each fsync."""
    import urllib.request

    from prometheus_client.parser import text_string_to_metric_families

    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    found = {sample.name.rsplit("_", 1)[1]: sample.value
             for family in text_string_to_metric_families(text)
             if family.name == "bridge_inbox_commit_events"
             for sample in family.samples if sample.name.endswith(("_sum", "_count"))}
    if not found.get("count"):
        return "n/a"
    return f"{found['sum'] / found['count']:.1f} (mean of {found['count']:.0f} commits)"


if __name__ == "__main__":
    main()
