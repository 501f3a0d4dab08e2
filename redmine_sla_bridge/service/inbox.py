"""Drain the durable inbox: each event makes the bridge re-read and update its issue.

Failure policy, by what the failure says about the future:
- Redmine unreachable or 5xx: retried with exponential backoff (5 s doubling to 10 min),
  forever; the event is never dropped while Redmine is merely down.
- Redmine refused the call (4xx) or the issue cannot be managed (fields not enabled):
  dead letter with the reason; an admin fixes the cause and requeues it.
- A bug (any other exception): retried a few times, then a dead letter, so one poisoned
  event cannot stall its issue forever.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from redmine_sla_bridge.domain.events import InboxEvent, backoff
from redmine_sla_bridge.domain.ports import NotManageable, RedmineRejected, RedmineUnavailable
from redmine_sla_bridge.service.bridge import Bridge
from redmine_sla_bridge.service.ports import Inbox
from redmine_sla_bridge.service.process_issue import Outcome, process_issue
from redmine_sla_bridge.telemetry import metrics

log = logging.getLogger(__name__)

MAX_BUG_ATTEMPTS = 5
LEASE_SECONDS = 120.0


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class DrainReport:
    processed: int = 0
    retried: int = 0
    dead: int = 0
    outcomes: list[Outcome] = field(default_factory=list)
    redmine_down: bool = False


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
    batches = 0
    while max_batches is None or batches < max_batches:
        batches += 1
        events = store.claim(clock(), limit, LEASE_SECONDS, worker)
        if not events:
            break
        for event in events:
            moment = clock()
            started = time.perf_counter()
            try:
                outcome = process_issue(bridge, event.issue_id, moment)
            except RedmineUnavailable as exc:
                metrics.EVENTS_RETRIED.inc(len(events) - events.index(event))
                # Everything after this would fail the same way: back off as a whole.
                delay = backoff(event.attempts)
                store.retry(event.id, worker, moment, str(exc), delay)
                report.retried += 1
                report.redmine_down = True
                log.warning("Redmine unavailable; event kept for retry",
                            extra={"issue_id": event.issue_id, "error": str(exc)})
                # The rest were not tried: they wait as long as this one, and are not
                # charged a failure (one write for all of them).
                rest = [later.id for later in events[events.index(event) + 1:]]
                store.postpone(rest, worker, moment + delay,
                                  "not attempted: Redmine unavailable")
                metrics.INBOX_PENDING.set(store.pending_count())
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
