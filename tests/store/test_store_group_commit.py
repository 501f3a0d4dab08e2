"""Group commit (concurrent enqueues share a transaction), the prepared inbox INSERT, and
the OS-level write lock of SQLite stores."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine
from store_testing import T0

from redmine_sla_bridge.adapters.store import InboxEvent, Store
from redmine_sla_bridge.adapters.store.engine import SqliteWriteLock, sqlite_write_lock
from redmine_sla_bridge.adapters.store.group_commit import GroupCommit
from redmine_sla_bridge.adapters.store.schema import inbox_events


def test_items_that_wait_while_a_batch_commits_are_written_together():
    first_batch_writing = threading.Event()
    release_first_batch = threading.Event()
    batches: list[list[int]] = []

    def write(items: list[int]) -> list[int]:
        batches.append(list(items))
        if len(batches) == 1:
            first_batch_writing.set()
            assert release_first_batch.wait(10)
        return [item * 10 for item in items]

    group: GroupCommit[int, int] = GroupCommit(write)
    with ThreadPoolExecutor(max_workers=6) as pool:
        first = pool.submit(group.submit, 0)
        assert first_batch_writing.wait(10)
        rest = [pool.submit(group.submit, n) for n in range(1, 6)]
        while len(group._waiting) < 5:  # all five queued behind the first commit
            threading.Event().wait(0.001)
        release_first_batch.set()
        assert first.result(10) == 0
        assert [f.result(10) for f in rest] == [10, 20, 30, 40, 50]
    assert batches[0] == [0]
    assert sorted(batches[1]) == [1, 2, 3, 4, 5]
    assert len(batches) == 2


def test_a_failed_batch_fails_every_item_in_it_and_the_next_batch_still_runs():
    calls = []

    def write(items: list[str]) -> list[str]:
        calls.append(items)
        if "bad" in items:
            raise OSError("disk full")
        return [item.upper() for item in items]

    group: GroupCommit[str, str] = GroupCommit(write)
    with pytest.raises(OSError, match="disk full"):
        group.submit("bad")
    assert group.submit("good") == "GOOD"


def test_max_batch_splits_a_long_queue():
    sizes = []
    gate = threading.Event()

    def write(items):
        sizes.append(len(items))
        if len(sizes) == 1:
            gate.wait(10)
        return items

    group = GroupCommit(write, max_batch=3)
    with ThreadPoolExecutor(max_workers=8) as pool:
        first = pool.submit(group.submit, -1)
        while not sizes:
            threading.Event().wait(0.001)
        rest = [pool.submit(group.submit, n) for n in range(7)]
        while len(group._waiting) < 7:
            threading.Event().wait(0.001)
        gate.set()
        assert first.result(10) == -1
        assert sorted(f.result(10) for f in rest) == list(range(7))
    assert sizes[0] == 1 and max(sizes[1:]) == 3 and sum(sizes[1:]) == 7


def test_a_wrong_number_of_results_is_an_error_not_a_silent_mixup():
    group = GroupCommit(lambda items: [])
    with pytest.raises(RuntimeError, match="0 results for 1 items"):
        group.submit("x")


def test_concurrent_enqueues_store_each_event_once_and_report_duplicates(store):
    def event(n: int) -> InboxEvent:
        return InboxEvent(source="redmine7", issue_id=1 + n % 7, received_at=T0 + timedelta(seconds=n),
                          delivery_id=f"d-{n % 150}")

    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(lambda n: store.enqueue(event(n)), range(300)))
    assert results.count(True) == 150
    assert store.pending_count() == 150


def test_prepared_insert_writes_exactly_what_sqlalchemy_writes(tmp_path):
    """The raw-cursor SQLite path must store the same text as the SQLAlchemy construct,
    or time comparisons in claim() would silently go wrong."""
    store = Store.from_url(f"sqlite:///{tmp_path / 's.sqlite3'}")
    moscow = T0.astimezone(ZoneInfo("Europe/Moscow")) + timedelta(microseconds=7)
    store.enqueue(InboxEvent(source="redmine7", issue_id=5, received_at=moscow, delivery_id="a",
                             journal_id=9, payload='{"ключ": 1}'))
    with store.engine.begin() as conn:
        conn.execute(inbox_events.insert().values(
            source="redmine7", issue_id=5, received_at=moscow, delivery_id="b", journal_id=10,
            payload='{"ключ": 1}', state="pending", attempts=0, claims=0, next_attempt_at=moscow))
    store.close()
    rows = sqlite3.connect(tmp_path / "s.sqlite3").execute(
        "SELECT source, issue_id, received_at, next_attempt_at, payload, state, attempts, claims,"
        " typeof(received_at), typeof(issue_id) FROM inbox_events ORDER BY id").fetchall()
    assert rows[0] == rows[1]
    assert rows[0][2] == T0.astimezone(UTC).strftime(
        "%Y-%m-%d %H:%M:%S.000007")


def test_write_lock_excludes_another_process(tmp_path):
    database = str(tmp_path / "s.sqlite3")
    lock = SqliteWriteLock(database)
    read_end, write_end = os.pipe()
    with lock:
        pid = os.fork()
        if pid == 0:  # the child tries to take the lock while the parent holds it
            try:
                fd = os.open(database + "-writelock", os.O_RDWR)
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                os.write(write_end, b"taken")
            except BlockingIOError:
                os.write(write_end, b"busy")
            finally:
                os._exit(0)
        os.waitpid(pid, 0)
    assert os.read(read_end, 16) == b"busy"
    with lock:  # released and reusable
        pass


def test_two_stores_on_one_file_write_from_many_threads(tmp_path):
    """Two Store objects on one file (as two workers' drainer and web threads would be)
    serialise their writes instead of meeting SQLite's busy handler."""
    url = f"sqlite:///{tmp_path / 's.sqlite3'}"
    one, two = Store.from_url(url), Store.from_url(url)
    events = [InboxEvent(source="poll", issue_id=n, received_at=T0) for n in range(40)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda n: (one if n % 2 else two).enqueue(events[n]), range(40)))
    assert one.pending_count() == 40
    one.close()
    two.close()


def test_only_sqlite_files_get_a_lock_file(tmp_path):
    assert isinstance(sqlite_write_lock(create_engine(f"sqlite:///{tmp_path / 'a.db'}")), SqliteWriteLock)
    assert not isinstance(sqlite_write_lock(create_engine("sqlite://")), SqliteWriteLock)
    store = Store.from_url("sqlite://")
    assert store.enqueue(InboxEvent(source="poll", issue_id=1, received_at=T0))


class FailingLock:
    def __init__(self) -> None:
        self.fail = True

    def __enter__(self) -> None:
        if self.fail:
            self.fail = False
            raise OSError("lock file unreadable")

    def __exit__(self, *_exc) -> None:
        return None


def test_a_leader_that_cannot_take_the_lock_fails_alone_and_passes_the_lead():
    group = GroupCommit(lambda items: [item + 1 for item in items], lock=FailingLock())
    with pytest.raises(OSError, match="lock file unreadable"):
        group.submit(1)
    assert group._waiting == []
    assert group.submit(2) == 3  # not stuck: the next caller leads


@pytest.mark.parametrize(("setting", "pragma"), [("full", 2), ("normal", 1)])
def test_sqlite_synchronous_setting_reaches_every_connection(tmp_path, setting, pragma):
    store = Store.from_url(f"sqlite:///{tmp_path / 's.sqlite3'}", synchronous=setting)
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == pragma
    store.close()


def test_unknown_synchronous_setting_is_refused(tmp_path):
    with pytest.raises(ValueError, match="full or normal"):
        Store.from_url(f"sqlite:///{tmp_path / 's.sqlite3'}", synchronous="off")


def test_a_failing_batch_callback_fails_the_whole_batch_instead_of_hanging_it():
    group = None
    others_queued = threading.Event()

    class WaitForTheSecondItem:
        def __enter__(self) -> None:
            assert others_queued.wait(10)

        def __exit__(self, *_exc) -> None:
            return None

    def broken_metrics(size: int) -> None:
        raise ValueError(f"metrics directory gone ({size} items)")

    group = GroupCommit(lambda items: items, lock=WaitForTheSecondItem(), on_batch=broken_metrics)
    with ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(group.submit, "a")
        while not group._leader_busy:
            threading.Event().wait(0.001)
        second = pool.submit(group.submit, "b")
        while len(group._waiting) < 2:
            threading.Event().wait(0.001)
        others_queued.set()
        for future in (first, second):
            with pytest.raises(ValueError, match=r"\(2 items\)"):
                future.result(timeout=10)
    assert group._leader_busy is False
