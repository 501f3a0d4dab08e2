"""The saved issue queries an engineer and a lead open first: what is breached, what is at
risk, what still waits for a first response, what must be resolved today.

Redmine's REST API lists queries (`/queries.json`) and runs them (`/issues.json?query_id=`)
but cannot create them, so they are saved through the query form (Issues > Save) and read
back from its edit page. A query is the bridge's by its name in its project.

Why these filters: the deadlines are text fields ("YYYY-MM-DD HH:MM"), and Redmine filters
text with contains, is, starts with, ends with, none and any, never relative to today. A
"first response due today" filter would need today's date written into the query every
day. The queries therefore use what Redmine evaluates itself: the bridge's SLA state
("at risk", "breached", which the bridge moves with time), whether a first response was
given, and the native due date, which the bridge sets to the resolution deadline's day and
which Redmine's "today" operator understands (and shows in red once passed). Deadline text
sorts in time order, so every list puts the nearest deadline first.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from redmine_sla_bridge.adapters.redmine.admin_forms import AdminFormError, AdminSession
from redmine_sla_bridge.domain.processing.field_values import value_label

NAMES: dict[str, dict[str, str]] = {
    "en": {"breached": "SLA: breached", "at_risk": "SLA: at risk",
           "awaiting_first_response": "Awaiting first response",
           "first_response_today": "Answer due today",
           "resolution_today": "Resolution due today"},
    "ru": {"breached": "SLA: нарушено", "at_risk": "SLA: под угрозой",
           "awaiting_first_response": "Ждут первого ответа",
           "first_response_today": "Ответ нужен сегодня",
           "resolution_today": "Срок решения сегодня"},
}
VISIBILITY_ROLES = "1"  # Query::VISIBILITY_ROLES

_FILTER = re.compile(r'addFilter\((".*?"), (".*?"), (\[.*?\])\);')
_SELECTED_COLUMNS = re.compile(r'<select name="c\[\]" id="selected_c"[^>]*>(.*?)</select>', re.S)
_OPTION_VALUE = re.compile(r'<option[^>]*value="([^"]*)"')
_SORT = re.compile(r'<select name="query\[sort_criteria\]\[(\d)\]\[\]"[^>]*>(.*?)</select>', re.S)
_SELECTED = re.compile(r'<option selected="selected" value="([^"]*)"')
_INPUT = re.compile(r"<input[^>]*>")


@dataclass(frozen=True)
class QueryDefinition:
    """What makes a saved query the bridge's, in Redmine's own terms (filter names like
    `cf_12`, operators, column and sort names)."""

    name: str
    project_id: int | None  # None: for all projects
    filters: Mapping[str, tuple[str, tuple[str, ...]]]  # field -> (operator, values)
    columns: tuple[str, ...]
    sort: tuple[tuple[str, str], ...]
    role_ids: frozenset[int]  # visible to these roles
    # The query's names in the other languages: a query saved under the config's former
    # language is renamed, not left beside a new one.
    former_names: tuple[str, ...] = ()

    def differences(self, other: QueryDefinition) -> list[str]:
        out = []
        if dict(self.filters) != dict(other.filters):
            out.append("filters")
        if self.columns != other.columns:
            out.append("columns")
        if self.sort != other.sort:
            out.append("sort order")
        if self.role_ids != other.role_ids:
            out.append("visibility")
        return out

    def form_data(self) -> list[tuple[str, str]]:
        data = [("type", "IssueQuery"), ("query[name]", self.name),
                ("query[visibility]", VISIBILITY_ROLES), ("query[role_ids][]", "")]
        data += [("query[role_ids][]", str(r)) for r in sorted(self.role_ids)]
        for name, (operator, values) in self.filters.items():
            data += [("f[]", name), (f"op[{name}]", operator)]
            data += [(f"v[{name}][]", v) for v in values]
        data.append(("f[]", ""))
        data += [("c[]", c) for c in self.columns]
        for n, (column, direction) in enumerate(self.sort):
            data += [(f"query[sort_criteria][{n}][]", column),
                     (f"query[sort_criteria][{n}][]", direction)]
        data.append(("query[group_by]", ""))
        if self.project_id is None:
            data.append(("query_is_for_all", "1"))
        return data


@dataclass(frozen=True)
class QueryAction:
    kind: str  # "create" | "update"
    definition: QueryDefinition
    project: str  # identifier, or "" for all projects
    query_id: int | None = None
    changes: tuple[str, ...] = field(default_factory=tuple)

    def describe(self) -> str:
        where = f"in project {self.project}" if self.project else "for all projects"
        if self.kind == "create":
            return f"create saved query {self.definition.name!r} {where}"
        return (f"update saved query {self.definition.name!r} {where}: "
                + ", ".join(self.changes))


def definitions(language: str, field_ids: Mapping[str, int], tracker_ids: Sequence[int],
                role_ids: Iterable[int], project_id: int | None) -> list[QueryDefinition]:
    """The bridge's queries for one project (or all projects, `project_id` None)."""
    names = NAMES[language]

    def cf(key: str) -> str:
        return f"cf_{field_ids[key]}"

    base = {"tracker_id": ("=", tuple(str(t) for t in tracker_ids)), "status_id": ("o", ())}
    columns = ((("project",) if project_id is None else ())
               + ("status", "priority", "subject", "assigned_to", "due_date", cf("sla_priority"),
                  cf("sla_state"), cf("first_response_due"), cf("resolution_due"), cf("tier")))
    by_resolution = ((cf("resolution_due"), "asc"), ("priority", "desc"))
    by_first_response = ((cf("first_response_due"), "asc"), ("priority", "desc"))
    roles = frozenset(role_ids)
    managed = {cf("sla_state"): ("*", ())}  # requests the bridge took in

    def query(key: str, filters: Mapping[str, tuple[str, tuple[str, ...]]],
              sort: tuple[tuple[str, str], ...]) -> QueryDefinition:
        former = tuple(dict.fromkeys(n[key] for lang, n in NAMES.items()
                                     if lang != language and n[key] != names[key]))
        return QueryDefinition(names[key], project_id, {**base, **filters}, columns, sort, roles,
                               former)

    return [
        # The state as Redmine holds it: its label in the config's language.
        query("breached", {cf("sla_state"): ("=", (value_label("sla_state", "breached", language),))},
              by_resolution),
        query("at_risk", {cf("sla_state"): ("=", (value_label("sla_state", "at risk", language),))},
              by_resolution),
        query("awaiting_first_response", {**managed, cf("first_response_at"): ("!*", ())},
              by_first_response),
        query("first_response_today", {**managed, cf("first_response_at"): ("!*", ()),
                                       cf("first_response_day"): ("t", ())}, by_first_response),
        query("resolution_today", {**managed, "due_date": ("t", ())}, by_resolution),
    ]


def parse_definition(page: str, name: str, project_id: int | None) -> QueryDefinition:
    """A saved query as its edit form shows it (named and placed as /queries.json says)."""
    filters: dict[str, tuple[str, tuple[str, ...]]] = {}
    for filter_name, operator, values in _FILTER.findall(page):
        filters[json.loads(filter_name)] = (json.loads(operator),
                                            tuple(v for v in json.loads(values) if v != ""))
    found = _SELECTED_COLUMNS.search(page)
    columns = tuple(_OPTION_VALUE.findall(found.group(1))) if found else ()
    criteria: dict[int, list[str]] = {}
    for n, options in _SORT.findall(page):
        selected = _SELECTED.search(options)
        criteria.setdefault(int(n), []).append(selected.group(1) if selected else "")
    sort = tuple((pair[0], pair[1] or "asc") for _, pair in sorted(criteria.items())
                 if len(pair) == 2 and pair[0])
    roles: set[int] = set()
    visibility = ""
    for tag in _INPUT.findall(page):
        if 'name="query[role_ids][]"' in tag and "checked" in tag:
            value = re.search(r'value="(\d+)"', tag)
            if value:
                roles.add(int(value.group(1)))
        if 'name="query[visibility]"' in tag and "checked" in tag:
            value = re.search(r'value="(\d+)"', tag)
            visibility = value.group(1) if value else ""
    return QueryDefinition(name, project_id, filters, columns, sort,
                           frozenset(roles) if visibility == VISIBILITY_ROLES else frozenset())


def plan(wanted: Sequence[tuple[str, QueryDefinition]], existing: Sequence[Mapping],
         read: Callable[[int, QueryDefinition], QueryDefinition] | None) -> list[QueryAction]:
    """Create what is missing, update what differs. `wanted` pairs a project identifier
    ("" for all projects) with a definition; `existing` is /queries.json; `read(id,
    wanted)` reads a query's edit form (None: without the admin forms, where a query of
    the right name counts as in place)."""
    actions = []
    for project, definition in wanted:
        current = find(existing, definition)
        if current is None:
            actions.append(QueryAction("create", definition, project))
            continue
        renamed = [f"rename from {current['name']!r}"] if current["name"] != definition.name else []
        if read is None:
            if renamed:
                actions.append(QueryAction("update", definition, project, current["id"],
                                           tuple(renamed)))
            continue
        changes = renamed + definition.differences(read(current["id"], definition))
        if changes:
            actions.append(QueryAction("update", definition, project, current["id"],
                                       tuple(changes)))
    return actions


def find(existing: Sequence[Mapping], definition: QueryDefinition) -> Mapping | None:
    """The saved query `definition` is in `existing` (/queries.json): by its name in its
    project, else by a name it had in another language."""
    by_key = {(q.get("project_id"), q["name"]): q for q in existing}
    for name in (definition.name, *definition.former_names):
        found = by_key.get((definition.project_id, name))
        if found is not None:
            return found
    return None


def read_definition(session: AdminSession, query_id: int,
                    wanted: QueryDefinition) -> QueryDefinition:
    return parse_definition(session.page(f"/queries/{int(query_id)}/edit"), wanted.name,
                            wanted.project_id)


def apply(actions: Sequence[QueryAction], session: AdminSession,
          log: Callable[[str], None] = print) -> None:
    for action in actions:
        log(action.describe())
        prefix = f"/projects/{action.project}" if action.project else ""
        try:
            if action.kind == "create":
                session.submit(f"{prefix}/queries", f"{prefix}/queries/new",
                               action.definition.form_data())
            else:
                session.submit(f"/queries/{action.query_id}",
                               f"/queries/{action.query_id}/edit",
                               [("_method", "patch"), *action.definition.form_data()])
        except AdminFormError as exc:
            raise AdminFormError(f"saving query {action.definition.name!r}: {exc}") from None


_LABELS = {"project": "Project", "tracker_id": "Tracker", "status_id": "Status",
           "status": "Status", "priority": "Priority", "subject": "Subject",
           "assigned_to": "Assignee", "due_date": "Due date"}
_OPERATORS = {"=": "is", "o": "open", "*": "any", "!*": "none", "t": "today"}
_DIRECTIONS = {"asc": "ascending", "desc": "descending"}


def manual_steps(wanted: Sequence[tuple[str, QueryDefinition]], field_names: Mapping[str, str],
                 role_names: Mapping[int, str],
                 tracker_names: Mapping[int, str] | None = None) -> list[str]:
    """How to save the queries by hand (Issues > filters > Save), in the UI's words."""
    names = {**_LABELS, **field_names}
    trackers = {str(i): n for i, n in (tracker_names or {}).items()}
    lines = []
    for project, definition in wanted:
        where = f"project {project}" if project else "all projects (For all projects: yes)"
        filters = "; ".join(
            " ".join(part for part in (
                names.get(name, name), _OPERATORS.get(operator, operator),
                ", ".join(trackers.get(v, v) if name == "tracker_id" else v for v in values))
                if part)
            for name, (operator, values) in definition.filters.items())
        columns = ", ".join(names.get(c, c) for c in definition.columns)
        sort = ", ".join(f"{names.get(c, c)} {_DIRECTIONS.get(d, d)}" for c, d in definition.sort)
        roles = ", ".join(role_names.get(r, str(r)) for r in sorted(definition.role_ids))
        lines += [f"Issues > Save query, {where}: {definition.name}",
                  f"     Visible: to these roles only: {roles}",
                  f"     Filters: {filters}",
                  f"     Columns: {columns}",
                  f"     Sort: {sort}"]
    return lines
