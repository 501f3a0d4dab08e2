"""Everything a running bridge holds: rules built from the config, Redmine facts, clients.

Built once per process. Redmine facts (the bridge's own user, status and priority ids)
are read once on first use, so that handling an event costs only the issue's GET and
at most one PUT.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from redmine_sla_bridge.adapters.customers import load_customer_file
from redmine_sla_bridge.adapters.redmine.fields import FieldMap, FieldSpec, specs_for_config
from redmine_sla_bridge.adapters.redmine.gateway import RedmineGateway, RedmineRejected
from redmine_sla_bridge.domain.calendar import CalendarSpec, build_schedule
from redmine_sla_bridge.domain.lifecycle.clock import ClockRules
from redmine_sla_bridge.domain.notices import NoticeTexts
from redmine_sla_bridge.domain.policy import CustomerSource
from redmine_sla_bridge.domain.request_decision import Rules

ALWAYS_OPEN = "24x7"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class _NoCustomers:
    def get(self, inn: str):
        return None


def build_schedules(config) -> dict[str, Any]:
    schedules = {name: build_schedule(cal.to_spec(name)) for name, cal in config.calendars.items()}
    # A built-in always-open calendar, so a target can be wall-clock time (RB-3/4)
    # without every config declaring one; it shows times in the default calendar's zone.
    default = config.calendars.get(config.policy.calendar)
    zone = default.timezone if default is not None else "UTC"
    schedules.setdefault(ALWAYS_OPEN, build_schedule(
        CalendarSpec(name=ALWAYS_OPEN, timezone=zone, always_open=True)))
    return schedules


def load_customers(config, base_dir: Path, override: Path | None = None) -> CustomerSource:
    path = override
    if path is None and config.policy.customers is not None:
        path = config.policy.customers.path(base_dir)
    if path is None:
        return _NoCustomers()
    return load_customer_file(path, config.policy.known_license_kinds())


def build_rules(config, base_dir: Path, customers: Path | None = None) -> Rules:
    """The pure decision inputs of a config (raises CustomerDirectoryError on a bad file)."""
    schedules = build_schedules(config)
    default_calendar = config.policy.calendar
    return Rules(
        intake=config.intake.to_domain(config.language),
        policy=config.policy.to_domain(),
        customers=load_customers(config, base_dir, customers),
        schedules=schedules,
        timezone=schedules[default_calendar].zone.key,
    )


@dataclass(frozen=True)
class RedmineFacts:
    bridge_user_id: int
    status_names: dict[int, str]
    closed_status_ids: frozenset[int]
    status_ids: dict[str, int]
    priority_ids: dict[str, int]
    tracker_ids: dict[str, int]
    project_ids: frozenset[int] | None  # None: every project


class Runtime:
    def __init__(self, config, *, base_dir: Path | None = None, gateway: RedmineGateway | None = None,
                 store=None, notifier=None, clock: Callable[[], dt.datetime] = utcnow,
                 customers: Path | None = None) -> None:
        self.config = config
        self.base_dir = base_dir or Path.cwd()
        self.rules = build_rules(config, self.base_dir, customers)
        self.gateway = gateway or RedmineGateway.from_config(config.redmine)
        self.store = store
        self.notifier = notifier
        self.clock = clock
        self.texts = NoticeTexts(config.language, config.notices.templates.get(config.language, {}))
        self._facts: RedmineFacts | None = None
        self._project_fields: dict[str, tuple[dict, FieldMap]] = {}
        self._lock = threading.Lock()

    @cached_property
    def specs(self) -> list[FieldSpec]:
        return specs_for_config(self.config)

    @cached_property
    def clock_rules(self) -> ClockRules:
        statuses = self.config.statuses
        return ClockRules(
            pause_statuses=frozenset(statuses.paused),
            done_statuses=frozenset(statuses.done),
            at_risk_share=self.config.sla.at_risk_share,
        )

    @property
    def facts(self) -> RedmineFacts:
        if self._facts is None:
            with self._lock:
                if self._facts is None:
                    self._facts = self._read_facts()
        return self._facts

    def _read_facts(self) -> RedmineFacts:
        statuses = self.gateway.statuses()
        return RedmineFacts(
            bridge_user_id=self.gateway.current_user()["id"],
            status_names={s["id"]: s["name"] for s in statuses},
            closed_status_ids=frozenset(s["id"] for s in statuses if s.get("is_closed")),
            status_ids={s["name"]: s["id"] for s in statuses},
            priority_ids={p["name"]: p["id"] for p in self.gateway.priorities()},
            tracker_ids={t["name"]: t["id"] for t in self.gateway.trackers()},
            project_ids=None if self.config.scope.projects == "all" else frozenset(
                self.gateway.project(p)["id"] for p in self.config.scope.projects),
        )

    def project_fields(self, identifier: str) -> tuple[dict, FieldMap]:
        """A project and the ids of the bridge's fields, for creating issues (read once).

        Ids come from /custom_fields.json when the API key may read it (an admin's);
        otherwise from the fields enabled in the project (provisioned with a project
        list), or from an existing issue of the project.
        """
        if identifier not in self._project_fields:
            project = self.gateway.project(identifier)
            sources = [lambda: self.gateway.custom_fields(),
                       lambda: project.get("issue_custom_fields") or (),
                       lambda: next(iter(self.gateway.find_issues(
                           project_id=project["id"], status_id="*", limit=1)), {}).get(
                           "custom_fields") or ()]
            problem = None
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

    def activity_id(self, name: str) -> int:
        activities = {a["name"]: a["id"] for a in self.gateway.time_entry_activities()}
        try:
            return activities[name]
        except KeyError:
            raise LookupError(f"Redmine has no time entry activity {name!r} "
                              f"(it has {', '.join(sorted(activities))})") from None

    def status_id(self, name: str) -> int:
        try:
            return self.facts.status_ids[name]
        except KeyError:
            raise LookupError(f"Redmine has no status {name!r} (see config `statuses`)") from None

    def scope_filters(self) -> dict[str, str]:
        """Query parameters that narrow /issues.json to the managed trackers (and the
        project, when there is exactly one; Redmine's `project_id` takes one value)."""
        filters = {}
        trackers = [str(self.facts.tracker_ids[t]) for t in self.config.scope.trackers
                    if t in self.facts.tracker_ids]
        if trackers:
            filters["tracker_id"] = "|".join(trackers)
        projects = self.facts.project_ids
        if projects is not None and len(projects) == 1:
            filters["project_id"] = str(next(iter(projects)))
        return filters

    def in_scope(self, issue: dict) -> bool:
        if issue.get("tracker", {}).get("name") not in self.config.scope.trackers:
            return False
        projects = self.facts.project_ids
        return projects is None or issue.get("project", {}).get("id") in projects
