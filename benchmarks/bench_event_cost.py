"""Cost of one event against the real Redmine: API calls and the bridge's own CPU time.

    .venv/bin/python benchmarks/bench_event_cost.py [--issues 30] [--journals 1,100,1000]
        [--profile FILE]

Workload: `--issues` new requests filed (untimed) in the dedicated project
`sla-bench-cost` (tracker "SLA Bench"), then `process_issue` on each, one after the
other in this process (no other thread runs), then once more on each (the repeat
delivery: nothing changed). Two kinds of request, each measured so:
- minimal: one English sentence and nothing else (the workload issue 19's 3 ms target
  was set on);
- a customer's letter (`LETTER`): what most requests look like, a Russian email with
  the problem, the version and a signature (name, position, organization, INN, phone,
  email), so the gate reads the data out of the text and flags each value it took for
  the engineers (a private note: one more PUT, as Redmine keeps one note per journal).

Method:
- API calls: the gateway's `calls` counter (every HTTP request to Redmine, by method)
  before and after each `process_issue`. Redmine facts (statuses, trackers, the
  bridge's user) are read once per process before timing, as in `serve`.
- CPU: `time.process_time()` (CPU time of this whole process, user + system) around
  each `process_issue`. Waiting for Redmine's answer is not CPU time, so this is the
  bridge's own cost: its logic plus the HTTP client (requests, urllib3, JSON). The part
  spent inside Redmine calls (building requests, parsing answers) is measured the same
  way around each gateway call and printed apart, and so is the part in `plan_issue`
  (the domain's decisions); the rest of the bridge logic is turning Redmine's JSON into
  a snapshot and the plan into a payload. Wall time is printed too; it is mostly
  Redmine (kept-alive connections to Puma; `Connection: close` to WEBrick).
- Cold and warm caches: 30 more new requests are loaded (untimed) and only planned,
  twice back to back (the second pass is the warm figure), then each once more right
  after writing over a 64 MiB buffer (bigger than the CPU's last-level cache, so the
  interpreter's code and data come from memory again, as after an event's wait on
  Redmine). Printed with their ratios to the planning measured inside the events.
- `--profile FILE`: after the timed rounds, 30 more letters run under cProfile
  (CPU clock) and their stats are written to FILE (`python -m pstats FILE`); profiling
  slows the code it watches ~3x, so its figures are shares, not times.

Growth with journals (`--journals`): for each count N, one accepted issue gets N - 1 more
journals (private notes of the bridge's user, bulk-inserted in Ruby), then one event is
processed on it `--repeats` times (nothing changes: one GET with every journal). The
projects are `sla-bench-cost-<random>`, deleted at the end.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import common

LETTER = """Добрый день!

После обновления до версии 4.2.1 VPN-клиент перестаёт подключаться через 5-10 минут,
в журнале ошибка "TLS handshake timeout". Перезагрузка не помогает. Логи приложил.

--
С уважением,
Иван Петров
инженер, ООО "Ромашка"
ИНН 7707083893
тел. +7 (495) 123-45-67
ivan.petrov@romashka.ru
"""
LETTER_SUBJECT = "VPN отваливается после обновления"

_JOURNALS_RUBY = """
issue = Issue.find(%(issue)d)
user = User.find_by_login("admin")
now = Time.now.utc
rows = (1..%(count)d).map do |i|
  {journalized_type: "Issue", journalized_id: issue.id, user_id: user.id,
   notes: "Checked the logs again (#{i}).", private_notes: true, created_on: now}
end
Journal.insert_all(rows) unless rows.empty?
puts Journal.where(journalized_type: "Issue", journalized_id: issue.id).count
"""


class CpuInCalls:
    """Wraps the gateway's one HTTP entry point to add up CPU and wall time inside it,
    and `plan_issue` (the domain's part) to add up its CPU."""

    def __init__(self, gateway) -> None:
        from redmine_sla_bridge.service import process_issue as module

        self.cpu = 0.0
        self.wall = 0.0
        self.plan = 0.0
        inner = gateway._call
        plan = module.plan_issue

        def timed(fn, *args, **kwargs):
            c, w = time.process_time(), time.perf_counter()
            try:
                return inner(fn, *args, **kwargs)
            finally:
                self.cpu += time.process_time() - c
                self.wall += time.perf_counter() - w

        def planned(*args, **kwargs):
            c = time.process_time()
            try:
                return plan(*args, **kwargs)
            finally:
                self.plan += time.process_time() - c

        gateway._call = timed
        module.plan_issue = planned

    def reset(self) -> None:
        self.cpu = self.wall = self.plan = 0.0


def measure(rt, issue_ids, probe: CpuInCalls, label: str) -> tuple[int, float, float]:
    from redmine_sla_bridge.service.process_issue import process_issue

    cpu, wall, http_cpu, http_wall, plan_cpu, calls, actions = [], [], [], [], [], [], {}
    for issue_id in issue_ids:
        before = dict(rt.redmine.gateway.calls.by_method)
        probe.reset()
        c, w = time.process_time(), time.perf_counter()
        outcome = process_issue(rt, issue_id)
        cpu.append(time.process_time() - c)
        wall.append(time.perf_counter() - w)
        http_cpu.append(probe.cpu)
        http_wall.append(probe.wall)
        plan_cpu.append(probe.plan)
        spent = {m: n - before.get(m, 0) for m, n in rt.redmine.gateway.calls.by_method.items()}
        calls.append({m: n for m, n in spent.items() if n})
        actions[outcome.action] = actions.get(outcome.action, 0) + 1
    totals = [sum(c.values()) for c in calls]
    shapes = sorted({" + ".join(f"{n} {m}" for m, n in sorted(c.items())) for c in calls})

    def ms(xs: list[float]) -> str:
        return f"median {statistics.median(xs) * 1e3:6.2f} ms, p90 {common.percentile(xs, 90) * 1e3:6.2f} ms"

    print(f"{label} ({len(issue_ids)} issues, outcomes {actions}):")
    print(f"  Redmine API calls per event: max {max(totals)}, mean {statistics.mean(totals):.2f} "
          f"({'; '.join(shapes)})")
    print(f"  bridge CPU per event:        {ms(cpu)}")
    print(f"    of which in HTTP calls:    {ms(http_cpu)}")
    print(f"    bridge logic alone:        {ms([a - b for a, b in zip(cpu, http_cpu, strict=True)])}")
    print(f"      of which planning:       {ms(plan_cpu)}")
    print(f"  wall time per event:         {ms(wall)} (waiting on Redmine: "
          f"median {statistics.median(http_wall) * 1e3:.1f} ms)")
    return max(totals), statistics.median(cpu), statistics.median(plan_cpu)


def cache_effect(rt, rm, project, tracker_id, in_events: float) -> None:
    from redmine_sla_bridge.service.process_issue import plan_issue

    issue_ids = common.create_issues(rm, project["id"], tracker_id, 30, "Cache")
    snapshots = [rt.redmine.load(issue_id) for issue_id in issue_ids]
    now = rt.clock()
    evict = bytearray(64 << 20)

    def planned(before=None) -> float:
        cpu = []
        for snapshot in snapshots:
            if before is not None:
                before()
            c = time.process_time()
            plan_issue(rt, snapshot, now)
            cpu.append(time.process_time() - c)
        return statistics.median(cpu)

    def overwrite() -> None:
        evict[::64] = bytes(len(evict) // 64)  # one write per 64-byte cache line

    planned()  # the first plans of the process (imports, caches) are not the figure
    warm = planned()
    cold = planned(overwrite)
    print("planning a new request: inside the events vs the same plans on their own:")
    print(f"  inside the events (above): median {in_events * 1e3:5.2f} ms")
    print(f"  back to back, warm caches: median {warm * 1e3:5.2f} ms (events x{in_events / warm:.1f})")
    print(f"  each after evicting the CPU caches: median {cold * 1e3:5.2f} ms "
          f"(x{cold / warm:.1f} of warm; events x{in_events / cold:.2f} of it)")


def journal_growth(rm, rt, project, tracker_id, counts, repeats, probe) -> None:
    from redmine_sla_bridge.service.process_issue import process_issue

    rows = []
    for count in counts:
        (issue_id,) = common.create_issues(rm, project["id"], tracker_id, 1, f"Journals {count}")
        process_issue(rt, issue_id)  # accepted: 1 journal (the acknowledgement)
        total = int(rm.local().runner(_JOURNALS_RUBY % {"issue": issue_id, "count": count - 1})
                    .strip().splitlines()[-1])
        cpu, http, calls = [], [], []
        for _ in range(repeats):
            before = rt.redmine.gateway.calls.total
            probe.reset()
            c = time.process_time()
            process_issue(rt, issue_id)
            cpu.append(time.process_time() - c)
            http.append(probe.cpu)
            calls.append(rt.redmine.gateway.calls.total - before)
        rows.append((total, max(calls), statistics.median(cpu), statistics.median(http)))
    print(f"one event against the issue's journals ({repeats} runs each, medians):")
    for total, calls, cpu, http in rows:
        print(f"  {total:5d} journals: {calls} API calls, bridge CPU {cpu * 1e3:7.2f} ms "
              f"(HTTP client {http * 1e3:6.2f}, logic {(cpu - http) * 1e3:6.2f})")
    base = rows[0]
    for total, _, cpu, _ in rows[1:]:
        print(f"  growth {base[0]} -> {total} journals: CPU x{cpu / base[2]:.1f} for "
              f"x{total / base[0]:.0f} journals")
    print(f"target: <= 2 API calls regardless ({max(r[1] for r in rows)}), cost at most linear")


def profile(rt, rm, project, tracker_id, path: Path) -> None:
    import cProfile
    import pstats

    from redmine_sla_bridge.service.process_issue import process_issue

    issue_ids = common.create_issues(rm, project["id"], tracker_id, 30, LETTER_SUBJECT, LETTER)
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    for issue_id in issue_ids:
        process_issue(rt, issue_id)
    profiler.disable()
    profiler.dump_stats(path)
    print(f"profile of {len(issue_ids)} new requests written to {path}; the 12 largest:")
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(12)


def main() -> None:
    import uuid

    parser = argparse.ArgumentParser()
    parser.add_argument("--issues", type=int, default=30)
    parser.add_argument("--journals", default="1,100,1000",
                        help="journal counts of the growth curve ('' to skip)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--profile", type=Path, default=None,
                        help="write cProfile stats of 30 more new requests to this file")
    args = parser.parse_args()
    print(f"machine: {common.machine()}")
    rm = common.redmine()
    print(f"Redmine: {rm.url} served by {rm.server}, keep-alive {'on' if rm.keep_alive else 'off'}")
    tracker_id = common.bench_tracker(rm)
    identifier = f"sla-bench-cost-{uuid.uuid4().hex[:6]}"
    project = common.bench_project(rm, identifier, tracker_id)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-cost-") as tmp:
            config = common.write_config(Path(tmp) / "bridge.yaml", common.document_for(
                rm, projects=[identifier], store=f"sqlite:///{tmp}/bridge.sqlite3"))
            rt = common.runtime_for(config)
            probe = CpuInCalls(rt.redmine.gateway)
            _ = rt.redmine.catalog.facts  # once per process, as in serve
            issue_ids = common.create_issues(rm, project["id"], tracker_id, args.issues,
                                             "Cost benchmark")
            calls, cpu, planning = measure(rt, issue_ids, probe,
                                           "new request, minimal (intake, SLA fields, acknowledgement)")
            measure(rt, issue_ids, probe, "repeat delivery, minimal (nothing changed)")
            cache_effect(rt, rm, project, tracker_id, planning)
            letters = common.create_issues(rm, project["id"], tracker_id, args.issues,
                                           LETTER_SUBJECT, LETTER)
            letter_calls, letter_cpu, _ = measure(
                rt, letters, probe, "new request, a customer's letter (data read from the text)")
            measure(rt, letters, probe, "repeat delivery, a customer's letter (nothing changed)")
            if args.profile is not None:
                profile(rt, rm, project, tracker_id, args.profile)
            counts = [int(n) for n in args.journals.split(",") if n]
            if counts:
                journal_growth(rm, rt, project, tracker_id, counts, args.repeats, probe)
            rt.store.close()
    finally:
        common.delete_project(rm, identifier)
    print(f"targets: <= 2 Redmine calls per new request ({calls}; a letter with flags {letter_calls}), "
          f"<= 3 ms bridge CPU per new request ({cpu * 1e3:.2f} ms median; "
          f"a letter {letter_cpu * 1e3:.2f} ms)")


if __name__ == "__main__":
    main()
