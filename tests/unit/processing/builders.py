"""Snapshots and rules for plan tests, without Redmine: a config document in, the
processing rules out (through the composition root, as the bridge builds them)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from redmine_sla_bridge.bootstrap import load, processing_rules
from redmine_sla_bridge.domain.intake.request import Contact, IntakeRequest, Organization
from redmine_sla_bridge.domain.lifecycle.history import (
    FieldChange,
    IssueHistory,
    Note,
    Role,
    StatusChange,
)
from redmine_sla_bridge.domain.processing import IssueSnapshot, ListedIssue, ProcessingRules

MSK = ZoneInfo("Europe/Moscow")
BRIDGE, ENGINEER, CUSTOMER = 1, 7, 42


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """March 2026 in Moscow; 2 March is a Monday, no holidays that week."""
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=MSK)


def document(**sections: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "language": "en",
        "redmine": {"url": "http://127.0.0.1:9", "api_key": "unit-test-key"},
        "calendars": {"office": {"timezone": "Europe/Moscow",
                                 "week": {"mon-fri": [["09:00", "18:00"]]}, "holidays": "RU"}},
        "policy": {"calendar": "office", "tiers": [{"name": "standard", "when": {}}],
                   "priority": {"mode": "impact", "default_impact": "P3"},
                   "targets": [{"when": {}, "first_response": "8h", "resolution": "5d"}]},
    }
    doc.update(sections)
    return doc


def rules_of(tmp: Path, doc: dict[str, Any]) -> ProcessingRules:
    path = tmp / "bridge.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return processing_rules(load(path))


class Journal:
    """Builds an issue's history in order; journal ids grow like Redmine's."""

    def __init__(self, created: dt.datetime, status: str = "New") -> None:
        self.created = created
        self.initial = status
        self.status = status
        self.notes: list[Note] = []
        self.statuses: list[StatusChange] = []
        self.fields: list[FieldChange] = []
        self.next_id = 100

    def _id(self) -> int:
        self.next_id += 1
        return self.next_id

    def note(self, when: dt.datetime, role: Role, text: str = "text", *, public: bool = True,
             author: int | None = None) -> Journal:
        author = author if author is not None else {Role.BRIDGE: BRIDGE, Role.SUPPORT: ENGINEER,
                                                    Role.REQUESTER: CUSTOMER}[role]
        self.notes.append(Note(when, author, role, public, text, self._id()))
        return self

    def move(self, when: dt.datetime, status: str, role: Role = Role.SUPPORT) -> Journal:
        self.statuses.append(StatusChange(when, self.status, status, ENGINEER, role, self._id()))
        self.status = status
        return self

    def field(self, when: dt.datetime, name: str, old: str | None, new: str | None,
              role: Role = Role.BRIDGE, author: str | None = None) -> Journal:
        self.fields.append(FieldChange(when, name, old, new, role, self._id(), author))
        return self

    def history(self) -> IssueHistory:
        return IssueHistory(issue_id=7, created_at=self.created, initial_status=self.initial,
                            status=self.status, notes=tuple(self.notes),
                            status_changes=tuple(self.statuses), field_changes=tuple(self.fields))


def request(created: dt.datetime, **changes: Any) -> IntakeRequest:
    base = IntakeRequest(created_at=created, subject="VPN is down", description="It broke",
                         contact=Contact("Ivan Petrov", "ivan@customer.example", None, None),
                         organization=Organization(None, None))
    return dataclasses.replace(base, **changes)


def snapshot(journal: Journal, *, values: dict[str, str | None] | None = None,
             closed: bool = False, req: IntakeRequest | None = None, **extra: Any) -> IssueSnapshot:
    """An issue with no time logged yet (pass `time_entries=None` for "not read")."""
    history = journal.history()
    extra.setdefault("time_entries", ())
    return IssueSnapshot(
        issue_id=7, project_id=3, status=history.status, closed=closed,
        values=values or {}, history=history, request=req or request(journal.created),
        priority_order=("Low", "Normal", "High", "Urgent", "Immediate"), priority="Normal",
        start_date=journal.created.date().isoformat(), **extra)


def listed(created: dt.datetime, values: dict[str, str | None], status: str = "New",
           **extra: Any) -> ListedIssue:
    return ListedIssue(issue_id=7, project_id=3, status=status, created_at=created, values=values,
                       request=request(created), priority="Normal",
                       priority_order=("Low", "Normal", "High", "Urgent", "Immediate"), **extra)
