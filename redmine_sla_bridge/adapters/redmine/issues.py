"""Issues as the core sees them: Redmine JSON in as snapshots, plans out as calls.

The Redmine side of the service layer's `IssueRepository` port. Reading an issue is
one GET with journals; applying an update is one PUT, plus one per further note (a
Redmine journal is private or public as a whole), one POST per watcher and per time
entry. Names in an update (statuses, priorities, members) become ids here.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from redmine_sla_bridge.adapters.redmine.catalog import RedmineCatalog
from redmine_sla_bridge.adapters.redmine.fields import FieldMap
from redmine_sla_bridge.adapters.redmine.gateway import RedmineGateway
from redmine_sla_bridge.adapters.redmine.history import ANONYMOUS_NAMES, build_history, parse_time
from redmine_sla_bridge.adapters.redmine.intake_fields import request_from_issue
from redmine_sla_bridge.domain.intake.request import Organization
from redmine_sla_bridge.domain.lifecycle.turns import ContactRequest
from redmine_sla_bridge.domain.ports import NotManageable, RedmineRejected, RedmineUnavailable
from redmine_sla_bridge.domain.processing.snapshot import (
    IssueSnapshot,
    ListedIssue,
    LoggedTime,
    Member,
)
from redmine_sla_bridge.domain.processing.update import IssueUpdate, NewIssue
from redmine_sla_bridge.domain.reporting.report import ReportRow

log = logging.getLogger(__name__)

_DAY = dt.timedelta(days=1)
EARLIER_REQUESTS = 5
"""How many of a contact's earlier issues ID-6 looks at (newest first)."""

_RESOLVED_SETS = 64
"""Distinct custom-field sets kept resolved (one per project and tracker mix in practice)."""

CONTACT_QUEUE = 100
"""ID-8: a contact's open requests read at once (a queue longer than this is not real)."""


class RedmineIssues:
    def __init__(self, gateway: RedmineGateway, catalog: RedmineCatalog) -> None:
        self.gateway = gateway
        self.catalog = catalog
        # Custom field ids are global in Redmine, so any issue that resolves the bridge's
        # fields gives the map every later write uses.
        self._fields: FieldMap | None = None
        self._resolved: dict[tuple[tuple[Any, Any], ...], FieldMap] = {}

    # -- reads ------------------------------------------------------------------------

    def load(self, issue_id: int) -> IssueSnapshot | None:
        """The issue with its journals; None when it is outside the configured scope."""
        issue = self.gateway.issue(issue_id, journals=True)
        if not self.catalog.in_scope(issue):
            return None
        try:
            fields = self._resolve(issue)
        except KeyError as exc:
            raise NotManageable(
                f"{exc.args[0]}; or enable them for project {issue['project'].get('name')!r} "
                f"and tracker {issue['tracker'].get('name')!r}"
            ) from None
        facts = self.catalog.facts
        history = build_history(issue, bridge_user_id=facts.bridge_user_id,
                                status_names=facts.status_names,
                                field_keys=fields.keys_by_id,
                                mail_requester_id=facts.mail_requester_id,
                                domain_value=fields.domain_value)
        values = fields.values_of(issue)
        assignee = issue.get("assigned_to") or None
        author = issue.get("author") or {}
        by_bridge = author.get("id") == facts.bridge_user_id
        channel = ("api" if by_bridge else
                   "email" if not author or author.get("name") in ANONYMOUS_NAMES else "redmine")
        return IssueSnapshot(
            issue_id=int(issue["id"]),
            project_id=int(issue["project"]["id"]),
            status=issue["status"]["name"],
            closed=issue["status"]["id"] in facts.closed_status_ids,
            values=values,
            history=history,
            request=request_from_issue(issue, values),
            assignee=Member(int(assignee["id"]), assignee.get("name", "")) if assignee else None,
            priority=(issue.get("priority") or {}).get("name"),
            priority_order=self.catalog.priority_order,
            start_date=issue.get("start_date"),
            due_date=issue.get("due_date"),
            author=author.get("name"),
            created_by_bridge=by_bridge,
            channel=channel,
        )

    def earlier_requests(self, issue_id: int, email: str) -> tuple[Organization, ...]:
        """The organization data of the contact's requests filed before this one."""
        fields = self._field_map()
        if "contact_email" not in fields:
            return ()
        found = self.gateway.find_issues(**{
            f"cf_{fields.id('contact_email')}": email, "status_id": "*", "sort": "id:desc",
            "limit": EARLIER_REQUESTS})
        out = []
        for issue in found:
            if int(issue["id"]) >= issue_id:
                continue
            values = fields.values_of(issue)
            out.append(Organization(values.get("organization"), values.get("inn")))
        return tuple(out)

    def contact_requests(self, issue_id: int, email: str) -> tuple[ContactRequest, ...]:
        """ID-8: the contact's other open issues in the scope (one list call)."""
        fields = self._field_map()
        if "contact_email" not in fields:
            return ()
        found = self.gateway.find_issues(**{
            f"cf_{fields.id('contact_email')}": email, "status_id": "open", "sort": "id",
            "limit": CONTACT_QUEUE, **self.catalog.scope_filters()})
        return tuple(ContactRequest(int(i["id"]), i["status"]["name"],
                                    fields.values_of(i).get("sla_state"))
                     for i in found if int(i["id"]) != issue_id and self.catalog.in_scope(i))

    def time_entries(self, issue_id: int) -> tuple[LoggedTime, ...]:
        return tuple(LoggedTime(int(e["user"]["id"]), e["spent_on"], float(e["hours"]))
                     for e in self.gateway.time_entries(issue_id))

    def open_issues(self) -> Iterator[ListedIssue | None]:
        """Every open issue of the scope, a page at a time; None for a listed issue the
        bridge does not manage (other tracker, fields not enabled: the event path says
        why), so the caller can count what it saw."""
        filters = {"status_id": "open", "sort": "id", **self.catalog.scope_filters()}
        for issue in self.gateway.iter_issues(page_size=100, **filters):
            yield self._listed(issue)

    def due_issues(self, day: str, unstamped_since: str) -> Iterator[ListedIssue | None] | None:
        """The open issues of the scope whose `next_check` is `day` or earlier, then
        those without a value updated at or after `unstamped_since` (an ISO timestamp):
        new, or cleared by hand. None when the field's id is unknown (not provisioned):
        read `open_issues`.

        Two queries, so a pass costs 2 + due/100 page requests. "No value" (`!*`) is a
        LEFT JOIN with IS NULL that Redmine runs once per candidate issue (on SQLite 4-7 ms
        each: a minute at 10,000 open issues); the `updated_on` filter keeps the
        candidates to the recently changed few (`service.sweep.UNSTAMPED_LOOKBACK`).
        Issues never stamped and not changed since are the full pass's (it stamps every
        issue it reads).

        Redmine filters on a custom field only where the field is enabled for the
        query's project (or for all projects), so a scope of several projects is
        queried one project at a time. A filter Redmine ignored would list more: what
        it should not have is skipped."""
        fields = self._due_field_map()
        if fields is None or "next_check" not in fields:
            return None
        return self._due(fields, f"cf_{fields.id('next_check')}", day, unstamped_since)

    def _due(self, fields: FieldMap, cf: str, day: str,
             unstamped_since: str) -> Iterator[ListedIssue | None]:
        base = {"status_id": "open", "sort": "id", **self.catalog.scope_filters()}
        projects = self.catalog.facts.project_ids
        scopes = ([{"project_id": str(p)} for p in sorted(projects)]
                  if projects is not None and len(projects) > 1 else [{}])
        queries = (({cf: f"<={day}"}, lambda v: v is not None and v <= day),
                   ({cf: "!*", "updated_on": f">={unstamped_since}"}, lambda v: v is None))
        for scope in scopes:
            for query, wanted in queries:
                for issue in self._keyset_pages({**base, **scope, **query}):
                    if not wanted(fields.values_of(issue).get("next_check")):
                        continue
                    yield self._listed(issue)

    def _keyset_pages(self, filters: Mapping[str, str]) -> Iterator[dict[str, Any]]:
        """Pages of 100 by id, each from after the last id seen: the pass rewrites
        `next_check` of what it reads, which moves issues out of the filter, so offset
        paging would skip the issues behind them."""
        after = 0
        while True:
            page = self.gateway._get("/issues.json", limit=100, offset=0,
                                     issue_id=f">={after + 1}", **filters)
            issues = page["issues"]
            yield from issues
            if not issues or len(issues) >= int(page.get("total_count", 0)):
                return
            after = max(int(i["id"]) for i in issues)

    def _due_field_map(self) -> FieldMap | None:
        """The field ids from an issue read before, else from /custom_fields.json (an
        admin's key); None if neither tells."""
        if self._fields is None:
            try:
                self._fields = FieldMap.resolve(self.catalog.specs, self.gateway.custom_fields())
            except (KeyError, RedmineRejected):
                return None
        return self._fields

    def _listed(self, issue: Mapping[str, Any]) -> ListedIssue | None:
        if not self.catalog.in_scope(issue):
            return None
        try:
            fields = self._resolve(issue)
        except KeyError:
            return None
        values = fields.values_of(issue)
        return ListedIssue(
            issue_id=int(issue["id"]),
            project_id=int(issue["project"]["id"]),
            status=issue["status"]["name"],
            created_at=parse_time(issue["created_on"]),
            values=values,
            request=request_from_issue(issue, values),
            priority=(issue.get("priority") or {}).get("name"),
            priority_order=self.catalog.priority_order,
        )

    def report_rows(self, created_from: dt.date, created_to: dt.date,
                    project: str | None = None) -> Iterator[tuple[ReportRow | None, int]]:
        """Rows for a report: 100 issues per call, no journals (see the port)."""
        filters: dict[str, Any] = {
            "status_id": "*", "sort": "id", **self.catalog.scope_filters(),
            "created_on": f"><{created_from - _DAY}|{created_to + _DAY}"}
        if project is not None:
            filters["project_id"] = project
        closed_ids = self.catalog.facts.closed_status_ids
        base = self.gateway.url.rstrip("/")
        offset = 0
        while True:
            page = _read_again(functools.partial(self.gateway._get, "/issues.json",
                                                 offset=offset, limit=100, **filters))
            items, total = page["issues"], int(page.get("total_count", 0))
            for issue in items:
                listed = self._listed(issue)
                if listed is None:
                    yield None, total
                    continue
                assignee = issue.get("assigned_to") or {}
                yield ReportRow(listed, issue.get("subject", ""), f"{base}/issues/{listed.issue_id}",
                                assignee.get("name"), issue["status"]["id"] in closed_ids), total
            offset += len(items)
            if not items or offset >= total:
                return

    def calls_made(self) -> int:
        return self.gateway.calls.total

    def updated_since(self, cursor: str, *, offset: int, limit: int) -> list[tuple[int, str]]:
        """(id, updated_on) of issues of the scope updated at or after `cursor`, oldest
        first (any status)."""
        page = self.gateway.find_issues(
            updated_on=f">={cursor}", status_id="*", sort="updated_on,id", limit=limit,
            offset=offset, **self.catalog.scope_filters())
        return [(int(i["id"]), i["updated_on"]) for i in page]

    def find_intake(self, project: str, key: str) -> int | None:
        """The issue an intake request with this idempotency key created, if any.
        LookupError when the key's field is not provisioned (run `provision`)."""
        found_project, fields = self.catalog.project_fields(project)
        if "intake_key" not in fields:
            raise LookupError("the Intake key field is missing in Redmine: run `provision`")
        # Keys are the client's: the same key in another project is another client's.
        found = self.gateway.find_issues(**{
            f"cf_{fields.id('intake_key')}": key, "project_id": found_project["id"],
            "status_id": "*", "sort": "id", "limit": 1})
        return int(found[0]["id"]) if found else None

    def ping(self) -> None:
        self.gateway.current_user()

    # -- writes -----------------------------------------------------------------------

    def create(self, new: NewIssue) -> int:
        project, fields = self.catalog.project_fields(new.project)
        self._fields = self._fields or fields
        create: dict[str, Any] = {
            "project_id": project["id"],
            "tracker_id": self.catalog.tracker_id(new.tracker),
            "subject": new.subject,
            "description": new.description,
            "custom_fields": fields.payload({k: v for k, v in new.fields.items() if k in fields}),
        }
        if new.due_date is not None:
            create["due_date"] = new.due_date
        if new.priority is not None and new.priority in self.catalog.facts.priority_ids:
            create["priority_id"] = self.catalog.facts.priority_ids[new.priority]
        return int(self.gateway.create_issue(**create)["id"])

    def apply(self, update: IssueUpdate) -> None:
        issue_id = update.issue_id
        payload: dict[str, Any] = {}
        if update.fields:
            payload["custom_fields"] = self._field_map().payload(update.fields)
        if update.status is not None:
            payload["status_id"] = self.catalog.status_id(update.status)
        if update.due_date is not None:
            payload["due_date"] = update.due_date
        if update.priority is not None:
            payload["priority_id"] = self.catalog.priority_id(update.priority)
        if update.reset:
            # Its own journal, before the update: the bridge's journal then sets every
            # value (see domain.processing.ownership).
            self.gateway.update_issue(issue_id, private_notes=True, notes=update.reset_note or "",
                                      custom_fields=self._field_map().payload(
                                          dict.fromkeys(update.reset)))
        people = self._people(update)
        if update.assign_to is not None:
            if update.assign_to in people:
                payload["assigned_to_id"] = people[update.assign_to]
            else:
                log.warning("escalation assignee is not a member of the project",
                            extra={"issue_id": issue_id, "assignee": update.assign_to})
        notes = list(update.notes)
        if notes:
            first = notes.pop(0)
            payload["notes"] = first.text
            if first.private:
                payload["private_notes"] = True
        if payload:
            self.gateway.update_issue(issue_id, **payload)
        for note in notes:
            extra: dict[str, Any] = {"notes": note.text}
            if note.private:
                extra["private_notes"] = True
            self.gateway.update_issue(issue_id, **extra)
        for name in update.watchers:
            if name in people:
                self.gateway.add_watcher(issue_id, people[name])
            else:
                log.warning("escalation watcher is not a member of the project",
                            extra={"issue_id": issue_id, "watcher": name})
        for entry in update.time_entries:
            self.gateway.create_time_entry(
                issue_id=issue_id, user_id=entry.user_id, spent_on=entry.spent_on,
                hours=entry.hours, activity_id=self.catalog.activity_id(entry.activity),
                comments=entry.comments)

    # -- helpers ----------------------------------------------------------------------

    def _resolve(self, issue: Mapping[str, Any]) -> FieldMap:
        redmine_fields = issue.get("custom_fields") or ()
        # Every event reads an issue, and the issues of a tracker carry the same fields:
        # each set of (id, name) pairs is resolved once (a renamed field is a new set).
        signature = tuple((f.get("id"), f.get("name")) for f in redmine_fields)
        fields = self._resolved.get(signature)
        if fields is None:
            fields = FieldMap.resolve(self.catalog.specs, redmine_fields)
            if len(self._resolved) >= _RESOLVED_SETS:
                self._resolved.clear()
            self._resolved[signature] = fields
        self._fields = fields
        return fields

    def _field_map(self) -> FieldMap:
        if self._fields is None:
            raise RuntimeError("no issue read yet: the bridge's field ids are unknown")
        return self._fields

    def _people(self, update: IssueUpdate) -> dict[str, int]:
        """Names of the project's members (users and groups) as Redmine shows them."""
        if not (update.assign_to or update.watchers) or update.project_id is None:
            return {}
        out = {}
        for membership in self.gateway.memberships(update.project_id):
            who = membership.get("user") or membership.get("group")
            if who:
                out[who["name"]] = who["id"]
        return out


def _read_again(read: Callable[[], Any], attempts: int = 3, pause: float = 2.0) -> Any:
    """A read of a long report, tried again after a transient failure: Redmine on SQLite
    answers 500 when a lock wait gives up, and one busy moment should not cost the run."""
    for attempt in range(attempts):
        try:
            return read()
        except RedmineUnavailable:
            if attempt == attempts - 1:
                raise
            time.sleep(pause * (attempt + 1))
    raise AssertionError("unreachable")


class MailIssueWriter:
    """What the support mailbox writes to Redmine besides the intake: files uploaded to
    an issue, and customers' emailed replies as notes of the customer-mail user
    (`requester`: a gateway acting as `mail.requester_login`, by its own API key or by
    X-Redmine-Switch-User), which `history.role_of` counts as the requester's."""

    def __init__(self, gateway: RedmineGateway, requester: RedmineGateway) -> None:
        self.gateway = gateway
        self.requester = requester

    def add_requester_note(self, issue_id: int, text: str, attachments: Sequence[Any]) -> None:
        """One PUT: the note and its files land in one journal, or not at all."""
        self.requester.update_issue(issue_id, notes=text, uploads=_uploads(attachments))

    def attach(self, issue_id: int, attachments: Sequence[Any], note: str | None = None) -> None:
        fields: dict[str, Any] = {}
        if attachments:
            fields["uploads"] = _uploads(attachments)
        if note:
            fields["notes"] = note
        if fields:
            self.gateway.update_issue(issue_id, **fields)

    def has_attachment(self, issue_id: int, prefix: str) -> bool:
        issue = self.gateway._get(f"/issues/{int(issue_id)}.json", include="attachments")["issue"]
        return any(str(a.get("filename", "")).startswith(prefix)
                   for a in issue.get("attachments") or ())


def _uploads(attachments: Sequence[Any]) -> list[dict[str, Any]]:
    # python-redmine uploads each stream (POST /uploads.json) before the PUT names the tokens.
    return [{"path": io.BytesIO(a.data), "filename": a.filename,
             "content_type": a.content_type or "application/octet-stream"}
            for a in attachments if a.data]
