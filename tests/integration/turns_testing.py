"""Shared by the issue-16 tests of requests whose clock waits (ID-8, ID-1/AR-7) and of
the BA-7 extension: their fields provisioned once, a config, filing and rewriting times."""

from __future__ import annotations

import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import PROVISIONED_INSTANCE, base_document, rewrite_times, write_config

MSK = ZoneInfo("Europe/Moscow")
REASONS = ["Not reproducible", "Too little information", "Needs a product update"]


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """March 2026 in Moscow (2 March is a Monday; 9 March a day off)."""
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=MSK)


@pytest.fixture(scope="session")
def turns_fields(redmine, provisioned, tmp_path_factory) -> None:
    """The lead-decision and extension fields and the new SLA states, added to the
    session's English fields (provision only adds what is missing)."""
    from click.testing import CliRunner

    from redmine_sla_bridge.config.model import DEFAULT_FIELD_NAMES
    from redmine_sla_bridge.entrypoints.cli import cli

    document = base_document(redmine)
    document["redmine"]["api_key"] = redmine.api_key
    document["redmine"]["admin"] = {"login": redmine.admin_login, "password": redmine.admin_password}
    document["fields"] = dict(DEFAULT_FIELD_NAMES["en"])
    # Only the fields: the session's provision already set permissions and queries.
    document["provision"] = {"instance": PROVISIONED_INSTANCE, "permissions": False,
                             "queries": False}
    document["lifecycle"] = {"needs_decision": {"tiers": ["standard"]},
                             "extension": {"reasons": REASONS}}
    path = write_config(tmp_path_factory.mktemp("turns") / "bridge.yaml", document)
    result = CliRunner().invoke(cli, ["provision", "--config", str(path)])
    assert result.exit_code == 0, result.output


def document_for(redmine, project, **lifecycle) -> dict:
    document = base_document(redmine, language="en")
    document["scope"]["projects"] = [project["identifier"]]
    document["polling"] = {"enabled": False}
    document["policy"]["targets"] = [{"when": {}, "first_response": "8h", "resolution": "2d"}]
    document["lifecycle"] = lifecycle
    return document


def file_request(rt, gateway, project, tracker, email: str, subject: str = "VPN") -> dict:
    fields = rt.redmine.catalog.project_fields(project["identifier"])[1]
    return gateway.create_issue(project_id=project["id"], tracker_id=tracker, subject=subject,
                                description="VPN is down",
                                custom_fields=fields.payload({"contact_name": "Ivan Petrov",
                                                              "contact_email": email}))


def fields_of(gateway, issue_id) -> dict:
    issue = gateway.issue(issue_id, journals=False)
    return {f["name"]: f.get("value") for f in issue["custom_fields"]}


def move_history(local_redmine, gateway, issue_id, created: dt.datetime,
                 journals: list[dt.datetime]) -> None:
    """Put the issue's creation and its journals, in order, at the given moments."""
    ids = [j["id"] for j in gateway.issue(issue_id)["journals"]]
    assert len(ids) == len(journals), (ids, journals)
    rewrite_times(local_redmine, issue_id, created, dict(zip(ids, journals, strict=True)))


def with_mail(make_runtime, document: dict, smtp):
    """A bridge from `document` that mails its notices to `smtp`."""
    from redmine_sla_bridge.adapters.notify import build_notifier
    from redmine_sla_bridge.config.notify import NotifyConfig

    document["notify"] = {"enabled": True, "from_address": "support@vendor.example",
                          "smtp": {"host": smtp.host, "port": smtp.port, "security": "none"}}
    rt = make_runtime(document)
    return dataclasses.replace(
        rt, notifier=build_notifier(NotifyConfig.model_validate(document["notify"]), rt.store))
