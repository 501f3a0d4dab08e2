"""`GET /dashboard`: the SLA report of a period, live, as the HTML page of `report_html`.

Never open: without `dashboard.enabled` it answers 404, and an enabled dashboard needs
a bearer token (`Authorization: Bearer ...` or `?token=`) or an HTTP basic user from the
config (werkzeug password hashes); anything else gets 401 with `WWW-Authenticate`.

The query string chooses the period (`from`, `to`: YYYY-MM-DD, in the regulation's
zone; default: this month to date) and the filters (`project`, `customer`);
`format=json` answers the report's json document instead of the page. A bad value is a
400 that says which and why. A computed page is kept for `dashboard.cache_seconds` per
period and filters, and one report is computed at a time, so reloading the page, or
many people opening it at once, does not page through Redmine each time.

The report itself comes from a `ReportSource` the composition root builds
(`bootstrap.report_source`); a build without the report module has none, and the
dashboard then answers 503 saying so.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, Response, request
from werkzeug.security import check_password_hash, generate_password_hash

from redmine_sla_bridge.bootstrap import Bridge, report_source
from redmine_sla_bridge.config.model import BridgeConfig
from redmine_sla_bridge.domain.ports import RedmineError
from redmine_sla_bridge.entrypoints import report_html

log = logging.getLogger(__name__)

ReportSource = Callable[[dt.date, dt.date, str | None, str | None], Mapping[str, Any]]
"""(period_from, period_to, project, customer) -> the report's json document."""

MAX_PERIOD_DAYS = 366
MAX_CACHED = 16
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
PROJECT = re.compile(r"[a-z0-9][a-z0-9_-]{0,99}")  # Redmine's identifier characters
CUSTOMER = re.compile(r"[\w.-]{1,64}")
PARAMETERS = ("from", "to", "project", "customer", "format", "token")
REALM = "redmine-sla-bridge dashboard"
# The headers of every dashboard answer: the page carries customer data (never cached
# by a proxy), fetches nothing (the CSP makes any attempt a console error), and its URL
# may hold the token (never sent on as a referrer).
HEADERS = {
    "Cache-Control": "private, no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                               "form-action 'self'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


@dataclass(frozen=True)
class DashboardSettings:
    token: str | None
    users: Mapping[str, str]  # login -> werkzeug password hash
    cache_seconds: float
    timezone: str  # the regulation's zone: what "this month" and "today" mean


@dataclass
class Dashboard:
    """What `/dashboard` needs: `settings` None means disabled; `source` None means this
    build cannot compute reports."""

    settings: DashboardSettings | None
    source: ReportSource | None
    clock: Callable[[], dt.datetime]
    monotonic: Callable[[], float] = time.monotonic
    _cache: dict[tuple[Any, ...], tuple[float, Mapping[str, Any]]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def report(self, key: tuple[Any, ...], compute: Callable[[], Mapping[str, Any]]) -> Mapping[str, Any]:
        """The cached report of `key`, or a new one. One computation at a time: a request
        that waited for another's finds its result in the cache. A cached report is
        served without the lock, so it never waits behind a long computation."""
        assert self.settings is not None
        hit = self._cache.get(key)
        if hit is not None and hit[0] > self.monotonic():
            return hit[1]
        with self._lock:
            now = self.monotonic()
            hit = self._cache.get(key)
            if hit is not None and hit[0] > now:
                return hit[1]
            report = compute()
            if self.settings.cache_seconds > 0:
                now = self.monotonic()  # kept for cache_seconds from when it is ready
                for old in [k for k, (until, _) in self._cache.items() if until <= now]:
                    del self._cache[old]
                while len(self._cache) >= MAX_CACHED:
                    del self._cache[min(self._cache, key=lambda k: self._cache[k][0])]
                self._cache[key] = (now + self.settings.cache_seconds, report)
            return report


class QueryError(ValueError):
    """A query-string value the dashboard cannot use (a 400)."""


@dataclass(frozen=True)
class Query:
    period_from: dt.date
    period_to: dt.date
    project: str | None
    customer: str | None
    format: str

    @property
    def key(self) -> tuple[Any, ...]:
        return (self.period_from, self.period_to, self.project, self.customer)


def _date(args: Mapping[str, str], name: str) -> dt.date | None:
    value = args.get(name)
    if value is None or value == "":
        return None
    if not DATE.fullmatch(value):
        raise QueryError(f"{name}: expected a date as YYYY-MM-DD, got {value!r}")
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise QueryError(f"{name}: {value!r} is not a date ({exc})") from None


def parse_query(args: Mapping[str, str], today: dt.date) -> Query:
    unknown = sorted(set(args) - set(PARAMETERS))
    if unknown:
        raise QueryError(f"unknown parameter(s) {', '.join(map(repr, unknown))} "
                         f"(known: {', '.join(PARAMETERS)})")
    period_to = _date(args, "to") or today
    period_from = _date(args, "from") or period_to.replace(day=1)
    if period_from > period_to:
        raise QueryError(f"from ({period_from}) is after to ({period_to})")
    if (period_to - period_from).days >= MAX_PERIOD_DAYS:
        raise QueryError(f"the period is longer than {MAX_PERIOD_DAYS} days; use "
                         "`redmine-sla-bridge report` for longer ones")
    project = args.get("project") or None
    if project is not None and not PROJECT.fullmatch(project):
        raise QueryError(f"project: expected a Redmine project identifier, got {project!r}")
    customer = args.get("customer") or None
    if customer is not None and not CUSTOMER.fullmatch(customer):
        raise QueryError(f"customer: expected a customer key such as an INN, got {customer!r}")
    answer = args.get("format") or "html"
    if answer not in ("html", "json"):
        raise QueryError(f"format: expected html or json, got {answer!r}")
    return Query(period_from, period_to, project, customer, answer)


_DUMMY_HASH: list[str] = []


def _dummy_hash() -> str:
    # An unknown login costs as much as a known one: timing does not tell logins apart.
    if not _DUMMY_HASH:
        _DUMMY_HASH.append(generate_password_hash("not a password"))
    return _DUMMY_HASH[0]


def authorized(settings: DashboardSettings) -> bool:
    header = request.headers.get("Authorization", "")
    if settings.token is not None:
        presented = header[7:] if header[:7].lower() == "bearer " else request.args.get("token")
        if presented is not None and hmac.compare_digest(presented.encode("utf-8", "replace"),
                                                         settings.token.encode()):
            return True
    credentials = request.authorization
    if settings.users and credentials is not None and credentials.type == "basic":
        login, password = credentials.username or "", credentials.password or ""
        stored = settings.users.get(login)
        try:
            valid = check_password_hash(stored or _dummy_hash(), password)
        except ValueError:  # a hash werkzeug cannot read: no one logs in with it
            log.error("dashboard.users.%s: not a password hash werkzeug can check", login)
            return False
        return stored is not None and valid
    return False


def _text(status: int, message: str, **headers: str) -> Response:
    return Response(message + "\n", status=status, mimetype="text/plain",
                    headers={**HEADERS, **headers})


def register(app: Flask, dashboard: Dashboard | None) -> None:
    """Add `GET /dashboard` to the app."""

    @app.get("/dashboard")
    def show_dashboard() -> Response:
        settings = dashboard.settings if dashboard is not None else None
        if dashboard is None or settings is None:
            return _text(404, "the dashboard is not enabled (config: dashboard.enabled)")
        if not authorized(settings):
            challenges = []
            if settings.token is not None:
                challenges.append(f'Bearer realm="{REALM}"')
            if settings.users:
                challenges.append(f'Basic realm="{REALM}", charset="UTF-8"')
            response = _text(401, "authentication required: a bearer token or a dashboard user")
            for challenge in challenges:
                response.headers.add("WWW-Authenticate", challenge)
            return response
        if dashboard.source is None:
            return _text(503, "the dashboard has no report source (see docs/dashboard.md)")
        source = dashboard.source
        today = dashboard.clock().astimezone(ZoneInfo(settings.timezone)).date()
        try:
            query = parse_query(request.args.to_dict(flat=True), today)
        except QueryError as exc:
            return _text(400, str(exc))
        try:
            report = dashboard.report(query.key, lambda: source(
                query.period_from, query.period_to, query.project, query.customer))
        except RedmineError as exc:
            log.warning("dashboard: the report could not be read from Redmine: %s", exc)
            return _text(503, f"the report could not be read from Redmine ({type(exc).__name__}); "
                              "retry later")
        except LookupError as exc:  # an unknown project or customer
            return _text(404, str(exc.args[0]) if exc.args else "not found")
        if query.format == "json":
            return Response(json.dumps(report, ensure_ascii=False), mimetype="application/json",
                            headers=HEADERS)
        page = report_html.render(report, form={
            "action": request.path, "project": query.project or "",
            "customer": query.customer or "", "token": request.args.get("token", "")})
        return Response(page, mimetype="text/html", headers=HEADERS)


def dashboard_of(config: BridgeConfig, bridge: Bridge) -> Dashboard:
    """The dashboard of a worker: its settings, and reports over the worker's bridge."""
    settings = settings_of(config, bridge.rules.timezone)
    return Dashboard(settings, report_source(bridge) if settings is not None else None,
                     bridge.clock)


def settings_of(config: BridgeConfig, timezone: str) -> DashboardSettings | None:
    """The dashboard settings of a config (None: disabled); `timezone`: the regulation's."""
    section = config.dashboard
    if not section.enabled:
        return None
    return DashboardSettings(
        token=section.token.get_secret_value() if section.token is not None else None,
        users={login: secret.get_secret_value() for login, secret in section.users.items()},
        cache_seconds=section.cache_seconds, timezone=timezone)
