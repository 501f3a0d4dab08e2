"""Drain the durable inbox: each event makes the bridge re-read and update its issue.

Failure policy, by what the failure says about the future:

- **Redmine unreachable** (no HTTP answer: connection refused or reset, timeout, DNS;
  or a 401, a 429, or an answered failure that a probe of Redmine confirms): the event
  is retried with exponential backoff (5 s doubling to 10 min), forever, and the rest
  of the batch waits as long without being charged a failure (`postpone`). Nothing is
  dropped while Redmine is merely down.
- **This issue fails** (an HTTP 5xx, 408 or a body that is not JSON on one issue's call,
  while Redmine otherwise answers): after such a failure the drain probes Redmine once
  (`IssueRepository.ping`, GET /users/current.json). If the probe answers, only this
  event is retried (5 s, 10 s, 20 s, 40 s) and the drain goes on with the next events;
  on the `MAX_ISSUE_FAILURES`-th such failure in a row (about 75 s after the first)
  the event becomes a dead letter with the last error, e.g. "RedmineUnavailable: HTTP
  500: ...". The failures in a row are counted in the event's `last_error` ("issue
  failure 2 of 5: ..."), not in `attempts`, so that retries during an outage do not
  use them up; any other outcome in between starts the count again. Probes are
  bounded: a drain probes at most `MAX_PROBES_PER_DRAIN` times, and after
  `MAX_ISSUE_FAILURES_IN_A_ROW` issue failures with no event processed in between it
  stops probing; the next failure is then taken for Redmine down (many issues failing
  alike is Redmine failing, and must not turn the whole inbox into dead letters).
- **Redmine refused the call** (4xx) or the issue cannot be managed (fields not
  enabled): dead letter at once, with the reason; an admin fixes the cause and
  requeues it.
- **A bug** (any other exception): retried with backoff, a dead letter on the
  `MAX_BUG_ATTEMPTS`-th attempt (all failures count here), so one poisoned event cannot
  stall its issue forever.

Leases: a claim leases events for `LEASE_SECONDS`; a worker that dies keeps them until
the lease lapses, unless a process on the same host releases them first:
`reclaim_dead_workers` (run when a drainer starts, then every minute, and by
`sync --once`) asks the store to release the leases of this host's workers that are
gone, which it tells from the worker name (`worker_name`: host, pid, process start
time, PID namespace).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from redmine_sla_bridge.domain.events import InboxEvent, backoff
from redmine_sla_bridge.domain.ports import NotManageable, RedmineRejected, RedmineUnavailable
from redmine_sla_bridge.service.bridge import Bridge
from redmine_sla_bridge.service.ports import ClaimedEventLike, Inbox
from redmine_sla_bridge.service.process_issue import Outcome, process_issue
from redmine_sla_bridge.telemetry import metrics

log = logging.getLogger(__name__)

MAX_BUG_ATTEMPTS = 5
MAX_ISSUE_FAILURES = 5
"""An event whose own Redmine calls fail this many times in a row is a dead letter."""
MAX_ISSUE_FAILURES_IN_A_ROW = 3
"""Issue failures with no event processed in between after which a drain stops probing."""
MAX_PROBES_PER_DRAIN = 10
LEASE_SECONDS = 120.0

# Redmine answered, but the answer is about every call: probing would not help (401: the
# API key; 429: a rate limit, which a probe would only feed).
_EVERY_CALL_STATUSES = frozenset({401, 429})
_ISSUE_FAILURE = re.compile(r"^issue failure (\d+) of \d+: ")

_identity: tuple[int, str] | None = None


def worker_name() -> str:
    """This process as an inbox worker: `host:pid:start:pidns` (start: the process start
    time in clock ticks since boot; pidns: the PID namespace's inode), so that another
    process of this host can tell that it is gone even after its pid was reused
    (`reclaim_dead_workers`). `host:pid` where /proc cannot tell (never reclaimed early).
    """
    global _identity
    pid = os.getpid()
    if _identity is None or _identity[0] != pid:  # computed again after a fork
        _identity = (pid, _describe(pid))
    return _identity[1]


def _describe(pid: int) -> str:
    name = f"{socket.gethostname()}:{pid}"
    try:
        with open("/proc/self/stat", "rb") as stat:
            text = stat.read()
        start = int(text[text.rfind(b")") + 2:].split()[22 - 3])  # field 22: starttime
        namespace = os.readlink("/proc/self/ns/pid").partition("[")[2].rstrip("]")
    except (OSError, IndexError, ValueError):
        return name
    return f"{name}:{start}:{namespace}" if namespace.isdigit() else name


def reclaim_dead_workers(bridge: Bridge) -> int:
    """Release the leases of this host's dead workers now instead of when they lapse;
    returns how many events were released."""
    released = bridge.store.release_dead_workers(bridge.clock())
    for worker, count in released.items():
        log.warning("released the inbox leases of a worker that is gone",
                    extra={"worker": worker, "events": count})
    return sum(released.values())


@dataclass
class DrainReport:
    processed: int = 0
    retried: int = 0
    dead: int = 0
    outcomes: list[Outcome] = field(default_factory=list)
    redmine_down: bool = False
    issue_failures: int = 0
    """Events retried or dead-lettered because their own calls failed (Redmine answered)."""
    probes: int = 0


def enqueue_issue(store: Inbox, source: str, issue_id: int, now: dt.datetime, *,
                  journal_id: int | None = None, delivery_id: str | None = None,
                  payload: str = "{}") -> bool:
    return store.enqueue(InboxEvent(source=source, issue_id=int(issue_id), received_at=now,
                                    payload=payload, delivery_id=delivery_id, journal_id=journal_id))


def drain(bridge: Bridge, *, worker: str | None = None, limit: int = 50, max_batches: int | None = None,
          now: Callable[[], dt.datetime] | None = None,
          on_outcome: Callable[[Outcome], None] | None = None) -> DrainReport:
    """Process due events until none is left (or Redmine is down). Returns a report."""
    worker = worker or worker_name()
    clock = now or bridge.clock
    store = bridge.store
    report = DrainReport()
    in_a_row = 0  # issue failures since the last event processed
    batches = 0
    while max_batches is None or batches < max_batches:
        batches += 1
        events = store.claim(clock(), limit, LEASE_SECONDS, worker)
        if not events:
            break
        for index, event in enumerate(events):
            moment = clock()
            started = time.perf_counter()
            try:
                outcome = process_issue(bridge, event.issue_id, moment)
            except RedmineUnavailable as exc:
                if _only_this_issue(bridge, exc, report, in_a_row):
                    in_a_row += 1
                    _issue_failed(store, event, worker, moment, exc, report)
                    continue
                _redmine_down(store, events, index, worker, moment, exc, report)
                return report
            except (RedmineRejected, NotManageable, LookupError) as exc:
                store.dead(event.id, worker, f"{type(exc).__name__}: {exc}", moment)
                metrics.EVENTS_DEAD.inc()
                report.dead += 1
                log.error("event dead-lettered", extra={"issue_id": event.issue_id, "error": str(exc)})
                continue
            except Exception as exc:
                if event.attempts + 1 >= MAX_BUG_ATTEMPTS:
                    store.dead(event.id, worker, f"{type(exc).__name__}: {exc}", moment)
                    metrics.EVENTS_DEAD.inc()
                    report.dead += 1
                else:
                    store.retry(event.id, worker, moment, f"{type(exc).__name__}: {exc}",
                                   backoff(event.attempts))
                    metrics.EVENTS_RETRIED.inc()
                    report.retried += 1
                log.exception("event failed", extra={"issue_id": event.issue_id})
                continue
            in_a_row = 0
            store.complete(event.id, worker, moment)
            metrics.EVENTS_PROCESSED.labels(outcome.action).inc()
            metrics.PROCESSING_SECONDS.observe(time.perf_counter() - started)
            report.processed += 1
            report.outcomes.append(outcome)
            if on_outcome is not None:
                on_outcome(outcome)
            log.info("issue processed", extra={"issue_id": event.issue_id,
                                               "action": outcome.action, "detail": outcome.detail})
    metrics.INBOX_PENDING.set(store.pending_count())
    return report


def _only_this_issue(bridge: Bridge, exc: RedmineUnavailable, report: DrainReport,
                     in_a_row: int) -> bool:
    """Whether an unavailable Redmine failed this issue only: it answered (an HTTP
    status that is not about every call) and still answers a probe. Bounded: no probe
    past the drain's budget or after too many issue failures in a row."""
    if exc.unreachable or exc.status in _EVERY_CALL_STATUSES:
        return False
    if report.probes >= MAX_PROBES_PER_DRAIN or in_a_row >= MAX_ISSUE_FAILURES_IN_A_ROW:
        return False
    report.probes += 1
    try:
        bridge.redmine.ping()
    except Exception as probe_error:  # noqa: BLE001 - any failure of the probe: Redmine is down
        log.warning("Redmine failed the probe after an issue's call failed",
                    extra={"error": str(probe_error)})
        return False
    return True


def _issue_failed(store: Inbox, event: ClaimedEventLike, worker: str, moment: dt.datetime,
                  exc: RedmineUnavailable, report: DrainReport) -> None:
    """Redmine answers, but not for this issue: retry it alone, or give up on it."""
    failures = _issue_failures_so_far(event) + 1
    report.issue_failures += 1
    error = f"HTTP {exc.status}: {exc}"
    if failures >= MAX_ISSUE_FAILURES:
        reason = (f"RedmineUnavailable: {error} (this issue only: {failures} failures in a row "
                  f"while Redmine answered other calls)")
        store.dead(event.id, worker, reason, moment)
        metrics.EVENTS_DEAD.inc()
        report.dead += 1
        log.error("event dead-lettered: its issue keeps failing while Redmine answers",
                  extra={"issue_id": event.issue_id, "error": str(exc)})
        return
    store.retry(event.id, worker, moment, f"issue failure {failures} of {MAX_ISSUE_FAILURES}: {error}",
                backoff(failures - 1))
    metrics.EVENTS_RETRIED.inc()
    report.retried += 1
    log.warning("this issue failed while Redmine answers; only its event is retried",
                extra={"issue_id": event.issue_id, "error": str(exc)})


def _issue_failures_so_far(event: ClaimedEventLike) -> int:
    """Issue failures in a row before this claim, from the event's last error."""
    last_error = event.last_error
    found = _ISSUE_FAILURE.match(last_error) if last_error else None
    return int(found.group(1)) if found else 0


def _redmine_down(store: Inbox, events: Sequence[ClaimedEventLike], index: int, worker: str,
                  moment: dt.datetime, exc: RedmineUnavailable, report: DrainReport) -> None:
    """Everything after this would fail the same way: back off as a whole."""
    event = events[index]
    metrics.EVENTS_RETRIED.inc(len(events) - index)
    delay = backoff(event.attempts)
    store.retry(event.id, worker, moment, str(exc), delay)
    report.retried += 1
    report.redmine_down = True
    log.warning("Redmine unavailable; event kept for retry",
                extra={"issue_id": event.issue_id, "error": str(exc)})
    # The rest were not tried: they wait as long as this one, and are not charged a
    # failure (one write for all of them).
    rest = [later.id for later in events[index + 1:]]
    store.postpone(rest, worker, moment + delay, "not attempted: Redmine unavailable")
    metrics.INBOX_PENDING.set(store.pending_count())
