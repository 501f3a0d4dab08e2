"""The one place the bridge talks to Redmine's REST API (through python-redmine; an
issue's GET and PUT, made for every event, on the same connections without requests'
per-call machinery: `BridgeEngine.direct_request`).

Callers get plain dicts shaped like Redmine's JSON, and two kinds of failure:
`RedmineUnavailable` (try again later: connection refused, timeout, 5xx, 408, 429, and
a bad API key; its `status` is the HTTP status, None without an answer) and
`RedmineRejected` (the request itself is wrong: other 4xx; retrying will not help).
"""

from __future__ import annotations

import collections
import datetime as dt
import threading
from collections.abc import Iterator
from typing import Any

import requests
from redminelib import Redmine
from redminelib import exceptions as rex

from redmine_sla_bridge.adapters.redmine.engine import BridgeEngine
from redmine_sla_bridge.domain.ports import RedmineError, RedmineRejected, RedmineUnavailable
from redmine_sla_bridge.telemetry import metrics

__all__ = ["CallCounter", "RedmineError", "RedmineGateway", "RedmineRejected", "RedmineUnavailable"]


_PERMANENT = {
    rex.ForbiddenError: 403,
    rex.ResourceNotFoundError: 404,
    rex.ResourceAttrError: None,
    rex.ConflictError: 409,
    rex.RequestEntityTooLargeError: 413,
    rex.ValidationError: 422,
    rex.ImpersonateError: 412,
}


class CallCounter:
    """Counts Redmine calls by method; thread-safe, cheap, read by metrics and tests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.by_method: collections.Counter[str] = collections.Counter()

    def __call__(self, method: str, url: str) -> None:
        with self._lock:
            self.by_method[method] += 1
        metrics.REDMINE_CALLS.labels(method).inc()

    @property
    def total(self) -> int:
        return sum(self.by_method.values())


class RedmineGateway:
    def __init__(self, url: str, api_key: str | None = None, *, login: tuple[str, str] | None = None,
                 timeout: float = 10.0, retries: int = 3, keep_alive: bool = True,
                 verify_tls: bool = True, impersonate: str | None = None) -> None:
        """Authenticate with an API key, or with `login=(user, password)` (HTTP basic auth,
        used by `provision` with the admin login)."""
        self.url = url.rstrip("/")
        self.calls = CallCounter()
        self._redmine = Redmine(
            self.url,
            key=api_key,
            username=login[0] if login else None,
            password=login[1] if login else None,
            impersonate=impersonate,
            engine=BridgeEngine,
            base_url=self.url,
            timeout=timeout,
            retries=retries,
            keep_alive=keep_alive,
            on_request=self.calls,
            requests={"verify": verify_tls},
        )

    @classmethod
    def from_config(cls, redmine_config, *, as_admin: bool = False, **overrides) -> RedmineGateway:
        """The run-time client (the bridge's API key), or with `as_admin` the admin login."""
        credentials: dict[str, Any]
        if as_admin:
            admin = redmine_config.admin
            credentials = {"login": (admin.login.get_secret_value(),
                                     admin.password.get_secret_value())}
        else:
            credentials = {"api_key": redmine_config.api_key.get_secret_value()}
        return cls(
            redmine_config.url,
            **credentials,
            timeout=redmine_config.timeout_seconds,
            retries=redmine_config.retries,
            keep_alive=redmine_config.keep_alive,
            verify_tls=redmine_config.verify_tls,
            **overrides,
        )

    # -- plumbing -----------------------------------------------------------------

    def _call(self, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (rex.BaseRedmineError, requests.RequestException) as exc:
            metrics.REDMINE_ERRORS.labels(type(exc).__name__).inc()
            raise _translated(exc) from exc

    def _get(self, path: str, **params) -> dict[str, Any]:
        return self._call(self._redmine.engine.request, "get", self.url + path, params=params)

    # -- reads --------------------------------------------------------------------

    def current_user(self) -> dict[str, Any]:
        return self._get("/users/current.json")["user"]

    def custom_fields(self) -> list[dict[str, Any]]:
        """Needs an admin key in Redmine 5 (403 otherwise)."""
        return self._get("/custom_fields.json")["custom_fields"]

    def trackers(self) -> list[dict[str, Any]]:
        return self._get("/trackers.json")["trackers"]

    def statuses(self) -> list[dict[str, Any]]:
        return self._get("/issue_statuses.json")["issue_statuses"]

    def priorities(self) -> list[dict[str, Any]]:
        return self._get("/enumerations/issue_priorities.json")["issue_priorities"]

    def project(self, identifier: str) -> dict[str, Any]:
        return self._get(f"/projects/{identifier}.json", include="trackers,issue_custom_fields")[
            "project"
        ]

    def issue(self, issue_id: int, *, journals: bool = True) -> dict[str, Any]:
        # Every event's read: sent directly (BridgeEngine.direct_request).
        return self._call(self._redmine.engine.direct_request, "get",
                          f"{self.url}/issues/{int(issue_id)}.json",
                          params={"include": "journals"} if journals else None)["issue"]

    def find_issues(self, **filters) -> list[dict[str, Any]]:
        """One page of /issues.json (filters as Redmine query params, e.g. limit)."""
        return self._get("/issues.json", **filters)["issues"]

    def iter_issues(self, page_size: int = 100, **filters) -> Iterator[dict[str, Any]]:
        """Page through /issues.json with offset/limit (filters as Redmine query params)."""
        return self.iter_paged("/issues.json", "issues", page_size=page_size, **filters)

    def iter_paged(self, path: str, key: str, page_size: int = 100, **filters) -> Iterator[dict[str, Any]]:
        offset = 0
        while True:
            page = self._get(path, offset=offset, limit=page_size, **filters)
            items = page[key]
            yield from items
            offset += len(items)
            if not items or offset >= page.get("total_count", 0):
                return

    # -- writes -------------------------------------------------------------------

    def create_project(self, identifier: str, name: str, *, tracker_ids: list[int] | None = None,
                       is_public: bool = True) -> dict[str, Any]:
        fields: dict[str, Any] = {"identifier": identifier, "name": name, "is_public": is_public}
        if tracker_ids:
            fields["tracker_ids"] = tracker_ids
        return _plain(self._call(self._redmine.project.create, **fields))

    def create_user(self, login: str, firstname: str, lastname: str, mail: str,
                    password: str) -> dict[str, Any]:
        return _plain(self._call(self._redmine.user.create, login=login, firstname=firstname,
                                 lastname=lastname, mail=mail, password=password))

    def add_member(self, project_id: int, user_id: int, role_ids: list[int]) -> None:
        self._call(self._redmine.project_membership.create, project_id=project_id,
                   user_id=user_id, role_ids=role_ids)

    def memberships(self, project_id: int) -> list[dict[str, Any]]:
        return list(self.iter_paged(f"/projects/{int(project_id)}/memberships.json", "memberships"))

    def add_watcher(self, issue_id: int, user_id: int) -> None:
        self._call(self._redmine.engine.request, "post",
                   f"{self.url}/issues/{int(issue_id)}/watchers.json", data={"user_id": user_id})

    def time_entries(self, issue_id: int) -> list[dict[str, Any]]:
        return list(self.iter_paged("/time_entries.json", "time_entries", issue_id=issue_id))

    def time_entry_activities(self) -> list[dict[str, Any]]:
        return self._get("/enumerations/time_entry_activities.json")["time_entry_activities"]

    def create_time_entry(self, **fields) -> dict[str, Any]:
        return _plain(self._call(self._redmine.time_entry.create, **fields))

    def roles(self) -> list[dict[str, Any]]:
        return self._get("/roles.json")["roles"]

    def create_issue(self, **fields) -> dict[str, Any]:
        return _plain(self._call(self._redmine.issue.create, **fields))

    def update_issue(self, issue_id: int, **fields) -> None:
        if not fields or "uploads" in fields or any(isinstance(v, dt.date) for v in fields.values()):
            # python-redmine uploads the files first and formats dates (and refuses an
            # empty update).
            self._call(self._redmine.issue.update, int(issue_id), **fields)
            return
        # Every new request's write: sent directly, the body python-redmine would send.
        self._call(self._redmine.engine.direct_request, "put",
                   f"{self.url}/issues/{int(issue_id)}.json", data={"issue": fields})


def _translated(exc: Exception) -> RedmineError:
    """The bridge's own error for a python-redmine or HTTP failure.

    A `RedmineUnavailable` carries the HTTP status when Redmine answered (5xx, 408, 429,
    401, or a 2xx whose body is not JSON), and None when no answer came (refused, reset,
    timeout, DNS): the drainer backs off one issue for the first and everything for the
    second (service/inbox.py)."""
    if isinstance(exc, rex.AuthError):
        # A wrong or revoked key (or the REST API switched off) fails every call alike:
        # a deployment fault to fix, not a reason to give up on each event.
        return RedmineUnavailable(
            "Redmine rejected the API key (401): check redmine.api_key and that the REST "
            "API is enabled (Administration > Settings > API)", status=401)
    if isinstance(exc, rex.ValidationError) and not str(exc).strip():
        # A 422 with no error is Redmine's optimistic lock (IssuesController#update
        # rescues ActiveRecord::StaleObjectError and renders the empty error list):
        # another update of the issue landed meanwhile. The same write works later.
        return RedmineUnavailable("Redmine answered 422 with no error: another update of the "
                                  "issue landed at the same moment; tried again later",
                                  status=422)
    if type(exc) in _PERMANENT:
        return RedmineRejected(_PERMANENT[type(exc)], str(exc) or type(exc).__name__)
    status = _answered_status(exc)
    # 408 Request Timeout and 429 Too Many Requests (a proxy's rate limit) mean "later".
    if (isinstance(exc, rex.UnknownError) and status is not None and 400 <= status < 500
            and status not in (408, 429)):
        return RedmineRejected(status, str(exc))
    return RedmineUnavailable(f"{type(exc).__name__}: {exc}", status=status)


def _answered_status(exc: Exception) -> int | None:
    """The HTTP status of the answer behind `exc`, or None if there was no answer."""
    if isinstance(exc, rex.ServerError):
        return 500
    if isinstance(exc, rex.UnknownError):
        status = getattr(exc, "status_code", None)
        return status if isinstance(status, int) else None
    if isinstance(exc, rex.JSONDecodeError):
        # An answer, but not Redmine's JSON (e.g. an HTML error page of a proxy).
        status = getattr(getattr(exc, "response", None), "status_code", None)
        return status if isinstance(status, int) else None
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        return exc.response.status_code
    return None


def _plain(resource) -> dict[str, Any]:
    # python-redmine pads a created resource with None for every relation it knows.
    return {k: v for k, v in resource.raw().items() if v is not None}
