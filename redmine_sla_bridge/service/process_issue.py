"""Bring one Redmine issue up to date with the regulation: read, plan, apply.

Costs: one GET (the issue with journals) and one PUT for a new request (a second when
the intake gate flags something for staff in a private note); an update that changes
nothing costs the GET only. A rule that needs more facts (ID-6's earlier requests,
BA-9's logged time) asks for them through the plan, so only its issues pay for them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from redmine_sla_bridge.domain.ports import NotManageable
from redmine_sla_bridge.domain.processing import (
    ContactLookup,
    ContactRequestsLookup,
    IssueSnapshot,
    IssueUpdate,
    TimeEntriesLookup,
    effect_keys,
    plan,
)
from redmine_sla_bridge.domain.processing.update import Lookup
from redmine_sla_bridge.domain.request_decision import RequestDecision
from redmine_sla_bridge.service.bridge import Bridge
from redmine_sla_bridge.service.execute import execute

__all__ = ["NotManageable", "Outcome", "plan_issue", "process_issue", "remembered"]

MAX_LOOKUPS = 3  # one per kind of lookup there is


@dataclass(frozen=True)
class Outcome:
    issue_id: int
    action: str  # accepted | rejected | updated | unchanged | skipped | resumed | reopened
    detail: str = ""
    decision: RequestDecision | None = None


def process_issue(bridge: Bridge, issue_id: int, now: dt.datetime | None = None) -> Outcome:
    now = now or bridge.clock()
    snapshot = bridge.redmine.load(issue_id)
    if snapshot is None:
        return Outcome(issue_id, "skipped", "not in the configured projects and trackers")
    update = plan_issue(bridge, snapshot, now)
    execute(bridge, update, now)
    for woken in update.wake:
        # ID-8: this request is done, so the contact's next queued one starts now. A
        # failure here retries this event, whose plan wakes the same request again.
        process_issue(bridge, woken, now)
    return Outcome(update.issue_id, update.action, update.detail, update.decision)


def plan_issue(bridge: Bridge, snapshot: IssueSnapshot, now: dt.datetime) -> IssueUpdate:
    """The plan for a loaded issue, with the store's memory and any fact it asks for."""
    rules = bridge.rules
    snapshot = dataclasses.replace(snapshot, remembered=remembered(bridge, effect_keys(snapshot, rules)))
    update = plan(snapshot, rules, now)
    for _ in range(MAX_LOOKUPS):
        if update.needs is None:
            return update
        snapshot = _with_fact(bridge, snapshot, update.needs)
        update = plan(snapshot, rules, now)
    if update.needs is not None:
        raise RuntimeError(f"the plan for issue #{snapshot.issue_id} keeps asking for {update.needs}")
    return update


def remembered(bridge: Bridge, keys: Iterable[str]) -> frozenset[str]:
    """Those of `keys` the store has: what a plan's `remembered` holds."""
    return frozenset(k for k in keys if bridge.store.seen(k))


def _with_fact(bridge: Bridge, snapshot: IssueSnapshot, needs: Lookup) -> IssueSnapshot:
    if isinstance(needs, ContactLookup):
        earlier = bridge.redmine.earlier_requests(snapshot.issue_id, needs.email)
        return dataclasses.replace(snapshot, earlier_requests=earlier)
    if isinstance(needs, ContactRequestsLookup):
        return dataclasses.replace(
            snapshot, contact_requests=bridge.redmine.contact_requests(snapshot.issue_id, needs.email))
    if isinstance(needs, TimeEntriesLookup):
        return dataclasses.replace(snapshot, time_entries=bridge.redmine.time_entries(snapshot.issue_id))
    raise TypeError(f"unknown lookup {needs!r}")
