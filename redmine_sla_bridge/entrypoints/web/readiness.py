"""The checks behind `/readyz`: each answers "ok" or "error: <what failed>".

The store is probed on every call, with a real write (`Store.check_writable`): it is
local and cheap, and a read would say "ok" on a full disk while every webhook fails.
Redmine's answer is reused for a few seconds: probes come from load balancers and
monitoring, often several a second, and each would otherwise cost Redmine a request.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy.exc import DBAPIError

log = logging.getLogger(__name__)

OK = "ok"


def describe(exc: BaseException) -> str:
    """A one-line reason without SQL text or parameters (SQLAlchemy's own message
    carries both)."""
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    detail = str(cause).strip().splitlines()[0] if str(cause).strip() else ""
    name = type(exc).__name__
    return f"{name}: {detail[:200]}" if detail else name


class Check:
    """Runs a check function and logs when its outcome changes (not on every probe)."""

    def __init__(self, name: str, check: Callable[[], object]) -> None:
        self.name = name
        self._check = check
        self._last = OK

    def __call__(self) -> str:
        try:
            self._check()
            outcome = OK
        except Exception as exc:  # noqa: BLE001 - any failure is the answer, not a crash
            outcome = f"error: {describe(exc)}"
        if outcome != self._last:
            (log.info if outcome == OK else log.warning)(
                "readiness check %s: %s", self.name, outcome)
            self._last = outcome
        return outcome


class CachedCheck:
    """A check whose outcome is reused for `ttl_s` seconds (per process).

    One probe at a time refreshes it; probes arriving meanwhile get the previous
    outcome at once instead of queueing behind a slow call (only the very first ones,
    with no outcome yet, wait for it)."""

    def __init__(self, check: Callable[[], str], ttl_s: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._check = check
        self._ttl_s = ttl_s
        self._clock = clock
        self._refreshing = threading.Lock()
        self._last: tuple[float, str] | None = None  # (when, outcome): replaced whole

    def _fresh(self) -> str | None:
        last = self._last
        if last is not None and self._clock() - last[0] < self._ttl_s:
            return last[1]
        return None

    def __call__(self) -> str:
        outcome = self._fresh()
        if outcome is not None:
            return outcome
        last = self._last
        if not self._refreshing.acquire(blocking=last is None):
            assert last is not None  # blocking acquire when there is no outcome yet
            return last[1]
        try:
            outcome = self._fresh()
            if outcome is None:
                outcome = self._check()
                self._last = (self._clock(), outcome)
            return outcome
        finally:
            self._refreshing.release()
