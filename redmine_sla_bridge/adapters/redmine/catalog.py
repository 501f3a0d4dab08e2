"""Redmine facts the bridge reads once per process: its own user, statuses, priorities,
trackers, the managed projects, activities, and the ids of its custom fields.

Read on first use, so that handling an event costs only the issue's GET and at most
one PUT; a fact that is missing is a LookupError naming what to fix.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from redmine_sla_bridge.adapters.redmine.fields import FieldMap, FieldSpec
from redmine_sla_bridge.adapters.redmine.gateway import RedmineGateway
from redmine_sla_bridge.domain.ports import RedmineRejected


@dataclass(frozen=True)
class Scope:
    """Which issues the bridge manages: trackers by name, projects by identifier
    (None: every project)."""

    trackers: tuple[str, ...]
    projects: tuple[str, ...] | None = None


@dataclass(frozen=True)
class RedmineFacts:
    bridge_user_id: int
    status_names: dict[int, str]
    closed_status_ids: frozenset[int]
    status_ids: dict[str, int]
    priority_ids: dict[str, int]  # in Redmine's order: lowest first
    tracker_ids: dict[str, int]
    project_ids: frozenset[int] | None  # None: every project
    mail_requester_id: int | None = None
    """The customer-mail user (`mail.requester_login`): its notes are the requester's."""


class RedmineCatalog:
    def __init__(self, gateway: RedmineGateway, specs: Iterable[FieldSpec], scope: Scope, *,
                 requester: RedmineGateway | None = None) -> None:
        """`requester`: a gateway acting as the customer-mail user (mail.requester_login),
        whose id is then a fact."""
        self.gateway = gateway
        self.requester = requester
        self.specs = tuple(specs)
        self.scope = scope
        self._facts: RedmineFacts | None = None
        self._project_fields: dict[str, tuple[dict[str, Any], FieldMap]] = {}
        self._activities: dict[str, int] | None = None
        self._lock = threading.Lock()

    @property
    def facts(self) -> RedmineFacts:
        if self._facts is None:
            with self._lock:
                if self._facts is None:
                    self._facts = self._read_facts()
        return self._facts

    # The facts most callers want, by name.
    @property
    def status_ids(self) -> dict[str, int]:
        return self.facts.status_ids

    @property
    def bridge_user_id(self) -> int:
        return self.facts.bridge_user_id

    @property
    def priority_order(self) -> tuple[str, ...]:
        return tuple(self.facts.priority_ids)

    def _read_facts(self) -> RedmineFacts:
        gateway = self.gateway
        statuses = gateway.statuses()
        return RedmineFacts(
            bridge_user_id=gateway.current_user()["id"],
            status_names={s["id"]: s["name"] for s in statuses},
            closed_status_ids=frozenset(s["id"] for s in statuses if s.get("is_closed")),
            status_ids={s["name"]: s["id"] for s in statuses},
            priority_ids={p["name"]: p["id"] for p in gateway.priorities()},
            tracker_ids={t["name"]: t["id"] for t in gateway.trackers()},
            project_ids=None if self.scope.projects is None else frozenset(
                gateway.project(p)["id"] for p in self.scope.projects),
            mail_requester_id=(None if self.requester is None
                               else int(self.requester.current_user()["id"])),
        )

    def status_id(self, name: str) -> int:
        try:
            return self.facts.status_ids[name]
        except KeyError:
            raise LookupError(f"Redmine has no status {name!r} (see config `statuses`)") from None

    def priority_id(self, name: str) -> int:
        try:
            return self.facts.priority_ids[name]
        except KeyError:
            raise LookupError(f"Redmine has no priority {name!r}") from None

    def tracker_id(self, name: str) -> int:
        try:
            return self.facts.tracker_ids[name]
        except KeyError:
            raise LookupError(f"Redmine has no tracker {name!r}") from None

    def activity_id(self, name: str) -> int:
        if self._activities is None:
            self._activities = {a["name"]: a["id"] for a in self.gateway.time_entry_activities()}
        try:
            return self._activities[name]
        except KeyError:
            raise LookupError(f"Redmine has no time entry activity {name!r} "
                              f"(it has {', '.join(sorted(self._activities))})") from None

    def project_fields(self, identifier: str) -> tuple[dict[str, Any], FieldMap]:
        """A project and the ids of the bridge's fields, for creating issues (read once).

        Ids come from /custom_fields.json when the API key may read it (an admin's);
        otherwise from the fields enabled in the project (provisioned with a project
        list), or from an existing issue of the project.
        """
        if identifier not in self._project_fields:
            gateway = self.gateway
            project = gateway.project(identifier)
            sources: list[Callable[[], Iterable[Mapping[str, Any]]]] = [
                gateway.custom_fields,
                lambda: project.get("issue_custom_fields") or (),
                lambda: next(iter(gateway.find_issues(
                    project_id=project["id"], status_id="*", limit=1)), {}).get(
                    "custom_fields") or (),
            ]
            problem: Exception | None = None
            for source in sources:
                try:
                    fields = FieldMap.resolve(self.specs, source())
                except (KeyError, RedmineRejected) as exc:
                    problem = exc
                    continue
                self._project_fields[identifier] = (project, fields)
                break
            else:
                raise LookupError(
                    f"cannot find the ids of the bridge's custom fields for project "
                    f"{identifier!r} ({problem}); run `provision` with scope.projects listing it"
                )
        return self._project_fields[identifier]

    def scope_filters(self) -> dict[str, str]:
        """Query parameters that narrow /issues.json to the managed trackers (and the
        project, when there is exactly one; Redmine's `project_id` takes one value)."""
        filters = {}
        trackers = [str(self.facts.tracker_ids[t]) for t in self.scope.trackers
                    if t in self.facts.tracker_ids]
        if trackers:
            filters["tracker_id"] = "|".join(trackers)
        projects = self.facts.project_ids
        if projects is not None and len(projects) == 1:
            filters["project_id"] = str(next(iter(projects)))
        return filters

    def in_scope(self, issue: Mapping[str, Any]) -> bool:
        if issue.get("tracker", {}).get("name") not in self.scope.trackers:
            return False
        projects = self.facts.project_ids
        return projects is None or issue.get("project", {}).get("id") in projects
