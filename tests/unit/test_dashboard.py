"""`/dashboard` through Flask's test client, with a fake report source: never open,
401 with a challenge, 400 for every bad query value (never a 500), the default period
in the regulation's zone, and the cache. The real server and a browser:
tests/integration/test_dashboard_browser.py."""

from __future__ import annotations

import base64
import datetime as dt
import json
import threading

import pytest
from werkzeug.security import generate_password_hash

from redmine_sla_bridge.config.loader import ConfigError, load_config
from redmine_sla_bridge.domain.ports import RedmineUnavailable
from redmine_sla_bridge.entrypoints.web.app import create_app
from redmine_sla_bridge.entrypoints.web.dashboard import (
    Dashboard,
    DashboardSettings,
    dashboard_of,
    settings_of,
)
from tests.conftest import write_config
from tests.report_sample import sample_report
from tests.unit.offline_bridge import offline_document

TOKEN = "dashboard-token-0123456789"
PASSWORD = "lead's password"
# 23:30 UTC on Nov 30 is already Dec 1 in Moscow: "this month" is December there.
NOW = dt.datetime(2026, 11, 30, 23, 30, tzinfo=dt.UTC)


class FakeSource:
    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.fail: Exception | None = None

    def __call__(self, period_from, period_to, project, customer):
        self.calls.append((period_from, period_to, project, customer))
        if self.fail is not None:
            raise self.fail
        return sample_report(period_from=period_from.isoformat(), period_to=period_to.isoformat(),
                             customer=customer)


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def config_document(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("dashboard")
    return offline_document(tmp_path / "dash.sqlite3")


@pytest.fixture(scope="module")
def lead_hash():
    # A cheap hash keeps these tests fast; the default (scrypt) is what the docs tell
    # admins to make, and the config test and the browser test use it.
    return generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")


@pytest.fixture(scope="module")
def bridge(tmp_path_factory, config_document):
    from redmine_sla_bridge.bootstrap import bootstrap

    path = tmp_path_factory.mktemp("dashboard") / "bridge.yaml"
    config = load_config(write_config(path, config_document))
    return bootstrap(config, notifier=None, clock=lambda: NOW)


@pytest.fixture()
def world(bridge, lead_hash):
    source, ticks = FakeSource(), Ticks()
    settings = DashboardSettings(token=TOKEN, users={"lead": lead_hash},
                                 cache_seconds=60, timezone="Europe/Moscow")
    dashboard = Dashboard(settings, source, bridge.clock, monotonic=ticks)
    client = create_app(bridge, dashboard=dashboard).test_client()
    return client, source, ticks


def bearer(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def basic(login: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{login}:{password}".encode()).decode()}


def test_without_credentials_401_with_both_challenges(world):
    client, source, _ = world
    answer = client.get("/dashboard")
    assert answer.status_code == 401
    challenges = answer.headers.get_all("WWW-Authenticate")
    assert challenges == ['Bearer realm="redmine-sla-bridge dashboard"',
                          'Basic realm="redmine-sla-bridge dashboard", charset="UTF-8"']
    assert source.calls == []


@pytest.mark.parametrize("headers, query", [
    (bearer("dashboard-token-wrong-value"), ""),
    ({}, "?token=dashboard-token-wrong-value"),
    ({"Authorization": TOKEN}, ""),  # the token without its scheme
    (basic("lead", "wrong"), ""),
    (basic("someone", PASSWORD), ""),
    (basic("lead", PASSWORD + " "), ""),
])
def test_wrong_credentials_401(world, headers, query):
    client, source, _ = world
    assert client.get("/dashboard" + query, headers=headers).status_code == 401
    assert source.calls == []


@pytest.mark.parametrize("headers, query", [
    (bearer(), ""), ({}, f"?token={TOKEN}"), (basic("lead", PASSWORD), ""),
])
def test_right_credentials_200_with_the_page(world, headers, query):
    client, source, _ = world
    answer = client.get("/dashboard" + query, headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.mimetype == "text/html"
    assert 'data-chart="weekly_first_response"' in answer.text
    assert answer.headers["Cache-Control"] == "private, no-store"
    assert "default-src 'none'" in answer.headers["Content-Security-Policy"]
    assert answer.headers["Referrer-Policy"] == "no-referrer"
    assert len(source.calls) == 1


def test_the_default_period_is_this_month_to_date_in_the_regulations_zone(world):
    client, source, _ = world
    assert client.get("/dashboard", headers=bearer()).status_code == 200
    assert source.calls == [(dt.date(2026, 12, 1), dt.date(2026, 12, 1), None, None)]


def test_the_query_chooses_the_period_and_filters(world):
    client, source, _ = world
    answer = client.get("/dashboard?from=2026-11-01&to=2026-11-30&project=support-1&customer=7707083893"
                        "&format=json", headers=bearer())
    assert answer.status_code == 200 and answer.mimetype == "application/json"
    assert json.loads(answer.text)["filters"]["customer"] == "7707083893"
    assert source.calls == [(dt.date(2026, 11, 1), dt.date(2026, 11, 30), "support-1", "7707083893")]
    client.get("/dashboard?to=2026-10-15", headers=bearer())
    assert source.calls[-1][:2] == (dt.date(2026, 10, 1), dt.date(2026, 10, 15))


@pytest.mark.parametrize("query, message", [
    ("from=2026-13-01", "from: '2026-13-01' is not a date"),
    ("from=01.11.2026", "from: expected a date as YYYY-MM-DD, got '01.11.2026'"),
    ("to=20261101", "to: expected a date as YYYY-MM-DD"),
    ("to=2026-02-30", "to: '2026-02-30' is not a date"),
    ("from=2026-11-30&to=2026-11-01", "from (2026-11-30) is after to (2026-11-01)"),
    ("from=2024-01-01&to=2026-11-01", "the period is longer than 366 days"),
    ("project=../etc", "project: expected a Redmine project identifier"),
    ("customer=%3Cscript%3E", "customer: expected a customer key"),
    ("format=pdf", "format: expected html or json, got 'pdf'"),
    ("form=2026-11-01", "unknown parameter(s) 'form'"),
    ("from=%FF%FE", "from: expected a date as YYYY-MM-DD"),
])
def test_bad_query_values_400_with_the_reason(world, query, message):
    client, source, _ = world
    answer = client.get(f"/dashboard?{query}", headers=bearer())
    assert answer.status_code == 400
    assert message in answer.text
    assert source.calls == []


def test_a_report_is_computed_once_per_period_within_the_cache_time(world):
    client, source, ticks = world
    for _ in range(3):
        assert client.get("/dashboard?from=2026-11-01&to=2026-11-30", headers=bearer()).status_code == 200
    assert len(source.calls) == 1
    client.get("/dashboard?from=2026-11-02&to=2026-11-30", headers=bearer())
    assert len(source.calls) == 2  # another period is another report
    ticks.now += 59
    client.get("/dashboard?from=2026-11-01&to=2026-11-30", headers=bearer())
    assert len(source.calls) == 2
    ticks.now += 2
    client.get("/dashboard?from=2026-11-01&to=2026-11-30", headers=bearer())
    assert len(source.calls) == 3


def test_redmine_down_is_503_and_nothing_is_cached(world):
    client, source, _ = world
    source.fail = RedmineUnavailable("connection refused")
    answer = client.get("/dashboard", headers=bearer())
    assert answer.status_code == 503
    assert "could not be read from Redmine (RedmineUnavailable)" in answer.text
    source.fail = None
    assert client.get("/dashboard", headers=bearer()).status_code == 200
    assert len(source.calls) == 2


def test_an_unknown_project_is_404(world):
    client, source, _ = world
    source.fail = LookupError("no project 'nope' in Redmine")
    answer = client.get("/dashboard?project=nope", headers=bearer())
    assert answer.status_code == 404 and "no project 'nope'" in answer.text


def test_without_a_dashboard_404(bridge):
    client = create_app(bridge).test_client()
    answer = client.get("/dashboard", headers=bearer())
    assert answer.status_code == 404
    assert "dashboard is not enabled (config: dashboard.enabled)" in answer.text


def test_disabled_in_the_config_404_even_with_credentials(bridge, tmp_path, config_document):
    config = load_config(write_config(tmp_path / "off.yaml", {
        **config_document, "dashboard": {"enabled": False, "token": TOKEN}}))
    dashboard = dashboard_of(config, bridge)
    assert dashboard.settings is None
    client = create_app(bridge, dashboard=dashboard).test_client()
    assert client.get("/dashboard", headers=bearer()).status_code == 404


def test_the_dashboard_computes_the_report_over_the_bridge(bridge, tmp_path, config_document):
    config = load_config(write_config(tmp_path / "on.yaml", {
        **config_document, "dashboard": {"enabled": True, "token": TOKEN, "cache_seconds": 5}}))
    settings = settings_of(config, bridge.rules.timezone)
    assert settings == DashboardSettings(TOKEN, {}, 5, "Europe/Moscow")
    dashboard = dashboard_of(config, bridge)
    client = create_app(bridge, dashboard=dashboard).test_client()
    assert client.get("/dashboard").status_code == 401  # credentials are checked first
    answer = client.get("/dashboard", headers=bearer())
    # The report is computed from Redmine, which this bridge cannot reach: 503, never 500.
    assert answer.status_code == 503 and dashboard.source is not None


def test_config_never_open_and_hashes_only(tmp_path, config_document):
    def load(section):
        return load_config(write_config(tmp_path / "c.yaml", {**config_document, "dashboard": section}))

    with pytest.raises(ConfigError, match="an enabled dashboard needs `token` or `users`"):
        load({"enabled": True})
    with pytest.raises(ConfigError, match=r"dashboard\.token .*shorter than 16 characters"):
        load({"enabled": True, "token": "short"})
    with pytest.raises(ConfigError, match=r"dashboard\.users\.lead .*never the password itself"):
        load({"enabled": True, "users": {"lead": "secret-password"}})
    with pytest.raises(ConfigError, match=r"dashboard\.users\.lead .*never the password itself"):
        load({"enabled": True, "users": {"lead": "scrypt:garbage$salt$hash"}})
    with pytest.raises(ConfigError, match=r"dashboard\.users\.a:b .*cannot contain ':'"):
        load({"enabled": True, "users": {"a:b": generate_password_hash("x")}})
    assert load({}).dashboard.enabled is False  # off unless asked for
    users = load({"enabled": True, "users": {"lead": generate_password_hash("x")}}).dashboard.users
    assert str(users["lead"]) == "**********"


def test_the_page_has_a_period_form_that_keeps_the_filters(world):
    client, _source, _ = world
    page = client.get("/dashboard?from=2026-11-01&to=2026-11-30&customer=7707083893",
                      headers=bearer()).text
    assert '<form class="period" method="get" action="/dashboard">' in page
    assert 'name="from" value="2026-11-01"' in page and 'name="to" value="2026-11-30"' in page
    assert 'name="customer" value="7707083893"' in page
    assert 'name="token"' not in page  # sent as a header: not written into the page
    with_token = client.get(f"/dashboard?token={TOKEN}").text
    assert f'<input type="hidden" name="token" value="{TOKEN}">' in with_token


def test_a_cached_report_is_served_while_another_is_computed_and_computations_queue(bridge):
    ticks = Ticks()
    dashboard = Dashboard(DashboardSettings(TOKEN, {}, 60, "Europe/Moscow"), None, bridge.clock,
                          monotonic=ticks)
    cached = dashboard.report(("a",), lambda: {"report": "a"})
    started, release = threading.Event(), threading.Event()
    computed: list[str] = []

    def slow(name: str):
        def compute():
            computed.append(name)
            started.set()
            assert release.wait(30)
            return {"report": name}
        return compute

    first = threading.Thread(target=dashboard.report, args=(("b",), slow("b")))
    first.start()
    assert started.wait(30)
    assert dashboard.report(("a",), lambda: {"report": "computed again"}) is cached
    # The same period asked again while it is computed: waits, then takes the result.
    second = threading.Thread(target=dashboard.report, args=(("b",), slow("b again")))
    second.start()
    release.set()
    first.join(30)
    second.join(30)
    assert computed == ["b"]


def test_the_cache_holds_a_bounded_number_of_reports(bridge):
    ticks = Ticks()
    dashboard = Dashboard(DashboardSettings(TOKEN, {}, 60, "Europe/Moscow"), None, bridge.clock,
                          monotonic=ticks)
    for n in range(40):
        ticks.now += 1
        dashboard.report((n,), lambda n=n: {"n": n})
    assert len(dashboard._cache) == 16
    assert min(dashboard._cache) == (24,)  # the oldest went first


def test_a_hash_werkzeug_cannot_read_lets_no_one_in(bridge):
    settings = DashboardSettings(None, {"lead": "pbkdf2:sha256:x$salt$00"}, 0, "Europe/Moscow")
    client = create_app(bridge, dashboard=Dashboard(settings, FakeSource(), bridge.clock)).test_client()
    assert client.get("/dashboard", headers=basic("lead", PASSWORD)).status_code == 401
