"""An issue as the core sees it: read once from Redmine, then only computed on."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from redmine_sla_bridge.domain.intake.request import IntakeRequest, Organization
from redmine_sla_bridge.domain.lifecycle.history import IssueHistory
from redmine_sla_bridge.domain.lifecycle.turns import ContactRequest


@dataclass(frozen=True)
class Member:
    id: int
    name: str


@dataclass(frozen=True)
class LoggedTime:
    user_id: int
    spent_on: str  # YYYY-MM-DD, as Redmine keeps it
    hours: float


@dataclass(frozen=True)
class IssueSnapshot:
    """One issue with its journals (`history`) and the bridge's field values.

    The last three attributes are facts the plan asks for only when a rule needs them
    (see `IssueUpdate.needs`), so that the common event costs one GET:
    `remembered` holds the effect keys (`effect_keys`) the store already has.
    """

    issue_id: int
    project_id: int
    status: str
    closed: bool
    values: Mapping[str, str | None]
    history: IssueHistory
    request: IntakeRequest
    assignee: Member | None = None
    priority: str | None = None
    priority_order: tuple[str, ...] = ()  # Redmine's priorities, lowest first
    start_date: str | None = None
    due_date: str | None = None
    author: str | None = None  # as Redmine shows the name
    created_by_bridge: bool = False  # the intake API (or a tool acting as the bridge)
    # How the request came, so notes say how to answer: "email" (Redmine's mail handler
    # or the bridge's mailbox), "redmine" (a user with an account), "api".
    channel: str = "email"
    remembered: frozenset[str] = frozenset()
    time_entries: tuple[LoggedTime, ...] | None = None  # None: not read
    earlier_requests: tuple[Organization, ...] | None = None  # newest first; None: not read
    contact_requests: tuple[ContactRequest, ...] | None = None  # ID-8; None: not read


@dataclass(frozen=True)
class ListedIssue:
    """An issue as a list page shows it (no journals): what the sweep reads per issue."""

    issue_id: int
    project_id: int
    status: str
    created_at: dt.datetime
    values: Mapping[str, str | None]
    request: IntakeRequest
    priority: str | None = None
    priority_order: tuple[str, ...] = field(default=())
    # The effect keys (`listed_effect_keys`) the store already has: the sweep fills it.
    remembered: frozenset[str] = frozenset()
