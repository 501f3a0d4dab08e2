"""Make a Redmine ready for the bridge: its custom fields, on the right trackers and projects.

Idempotent: the plan is the difference between what the config needs and what Redmine
has; applying an empty plan changes nothing. Values of list fields are only ever added,
never removed, because existing issues may hold them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from redmine_sla_bridge.adapters.redmine.admin_forms import AdminSession, CustomFieldForm
from redmine_sla_bridge.adapters.redmine.fields import FieldSpec
from redmine_sla_bridge.adapters.redmine.gateway import RedmineGateway, RedmineRejected


class ProvisionError(Exception):
    pass


@dataclass(frozen=True)
class Target:
    """Where the fields must be enabled, resolved to Redmine ids."""

    tracker_ids: tuple[int, ...]
    tracker_names: tuple[str, ...]
    project_ids: tuple[int, ...] = ()  # empty: for all projects
    project_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class Action:
    kind: str  # "create" | "update"
    spec: FieldSpec
    form: CustomFieldForm
    field_id: int | None = None
    changes: tuple[str, ...] = field(default_factory=tuple)

    def describe(self) -> str:
        if self.kind == "create":
            return f"create {self.spec.field_format} field {self.spec.name!r}"
        return f"update field {self.spec.name!r}: " + "; ".join(self.changes)


def resolve_target(gateway: RedmineGateway, trackers: Sequence[str],
                   projects: str | Sequence[str]) -> Target:
    by_name = {t["name"]: t["id"] for t in gateway.trackers()}
    unknown = [t for t in trackers if t not in by_name]
    if unknown:
        raise ProvisionError(
            f"scope.trackers: Redmine has no tracker {', '.join(map(repr, unknown))} "
            f"(it has {', '.join(sorted(by_name))})"
        )
    tracker_ids = tuple(by_name[t] for t in trackers)
    if projects == "all":
        return Target(tracker_ids, tuple(trackers))
    project_ids = []
    for identifier in projects:
        try:
            project_ids.append(gateway.project(identifier)["id"])
        except RedmineRejected as exc:
            raise ProvisionError(f"scope.projects: no project {identifier!r} ({exc.status})") from None
    return Target(tracker_ids, tuple(trackers), tuple(project_ids), tuple(projects))


def _form(spec: FieldSpec, target: Target, values: tuple[str, ...], tracker_ids, project_ids,
          for_all: bool) -> CustomFieldForm:
    return CustomFieldForm(
        name=spec.name,
        field_format=spec.field_format,
        possible_values=values,
        tracker_ids=tuple(tracker_ids),
        project_ids=tuple(project_ids),
        for_all_projects=for_all,
        is_filter=True,
        searchable=spec.searchable,
        description=spec.description,
    )


def plan(specs: Sequence[FieldSpec], existing: Sequence[Mapping[str, Any]], target: Target,
         field_projects: Callable[[int], tuple[bool, frozenset[int]]] | None = None) -> list[Action]:
    """What must change so that every spec exists, filterable, with its values, on the
    target's trackers and projects. `field_projects(field_id)` tells where an existing
    field is enabled (for all projects?, which projects); only asked for project scopes.
    An update keeps every project a field already had: provisioning one support project
    must never take the fields away from another."""
    by_name = {f["name"]: f for f in existing}
    actions: list[Action] = []
    conflicts: list[str] = []
    for_all = not target.project_ids
    for spec in specs:
        current = by_name.get(spec.name)
        if current is None:
            actions.append(Action("create", spec, _form(
                spec, target, spec.possible_values, target.tracker_ids, target.project_ids,
                for_all)))
            continue
        if current.get("customized_type", "issue") != "issue" or current["field_format"] != spec.field_format:
            conflicts.append(
                f"{spec.name!r} exists as a {current.get('customized_type')} field of format "
                f"{current['field_format']!r}, the bridge needs an issue field of format "
                f"{spec.field_format!r}: rename one of them (config key fields.{spec.key})"
            )
            continue
        changes = []
        values = tuple(v["value"] for v in current.get("possible_values") or ())
        missing_values = tuple(v for v in spec.possible_values if v not in values)
        if missing_values:
            changes.append("add values " + ", ".join(missing_values))
        trackers = tuple(t["id"] for t in current.get("trackers") or ())
        missing_trackers = [t for t in target.tracker_ids if t not in trackers]
        if missing_trackers:
            names = [n for i, n in zip(target.tracker_ids, target.tracker_names, strict=True)
                     if i in missing_trackers]
            changes.append("enable for trackers " + ", ".join(names))
        if not current.get("is_filter"):
            changes.append("use as a filter")
        keep_for_all: bool = True
        keep_projects: frozenset[int] = frozenset()
        if field_projects is not None:
            keep_for_all, keep_projects = field_projects(current["id"])
        if not keep_for_all and target.project_ids:
            missing_projects = [p for p in target.project_ids if p not in keep_projects]
            if missing_projects:
                names = [n for i, n in zip(target.project_ids, target.project_names, strict=True)
                         if i in missing_projects]
                changes.append("enable in projects " + ", ".join(names))
        elif not keep_for_all and for_all:
            changes.append("enable for all projects")
        if changes:
            # Keep what the admin already had: values, trackers and projects are unions.
            actions.append(Action(
                "update", spec,
                _form(spec, target, values + missing_values, (*trackers, *missing_trackers),
                      tuple(sorted(keep_projects | set(target.project_ids))),
                      keep_for_all or for_all),
                field_id=current["id"], changes=tuple(changes)))
    if conflicts:
        raise ProvisionError("\n".join(conflicts))
    return actions


def manual_steps(actions: Sequence[Action], target: Target) -> str:
    """What an admin must do by hand in Redmine's UI for the given plan."""
    lines = []
    for n, action in enumerate(actions, 1):
        spec = action.spec
        if action.kind == "create":
            lines.append(f"{n}. Administration > Custom fields > New custom field > Issues:")
            lines.append(f"     Format: {'List' if spec.field_format == 'list' else 'Text'}")
            lines.append(f"     Name: {spec.name}")
            if spec.field_format == "list":
                lines.append("     Possible values (one per line): " + " | ".join(spec.possible_values))
            lines.append("     Used as a filter: yes" + ("; Searchable: yes" if spec.searchable else ""))
            lines.append("     Trackers: " + ", ".join(target.tracker_names))
            lines.append("     Projects: " + (", ".join(target.project_names) or "For all projects"))
        else:
            lines.append(f"{n}. Administration > Custom fields > {spec.name}: "
                         + "; ".join(action.changes))
    return "\n".join(lines)


def apply(actions: Sequence[Action], admin: AdminSession, log: Callable[[str], None] = print) -> None:
    for action in actions:
        log(action.describe())
        if action.kind == "create":
            admin.create_custom_field(action.form)
        else:
            assert action.field_id is not None  # plan() gives every update its field's id
            admin.update_custom_field(action.field_id, action.form)
