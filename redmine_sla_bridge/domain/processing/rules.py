"""Everything issue processing decides by, built once from the config (frozen)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from redmine_sla_bridge.domain.calendar.duration import Duration
from redmine_sla_bridge.domain.lifecycle.clock import ClockRules, SlaState
from redmine_sla_bridge.domain.lifecycle.rules import AutoClose, CustomerReply
from redmine_sla_bridge.domain.markup import TextFormatting
from redmine_sla_bridge.domain.notices import NoticeTexts
from redmine_sla_bridge.domain.policy.entitlements import Entitlements
from redmine_sla_bridge.domain.request_decision import Rules


@dataclass(frozen=True)
class EscalationAction:
    """Done once when an issue's clock enters a worse state, with the same write."""

    private_note: bool = True
    add_watchers: tuple[str, ...] = ()
    assign_to: str | None = None
    raise_priority: str | None = None


@dataclass(frozen=True)
class DevelopmentRule:
    """AR-8/ID-9: the hand-over to development that tells the customer a term."""

    statuses: frozenset[str]
    assignees: frozenset[str]
    expected_term: Duration
    calendar: str


@dataclass(frozen=True)
class TimeAccounting:
    """BA-9: the least time every public answer of support is accounted."""

    minimum_minutes: int
    activity: str


@dataclass(frozen=True)
class NeedsDecision:
    """ID-1 / AR-7: requests the head of support decides (serve or refuse) in Redmine."""

    assign_to: str | None  # the lead: a user or group name as Redmine shows it
    deciders: frozenset[str] = frozenset()  # who may set serve/refuse; empty: Redmine's permissions
    tiers: frozenset[str] = frozenset()  # ID-1: asked at intake for these tiers


@dataclass(frozen=True)
class CloseReminder:
    """One public reminder (and its email) before `rule` closes an idle issue: once
    `share` of the idle period's time on the rule's calendar has passed."""

    rule: AutoClose
    share: float


@dataclass(frozen=True)
class ProcessingRules:
    decision: Rules
    clock: ClockRules
    texts: NoticeTexts
    rejected_status: str = "Rejected"
    reopened_status: str = "New"
    escalation: Mapping[SlaState, EscalationAction] = field(default_factory=dict)
    # Escalation actions wait for the working time of this calendar (None: at once),
    # except for these SLA priorities; the SLA state is written at once either way.
    staff_calendar: str | None = None
    escalate_at_once_for: frozenset[str] = frozenset()
    development: DevelopmentRule | None = None
    auto_close: tuple[AutoClose, ...] = ()
    reminders: tuple[CloseReminder, ...] = ()  # for some of `auto_close`
    replies: tuple[CustomerReply, ...] = ()
    time_accounting: TimeAccounting | None = None
    one_request_at_a_time: bool = False  # ID-8: a contact's later requests are queued
    needs_decision: NeedsDecision | None = None
    extension_reasons: tuple[str, ...] = ()  # BA-10; empty: no agreed extensions (BA-7)
    flag_questions_from: int | None = None  # BA-3/ID-8: flag a request asking this many
    entitlements: Entitlements = field(default_factory=Entitlements)
    # Intake fields people may change after intake (the change recomputes); every other
    # intake field, like every SLA field, is put back when someone else changes it.
    people_may_change: frozenset[str] = frozenset()
    field_names: Mapping[str, str] = field(default_factory=dict)  # as Redmine shows them
    # Redmine's Setting.text_formatting: how customer values are escaped in notes.
    text_formatting: TextFormatting = "textile"

    @property
    def timezone(self) -> str:
        return self.decision.timezone

    @property
    def schedules(self) -> Mapping[str, Any]:
        return self.decision.schedules

    @property
    def language(self) -> str:
        return self.texts.language

    def reminder_share(self, rule: AutoClose) -> float | None:
        return next((r.share for r in self.reminders if r.rule == rule), None)

    @property
    def closable_statuses(self) -> frozenset[str]:
        """Statuses some auto-close rule starts from: only these need journals in a sweep."""
        return frozenset().union(*(r.from_statuses for r in self.auto_close))
