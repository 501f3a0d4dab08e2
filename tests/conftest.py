"""Shared fixtures. Tests marked `redmine` run against the real local Redmine 5 that
`redmine-sla-bridge dev-redmine start` installs and starts (reused when already up)."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from redmine_sla_bridge.adapters.redmine.gateway import RedmineGateway
from redmine_sla_bridge.devtools.local_redmine import ADMIN_LOGIN, ADMIN_PASSWORD, LocalRedmine


def pytest_collection_modifyitems(config, items):
    """Tests marked `slow` (minutes each: a 60 s Redmine outage, a 500-message mailbox
    killed mid-way, whole field sets provisioned through the admin forms, a Chromium
    session per page) are skipped unless `-m` names the marker:
    `scripts/test -m slow` runs them all, `scripts/test -m slow tests/fault` one folder."""
    if "slow" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason="slow: run with `scripts/test -m slow`")
    for item in items:
        if item.get_closest_marker("slow"):
            item.add_marker(skip)


# How long the tests' own Redmine clients (and the bridges they build) wait for an
# answer. The product's default is 10 s; on CI's 2-core machine one SQLite-backed Redmine
# serves the whole suite, and a write now and then waits for SQLite's lock longer than
# that (a ReadTimeout on an engineer's PUT failed a CI run). These tests are not about
# Redmine's latency (benchmarks/ measure it), so they wait as long as an operator would.
TEST_REDMINE_TIMEOUT = 60.0


@dataclass(frozen=True)
class RedmineUnderTest:
    url: str
    api_key: str
    admin_login: str = ADMIN_LOGIN
    admin_password: str = ADMIN_PASSWORD

    def gateway(self) -> RedmineGateway:
        # WEBrick delays ACKs on kept-alive connections (~50 ms a call measured here
        # against ~13 ms with a new connection each time), so tests close connections.
        return RedmineGateway(self.url, self.api_key, keep_alive=False,
                              timeout=TEST_REDMINE_TIMEOUT)


@pytest.fixture(scope="session")
def redmine() -> RedmineUnderTest:
    local = LocalRedmine(port=int(os.environ.get("REDMINE_TEST_PORT", "3000")))
    key = local.start(log=lambda line: print(line))
    return RedmineUnderTest(local.url, key)


@pytest.fixture()
def gateway(redmine) -> RedmineGateway:
    return redmine.gateway()


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


@pytest.fixture()
def project(gateway) -> dict:
    """A fresh project with the Support tracker, so tests never see each other's issues."""
    support = next(t["id"] for t in gateway.trackers() if t["name"] == "Support")
    identifier = unique("t-")
    return gateway.create_project(identifier, f"Test {identifier}", tracker_ids=[support])


def write_config(path: Path, document: dict) -> Path:
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def base_document(redmine: RedmineUnderTest, *, admin: bool = True, **sections) -> dict:
    """A minimal valid config for the local Redmine; `sections` replace top-level keys."""
    document: dict = {
        "language": "en",
        "redmine": {"url": redmine.url, "api_key": "${TEST_REDMINE_API_KEY}", "keep_alive": False,
                    "timeout_seconds": TEST_REDMINE_TIMEOUT},
        "scope": {"projects": "all", "trackers": ["Support"]},
        "calendars": {"office": {"timezone": "Europe/Moscow",
                                 "week": {"mon-fri": [["09:00", "18:00"]]}, "holidays": "RU"}},
        "policy": {
            "calendar": "office",
            "tiers": [{"name": "standard", "when": {}}],
            "priority": {"mode": "impact", "default_impact": "P3"},
        },
        # Tests backdate issues after the bridge stamped "Next SLA check" from their real
        # times, so the fast pass (which trusts the stamp) is tested on its own
        # (tests/integration/test_sweep_next_check.py); the others read every issue.
        "sweep": {"fast": False},
    }
    if admin:
        document["redmine"]["admin"] = {"login": "${TEST_REDMINE_ADMIN}",
                                        "password": "${TEST_REDMINE_ADMIN_PASSWORD}"}
    document.update(sections)
    return document


@pytest.fixture()
def redmine_env(redmine, monkeypatch) -> dict:
    """Secrets reach the config through the environment, as in production."""
    env = {"TEST_REDMINE_API_KEY": redmine.api_key, "TEST_REDMINE_ADMIN": redmine.admin_login,
           "TEST_REDMINE_ADMIN_PASSWORD": redmine.admin_password}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


@pytest.fixture(scope="session")
def provisioned(redmine, tmp_path_factory) -> None:
    """The bridge's fields with their default names, enabled for all projects (once)."""
    from click.testing import CliRunner

    from redmine_sla_bridge.entrypoints.cli import cli

    document = base_document(redmine)
    document["redmine"]["api_key"] = redmine.api_key
    document["redmine"]["admin"] = {"login": redmine.admin_login, "password": redmine.admin_password}
    # Every tier and priority any test uses must be a value of the list fields.
    document["policy"]["tiers"] = [{"name": name, "when": {"partner": True}}
                                   for name in PROVISIONED_TIERS[:-1]]
    document["policy"]["tiers"].append({"name": PROVISIONED_TIERS[-1], "when": {}})
    document["policy"]["priority"]["levels"] = list(PROVISIONED_PRIORITIES)
    document["policy"]["priority"]["default_impact"] = PROVISIONED_PRIORITIES[-1]
    # Fields are found by their marker before their name: a set of its own keeps a
    # Russian config provisioned with the default marker (the preset tests) from renaming
    # these English fields under every other test.
    document["provision"] = {"instance": PROVISIONED_INSTANCE}
    path = write_config(tmp_path_factory.mktemp("provision") / "bridge.yaml", document)
    result = CliRunner().invoke(cli, ["provision", "--config", str(path)])
    assert result.exit_code == 0, result.output


PROVISIONED_TIERS = ("partner", "premium", "trial", "update", "standard", "basic", "warranty",
                     "individual", "subscription", "demo", "none", "other")
PROVISIONED_PRIORITIES = ("P1", "P2", "P3", "P4")
PROVISIONED_INSTANCE = "tests-en"


@pytest.fixture()
def make_runtime(redmine, redmine_env, provisioned, tmp_path):
    """Build a bridge from a config document (a fresh store per call) and an injected clock."""
    from redmine_sla_bridge.bootstrap import bootstrap, open_store
    from redmine_sla_bridge.config.loader import load_config
    from redmine_sla_bridge.config.model import DEFAULT_FIELD_NAMES

    made = []

    def make(document: dict | None = None, *, clock=None, name: str = "bridge",
             english_fields: bool = True, **kwargs):
        document = document or base_document(redmine)
        document.setdefault("store", {"url": f"sqlite:///{tmp_path / (name + '.sqlite3')}"})
        # The session's fields carry the English names (see `provisioned`); a Russian
        # config would otherwise look for the Russian default names, which only the tests
        # that provision their own fields create.
        if english_fields:
            # Names and list values as the session's fields have them, whatever language
            # the notes are written in.
            document.setdefault("field_language", "en")
            document.setdefault("fields", dict(DEFAULT_FIELD_NAMES["en"]))
        path = write_config(tmp_path / f"{name}.yaml", document)
        config = load_config(path)
        store = open_store(config)
        kwargs.setdefault("notifier", None)
        kwargs.setdefault("gateway", redmine.gateway())
        rt = bootstrap(config, store=store, **({"clock": clock} if clock else {}), **kwargs)
        made.append(rt)
        return rt

    yield make
    for rt in made:
        rt.store.close()


@pytest.fixture()
def support_tracker(gateway) -> int:
    return next(t["id"] for t in gateway.trackers() if t["name"] == "Support")


@dataclass(frozen=True)
class Person:
    id: int
    login: str
    gateway: RedmineGateway  # acts as this user (admin key + X-Redmine-Switch-User)


@pytest.fixture()
def people(redmine, gateway, project) -> dict[str, Person]:
    """A customer (Reporter), an engineer (Developer) and a support lead (Manager),
    members of the test project. (The admin is the bridge's own user in these tests.)"""
    roles = {r["name"]: r["id"] for r in gateway.roles()}
    out = {}
    for key, role in (("customer", "Reporter"), ("engineer", "Developer"), ("lead", "Manager")):
        login = unique(key[:4])
        user = gateway.create_user(login, key.capitalize(), login, f"{login}@example.ru",
                                   "password-" + login)
        gateway.add_member(project["id"], user["id"], [roles[role]])
        out[key] = Person(user["id"], login, RedmineGateway(redmine.url, redmine.api_key,
                                                            keep_alive=False, impersonate=login,
                                                            timeout=TEST_REDMINE_TIMEOUT))
    return out


@pytest.fixture(scope="session")
def local_redmine(redmine) -> LocalRedmine:
    return LocalRedmine(port=int(os.environ.get("REDMINE_TEST_PORT", "3000")))


def rewrite_times(local: LocalRedmine, issue_id: int, created_on, journals: dict | None = None) -> None:
    """Move an issue's creation and journals to chosen moments (no API can), so tests of
    working-time behaviour do not depend on when they run."""
    def ruby_time(moment) -> str:
        utc = moment.astimezone(dt.UTC)
        return f"Time.utc({utc.year}, {utc.month}, {utc.day}, {utc.hour}, {utc.minute}, {utc.second})"

    start = created_on.date().isoformat()
    script = [f"Issue.where(id: {issue_id}).update_all(created_on: {ruby_time(created_on)}, "
              f"start_date: Date.parse('{start}'))"]
    for journal_id, moment in (journals or {}).items():
        script.append(f"Journal.where(id: {journal_id}).update_all(created_on: {ruby_time(moment)})")
    local.runner("; ".join(script))


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A real PostgreSQL (Debian's, a cluster of the project's own), started or reused."""
    from redmine_sla_bridge.devtools.local_postgres import DEFAULT_PORT, LocalPostgres

    url = os.environ.get("STORE_TEST_POSTGRES_URL")
    if url:
        return url
    return LocalPostgres(port=int(os.environ.get("STORE_TEST_PG_PORT", DEFAULT_PORT))).start(log=print)


@contextlib.contextmanager
def postgres_schema(base_url: str):
    """A URL whose every connection lands in a fresh schema, dropped afterwards."""
    from sqlalchemy import create_engine, make_url, text

    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
