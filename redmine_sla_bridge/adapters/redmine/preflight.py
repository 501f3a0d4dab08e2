"""Checking the Redmine names a config uses against the Redmine it points to.

Statuses, trackers, projects, priorities, the time entry activity and the people named
in escalation are written in the config as Redmine shows them. Offline nothing can tell
a misspelt tracker from a real one, and at run time a wrong name fails quietly (every
event of a tracker that does not exist is skipped as out of scope). `check-config
--online` runs this after the offline checks; `serve` can run it at start-up.

Reads only: the bridge's own user (a wrong API key fails there), statuses, trackers,
priorities, activities, the scoped projects and their memberships.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from redmine_sla_bridge.adapters.redmine.gateway import RedmineGateway, RedmineRejected
from redmine_sla_bridge.config.yaml_source import YamlPath, dotted

if TYPE_CHECKING:
    from redmine_sla_bridge.config.model import BridgeConfig

__all__ = ["NameProblem", "check_redmine_names", "name_problems"]

_LISTED = 25  # names of Redmine's shown in one message; a large Redmine has hundreds


@dataclass(frozen=True)
class NameProblem:
    """A name the config uses that Redmine does not have, at its path in the config."""

    path: YamlPath
    message: str

    def __str__(self) -> str:
        return f"{dotted(self.path)}: {self.message}"


def check_redmine_names(config: BridgeConfig, gateway: RedmineGateway) -> list[str]:
    """Every Redmine name of `config` that `gateway`'s Redmine lacks, as "path: message"
    (empty: all there). Raises `RedmineError` when Redmine cannot be asked at all."""
    return [str(problem) for problem in name_problems(config, gateway)]


def name_problems(config: BridgeConfig, gateway: RedmineGateway) -> list[NameProblem]:
    """`check_redmine_names` with the path of each problem kept apart (for line numbers)."""
    problems: list[NameProblem] = []

    def check(named: Iterable[tuple[YamlPath, str]], known: Sequence[str],
              head: Callable[[str], str], label: str = "it has") -> None:
        have = set(known)
        problems.extend(NameProblem(path, _unknown(head(name), name, known, label))
                        for path, name in named if name not in have)

    def lacks(kind: str) -> Callable[[str], str]:
        return lambda name: f"Redmine has no {kind} {name!r}"

    # Redmine answers most reads with a wrong key too, as for an anonymous visitor; the
    # bridge's own user is what the run time needs first, and it takes a valid key (401).
    gateway.current_user()
    check(_status_names(config), [s["name"] for s in gateway.statuses()], lacks("status"))
    tracker_names = [t["name"] for t in gateway.trackers()]
    scope_trackers: list[tuple[YamlPath, str]] = [
        (("scope", "trackers", i), name) for i, name in enumerate(config.scope.trackers)]
    api = config.intake_api
    api_tracker: list[tuple[YamlPath, str]] = (
        [(("intake_api", "tracker"), api.tracker)] if api is not None else [])
    check([*scope_trackers, *api_tracker], tracker_names, lacks("tracker"))
    check(_priority_names(config), [p["name"] for p in gateway.priorities()], lacks("priority"))
    accounting = config.lifecycle.time_accounting
    if accounting is not None:
        check([(("lifecycle", "time_accounting", "activity"), accounting.activity)],
              [a["name"] for a in gateway.time_entry_activities()], lacks("time entry activity"))

    projects = _projects(config, gateway, problems)
    for identifier, project in projects.items():
        # A tracker Redmine lacks altogether is reported above, once.
        wanted = [(p, n) for p, n in scope_trackers if n in tracker_names]
        if api is not None and identifier == api.project:
            wanted += [(p, n) for p, n in api_tracker if n in tracker_names]
        check(wanted, [t["name"] for t in project.get("trackers") or ()],
              _not_enabled(identifier), label="enabled there")
    people = _people_names(config)
    for identifier, project in projects.items() if people else ():
        try:
            members = _member_names(gateway.memberships(int(project["id"])))
        except RedmineRejected as exc:
            problems.append(NameProblem(
                people[0][0], f"cannot read the members of project {identifier!r} to check this "
                f"name (Redmine answered {exc.status}); give the bridge's user a role there"))
            continue
        check(people, members, _not_member(identifier), label="members")
    return problems


def _not_enabled(identifier: str) -> Callable[[str], str]:
    def head(name: str) -> str:
        return (f"tracker {name!r} is not enabled in project {identifier!r} (its settings, "
                "Trackers), so the bridge sees no issue of it there")
    return head


def _not_member(identifier: str) -> Callable[[str], str]:
    def head(name: str) -> str:
        return (f"{name!r} is not a member of project {identifier!r} (users and groups are "
                "named as Redmine shows them)")
    return head


def _unknown(head: str, name: str, known: Sequence[str], label: str) -> str:
    """`head`, a guess at what was meant, and what Redmine has instead."""
    same = [k for k in known if k.casefold() == name.casefold()]
    close = same or difflib.get_close_matches(name, known, n=1, cutoff=0.75)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    if same:
        hint += " (names are case-sensitive)"
    listed = sorted(set(known), key=str.casefold)
    shown = ", ".join(listed[:_LISTED]) or "none"
    if len(listed) > _LISTED:
        shown += f", … ({len(listed)} in all)"
    return f"{head}{hint} [{label}: {shown}]"


def _status_names(config: BridgeConfig) -> list[tuple[YamlPath, str]]:
    statuses, lifecycle = config.statuses, config.lifecycle
    named: list[tuple[YamlPath, str]] = [
        (("statuses", "rejected"), statuses.rejected),
        (("statuses", "closed"), statuses.closed),
        (("statuses", "reopened"), statuses.reopened),
        *((("statuses", "paused", i), name) for i, name in enumerate(statuses.paused)),
        *((("statuses", "done", i), name) for i, name in enumerate(statuses.done)),
    ]
    if lifecycle.development is not None:
        named += [(("lifecycle", "development", "statuses", i), name)
                  for i, name in enumerate(lifecycle.development.statuses)]
    rules: list[tuple[str, int, Sequence[str], str]] = [
        *(("auto_close", i, r.from_statuses, r.to_status) for i, r in enumerate(lifecycle.auto_close)),
        *(("customer_reply", i, r.from_statuses, r.to_status)
          for i, r in enumerate(lifecycle.customer_reply)),
    ]
    for section, i, from_statuses, to_status in rules:
        named += [(("lifecycle", section, i, "from_statuses", j), name)
                  for j, name in enumerate(from_statuses)]
        named.append((("lifecycle", section, i, "to_status"), to_status))
    return named


def _priority_names(config: BridgeConfig) -> list[tuple[YamlPath, str]]:
    named: list[tuple[YamlPath, str]] = [
        (("policy", "priority", "redmine", level), name)
        for level, name in config.policy.priority.redmine.items()
    ]
    for state, action in _escalations(config):
        if action.raise_priority is not None:
            named.append((("lifecycle", "escalation", state, "raise_priority"), action.raise_priority))
    return named


def _escalations(config: BridgeConfig) -> list[tuple[str, Any]]:
    escalation = config.lifecycle.escalation
    return [(state, action) for state, action in (("at_risk", escalation.at_risk),
                                                  ("breached", escalation.breached))
            if action is not None]


def _people_names(config: BridgeConfig) -> list[tuple[YamlPath, str]]:
    named: list[tuple[YamlPath, str]] = []
    for state, action in _escalations(config):
        if action.assign_to is not None:
            named.append((("lifecycle", "escalation", state, "assign_to"), action.assign_to))
        named += [(("lifecycle", "escalation", state, "add_watchers", i), name)
                  for i, name in enumerate(action.add_watchers)]
    development = config.lifecycle.development
    if development is not None:
        named += [(("lifecycle", "development", "assignees", i), name)
                  for i, name in enumerate(development.assignees)]
    return named


def _projects(config: BridgeConfig, gateway: RedmineGateway,
              problems: list[NameProblem]) -> dict[str, dict[str, Any]]:
    """The projects the config names (scope.projects, intake_api.project) that exist,
    by identifier; a missing one is a problem. With `projects: all` only the intake
    project is named, so members are checked there alone (or nowhere)."""
    named: list[tuple[YamlPath, str]] = []
    if config.scope.projects != "all":
        named += [(("scope", "projects", i), name) for i, name in enumerate(config.scope.projects)]
    if config.intake_api is not None:
        named.append((("intake_api", "project"), config.intake_api.project))
    found: dict[str, dict[str, Any]] = {}
    identifiers = _cached(lambda: [
        p["identifier"] for p in gateway.iter_paged("/projects.json", "projects")])
    for path, identifier in named:
        if identifier in found:
            continue
        try:
            found[identifier] = gateway.project(identifier)
        except RedmineRejected as exc:
            if exc.status == 403:
                problems.append(NameProblem(path, f"project {identifier!r} exists, but the "
                                            "bridge's user may not see it: give that user a role in it"))
                continue
            problems.append(NameProblem(path, _unknown(
                f"Redmine has no project with the identifier {identifier!r} (the identifier is "
                "the last part of the project's URL, not its name)", identifier, identifiers(),
                "visible projects")))
    return found


def _cached(read: Callable[[], list[str]]) -> Callable[[], list[str]]:
    memo: list[list[str]] = []

    def get() -> list[str]:
        if not memo:
            memo.append(read())
        return memo[0]

    return get


def _member_names(memberships: Iterable[dict[str, Any]]) -> list[str]:
    names = []
    for membership in memberships:
        who = membership.get("user") or membership.get("group")
        if who and who.get("name"):
            names.append(who["name"])
    return names
