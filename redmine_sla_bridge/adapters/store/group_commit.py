"""Group commit: many threads' single writes, committed together in one transaction.

A webhook is answered only once its event is committed, and a commit costs one fsync
plus the database's write lock. With a handful of request threads per process each
committing alone, they queue for the lock one by one. Here the first thread to arrive
becomes the leader: it takes every item waiting at that moment (its own included),
writes them in one transaction, hands each waiter its own result, and passes the lead
to the oldest thread still waiting. No extra thread, no timer: a lone request is
written at once, and under load a batch is whatever arrived while the previous one was
committing. Each thread sleeps on its own event, so a commit wakes exactly the threads
it served and the next leader, not every waiting thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class _Slot(Generic[Item, Result]):
    __slots__ = ("done", "error", "item", "result", "wakeup")

    def __init__(self, item: Item) -> None:
        self.item = item
        self.done = False
        self.result: Result | None = None
        self.error: BaseException | None = None
        self.wakeup = threading.Event()  # set when done, or when handed the lead


class GroupCommit(Generic[Item, Result]):
    """`submit(item)` returns `write_batch([..., item, ...])`'s result for that item.

    `write_batch` gets a list of items and returns one result per item, in order, after
    they are committed; if it raises, every item of that batch gets the exception (none
    of them is committed: it is one transaction). Batches are at most `max_batch`.
    `lock`, if given, is held around `write_batch`, and the leader takes its batch only
    once it holds it: what arrives while the leader waits for the database (another
    process committing) joins that batch instead of waiting for the next.
    """

    def __init__(self, write_batch: Callable[[list[Item]], Sequence[Result]],
                 max_batch: int = 256, lock: AbstractContextManager | None = None,
                 on_batch: Callable[[int], object] | None = None) -> None:
        self._write_batch = write_batch
        self._on_batch = on_batch
        self._max_batch = max_batch
        self._lock = lock if lock is not None else nullcontext()
        self._mutex = threading.Lock()
        self._waiting: list[_Slot[Item, Result]] = []
        self._leader_busy = False

    def submit(self, item: Item) -> Result:
        slot: _Slot[Item, Result] = _Slot(item)
        with self._mutex:
            self._waiting.append(slot)
            leading = not self._leader_busy
            self._leader_busy = True
        if not leading:
            slot.wakeup.wait()
        if not slot.done:  # woken to lead
            self._lead(slot)
        if slot.error is not None:
            raise slot.error
        return slot.result  # type: ignore[return-value]

    def _lead(self, slot: _Slot[Item, Result]) -> None:
        """Write batches until our own slot is written, then pass the lead on."""
        try:
            while not slot.done:
                batch: list[_Slot[Item, Result]] = []
                try:
                    with self._lock:
                        with self._mutex:
                            # Ours is in it unless max_batch were waiting ahead of it.
                            batch = self._waiting[:self._max_batch]
                            del self._waiting[:self._max_batch]
                        self._write(batch)
                finally:  # whatever the lock did, nobody served may sleep on
                    for served in batch:
                        if served is not slot:
                            served.wakeup.set()
        finally:
            with self._mutex:
                if not slot.done and slot in self._waiting:  # the write lock failed us
                    self._waiting.remove(slot)
                if self._waiting:
                    self._waiting[0].wakeup.set()  # the lead, still busy, passes on
                else:
                    self._leader_busy = False

    def _write(self, batch: list[_Slot[Item, Result]]) -> None:
        try:
            if self._on_batch is not None:
                self._on_batch(len(batch))
            results = self._write_batch([slot.item for slot in batch])
            if len(results) != len(batch):
                raise RuntimeError(f"write_batch returned {len(results)} results "
                                   f"for {len(batch)} items")
        except BaseException as exc:  # noqa: BLE001 - handed to every waiting writer, re-raised there
            for slot in batch:
                slot.error, slot.done = exc, True
            return
        for slot, result in zip(batch, results, strict=True):
            slot.result, slot.done = result, True
