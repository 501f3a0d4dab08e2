"""Make a Redmine ready for the bridge: its role, its custom fields (on the right trackers
and projects, visible to the right roles), who may change them, and the saved queries.

Idempotent: the plan is the difference between what the config needs and what Redmine
has; applying an empty plan changes nothing. Values of list fields, trackers and projects
are only ever added, never removed, because existing issues and other teams may use them;
a list value the bridge knows is renamed to the config's language, and the issues holding
its old label are rewritten (`find_stale`).

A field is the bridge's by the marker at the end of its description
(`[redmine-sla-bridge:tier]`), so renaming it in the config renames it in Redmine. A field
without a marker (made by an older version, or by hand) is taken by its name, and gets
the marker.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from redmine_sla_bridge.adapters.redmine import saved_queries as sq
from redmine_sla_bridge.adapters.redmine import workflow_permissions as wp
from redmine_sla_bridge.adapters.redmine.admin_forms import (
    AdminSession,
    CustomFieldForm,
    FieldDetails,
)
from redmine_sla_bridge.adapters.redmine.fields import FieldSpec, parse_marker, specs_for_config
from redmine_sla_bridge.adapters.redmine.gateway import RedmineGateway, RedmineRejected

ALWAYS_INTERNAL = frozenset({"intake_key", "next_check", "sla_outcome"})
_FORMAT_NAMES = {"list": "List", "date": "Date"}  # as Redmine's form names them
QUERY_FIELDS = frozenset({"sla_priority", "sla_state", "first_response_due", "resolution_due",
                          "tier", "first_response_at", "first_response_day"})
# docs/redmine.md, section 4: what the bridge's user does in a support project.
BRIDGE_ROLE_PERMISSIONS = (
    "view_issues", "add_issues", "edit_issues", "add_issue_notes", "view_private_notes",
    "set_notes_private", "view_issue_watchers", "add_issue_watchers", "view_time_entries",
    "log_time", "log_time_for_other_users",
)


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
class Visibility:
    """Who must see the fields: internal ones hidden from the customers' roles, every
    field visible to the bridge's and the support roles."""

    bridge: int | None  # None: the role is still to be created
    support: frozenset[int]
    customers: frozenset[int]
    givable: frozenset[int]  # every role a field can be made visible to
    internal: frozenset[str]  # field keys
    names: Mapping[int, str] = field(default_factory=dict)

    def wanted(self, key: str, visible: bool, role_ids: frozenset[int]) -> tuple[bool, frozenset[int]]:
        """(visible to all?, else the roles that see it), changing as little as it can:
        a field an admin limited to some roles keeps them, plus the ones the bridge needs."""
        internal = key in self.internal
        needed = self.support | ({self.bridge} if self.bridge is not None else set())
        if not internal:
            if visible:
                return True, frozenset()
            needed |= self.customers
        base = self.givable if visible else role_ids
        return False, frozenset((base | needed) - (self.customers if internal else set()))


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


def _form(spec: FieldSpec, values: tuple[str, ...], tracker_ids, project_ids, for_all: bool,
          visible: bool, role_ids: frozenset[int]) -> CustomFieldForm:
    return CustomFieldForm(
        name=spec.name,
        field_format=spec.field_format,
        possible_values=values,
        tracker_ids=tuple(tracker_ids),
        project_ids=tuple(project_ids),
        for_all_projects=for_all,
        is_filter=True,
        searchable=spec.searchable,
        description=spec.full_description,
        visible=visible,
        role_ids=tuple(sorted(role_ids)),
    )


def relabel(spec: FieldSpec, values: Sequence[str]) -> tuple[tuple[str, ...],
                                                            tuple[tuple[str, str], ...]]:
    """A list field's values with each known one in the config's language, and the
    renames that takes. Values the bridge does not know (an admin's own) stay; a label
    that is there already is not added twice (its old spelling is dropped)."""
    labels, aliases = dict(spec.labels), dict(spec.aliases)
    out: list[str] = []
    renames = []
    for value in values:
        wanted = labels.get(aliases[value], value) if value in aliases else value
        if wanted != value:
            renames.append((value, wanted))
        if wanted not in out:
            out.append(wanted)
    return tuple(out), tuple(renames)


def stale_labels(spec: FieldSpec) -> dict[str, str]:
    """Spellings of the field's values that are not the config's label (another
    language's), each with the label an issue holding it should get."""
    labels = dict(spec.labels)
    return {alias: labels[value] for alias, value in spec.aliases
            if value in labels and alias != labels[value]}


@dataclass(frozen=True)
class Relabel:
    """Issues that still hold a list value in another language (written before the
    config's language changed): each is rewritten with one update, so one journal."""

    issues: Mapping[int, Mapping[int, str]]  # issue id -> field id -> new label
    counts: Mapping[str, int]  # field name -> issues to rewrite

    def describe(self) -> str:
        return ("rewrite the values of " + ", ".join(
            f"{name!r} on {n} issue{'s' if n != 1 else ''}" for name, n in self.counts.items())
            + " in the config's language")


def offered_stale(spec: FieldSpec, field: Mapping[str, Any] | None) -> tuple[str, ...]:
    """The stale labels a Redmine list field still offers. They go only once no issue
    holds them (see Provisioner.apply), so a field that offers none has no issue to
    rewrite either, and is not searched: a search across every issue of a large
    Redmine takes seconds."""
    stale = stale_labels(spec)
    values = [v.get("value") for v in (field or {}).get("possible_values") or ()]
    return tuple(v for v in values if v in stale)


def find_stale(reader: RedmineGateway, specs: Sequence[FieldSpec],
               fields: Mapping[str, Mapping[str, Any]]) -> Relabel | None:
    """The issues holding a stale spelling of a list value, any status, any project, for
    the fields still offering one (`fields`: the Redmine field by key). Each listed
    issue's own value is checked again: a filter Redmine does not offer is ignored by
    /issues.json, and must not make the bridge rewrite other issues."""
    issues: dict[int, dict[int, str]] = {}
    counts: dict[str, int] = {}
    for spec in specs:
        stale = {label: stale_labels(spec)[label]
                 for label in offered_stale(spec, fields.get(spec.key))}
        if not stale:
            continue
        field_id = int(fields[spec.key]["id"])
        filters = {f"cf_{field_id}": "|".join(stale), "status_id": "*", "sort": "id"}
        for issue in reader.iter_issues(page_size=100, **filters):
            value = next((f.get("value") for f in issue.get("custom_fields") or ()
                          if f.get("id") == field_id), None)
            if isinstance(value, str) and value in stale:
                issues.setdefault(int(issue["id"]), {})[field_id] = stale[value]
                counts[spec.name] = counts.get(spec.name, 0) + 1
    return Relabel(issues, counts) if issues else None


def rewrite(relabel: Relabel, writer: RedmineGateway, log: Callable[[str], None] = print) -> None:
    log(relabel.describe())
    for issue_id, values in relabel.issues.items():
        writer.update_issue(issue_id, custom_fields=[{"id": field_id, "value": label}
                                                     for field_id, label in values.items()])


def _candidates(existing: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [f for f in existing if f.get("customized_type", "issue") == "issue"]


def match(specs: Sequence[FieldSpec], existing: Sequence[Mapping[str, Any]],
          details: Callable[[int], FieldDetails] | None = None,
          prefetch: Callable[[Sequence[int]], None] | None = None) -> dict[str, Mapping[str, Any]]:
    """The Redmine field of each spec that has one: by its marker first (read from the
    edit forms, so only with `details`), then by its name. Raises on fields that cannot
    be told apart.

    When every spec's name is a field with that spec's marker, the other fields are not
    read: a stray copy of a marker elsewhere changes nothing then, and a Redmine with
    many projects takes ~0.2 s a form. `prefetch(ids)` may read many forms at once."""
    fields = _candidates(existing)
    by_name = {f["name"]: f for f in existing}
    markers: dict[int, tuple[str | None, str]] = {}
    if details is not None:
        named_ids = [int(by_name[s.name]["id"]) for s in specs if s.name in by_name]
        if prefetch is not None:
            prefetch(named_ids)
        settled = len(named_ids) == len(specs) and all(
            parse_marker(details(by_name[s.name]["id"]).description) == parse_marker(s.marker)
            for s in specs)
        if settled:
            return {s.key: by_name[s.name] for s in specs}
        if prefetch is not None:
            prefetch([int(f["id"]) for f in fields])
        for f in fields:
            found = parse_marker(details(f["id"]).description)
            if found is not None:
                markers[f["id"]] = found
    out: dict[str, Mapping[str, Any]] = {}
    conflicts = []
    for spec in specs:
        own = parse_marker(spec.marker)
        marked = [f for f in fields if own is not None and markers.get(f["id"]) == own]
        if len(marked) > 1:
            conflicts.append(
                f"fields {', '.join(repr(f['name']) for f in marked)} all carry the marker "
                f"{spec.marker}: remove it from all but the one the bridge should fill")
            continue
        if marked:
            out[spec.key] = marked[0]
            continue
        named = by_name.get(spec.name)
        if named is None:
            continue
        other = markers.get(named["id"])
        if other is not None:
            owner = (f"provision.instance {other[0]!r}" if other[0]
                     else "no provision.instance")
            advice = (f"rename one of them (config key fields.{spec.key})" if other[1] != spec.key
                      else f"give this config another name for it (fields.{spec.key}), or, if "
                      f"this bridge is to own it, delete the marker from its description")
            conflicts.append(
                f"{spec.name!r} is the {other[1]} field of a bridge with {owner} (the marker in "
                f"its description says so): {advice}")
            continue
        out[spec.key] = named
    if conflicts:
        raise ProvisionError("\n".join(conflicts))
    return out


def plan(specs: Sequence[FieldSpec], existing: Sequence[Mapping[str, Any]], target: Target,
         details: Callable[[int], FieldDetails] | None = None,
         visibility: Visibility | None = None,
         prefetch: Callable[[Sequence[int]], None] | None = None) -> list[Action]:
    """What must change so that every spec exists, marked, filterable, with its values, on
    the target's trackers and projects, visible as `visibility` says (None: as it is).
    `details(field_id)` reads a field's edit form (description, projects); without it
    fields are matched by name and their descriptions and projects are taken as they are.
    An update keeps every project a field already had: provisioning one support project
    must never take the fields away from another."""
    found = match(specs, existing, details, prefetch)
    by_name = {f["name"]: f for f in existing}
    actions: list[Action] = []
    conflicts: list[str] = []
    for_all = not target.project_ids
    for spec in specs:
        current = found.get(spec.key)
        if current is None:
            visible, roles = (visibility.wanted(spec.key, True, frozenset())
                              if visibility else (True, frozenset()))
            actions.append(Action("create", spec, _form(
                spec, spec.possible_values, target.tracker_ids, target.project_ids, for_all,
                visible, roles)))
            continue
        if current.get("customized_type", "issue") != "issue" or current["field_format"] != spec.field_format:
            conflicts.append(
                f"{current['name']!r} exists as a {current.get('customized_type')} field of "
                f"format {current['field_format']!r}, the bridge needs an issue field of "
                f"format {spec.field_format!r}: rename one of them (config key fields.{spec.key})"
            )
            continue
        changes = []
        if current["name"] != spec.name:
            taken = by_name.get(spec.name)
            if taken is not None and taken["id"] != current["id"]:
                conflicts.append(f"cannot rename {current['name']!r} to {spec.name!r}: another "
                                 f"field has that name (config key fields.{spec.key})")
                continue
            changes.append(f"rename {current['name']!r} to {spec.name!r}")
        values, renamed = relabel(
            spec, tuple(v["value"] for v in current.get("possible_values") or ()))
        if renamed:
            changes.append("rename values " + ", ".join(f"{old!r} to {new!r}"
                                                        for old, new in renamed))
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
        if details is not None:
            current_details = details(current["id"])
            keep_for_all, keep_projects = (current_details.for_all_projects,
                                           current_details.project_ids)
            if current_details.description != spec.full_description:
                changes.append(("write the description and marker " + spec.marker)
                               if spec.marker not in current_details.description
                               else "update the description")
        if not keep_for_all and target.project_ids:
            missing_projects = [p for p in target.project_ids if p not in keep_projects]
            if missing_projects:
                names = [n for i, n in zip(target.project_ids, target.project_names, strict=True)
                         if i in missing_projects]
                changes.append("enable in projects " + ", ".join(names))
        elif not keep_for_all and for_all:
            changes.append("enable for all projects")
        visible_now = bool(current.get("visible", True))
        roles_now = frozenset(r["id"] for r in current.get("roles") or ())
        visible, roles = (visible_now, roles_now)
        if visibility is not None:
            visible, roles = visibility.wanted(spec.key, visible_now, roles_now)
            if visible != visible_now or (not visible and roles != roles_now):
                changes.append("make it visible to everyone" if visible else
                               "make it visible only to roles "
                               + ", ".join(visibility.names.get(r, str(r)) for r in sorted(roles)))
        if changes:
            # Keep what the admin already had: values, trackers and projects are unions.
            actions.append(Action(
                "update", spec,
                _form(spec, values + missing_values, (*trackers, *missing_trackers),
                      tuple(sorted(keep_projects | set(target.project_ids))),
                      keep_for_all or for_all, visible, roles),
                field_id=current["id"], changes=tuple(changes)))
    if conflicts:
        raise ProvisionError("\n".join(conflicts))
    return actions


def manual_steps(actions: Sequence[Action], target: Target,
                 role_names: Mapping[int, str] | None = None) -> str:
    """What an admin must do by hand in Redmine's UI for the given plan."""
    role_names = role_names or {}
    lines = []
    for n, action in enumerate(actions, 1):
        spec = action.spec
        if action.kind == "create":
            lines.append(f"{n}. Administration > Custom fields > New custom field > Issues:")
            lines.append(f"     Format: {_FORMAT_NAMES.get(spec.field_format, 'Text')}")
            lines.append(f"     Name: {spec.name}")
            lines.append(f"     Description: {spec.full_description}")
            if spec.field_format == "list":
                lines.append("     Possible values (one per line): " + " | ".join(spec.possible_values))
            lines.append("     Used as a filter: yes" + ("; Searchable: yes" if spec.searchable else ""))
            if not action.form.visible:
                lines.append("     Visible: to these roles only: " + ", ".join(
                    role_names.get(r, str(r)) for r in action.form.role_ids))
            lines.append("     Trackers: " + ", ".join(target.tracker_names))
            lines.append("     Projects: " + (", ".join(target.project_names) or "For all projects"))
        else:
            lines.append(f"{n}. Administration > Custom fields > {spec.name}: "
                         + "; ".join(action.changes))
            if any(c.startswith(("write the description", "update the description"))
                   for c in action.changes):
                lines.append(f"     Description: {spec.full_description}")
    return "\n".join(lines)


def apply(actions: Sequence[Action], admin: AdminSession, log: Callable[[str], None] = print) -> None:
    for action in actions:
        log(action.describe())
        if action.kind == "create":
            admin.create_custom_field(action.form)
        else:
            assert action.field_id is not None  # plan() gives every update its field's id
            admin.update_custom_field(action.field_id, action.form)


# --- the whole of `provision` -----------------------------------------------------------


def _read_all(session: AdminSession, read: Callable[[Any], Any], keys: Sequence[Any]) -> dict:
    """`read(key)` for every key, a few at a time: an admin page takes 0.2-0.7 s, and a
    plan reads dozens of them."""
    session.login()  # once, before the threads share its cookie
    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(zip(keys, pool.map(read, keys), strict=True))


@dataclass
class Plan:
    """Everything `provision` would change now. A later step that depends on an earlier
    one (the permissions of a field still to be created) is listed in `pending`."""

    role: str | None = None  # the bridge's role, to be created
    fields: list[Action] = field(default_factory=list)
    permissions: list[wp.Change] = field(default_factory=list)
    queries: list[sq.QueryAction] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    relabel: Relabel | None = None

    @property
    def empty(self) -> bool:
        return not (self.role or self.fields or self.permissions or self.queries or self.pending
                    or self.relabel)

    def describe(self) -> list[str]:
        lines = [f"create role {self.role!r}"] if self.role else []
        lines += [a.describe() for a in self.fields]
        lines += [self.relabel.describe()] if self.relabel else []
        lines += [c.describe() for c in self.permissions]
        lines += [a.describe() for a in self.queries]
        lines += [f"then: {p}" for p in self.pending]
        return lines


class _FieldForms:
    """Custom fields' edit forms, each read once per plan."""

    def __init__(self, session: AdminSession) -> None:
        self.session = session
        self.cache: dict[int, FieldDetails] = {}

    def prefetch(self, ids: Sequence[int]) -> None:
        todo = [i for i in dict.fromkeys(ids) if i not in self.cache]
        self.cache.update(_read_all(self.session, self.session.field_details, todo))

    def __call__(self, field_id: int) -> FieldDetails:
        if field_id not in self.cache:
            self.cache[field_id] = self.session.field_details(field_id)
        return self.cache[field_id]


class Provisioner:
    """`provision` for one config: plans against the current Redmine and applies step by
    step (role, fields, field permissions, queries), because each step needs the ids the
    one before creates. `session` is None without `redmine.admin`: then nothing is
    changed and only what the REST API shows is compared."""

    def __init__(self, config: Any, reader: RedmineGateway, session: AdminSession | None) -> None:
        self.config = config
        self.settings = config.provision
        self.reader = reader
        self.session = session
        self.specs = specs_for_config(config)
        self.target = resolve_target(reader, config.scope.trackers, config.scope.projects)
        self._trackers = {t["id"]: t for t in reader.trackers()}
        self._statuses = {s["id"]: s["name"] for s in reader.statuses()}

    # -- reading Redmine -----------------------------------------------------------------

    def _roles(self) -> dict[str, int]:
        roles = {r["name"]: r["id"] for r in self.reader.roles()}
        wanted = [*self.settings.support_roles, *self.settings.customer_roles]
        missing = [r for r in wanted if r not in roles]
        if missing:
            raise ProvisionError(
                f"provision.support_roles / customer_roles: Redmine has no role "
                f"{', '.join(map(repr, missing))} (it has {', '.join(sorted(roles))})")
        return roles

    def existing_fields(self) -> Sequence[Mapping[str, Any]] | None:
        """Redmine's custom fields, or None when the key may not list them (not an admin)."""
        try:
            return self.reader.custom_fields()
        except RedmineRejected:
            return None

    def _details(self) -> _FieldForms | None:
        return _FieldForms(self.session) if self.session is not None else None

    def visibility(self, roles: Mapping[str, int]) -> Visibility | None:
        if not self.settings.permissions:
            return None
        return Visibility(
            bridge=roles.get(self.settings.bridge_role),
            support=frozenset(roles[r] for r in self.settings.support_roles),
            customers=frozenset(roles[r] for r in self.settings.customer_roles),
            givable=frozenset(roles.values()),
            internal=ALWAYS_INTERNAL | frozenset(self.settings.internal_fields),
            names={i: n for n, i in roles.items()})

    def _trackers_in_scope(self) -> list[wp.Tracker]:
        out = []
        for tracker_id, name in zip(self.target.tracker_ids, self.target.tracker_names, strict=True):
            default = (self._trackers[tracker_id].get("default_status") or {}).get("id")
            out.append(wp.Tracker(tracker_id, name, int(default or 0)))
        return out

    def _query_wanted(self, field_ids: Mapping[str, int],
                      roles: Mapping[str, int]) -> list[tuple[str, sq.QueryDefinition]]:
        role_ids = [roles[r] for r in self.settings.support_roles]
        places: list[tuple[str, int | None]] = (
            list(zip(self.target.project_names, self.target.project_ids, strict=True))
            or [("", None)])
        return [(identifier, definition) for identifier, project_id in places
                for definition in sq.definitions(self.config.redmine_language, field_ids,
                                                 self.target.tracker_ids, role_ids, project_id)]

    def summary(self) -> str:
        """What `provision` keeps in place, for "nothing to do: ... are in place"."""
        parts = [f"all {len(self.specs)} custom fields"]
        if self.settings.permissions:
            parts.append("their permissions")
        if self.settings.queries:
            places = len(self.target.project_ids) or 1
            count = places * len(sq.NAMES[self.config.redmine_language])
            parts.append(f"{count} saved queries")
        return ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0]

    # -- planning ------------------------------------------------------------------------

    def plan(self) -> Plan:
        roles = self._roles()
        out = Plan()
        if self.settings.permissions and self.settings.bridge_role not in roles:
            out.role = self.settings.bridge_role
        existing = self.existing_fields() or []
        details = self._details()
        out.fields = plan(self.specs, existing, self.target, details, self.visibility(roles),
                          details.prefetch if details else None)
        ids = self._ids(existing, details)
        out.relabel = find_stale(self.reader, self.specs, self._found(existing, details))
        created = [a.spec.name for a in out.fields if a.kind == "create"]
        if self.settings.permissions and self.session is not None:
            if out.role is not None or created:
                out.pending.append("set the field permissions of " + ", ".join(
                    ([f"role {out.role!r}"] if out.role else [])
                    + [f"field {name!r}" for name in created]))
            if out.role is None:
                out.permissions = self.permission_changes(ids, roles)
        if self.settings.queries:
            if set(ids) >= QUERY_FIELDS:
                out.queries = self.query_actions(ids, roles)
            else:
                out.pending.append("save the queries, once their fields exist")
        return out

    def _found(self, existing: Sequence[Mapping[str, Any]],
               details: _FieldForms | None) -> dict[str, Mapping[str, Any]]:
        return match(self.specs, existing, details, details.prefetch if details else None)

    def _ids(self, existing: Sequence[Mapping[str, Any]],
             details: _FieldForms | None) -> dict[str, int]:
        found = match(self.specs, existing, details, details.prefetch if details else None)
        return {key: int(f["id"]) for key, f in found.items()}

    def query_actions(self, ids: Mapping[str, int],
                      roles: Mapping[str, int]) -> list[sq.QueryAction]:
        wanted = self._query_wanted(ids, roles)
        existing = self.existing_queries()
        if self.session is None:
            return sq.plan(wanted, existing, None)
        session = self.session
        found = {int(query["id"]): definition for _, definition in wanted
                 if (query := sq.find(existing, definition)) is not None}
        pages = _read_all(session, lambda query_id: sq.read_definition(
            session, query_id, found[query_id]), list(found))
        return sq.plan(wanted, existing, lambda query_id, _want: pages[query_id])

    def permission_changes(self, ids: Mapping[str, int],
                           roles: Mapping[str, int]) -> list[wp.Change]:
        assert self.session is not None  # only planned with the admin forms
        session = self.session
        workflow = wp.workflow_roles(session)
        bridge = roles.get(self.settings.bridge_role)
        rules = wp.Roles(workflow, bridge, frozenset(roles[r] for r in self.settings.support_roles))
        fields = [(spec, ids[spec.key]) for spec in self.specs if spec.key in ids]
        trackers = self._trackers_in_scope()
        pairs = [(role_id, tracker.id) for tracker in trackers for role_id in workflow]
        pages = _read_all(session, lambda pair: wp.read_rules(session, *pair), pairs)
        return wp.plan(fields, rules, trackers, sorted(self._statuses),
                       lambda role_id, tracker_id: pages[(role_id, tracker_id)])

    def existing_queries(self) -> list[Mapping[str, Any]]:
        return list(self.reader.iter_paged("/queries.json", "queries"))

    # -- applying ------------------------------------------------------------------------

    def apply(self, log: Callable[[str], None] = print) -> int:
        """Apply the plan step by step; the number of changes made."""
        assert self.session is not None  # the CLI applies only with redmine.admin
        session = self.session
        count = 0
        roles = self._roles()
        if self.settings.permissions and self.settings.bridge_role not in roles:
            copy_from = roles.get(self.settings.support_roles[0])
            log(f"create role {self.settings.bridge_role!r}")
            session.create_role(self.settings.bridge_role, BRIDGE_ROLE_PERMISSIONS,
                                copy_workflow_from=copy_from)
            count += 1
            roles = self._roles()
            if self.settings.bridge_role not in roles:
                raise ProvisionError(f"Redmine did not create role {self.settings.bridge_role!r}")
        existing = self.existing_fields() or []
        details = self._details()
        actions = plan(self.specs, existing, self.target, details, self.visibility(roles),
                       details.prefetch if details else None)
        # A renamed value stays offered until no issue holds it: the rewrite needs the
        # new label to be valid, and a run that stops half-way finds the rest next time
        # by the old labels still offered.
        found = self._found(existing, details)
        keep = {spec.key: offered_stale(spec, found.get(spec.key)) for spec in self.specs}
        apply([dataclasses.replace(a, form=dataclasses.replace(a.form, possible_values=(
            *a.form.possible_values, *keep.get(a.spec.key, ()))))
            if a.kind == "update" and keep.get(a.spec.key) else a for a in actions],
            session, log)
        count += len(actions)
        stale = find_stale(self.reader, self.specs, found)
        if stale is not None:
            rewrite(stale, self.reader, log)
            count += len(stale.issues)
        transitional = [a for a in actions if a.kind == "update" and keep.get(a.spec.key)]
        if transitional:
            apply(transitional, session, lambda line: log(line + " (drop the old values)"))
        ids = self._ids(self.existing_fields() or [], self._details())
        if self.settings.permissions:
            changes = self.permission_changes(ids, roles)
            wp.apply(changes, session, log)
            count += len(changes)
        if self.settings.queries:
            queries = self.query_actions(ids, roles)
            sq.apply(queries, session, log)
            count += len(queries)
        return count

    def verify(self) -> list[str]:
        """What is still not as planned after `apply`, read back from Redmine: the whole
        plan again, and every saved query run once."""
        remaining = self.plan().describe()
        if self.settings.queries and not remaining:
            existing = self.existing_queries()
            by_key = {(q.get("project_id"), q["name"]): q for q in existing}
            ids = self._ids(self.existing_fields() or [], None)
            for _, definition in self._query_wanted(ids, self._roles()):
                query = by_key.get((definition.project_id, definition.name))
                if query is None:
                    remaining.append(f"saved query {definition.name!r} is not listed")
                    continue
                params: dict[str, Any] = {"query_id": query["id"], "limit": 1}
                if definition.project_id is not None:
                    params["project_id"] = definition.project_id
                try:
                    self.reader.find_issues(**params)
                except RedmineRejected as exc:
                    remaining.append(f"saved query {definition.name!r} does not run ({exc})")
        return remaining

    # -- by hand -------------------------------------------------------------------------

    def manual_steps(self, current: Plan) -> str:
        """What to set by hand for `current` (planned without the admin forms), with the
        field permissions in full, which only the admin forms can read."""
        roles = self._roles()
        names = {i: n for n, i in roles.items()}
        lines = []
        if current.role:
            lines.append(
                f"Administration > Roles and permissions > New role: {current.role} "
                f"(Copy workflow from: {self.settings.support_roles[0]}; Issues visibility: All "
                f"issues; permissions as in docs/redmine.md, section 4)")
        if current.fields:
            lines.append(manual_steps(current.fields, self.target, names))
        if current.relabel is not None:
            lines.append(f"Then {current.relabel.describe()}: run `provision` with "
                         f"redmine.admin, or set each issue's value to the new label by hand")
        if self.settings.permissions:
            internal = [s.name for s in self.specs
                        if s.key in ALWAYS_INTERNAL | set(self.settings.internal_fields)]
            lines += wp.manual_steps(self.specs, self.settings.bridge_role,
                                     self.settings.support_roles, self._trackers_in_scope(),
                                     self._statuses)
            customers = ", ".join(self.settings.customer_roles)
            lines.append(f"Administration > Custom fields > {', '.join(internal)}: Visible: to "
                         f"these roles only: every role" + (f" but {customers}" if customers else "")
                         + f" (at least {self.settings.bridge_role} and "
                         f"{', '.join(self.settings.support_roles)})")
        if self.settings.queries:
            fields = self.existing_fields()
            ids = self._ids(fields or [], None)
            if set(ids) >= QUERY_FIELDS:
                field_names = {f"cf_{ids[s.key]}": s.name for s in self.specs if s.key in ids}
                wanted = self._query_wanted(ids, roles)
                missing = {(a.definition.project_id, a.definition.name) for a in current.queries}
                wanted = [w for w in wanted if (w[1].project_id, w[1].name) in missing]
                lines += sq.manual_steps(wanted, field_names, names,
                                         dict(zip(self.target.tracker_ids,
                                                  self.target.tracker_names, strict=True)))
            else:
                lines.append("Then save the queries " + ", ".join(
                    repr(n) for n in sq.NAMES[self.config.redmine_language].values())
                    + " (run `provision` again with redmine.admin to see their filters)")
        return "\n".join(lines)
