"""Escalation when an issue's SLA clock gets worse (at risk, breached): the state field
is written once per step, and the configured actions go with that same write."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from redmine_sla_bridge.adapters.redmine.fields import FieldMap
from redmine_sla_bridge.domain.lifecycle.clock import OpenTarget, SlaState
from redmine_sla_bridge.domain.notices import format_due

log = logging.getLogger(__name__)


def escalate(rt, issue: dict, fields: FieldMap, state: SlaState, targets: Sequence[OpenTarget],
             now: dt.datetime) -> None:
    """Write the worse state and do its actions, in one update (plus watcher calls)."""
    payload, watchers = escalation_actions(rt, issue, state, targets, now)
    payload["custom_fields"] = fields.payload({"sla_state": str(state)})
    rt.gateway.update_issue(issue["id"], **payload)
    for user_id in watchers:
        rt.gateway.add_watcher(issue["id"], user_id)


def escalation_actions(rt, issue: dict, state: SlaState, targets: Sequence[OpenTarget],
                       now: dt.datetime) -> tuple[dict, list[int]]:
    """The update fields and the watchers the configured actions for `state` ask for.
    Used by the sweep (time made it worse) and by event processing (an event found it
    worse first), so the actions happen whichever notices first."""
    action = getattr(rt.config.lifecycle.escalation, state.name.lower(), None)
    payload: dict = {}
    watchers: list[int] = []
    if action is not None:
        if action.private_note:
            payload["notes"] = _note(rt, state, targets, now)
            payload["private_notes"] = True
        people = _people(rt, issue["project"]["id"]) if (action.assign_to or action.add_watchers) else {}
        if action.assign_to:
            if action.assign_to in people:
                payload["assigned_to_id"] = people[action.assign_to]
            else:
                log.warning("escalation assignee is not a member of the project",
                            extra={"issue_id": issue["id"], "assignee": action.assign_to})
        for name in action.add_watchers:
            if name in people:
                watchers.append(people[name])
            else:
                log.warning("escalation watcher is not a member of the project",
                            extra={"issue_id": issue["id"], "watcher": name})
        if action.raise_priority:
            payload.update(_raised_priority(rt, issue, action.raise_priority))
    return payload, watchers


def _note(rt, state: SlaState, targets: Sequence[OpenTarget], now: dt.datetime) -> str:
    zone = ZoneInfo(rt.rules.timezone)
    parts = [rt.texts.get(f"escalation.target.{t.kind.value}", due=format_due(t.due.astimezone(zone)))
             for t in targets]
    used = max((1 - t.schedule.between(now, t.due) / t.allowed for t in targets if t.allowed),
               default=1.0)
    key = "escalation.at_risk" if state is SlaState.AT_RISK else "escalation.breached"
    return rt.texts.get(key, targets="; ".join(parts), share=round(min(used, 1.0) * 100))


def _people(rt, project_id: int) -> dict[str, int]:
    """Names of the project's members (users and groups) as Redmine shows them."""
    out = {}
    for membership in rt.gateway.memberships(project_id):
        who = membership.get("user") or membership.get("group")
        if who:
            out[who["name"]] = who["id"]
    return out


def _raised_priority(rt, issue: dict, name: str) -> dict:
    order = list(rt.facts.priority_ids)  # Redmine lists priorities lowest first
    if name not in order:
        log.warning("escalation priority unknown", extra={"priority": name})
        return {}
    current = issue.get("priority", {}).get("name")
    if current in order and order.index(current) >= order.index(name):
        return {}
    return {"priority_id": rt.facts.priority_ids[name]}
