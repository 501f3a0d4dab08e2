"""State-change latency of the sweep: how long after the instant an issue becomes at
risk or breached the new "SLA state" is written to Redmine, at 10,000 and 100,000 open
issues, with the scheduler serve runs (`BridgeScheduler`: APScheduler, the leader
lease, the fast pass every `lifecycle.sweep_interval_seconds`).

    .venv/bin/python benchmarks/bench_state_latency.py [--sizes 10000,100000]
        [--interval 30] [--changes 20] [--window 180] [--keep]

Real time, no injected clock: the issues are backdated so their instants fall in the
next few minutes. Per size, a project `sla-bench-latency-<n>-<random>` gets `n` open
issues of the "SLA Bench" tracker inserted in SQL (`common.bulk_issues`), with the
bridge's fields as after an acceptance: 24x7 calendar, a first response due in one
day ("1d": the time allowed is start to due, so instants fall on any second, not only on
whole minutes; the due field itself has minutes), created a day before the run (older
than the fast pass's 2 h look-back for unstamped issues), `next_check` in 2031. Then
`--changes` of them get instants spread over the `--window` seconds after the
scheduler starts (a golden-ratio sequence, so they fall at every phase of the pass
interval): half become at risk (on track, 75 % of the time used at the instant, any
second), half breach (at risk, due at the instant: a whole minute, as the due field
holds minutes, so every breach of a run meets the passes at the same phase), `next_check`
today. Each instant is checked with the domain's own `time_driven_state` a second
either side.

The figure per issue: the `created_on` of the journal that wrote its new SLA state
(Redmine's own clock, whole seconds: up to 1 s early) minus its instant. Printed: max,
p95 and median, with every pass's start and duration, which explain them: a change
waits for the next pass after its instant (up to one interval) and then for its place
in that pass (up to its duration). Nothing is asserted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from zoneinfo import ZoneInfo

import common

FORMAT = "%Y-%m-%d %H:%M"
SHARE = 0.75  # sla.at_risk_share (the default)
GOLDEN = (5 ** 0.5 - 1) / 2
COMMON = {"SLA tier": "standard", "License status": "none", "SLA priority": "P3"}
PLAIN = {**COMMON, "SLA state": "on track", "First response due": "2031-01-10 18:00",
         "Next SLA check": "2031-01-10"}


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def at_risk_issue(instant: dt.datetime, zone: ZoneInfo) -> tuple[dict, dt.datetime]:
    """An issue on track that becomes at risk at `instant` (75 % of start..due used):
    due on the whole minute after instant + 6 h (the field has minutes), created 4
    times (due - instant) before the due minute, about a day. Returns its row for
    `set_issues` and the instant."""
    instant = instant.replace(microsecond=0)
    due = instant + dt.timedelta(hours=6)
    if due.second:
        due = due.replace(second=0) + dt.timedelta(minutes=1)
    start = due - (due - instant) / (1 - SHARE)
    return {"created_on": iso(start),
            "values": {"SLA state": "on track", "First response due": due.astimezone(zone).strftime(FORMAT),
                       "Next SLA check": instant.astimezone(zone).date().isoformat()}}, instant


def breach_issue(instant: dt.datetime, zone: ZoneInfo) -> tuple[dict, dt.datetime]:
    """An issue at risk whose first response is due on the whole minute at or after
    `instant` (the field holds minutes): it breaches at the first pass after it."""
    due = instant.replace(second=0, microsecond=0)
    if due < instant:
        due += dt.timedelta(minutes=1)
    return {"created_on": iso(due - dt.timedelta(days=1)),
            "values": {"SLA state": "at risk", "First response due": due.astimezone(zone).strftime(FORMAT),
                       "Next SLA check": due.astimezone(zone).date().isoformat()}}, due


def measure(rm, tracker_id: int, size: int, args) -> dict:
    from redmine_sla_bridge.entrypoints.scheduler import BridgeScheduler

    identifier = f"sla-bench-latency-{size}-{uuid.uuid4().hex[:6]}"
    common.bench_project(rm, identifier, tracker_id)
    try:
        common.log(f"bulk-creating {size} issues in {identifier} (rails runner, SQL) ...")
        started = time.perf_counter()
        first, _ = common.bulk_issues(rm, identifier, size, subject="Latency benchmark", values=PLAIN,
                                      at=iso(dt.datetime.now(dt.UTC) - dt.timedelta(days=1)))
        inserted = time.perf_counter() - started
        with tempfile.TemporaryDirectory(prefix="bench-latency-") as tmp:
            document = common.document_for(rm, projects=[identifier],
                                           store=f"sqlite:///{tmp}/bridge.sqlite3")
            document["policy"]["calendar"] = "24x7"
            document["policy"]["targets"] = [{"when": {}, "first_response": "1d"}]
            document["lifecycle"] = {"sweep_interval_seconds": args.interval,
                                     "escalation": {"at_risk": {"private_note": True},
                                                    "breached": {"private_note": True}}}
            config = common.write_config(Path(tmp) / "bridge.yaml", document)
            rt = common.runtime_for(config)
            assert rt.redmine.catalog.facts  # read now, as a serving process has them
            zone = ZoneInfo(rt.rules.timezone)  # the fields' zone (the policy calendar's)
            state_field = str(rt.redmine._due_field_map().id("sla_state"))
            # The instants: spread over the window after the scheduler starts (the
            # second runner call, which backdates them, takes ~10-20 s first).
            begin = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=args.lead)
            rows, expected = {}, {}
            for k in range(args.changes):
                # Evenly spread steps would meet the passes at a few phases only (15 s
                # steps and a 30 s interval: two); a golden-ratio sequence meets them at
                # every phase of the interval.
                offset = args.window * ((k // 2 * GOLDEN) % 1)
                instant = begin + dt.timedelta(seconds=offset)
                row, exact = (at_risk_issue if k % 2 == 0 else breach_issue)(instant, zone)
                index = (k + 1) * (size // (args.changes + 1))  # spread over the id range
                rows[first + index] = row
                expected[first + index] = ("at risk" if k % 2 == 0 else "breached", exact, row)
            common.set_issues(rm, rows)
            for state, exact, row in expected.values():
                check(rt, row, exact, state)
            if dt.datetime.now(dt.UTC) > min(e[1] for e in expected.values()):
                common.log("warning: the first instant passed before the scheduler started "
                           "(raise --lead)")
            passes: list[dict] = []
            scheduler = BridgeScheduler(rt)
            leader = scheduler.leader
            fast, interval = leader.jobs["sweep"]
            lock = threading.Lock()

            def timed():
                begun = dt.datetime.now(dt.UTC)
                t0 = time.perf_counter()
                entry = {"start": begun, "seen": 0, "changed": 0, "full": False, "error": None}
                try:
                    report = fast()
                    if report is not None:
                        entry.update(seen=report.seen, changed=len(report.changed), full=report.full)
                    return report
                except Exception as exc:  # the scheduler logs it; the table shows it
                    entry["error"] = type(exc).__name__
                    raise
                finally:
                    entry["seconds"] = time.perf_counter() - t0
                    with lock:
                        passes.append(entry)

            leader.jobs["sweep"] = (timed, interval)
            last = max(e[1] for e in expected.values())
            deadline = last + dt.timedelta(seconds=3 * args.interval + 60)
            common.log(f"scheduler running; instants {iso(begin)} .. {iso(last)}, "
                       f"interval {args.interval} s")
            scheduler.start()
            try:
                while dt.datetime.now(dt.UTC) < deadline:
                    time.sleep(1)
                    with lock:
                        changed = sum(p["changed"] for p in passes)
                    if changed >= len(expected) and dt.datetime.now(dt.UTC) > last:
                        break
            finally:
                scheduler.shutdown()
            latencies = {}
            gateway = rm.gateway()
            for issue_id, (state, exact, _) in expected.items():
                issue = common.retrying(gateway.issue, issue_id)
                written = next((j["created_on"] for j in issue.get("journals", ())
                                for d in j.get("details", ())
                                if d.get("property") == "cf" and str(d.get("name")) == state_field
                                and d.get("new_value") == state), None)
                latencies[issue_id] = (
                    None if written is None else
                    (dt.datetime.fromisoformat(written.replace("Z", "+00:00")) - exact).total_seconds())
    finally:
        if not args.keep:
            common.delete_project(rm, identifier)
    return {"size": size, "inserted_seconds": inserted, "latencies": latencies,
            "expected": {k: (v[0], v[1]) for k, v in expected.items()}, "passes": passes}


def check(rt, row: dict, exact: dt.datetime, state: str) -> None:
    """The domain agrees on the instant: a second before it the state is not yet
    `state`, a second after it is (the target as the config's "1d" on 24x7)."""
    from redmine_sla_bridge.domain.calendar.duration import WorkingDays
    from redmine_sla_bridge.domain.lifecycle.clock import time_driven_state
    from redmine_sla_bridge.domain.policy.targets import Target, TargetKind
    from redmine_sla_bridge.domain.processing.escalation import open_target
    from redmine_sla_bridge.domain.processing.field_values import parse_field_time

    created = dt.datetime.fromisoformat(row["created_on"].replace("Z", "+00:00"))
    due = parse_field_time(row["values"]["First response due"], ZoneInfo(rt.rules.timezone))
    targets = [open_target(TargetKind.FIRST_RESPONSE, Target(WorkingDays(1), "24x7"), due, created,
                           rt.rules.schedules["24x7"])]
    for offset, wanted in ((-1, False), (1, True)):
        got = str(time_driven_state(targets, exact + dt.timedelta(seconds=offset), SHARE))
        if (got == state) != wanted:
            raise SystemExit(f"instant {exact}: the domain says {got!r} {offset:+d} s from it")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000", help="open issues, comma-separated")
    parser.add_argument("--interval", type=int, default=30,
                        help="lifecycle.sweep_interval_seconds of the bridge [30]")
    parser.add_argument("--changes", type=int, default=20, help="state changes per size [20]")
    parser.add_argument("--window", type=float, default=180,
                        help="seconds over which the instants are spread [180]")
    parser.add_argument("--lead", type=float, default=40,
                        help="seconds from now to the window's start (the backdating runs first) [40]")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark projects")
    args = parser.parse_args()
    print(f"machine: {common.machine()}")
    rm = common.redmine()
    print(f"Redmine: {rm.url} served by {rm.server}, keep-alive {'on' if rm.keep_alive else 'off'}")
    tracker_id = common.bench_tracker(rm)
    for size in (int(s) for s in args.sizes.split(",") if s):
        row = measure(rm, tracker_id, size, args)
        report(row, args)


def report(row: dict, args) -> None:
    lat = row["latencies"]
    got = [v for v in lat.values() if v is not None]
    passes = row["passes"]
    print(f"\n{row['size']} open issues ({row['inserted_seconds']:.0f} s to insert), "
          f"{len(lat)} state changes over {args.window:.0f} s, fast pass every {args.interval} s")
    for p in passes:
        print(f"  pass at {p['start']:%H:%M:%S} {p['seconds']:6.2f} s  read {p['seen']:>4}  "
              f"changed {p['changed']}{'  (FULL)' if p['full'] else ''}"
              f"{'  failed: ' + p['error'] if p['error'] else ''}")
    for issue_id, (state, exact) in sorted(row["expected"].items(), key=lambda e: e[1][1]):
        value = lat[issue_id]
        print(f"  #{issue_id} {state:<8} instant {exact:%H:%M:%S} -> "
              + ("never written" if value is None else f"written {value:6.1f} s after"))
    if not got:
        print("  no state change was written")
        return
    durations = [p["seconds"] for p in passes if not p["full"] and not p["error"]]
    longest = max(durations) if durations else float("nan")
    print(f"{row['size']} open: latency max {max(got):.1f} s, p95 {common.percentile(got, 95):.1f} s, "
          f"median {common.percentile(got, 50):.1f} s (target <= 60 s); {len(lat) - len(got)} not "
          f"written; fast pass {min(durations):.2f}-{longest:.2f} s "
          f"(median {common.percentile(durations, 50):.2f}); bound interval + longest pass = "
          f"{args.interval + longest:.1f} s; max / bound = {max(got) / (args.interval + longest):.2f}")


if __name__ == "__main__":
    sys.exit(main())
