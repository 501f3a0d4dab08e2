"""Property test: claim/complete/retry/dead against a small in-memory model of the rules
(due, lease expiry, oldest pending event per issue, no two leases on one issue)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete
from store_testing import T0

from redmine_sla_bridge.adapters.store import InboxEvent
from redmine_sla_bridge.adapters.store.schema import metadata, store_meta

LEASE = 30  # seconds


@dataclass
class ModelEvent:
    key: str  # delivery id; insertion order = index order = id order
    index: int
    issue: int
    received_at: datetime
    state: str = "pending"
    next_at: datetime | None = None
    owner: str | None = None
    until: datetime | None = None

    def __post_init__(self) -> None:
        self.next_at = self.received_at


def model_claim(events: list[ModelEvent], now: datetime, limit: int, worker: str):
    pending = [e for e in events if e.state == "pending"]

    def order(e: ModelEvent):
        return (e.received_at, e.index)

    def claimable(e: ModelEvent) -> bool:
        same_issue = [p for p in pending if p.issue == e.issue and p is not e]
        return (e.next_at <= now
                and (e.until is None or e.until <= now)
                and not any(order(p) < order(e) for p in same_issue)
                and not any(p.until is not None and p.until > now for p in same_issue))

    chosen = sorted((e for e in pending if claimable(e)), key=order)[:limit]
    for e in chosen:
        e.owner, e.until = worker, now + timedelta(seconds=LEASE)
    return [e.key for e in chosen]


events_strategy = st.lists(
    st.tuples(st.integers(0, 3), st.integers(0, 20)),  # (issue, received second)
    min_size=1, max_size=12,
)
ops_strategy = st.lists(
    st.one_of(
        st.tuples(st.just("claim"), st.sampled_from(["a", "b"]), st.integers(1, 3),
                  st.integers(0, 40)),
        st.tuples(st.sampled_from(["complete", "retry", "dead", "stale"]),
                  st.integers(0, 50), st.integers(0, 30), st.just(0)),
    ),
    max_size=25,
)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw_events=events_strategy, ops=ops_strategy)
def test_claim_matches_model(store, raw_events, ops):
    with store.engine.begin() as conn:  # one store for all examples: start empty
        for table in reversed(metadata.sorted_tables):
            if table is not store_meta:
                conn.execute(delete(table))

    model = [ModelEvent(key=f"k{i}", index=i, issue=issue,
                        received_at=T0 + timedelta(seconds=sec))
             for i, (issue, sec) in enumerate(raw_events)]
    assert all(store.enqueue_many(
        InboxEvent(source="test", delivery_id=e.key, issue_id=e.issue,
                   received_at=e.received_at) for e in model))
    ids: dict[str, int] = {}
    now = T0

    for op, a, b, c in ops:
        if op == "claim":
            now += timedelta(seconds=c)
            got = store.claim(now, b, LEASE, a)
            assert [g.delivery_id for g in got] == model_claim(model, now, b, a)
            ids.update({g.delivery_id: g.id for g in got})
            continue
        held = [e for e in model if e.state == "pending" and e.owner is not None]
        if not held:
            continue
        target = held[a % len(held)]
        event_id = ids[target.key]
        if op == "stale":  # a worker that does not hold the event changes nothing
            assert not store.complete(event_id, "nobody", now)
        elif op == "complete":
            assert store.complete(event_id, target.owner, now)
            target.state, target.owner, target.until = "done", None, None
        elif op == "dead":
            assert store.dead(event_id, target.owner, "x", now)
            target.state, target.owner, target.until = "dead", None, None
        else:
            assert store.retry(event_id, target.owner, now, "e", timedelta(seconds=b))
            target.next_at, target.owner, target.until = now + timedelta(seconds=b), None, None

    stats = store.stats()
    for state in ("pending", "done", "dead"):
        assert stats[state] == sum(e.state == state for e in model)
