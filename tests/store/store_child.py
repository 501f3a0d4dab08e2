"""A separate process using the store, for the crash and concurrency tests.

    python store_child.py enqueue URL START  enqueue events START.. forever; print each
                                             accepted index
    python store_child.py work URL NAME    claim and complete until nothing is pending

Run as a script (not imported by pytest). "Accepted" means enqueue() returned, so a line
printed here is a promise that the event is durably stored.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime, timedelta

from redmine_sla_bridge.adapters.store import InboxEvent, Store

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
BIG = "x" * 20_000  # big payloads make each transaction long enough to be killed inside


def enqueue_forever(url: str, start: int) -> None:
    store = Store.from_url(url)
    i = start
    while True:
        event = InboxEvent(source="crash", delivery_id=f"d{i}", issue_id=i % 7,
                           received_at=T0 + timedelta(microseconds=i),
                           payload=json.dumps({"i": i, "pad": BIG}))
        if store.enqueue(event):
            print(i, flush=True)
        i += 1


def work(url: str, name: str) -> None:
    """Process events, checking the per-issue rules with the store's own effect keys:
    `busy:<issue>` must be free when we start an event of that issue (no concurrency),
    and `done:<issue>:<seq-1>` must exist (order). Prints `done ID` / `violation ...`."""
    store = Store.from_url(url)
    now = T0 + timedelta(hours=1)  # fixed: leases (5 min) never expire during the test
    while True:
        batch = store.claim(now, 3, 300, name)
        if not batch:
            if store.pending_count() == 0:
                return
            time.sleep(0.002)  # another process holds the remaining issues; wait for it
            continue
        for event in batch:
            seq = json.loads(event.payload)["seq"]
            if not store.remember(f"busy:{event.issue_id}", now):
                print(f"violation concurrent issue={event.issue_id} id={event.id}", flush=True)
            if seq > 0 and not store.seen(f"done:{event.issue_id}:{seq - 1}"):
                print(f"violation order issue={event.issue_id} seq={seq}", flush=True)
            store.remember(f"done:{event.issue_id}:{seq}", now)
            # Free the issue before completing: the next event may be claimed right after.
            store.forget(f"busy:{event.issue_id}")
            if store.complete(event.id, name, now):
                print(f"done {event.id}", flush=True)
            else:
                print(f"violation lost-lease id={event.id}", flush=True)


if __name__ == "__main__":
    command, url, *rest = sys.argv[1:]
    if command == "enqueue":
        enqueue_forever(url, int(rest[0]))
    elif command == "work":
        work(url, rest[0])
    else:
        raise SystemExit(f"unknown command {command!r}")
