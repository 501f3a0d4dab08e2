"""The event inbox: dedupe rules, leasing, per-issue order, retry, dead letters."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

import pytest
from store_testing import T0

from redmine_sla_bridge.adapters.store import InboxEvent, backoff


def ev(issue: int, *, source: str = "poll", delivery: str | None = None,
       journal: int | None = None, at: timedelta = timedelta(0), payload: str = "{}"):
    return InboxEvent(source=source, issue_id=issue, received_at=T0 + at,
                      payload=payload, delivery_id=delivery, journal_id=journal)


def ids(claimed) -> list[int]:
    return [c.id for c in claimed]


# -- enqueue and dedupe ---------------------------------------------------------------

def test_same_delivery_three_times_is_one_event(store):
    results = [store.enqueue(ev(7, source="redmine7", delivery="d-1", at=timedelta(seconds=i)))
               for i in range(3)]
    assert results == [True, False, False]
    assert store.pending_count() == 1


def test_same_journal_from_webhook_and_poll_is_one_event(store):
    assert store.enqueue(ev(7, source="redmine7", delivery="d-1", journal=100))
    assert not store.enqueue(ev(7, source="poll", journal=100))
    assert not store.enqueue(ev(7, source="suer", delivery="x-9", journal=100))
    assert store.pending_count() == 1


def test_what_is_not_a_duplicate(store):
    # A delivery id is unique per source only; a journal id is unique per issue only.
    assert store.enqueue(ev(7, source="redmine7", delivery="d-1"))
    assert store.enqueue(ev(7, source="suer", delivery="d-1"))
    assert store.enqueue(ev(7, journal=100))
    assert store.enqueue(ev(8, journal=100))
    # Events with neither id (intake, schedule) are always stored.
    assert store.enqueue(ev(7, source="schedule"))
    assert store.enqueue(ev(7, source="schedule"))
    assert store.pending_count() == 6


def test_duplicate_of_a_done_or_dead_event_is_still_a_duplicate(store):
    store.enqueue(ev(1, source="redmine7", delivery="a"))
    store.enqueue(ev(2, source="redmine7", delivery="b"))
    first, second = store.claim(T0, 10, 60, "w")
    store.complete(first.id, "w", T0)
    store.dead(second.id, "w", "bad payload", T0)
    assert not store.enqueue(ev(1, source="redmine7", delivery="a"))
    assert not store.enqueue(ev(2, source="redmine7", delivery="b"))


def test_enqueue_many_reports_each_event(store):
    batch = [ev(1, journal=1), ev(1, journal=2), ev(1, journal=1), ev(2, delivery="z")]
    assert store.enqueue_many(batch) == [True, True, False, True]


def test_large_payload_round_trips(store):
    payload = json.dumps({"notes": "я" * 300_000})
    store.enqueue(ev(1, payload=payload))
    (claimed,) = store.claim(T0, 1, 60, "w")
    assert claimed.payload == payload


def test_naive_datetimes_are_refused(store):
    with pytest.raises(ValueError):
        InboxEvent(source="poll", issue_id=1, received_at=T0.replace(tzinfo=None))
    with pytest.raises(ValueError):
        store.claim(T0.replace(tzinfo=None), 1, 60, "w")


# -- claim ----------------------------------------------------------------------------

def test_claim_leases_due_events_oldest_first(store):
    for issue in (3, 1, 2):
        store.enqueue(ev(issue, at=timedelta(seconds=issue)))
    claimed = store.claim(T0 + timedelta(seconds=5), 10, 60, "w1")
    assert [c.issue_id for c in claimed] == [1, 2, 3]
    assert all(c.lease_owner == "w1" and c.claims == 1 for c in claimed)
    assert claimed[0].lease_until == T0 + timedelta(seconds=65)
    assert claimed[0].received_at == T0 + timedelta(seconds=1)
    assert claimed[0].received_at.utcoffset() == timedelta(0)


def test_event_is_not_due_before_it_was_received(store):
    store.enqueue(ev(1, at=timedelta(seconds=10)))
    assert store.claim(T0, 10, 60, "w") == []
    assert len(store.claim(T0 + timedelta(seconds=10), 10, 60, "w")) == 1


def test_two_workers_never_get_the_same_event(store, open_store):
    other = open_store()
    for issue in range(10):
        store.enqueue(ev(issue))
    a = store.claim(T0, 4, 60, "a")
    b = other.claim(T0, 100, 60, "b")
    assert len(a) == 4 and len(b) == 6
    assert not set(ids(a)) & set(ids(b))
    assert store.claim(T0, 100, 60, "c") == []


def test_expired_lease_is_reclaimed_and_the_old_holder_loses(store):
    store.enqueue(ev(1))
    (first,) = store.claim(T0, 1, 30, "crashed")
    assert store.claim(T0 + timedelta(seconds=29), 1, 30, "b") == []
    (again,) = store.claim(T0 + timedelta(seconds=30), 1, 30, "b")
    assert again.id == first.id and again.claims == 2 and again.attempts == 0
    assert not store.complete(first.id, "crashed", T0 + timedelta(seconds=31))
    assert store.complete(again.id, "b", T0 + timedelta(seconds=31))
    assert store.stats()["done"] == 1


def test_expired_but_unclaimed_lease_still_lets_the_holder_finish(store):
    store.enqueue(ev(1))
    (event,) = store.claim(T0, 1, 30, "slow")
    assert store.complete(event.id, "slow", T0 + timedelta(hours=1))


def test_one_issue_is_processed_in_order_and_never_concurrently(store):
    store.enqueue(ev(1, journal=10, at=timedelta(seconds=1)))
    store.enqueue(ev(1, journal=11, at=timedelta(seconds=2)))
    store.enqueue(ev(2, at=timedelta(seconds=3)))
    now = T0 + timedelta(seconds=5)
    batch = store.claim(now, 10, 60, "a")
    assert [(c.issue_id, c.journal_id) for c in batch] == [(1, 10), (2, None)]
    # Issue 1's second event waits while the first is in flight ...
    assert store.claim(now, 10, 60, "b") == []
    store.complete(batch[0].id, "a", now)
    # ... and comes next once it is done.
    (nxt,) = store.claim(now, 10, 60, "b")
    assert (nxt.issue_id, nxt.journal_id) == (1, 11)


def test_event_waiting_for_retry_holds_back_its_issue_only(store):
    store.enqueue(ev(1, journal=10))
    store.enqueue(ev(1, journal=11, at=timedelta(seconds=1)))
    store.enqueue(ev(2, at=timedelta(seconds=2)))
    now = T0 + timedelta(seconds=3)
    head = store.claim(now, 1, 60, "a")[0]
    store.retry(head.id, "a", now, "Redmine 503", timedelta(seconds=30))
    assert [c.issue_id for c in store.claim(now, 10, 60, "a")] == [2]
    later = store.claim(now + timedelta(seconds=30), 10, 60, "a")
    assert [(c.journal_id, c.attempts) for c in later] == [(10, 1)]


def test_late_event_with_older_timestamp_waits_for_the_issue_in_flight(store):
    store.enqueue(ev(1, journal=11, at=timedelta(seconds=5)))
    now = T0 + timedelta(seconds=10)
    (in_flight,) = store.claim(now, 10, 60, "a")
    store.enqueue(ev(1, journal=10, at=timedelta(seconds=1)))  # e.g. a clock-skewed peer
    assert store.claim(now, 10, 60, "b") == []
    store.complete(in_flight.id, "a", now)
    assert [c.journal_id for c in store.claim(now, 10, 60, "b")] == [10]


def test_dead_event_no_longer_holds_back_its_issue(store):
    store.enqueue(ev(1, journal=10))
    store.enqueue(ev(1, journal=11, at=timedelta(seconds=1)))
    now = T0 + timedelta(seconds=2)
    (head,) = store.claim(now, 10, 60, "a")
    assert store.dead(head.id, "a", "poison", now)
    assert [c.journal_id for c in store.claim(now, 10, 60, "a")] == [11]


def test_limit_and_nonpositive_limit(store):
    for issue in range(5):
        store.enqueue(ev(issue))
    assert store.claim(T0, 0, 60, "w") == []
    assert len(store.claim(T0, 2, 60, "w")) == 2


# -- retry, dead letters, stats, purge ------------------------------------------------

def test_backoff_is_exponential_and_capped():
    assert [backoff(n).total_seconds() for n in range(9)] == [
        5, 10, 20, 40, 80, 160, 320, 600, 600]
    assert backoff(10_000) == timedelta(minutes=10)
    with pytest.raises(ValueError):
        backoff(-1)


def test_retry_counts_attempts_and_delays(store):
    store.enqueue(ev(1))
    now = T0
    for attempt in range(3):
        (event,) = store.claim(now, 1, 60, "w")
        assert event.attempts == attempt
        assert store.retry(event.id, "w", now, f"boom {attempt}", backoff(event.attempts))
        assert store.claim(now + backoff(attempt) - timedelta(microseconds=1), 1, 60, "w") == []
        now += backoff(attempt)
    (event,) = store.claim(now, 1, 60, "w")
    assert (event.attempts, event.last_error) == (3, "boom 2")
    assert not store.retry(event.id, "someone-else", now, "x", timedelta(0))


def test_dead_letters_and_requeue(store):
    store.enqueue(ev(1, source="redmine7", delivery="d-1", payload='{"a": 1}'))
    (event,) = store.claim(T0, 1, 60, "w")
    store.retry(event.id, "w", T0, "parse error", timedelta(0))
    (event,) = store.claim(T0, 1, 60, "w")
    assert store.dead(event.id, "w", "unparseable payload", T0)
    assert store.claim(T0 + timedelta(days=1), 10, 60, "w") == []
    (letter,) = store.dead_letters()
    assert (letter.id, letter.reason, letter.last_error, letter.attempts, letter.payload) == (
        event.id, "unparseable payload", "parse error", 1, '{"a": 1}')
    assert letter.died_at == T0
    assert store.stats()["dead"] == 1 and store.pending_count() == 0

    later = T0 + timedelta(hours=1)
    assert store.requeue_dead(event.id, later)
    assert not store.requeue_dead(event.id, later)
    assert store.dead_letters() == []
    assert store.claim(later - timedelta(seconds=1), 1, 60, "w") == []
    (again,) = store.claim(later, 1, 60, "w")
    assert (again.id, again.attempts, again.claims) == (event.id, 0, 1)


def test_stats_count_by_state(store):
    for issue in range(4):
        store.enqueue(ev(issue))
    a, b, _c = store.claim(T0, 3, 60, "w")
    store.complete(a.id, "w", T0)
    store.dead(b.id, "w", "x", T0)
    store.record_notice("n1", "email", "x@example.org", T0)
    assert store.stats() == {"pending": 2, "in_flight": 1, "done": 1, "dead": 1,
                             "notices_pending": 1, "notices_sent": 0, "notices_failed": 0}
    assert store.pending_count() == 2


def test_purge_done_deletes_only_old_done_events(store):
    for issue in range(3):
        store.enqueue(ev(issue, source="redmine7", delivery=f"d{issue}"))
    a, b, c = store.claim(T0, 3, 60, "w")
    store.complete(a.id, "w", T0)
    store.complete(b.id, "w", T0 + timedelta(days=10))
    store.dead(c.id, "w", "x", T0)
    assert store.purge_done(older_than=T0 + timedelta(days=1)) == 1
    assert store.stats()["done"] == 1 and store.stats()["dead"] == 1
    # The purged event's dedupe memory is gone with it (documented on enqueue).
    assert store.enqueue(ev(0, source="redmine7", delivery="d0"))
    # Ids are never reused after a purge.
    (fresh,) = store.claim(T0, 1, 60, "w")
    assert fresh.id > c.id


def test_postpone_releases_untried_events_without_counting_a_failure(store):
    for issue in (1, 2, 3):
        store.enqueue(ev(issue))
    claimed = store.claim(T0, 10, 60, "w")
    until = T0 + timedelta(seconds=40)
    assert store.postpone([c.id for c in claimed[1:]], "w", until, "not attempted") == 2
    assert store.postpone([claimed[1].id], "other", until, "x") == 0
    assert store.postpone([], "w", until, "x") == 0
    store.complete(claimed[0].id, "w", T0)
    assert store.claim(until - timedelta(seconds=1), 10, 60, "w") == []
    again = store.claim(until, 10, 60, "w")
    assert ids(again) == ids(claimed[1:])
    assert [c.attempts for c in again] == [0, 0]
    assert [c.last_error for c in again] == ["not attempted", "not attempted"]


def test_a_closed_store_keeps_no_file_open_and_reopens_on_use(store, store_url):
    def open_files() -> set[str]:
        fd_dir = Path("/proc/self/fd")
        names = set()
        for fd in fd_dir.iterdir():
            try:
                names.add(os.readlink(fd))
            except OSError:
                continue  # closed meanwhile (the listing's own descriptor)
        return names

    assert store.enqueue(ev(9, delivery="before close"))
    store.close()
    if store_url.startswith("sqlite"):
        database = store_url.removeprefix("sqlite:///")
        assert not {name for name in open_files() if name.startswith(database)}
    # Closing is not the end: a long-lived process may use the store again.
    assert store.enqueue(ev(9, delivery="after close"))
    assert store.pending_count() == 2
