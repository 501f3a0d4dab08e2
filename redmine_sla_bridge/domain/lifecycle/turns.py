"""Requests that do not start their clock at once, and terms agreed later.

- ID-8 "одновременно обрабатывается одно обращение от пользователя": a contact's later
  open request waits (queued) until every earlier one is done; its clock starts when it
  becomes the contact's active one.
- ID-1 "на усмотрение руководителя" / AR-7 off-topic: the head of support decides
  (serve or refuse) in a list field of the issue; nothing is refused automatically.
- BA-3 / ID-8 "one problem (question) per request": a request asking several questions
  is flagged to the engineer, never refused.
- BA-7 / BA-10: the engineer records why the term cannot be met and the new term; the
  clock then runs to the agreed term.

Every answer here is read from the issue's journals and fields (and, for the queue, the
contact's other open issues), so it rebuilds from Redmine like the rest of the SLA.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from redmine_sla_bridge.domain.lifecycle.clock import SlaState
from redmine_sla_bridge.domain.lifecycle.history import FieldChange, IssueHistory, Role

# -- ID-8: one request per contact at a time -------------------------------------------


@dataclass(frozen=True)
class ContactRequest:
    """Another open issue of the same contact, as the queue needs it."""

    issue_id: int
    status: str
    sla_state: str | None  # None: the bridge has not taken it in


NOT_WORKED = frozenset({SlaState.NEEDS_DECISION.value})
"""A request waiting for the lead's decision is not being worked: it holds nobody up."""


def ahead_in_queue(issue_id: int, others: Sequence[ContactRequest],
                   done_statuses: Collection[str]) -> tuple[int, ...]:
    """The contact's earlier requests still being worked or waiting, oldest first: the
    issue's queue position is their number plus one. Issue ids order the queue (Redmine
    numbers issues as they are filed), so every pass and every issue agrees on it."""
    return tuple(sorted(
        o.issue_id for o in others
        if o.issue_id < issue_id and o.sla_state and o.sla_state not in NOT_WORKED
        and o.status not in done_statuses))


def next_in_queue(issue_id: int, others: Sequence[ContactRequest],
                  done_statuses: Collection[str]) -> int | None:
    """The queued request that this (done) issue held up and that nothing else holds up
    now: the one to wake."""
    queued = sorted(o.issue_id for o in others if o.sla_state == SlaState.QUEUED.value)
    for candidate in queued:
        rest = [o for o in others if o.issue_id != candidate]
        if not ahead_in_queue(candidate, rest, done_statuses):
            return candidate
    return None


def left_queue_at(history: IssueHistory) -> dt.datetime | None:
    """When the bridge took the issue out of the queue (its clock starts there)."""
    return _bridge_change_from(history, "cf:sla_state", SlaState.QUEUED.value)


def was_queued(history: IssueHistory) -> bool:
    return any(c.name == "cf:sla_state" and c.role is Role.BRIDGE and c.new == SlaState.QUEUED.value
               for c in history.field_changes)


# -- ID-1 / AR-7: the head of support decides -------------------------------------------

NEEDED, SERVE, REFUSE = "needed", "serve", "refuse"
LEAD_DECISIONS = (NEEDED, SERVE, REFUSE)
"""The values of the lead-decision list field: anyone who may edit the issue may ask for
a decision (AR-7 off-topic is the engineer's judgement); serve and refuse are the lead's."""


@dataclass(frozen=True)
class LeadDecision:
    value: str  # SERVE | REFUSE
    at: dt.datetime
    by: str | None
    journal_id: int | None
    asked_by_bridge: bool  # the bridge asked at intake (ID-1): the clock starts at `at`


def lead_decision(history: IssueHistory, current: str | None) -> LeadDecision | None:
    """The decision the field holds now, with the journal that set it."""
    if current not in (SERVE, REFUSE):
        return None
    change = next((c for c in reversed(history.field_changes)
                   if c.name == "cf:lead_decision" and c.new == current), None)
    if change is None:
        return None
    return LeadDecision(current, change.at, change.author, change.journal_id,
                        asked_by_bridge=_bridge_asked(history))


def _bridge_asked(history: IssueHistory) -> bool:
    return any(c.name == "cf:lead_decision" and c.role is Role.BRIDGE and c.new == NEEDED
               for c in history.field_changes)


def may_decide(decision: LeadDecision, deciders: Collection[str]) -> bool:
    """Empty `deciders`: Redmine's own field permissions (Workflow) say who may set it."""
    return not deciders or (decision.by or "") in deciders


# -- BA-7 / BA-10: the agreed extension ----------------------------------------------------


@dataclass(frozen=True)
class Extension:
    reason: str
    due: dt.datetime
    journal_id: int | None  # the journal that set the later of the two fields


def extension(history: IssueHistory, reason: str | None, due: dt.datetime | None,
              reasons: Collection[str]) -> Extension | None:
    """The extension the engineer recorded: a listed reason (BA-10) and the new term."""
    if not reason or due is None or reason not in reasons:
        return None
    changes = [c for c in history.field_changes
               if c.name in ("cf:extension_reason", "cf:extended_due") and c.role is not Role.BRIDGE]
    journal = max((c.journal_id or 0 for c in changes), default=None)
    return Extension(reason, due, journal)


def _bridge_change_from(history: IssueHistory, name: str, old: str) -> dt.datetime | None:
    found: FieldChange | None = None
    for change in history.field_changes:
        if change.name == name and change.role is Role.BRIDGE and change.old == old \
                and change.new != old:
            found = change
    return found.at if found else None


# -- BA-3 / ID-8: one problem per request ----------------------------------------------

_QUESTION = re.compile(r"[^?？!.\n]*[^\W\d_][^?？!.\n]*[?？]+")
_WORD = re.compile(r"[^\W\d_]{2,}")


def questions(text: str | None) -> int:
    """The question sentences of a request: a sentence of at least three words ending in
    a question mark. Only a hint for the engineer (BA-3 splits requests by problem, which
    no count of question marks can tell), so a polite one-word "Подскажете?" is left out."""
    return sum(1 for m in _QUESTION.finditer(text or "") if len(_WORD.findall(m.group())) >= 3)
