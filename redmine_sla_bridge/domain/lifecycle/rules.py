"""Time-driven and reply-driven rules: auto-close (AR-6, ID-10, BA-8), what a customer's
reply does (ID-10 reopen, BA-8 disagreement), hand-over to development (AR-8, ID-9).

Pure functions of an IssueHistory and "now"; the service applies what they decide.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from redmine_sla_bridge.domain.calendar.duration import Duration
from redmine_sla_bridge.domain.lifecycle.clock import Schedule
from redmine_sla_bridge.domain.lifecycle.history import IssueHistory, Note, Role

IdleSince = Literal["customer_message", "support_answer", "status_change"]


@dataclass(frozen=True)
class AutoClose:
    name: str
    from_statuses: frozenset[str]
    idle_since: IdleSince
    after: Duration
    calendar: str
    to_status: str
    even_if_customer_waits: bool = False


@dataclass(frozen=True)
class CustomerReply:
    from_statuses: frozenset[str]
    to_status: str
    within: Duration | None = None
    calendar: str = "24x7"


def _public(history: IssueHistory) -> list[Note]:
    return [n for n in history.notes if n.public and n.text.strip() and n.role is not Role.BRIDGE]


def customer_waits(history: IssueHistory) -> bool:
    """The last public word (the bridge's own notes aside) is the requester's, unanswered."""
    notes = _public(history)
    return bool(notes) and notes[-1].role is Role.REQUESTER


def idle_start(history: IssueHistory, since: IdleSince) -> dt.datetime | None:
    """When the idle period measured by `since` began (None: it has not begun)."""
    if since == "customer_message":
        note = history.last_public_note(Role.REQUESTER)
        return note.at if note else history.created_at  # the request itself is a message
    if since == "support_answer":
        note = history.last_public_note(Role.SUPPORT)
        return note.at if note else None
    return history.status_changes[-1].at if history.status_changes else history.created_at


def auto_close_due(history: IssueHistory, rule: AutoClose, schedule: Schedule,
                   now: dt.datetime) -> dt.datetime | None:
    """The moment the rule closes the issue, if it applies to it now (else None)."""
    if history.status not in rule.from_statuses:
        return None
    if customer_waits(history) and not rule.even_if_customer_waits:
        return None
    start = idle_start(history, rule.idle_since)
    if start is None:
        return None
    return schedule.add(start, rule.after)


@dataclass(frozen=True)
class ReplyDecision:
    rule: CustomerReply
    reply: Note
    in_time: bool  # False: the window is over; the customer is asked for a new request


def reply_decision(history: IssueHistory, rules: tuple[CustomerReply, ...],
                   schedules: Mapping[str, Schedule], handled_after: int = 0) -> ReplyDecision | None:
    """A requester's public reply the bridge has not acted on yet, and what it does.

    `handled_after`: the journal id of the bridge's last public note; a reply before it
    was answered already. Only a reply written after the issue entered its current
    status counts. Journal ids, not times, order journals (several share a second).
    """
    rule = next((r for r in rules if history.status in r.from_statuses), None)
    if rule is None:
        return None
    entered = history.last_entered(frozenset({history.status})) or history.created_at
    entered_journal = max((c.journal_id or 0 for c in history.status_changes
                           if c.new == history.status), default=0)
    floor = max(entered_journal, handled_after)
    replies = [n for n in history.public_notes(Role.REQUESTER) if (n.journal_id or 0) > floor]
    if not replies:
        return None
    reply = replies[-1]
    in_time = True
    if rule.within is not None:
        in_time = reply.at <= schedules[rule.calendar].add(entered, rule.within)
    return ReplyDecision(rule, reply, in_time)


def development_handover(history: IssueHistory, *, statuses: frozenset[str],
                         assignee_journal: int | None) -> int | None:
    """The journal that handed the issue to development, if it is there now: the last
    move into one of `statuses`, or the assignment to a development assignee (its
    journal id, found by the caller who knows assignee ids)."""
    if history.status in statuses:
        for change in reversed(history.status_changes):
            if change.new in statuses and change.old not in statuses:
                return change.journal_id
    return assignee_journal
