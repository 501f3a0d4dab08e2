"""Cursors, effect keys, notices, leases, and opening the store (paths, schema version)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import update
from store_testing import T0

from redmine_sla_bridge.adapters.store import SCHEMA_VERSION, Store, StoreSchemaError
from redmine_sla_bridge.adapters.store.schema import store_meta

# -- cursors --------------------------------------------------------------------------

def test_cursor_round_trip_and_overwrite(store):
    assert store.get_cursor("poll:updated_on") is None
    store.set_cursor("poll:updated_on", "2025-03-03T09:00:00Z")
    store.set_cursor("poll:updated_on", "2025-03-03T09:05:00Z")
    store.set_cursor("other", "1")
    assert store.get_cursor("poll:updated_on") == "2025-03-03T09:05:00Z"
    assert store.get_cursor("other") == "1"


# -- effect keys ----------------------------------------------------------------------

def test_remember_is_insert_or_nothing(store):
    assert not store.seen("ack:issue:123")
    assert store.remember("ack:issue:123", T0)
    assert not store.remember("ack:issue:123", T0 + timedelta(seconds=1))
    assert store.seen("ack:issue:123")
    assert store.forget("ack:issue:123")
    assert not store.forget("ack:issue:123")
    assert store.remember("ack:issue:123", T0)


def test_remember_races_have_one_winner(store, open_store):
    stores = [store, open_store(), open_store()]
    with ThreadPoolExecutor(12) as pool:
        results = list(pool.map(lambda i: stores[i % 3].remember("k", T0), range(12)))
    assert results.count(True) == 1


# -- notices --------------------------------------------------------------------------

def test_notice_is_sent_once(store):
    assert store.record_notice("breach:42:reaction", "email", "a@example.org", T0)
    assert not store.record_notice("breach:42:reaction", "email", "a@example.org", T0)
    assert store.mark_notice_sent("breach:42:reaction", T0)
    assert store.notice_state("breach:42:reaction") == "sent"
    assert store.due_notices(T0 + timedelta(days=1)) == []
    # A late failure report cannot turn a sent notice back into a retry.
    assert not store.notice_failed("breach:42:reaction", "timeout", T0)
    assert store.notice_state("never") is None


def test_failed_notice_is_retried_by_one_taker_until_sent(store, open_store):
    other = open_store()
    store.record_notice("n", "email", "a@example.org", T0, payload='{"subject": "x"}')
    assert store.notice_failed("n", "SMTP 451", T0 + timedelta(minutes=1))
    assert store.due_notices(T0 + timedelta(seconds=59)) == []
    (due,) = store.due_notices(T0 + timedelta(minutes=1), lease=timedelta(minutes=5))
    assert (due.key, due.attempts, due.last_error, due.payload) == (
        "n", 1, "SMTP 451", '{"subject": "x"}')
    # Taken: another notifier does not get it while the first one is sending ...
    assert other.due_notices(T0 + timedelta(minutes=2)) == []
    # ... but does once the taker's lease passes without a report.
    assert [n.key for n in other.due_notices(T0 + timedelta(minutes=6))] == ["n"]
    assert other.mark_notice_sent("n", T0 + timedelta(minutes=6))
    assert store.due_notices(T0 + timedelta(days=1)) == []


def test_unconfirmed_notice_becomes_due_after_in_flight_window(store):
    # The recorder died between record_notice and its report.
    store.record_notice("n", "email", "a@example.org", T0, in_flight=timedelta(minutes=10))
    assert store.due_notices(T0 + timedelta(minutes=9)) == []
    assert [n.key for n in store.due_notices(T0 + timedelta(minutes=10))] == ["n"]


def test_notice_given_up(store):
    store.record_notice("n", "email", "bad@", T0)
    assert store.notice_failed("n", "550 no such user", None)
    assert store.notice_state("n") == "failed"
    assert store.due_notices(T0 + timedelta(days=1)) == []
    assert store.stats()["notices_failed"] == 1


# -- leases ---------------------------------------------------------------------------

def test_lease_two_holders_expiry_and_renewal(store):
    ttl = timedelta(seconds=30)
    assert store.try_lease("scheduler", "a", T0, ttl)
    assert not store.try_lease("scheduler", "b", T0 + timedelta(seconds=10), ttl)
    assert store.try_lease("scheduler", "a", T0 + timedelta(seconds=20), ttl)  # renew
    assert not store.try_lease("scheduler", "b", T0 + timedelta(seconds=49), ttl)
    assert store.lease_holder("scheduler", T0 + timedelta(seconds=49)) == "a"
    assert store.lease_holder("scheduler", T0 + timedelta(seconds=50)) is None
    assert store.try_lease("scheduler", "b", T0 + timedelta(seconds=50), ttl)  # expired
    assert not store.try_lease("scheduler", "a", T0 + timedelta(seconds=51), ttl)
    assert store.try_lease("other-job", "a", T0, ttl)  # leases are independent


def test_release(store):
    ttl = timedelta(seconds=30)
    store.try_lease("scheduler", "a", T0, ttl)
    assert not store.release("scheduler", "b")
    assert store.release("scheduler", "a")
    assert not store.release("scheduler", "a")
    assert store.try_lease("scheduler", "b", T0, ttl)


def test_lease_race_has_one_winner(store, open_store):
    stores = [store, open_store()]
    with ThreadPoolExecutor(8) as pool:
        won = list(pool.map(
            lambda i: stores[i % 2].try_lease("scheduler", f"h{i}", T0, timedelta(seconds=30)),
            range(8)))
    assert won.count(True) == 1


# -- opening the store ----------------------------------------------------------------

def test_relative_sqlite_path_is_relative_to_base_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "conf").mkdir()
    with Store.from_url("sqlite:///data/bridge.sqlite3", base_dir=tmp_path / "conf") as store:
        store.set_cursor("c", "v")
    assert (tmp_path / "conf" / "data" / "bridge.sqlite3").exists()
    assert not (tmp_path / "data").exists()


def test_sqlite_runs_in_wal_mode(tmp_path):
    with Store.from_url(f"sqlite:///{tmp_path / 's.db'}") as store, store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() > 0


def test_reopening_keeps_data_and_version(store_url):
    with Store.from_url(store_url) as first:
        first.set_cursor("c", "v")
    with Store.from_url(store_url) as second:
        assert second.get_cursor("c") == "v"
        assert second.schema_version() == SCHEMA_VERSION


def test_newer_schema_version_is_refused(store):
    with store.engine.begin() as conn:
        conn.execute(update(store_meta).where(store_meta.c.key == "schema_version")
                     .values(value=str(SCHEMA_VERSION + 1)))
    with pytest.raises(StoreSchemaError, match="newer"):
        store.ensure_schema()


def test_unsupported_backend_is_refused():
    with pytest.raises(ValueError, match="unsupported"):
        Store.from_url("mysql://x@localhost/db")
