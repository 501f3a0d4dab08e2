"""Who may change the bridge's fields: Redmine's field permissions per role, tracker and
status (Administration > Workflow > Fields permissions).

Redmine keeps one rule per role, tracker, status and field: "" (editable), "readonly" or
"required". A rule applies while the issue is in that status, and a new issue is in its
tracker's default status, so the default status's rules decide what the New issue form
offers. A user with several roles is restricted only where every role is (Issue#
workflow_rule_by_attribute), so one role without the rule (e.g. an admin's Non member)
keeps the field editable.

What the bridge wants:

- the fields the bridge computes (FieldSpec.written_by == "bridge"): read-only for every
  role but the bridge's, in every status;
- the request's data ("requester"): editable for the bridge and the support roles in every
  status; for every other role (customers, Non member) editable in the tracker's default
  status only, so a requester fills it in the New issue form and cannot change it once
  support works on the issue;
- what support people record ("people": the lead's decision, the engineer's extension):
  editable for the bridge and the support roles, read-only for everyone else.

Only the bridge's own fields are posted: the rules of every other field stay as they are.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from redmine_sla_bridge.adapters.redmine.admin_forms import AdminSession
from redmine_sla_bridge.adapters.redmine.fields import FieldSpec

READONLY = "readonly"
_SELECT = re.compile(
    r'<select name="permissions\[(\d+)\]\[([^\]]+)\]"([^>]*)>(.*?)</select>', re.S)
_SELECTED = re.compile(r'<option selected="selected" value="([^"]*)"')
_ROLE_SELECT = re.compile(r'<select name="role_id\[\]"[^>]*>(.*?)</select>', re.S)
_OPTION = re.compile(r'<option[^>]*value="(\d+)"[^>]*>([^<]*)</option>')
HIDDEN = "hidden"  # the field is not visible to the role: Redmine shows no rule


@dataclass(frozen=True)
class Tracker:
    id: int
    name: str
    default_status_id: int


@dataclass(frozen=True)
class Roles:
    """The roles whose rules matter: every role Redmine's workflow considers (those that
    may add or edit issues, Non member included), the bridge's and the support roles."""

    workflow: Mapping[int, str]  # id -> name
    bridge: int | None  # None: not created yet
    support: frozenset[int]


@dataclass(frozen=True)
class Change:
    """The rules to post for one role and tracker: {(status id, field id): rule}."""

    role_id: int
    role_name: str
    tracker: Tracker
    cells: Mapping[tuple[int, int], str]
    field_names: Mapping[int, str]

    def describe(self) -> str:
        by_rule: dict[str, set[str]] = {}
        for (_status, field_id), rule in self.cells.items():
            by_rule.setdefault(rule or "editable", set()).add(self.field_names[field_id])
        parts = [f"{rule}: {', '.join(sorted(names))}" for rule, names in sorted(by_rule.items())]
        return (f"set field permissions of role {self.role_name!r}, tracker "
                f"{self.tracker.name!r} ({len(self.cells)} rule(s)): " + "; ".join(parts))


def wanted(spec: FieldSpec, role_id: int, tracker: Tracker, status_id: int,
           roles: Roles) -> str:
    """The rule one role must have: "readonly", "" (exactly editable: the bridge's role,
    which a "required" rule would make fail on issues missing the value), or "editable"
    (anything but read-only: an admin may make the requester's data required)."""
    if role_id == roles.bridge:
        return ""
    if spec.written_by == "bridge":
        return READONLY
    if spec.written_by == "people":  # the lead's decision, the engineer's extension
        return "editable" if role_id in roles.support else READONLY
    if role_id in roles.support or status_id == tracker.default_status_id:
        return "editable"
    return READONLY


def _satisfied(want: str, current: str) -> bool:
    if current == HIDDEN:
        return True  # invisible to the role, which therefore cannot change it either
    if want == "editable":
        return current != READONLY
    return current == want


def parse_rules(page: str) -> dict[tuple[int, str], str]:
    """{(status id, field name or custom field id): rule} of a permissions page for one
    role and tracker."""
    rules: dict[tuple[int, str], str] = {}
    for status, field, attributes, options in _SELECT.findall(page):
        selected = _SELECTED.search(options)
        rules[(int(status), field)] = (HIDDEN if "disabled" in attributes
                                       else selected.group(1) if selected else "")
    return rules


def workflow_roles(session: AdminSession) -> dict[int, str]:
    """The roles the permissions form offers (Role.sorted.select(&:consider_workflow?))."""
    page = session.page("/workflows/permissions")
    found = _ROLE_SELECT.search(page)
    options = _OPTION.findall(found.group(1)) if found else []
    return {int(role_id): html.unescape(name) for role_id, name in options}


def read_rules(session: AdminSession, role_id: int, tracker_id: int) -> dict[tuple[int, str], str]:
    return parse_rules(session.page("/workflows/permissions", _page_params(role_id, tracker_id)))


def _page_params(role_id: int, tracker_id: int) -> list[tuple[str, str]]:
    # Every status, not only those of the tracker's transitions: a status added to the
    # workflow later must not come with editable fields.
    return [("role_id[]", str(role_id)), ("tracker_id[]", str(tracker_id)),
            ("used_statuses_only", "0")]


def plan(fields: Sequence[tuple[FieldSpec, int]], roles: Roles, trackers: Sequence[Tracker],
         status_ids: Sequence[int],
         rules_of: Callable[[int, int], Mapping[tuple[int, str], str]]) -> list[Change]:
    """The rules that differ from what the bridge wants, per role and tracker.
    `rules_of(role_id, tracker_id)` reads the current rules."""
    names = {field_id: spec.name for spec, field_id in fields}
    changes: list[Change] = []
    for tracker in trackers:
        for role_id, role_name in roles.workflow.items():
            current = rules_of(role_id, tracker.id)
            cells: dict[tuple[int, int], str] = {}
            for spec, field_id in fields:
                for status_id in status_ids:
                    want = wanted(spec, role_id, tracker, status_id, roles)
                    have = current.get((status_id, str(field_id)), "")
                    if not _satisfied(want, have):
                        cells[(status_id, field_id)] = "" if want == "editable" else want
            if cells:
                changes.append(Change(role_id, role_name, tracker, cells, names))
    return changes


def apply(changes: Sequence[Change], session: AdminSession,
          log: Callable[[str], None] = print) -> None:
    for change in changes:
        log(change.describe())
        params = _page_params(change.role_id, change.tracker.id)
        data = [("_method", "patch"), *params]
        data += [(f"permissions[{status}][{field}]", rule)
                 for (status, field), rule in sorted(change.cells.items())]
        query = "&".join(f"{k}={v}" for k, v in params)
        session.submit("/workflows/update_permissions", f"/workflows/permissions?{query}", data)


def manual_steps(specs: Sequence[FieldSpec], bridge_role: str, support_roles: Sequence[str],
                 trackers: Sequence[Tracker], status_names: Mapping[int, str]) -> list[str]:
    """What to set by hand when `provision` cannot log in to the admin forms."""
    computed = [s.name for s in specs if s.written_by == "bridge"]
    requester = [s.name for s in specs if s.written_by == "requester"]
    lines = []
    for tracker in trackers:
        default = status_names.get(tracker.default_status_id, "the default status")
        others = [name for sid, name in status_names.items() if sid != tracker.default_status_id]
        lines += [
            f"Administration > Workflow > Fields permissions, tracker {tracker.name}:",
            f"  every role but {bridge_role} (Non member included), in every status: "
            f"Read-only: {', '.join(computed)}",
            f"  every role but {', '.join([bridge_role, *support_roles])}, in every status but "
            f"{default} ({', '.join(others)}): Read-only: {', '.join(requester)}",
            f"  role {bridge_role}: none of these read-only or required",
        ]
    return lines
