"""The outcome of one request, as the bridge records it in its `sla_outcome` field.

Written in the same journal as the decision it follows from (acceptance, an answer, a
resolution, a reopen, a refusal, an auto-close), so a report reads issue lists only, a
hundred issues per call, instead of every issue's journals. The text is compact and
meant to be read by an engineer too:

    fr=met 42/60; res=breached 1310/960; paused=30; reopened=1; auto_closed
    refused=missing_field,no_license

Minutes are working minutes on the target's calendar: elapsed/allowed ("-" where there
is none: an open target has no elapsed time yet, an unlimited one no allowance). Only
what is decided is recorded; whether an open target is at risk or breached follows from
its due field and the report's "now", so the field never changes while time just passes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from redmine_sla_bridge.domain.lifecycle.clock import ClockReading, TargetClock
from redmine_sla_bridge.domain.lifecycle.history import IssueHistory, Role
from redmine_sla_bridge.domain.policy import TargetKind

OUTCOME_KEY = "sla_outcome"
MET, BREACHED, OPEN = "met", "breached", "open"
_STATES = frozenset({MET, BREACHED, OPEN})
_TARGET_TOKENS = {"fr": TargetKind.FIRST_RESPONSE, "res": TargetKind.RESOLUTION}


def minutes(delta: dt.timedelta | None) -> int | None:
    return None if delta is None else int(delta.total_seconds() // 60)


@dataclass(frozen=True)
class TargetOutcome:
    state: str  # met | breached | open
    minutes: int | None = None  # working minutes to the answer / resolution
    target_minutes: int | None = None  # what the target allowed; None: not limited

    def text(self) -> str:
        def shown(value: int | None) -> str:
            return "-" if value is None else str(value)
        return f"{self.state} {shown(self.minutes)}/{shown(self.target_minutes)}"

    @classmethod
    def parse(cls, text: str) -> TargetOutcome | None:
        state, _, numbers = text.strip().partition(" ")
        elapsed, _, allowed = numbers.partition("/")
        if state not in _STATES:
            return None
        try:
            return cls(state, _number(elapsed), _number(allowed))
        except ValueError:
            return None

    @property
    def overdue_minutes(self) -> int | None:
        """By how much a target answered late missed it (None while still open)."""
        if self.state != BREACHED or self.minutes is None or self.target_minutes is None:
            return None
        return max(0, self.minutes - self.target_minutes)


def _number(text: str) -> int | None:
    text = text.strip()
    return None if text in ("", "-") else int(text)


@dataclass(frozen=True)
class Outcome:
    first_response: TargetOutcome | None = None
    resolution: TargetOutcome | None = None
    paused_minutes: int = 0
    reopened: int = 0
    auto_closed: bool = False
    refused: tuple[str, ...] = ()  # refusal codes; empty for an accepted request

    def text(self) -> str:
        if self.refused:
            return "refused=" + ",".join(self.refused)
        parts = [f"{token}={target.text()}" for token, target in
                 (("fr", self.first_response), ("res", self.resolution)) if target is not None]
        if self.paused_minutes:
            parts.append(f"paused={self.paused_minutes}")
        if self.reopened:
            parts.append(f"reopened={self.reopened}")
        if self.auto_closed:
            parts.append("auto_closed")
        return "; ".join(parts) or "-"

    @classmethod
    def parse(cls, text: str | None) -> Outcome | None:
        """The outcome a field holds; None when it is empty or not one the bridge wrote
        (an older installation's issue: `report --rebuild` fills it)."""
        if not text or not text.strip():
            return None
        found: dict[str, object] = {}
        for part in text.split(";"):
            key, _, value = part.strip().partition("=")
            if key == "-":
                continue
            if key == "refused":
                found["refused"] = tuple(c for c in value.split(",") if c)
            elif key in _TARGET_TOKENS:
                target = TargetOutcome.parse(value)
                if target is None:
                    return None
                found["first_response" if key == "fr" else "resolution"] = target
            elif key in ("paused", "reopened"):
                try:
                    found["paused_minutes" if key == "paused" else "reopened"] = int(value)
                except ValueError:
                    return None
            elif key == "auto_closed":
                found["auto_closed"] = True
            else:
                return None
        return cls(**found)  # type: ignore[arg-type]


def refused(codes: Iterable[str]) -> Outcome:
    return Outcome(refused=tuple(codes) or ("refused",))


def outcome_of(history: IssueHistory, reading: ClockReading) -> Outcome:
    """What the clock reading says is decided about the request."""
    targets = {kind: _target(clock) for kind, clock in reading.targets.items()}
    return Outcome(
        first_response=targets.get(TargetKind.FIRST_RESPONSE),
        resolution=targets.get(TargetKind.RESOLUTION),
        paused_minutes=minutes(reading.paused) or 0,
        reopened=reading.reopened,
        auto_closed=_auto_closed(history, reading.targets.get(TargetKind.RESOLUTION)),
    )


def _target(clock: TargetClock) -> TargetOutcome:
    allowed = minutes(clock.allowed)
    if clock.met_at is None:
        return TargetOutcome(OPEN, None, allowed)
    late = clock.due is not None and clock.due < clock.met_at
    return TargetOutcome(BREACHED if late else MET, minutes(clock.elapsed), allowed)


def _auto_closed(history: IssueHistory, resolution: TargetClock | None) -> bool:
    """The request is done because the bridge moved it there (an auto-close rule): the
    status change that made it done was the bridge's."""
    if resolution is None or resolution.met_at is None:
        return False
    done_by = [c for c in history.status_changes if c.at == resolution.met_at]
    return bool(done_by) and done_by[-1].role is Role.BRIDGE
