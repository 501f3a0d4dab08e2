"""The saved queries `provision` makes: each lists exactly the requests it should, nearest
deadline first, for the support roles only, and is put back when changed by hand.

The SLA values are set directly through the REST API as the bridge's own user (what the
bridge would write), so the lists do not depend on the day the test runs; "today" is
Redmine's own, which the native due date is compared with.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from redmine_sla_bridge.adapters.redmine import saved_queries as sq
from redmine_sla_bridge.adapters.redmine.admin_forms import AdminSession
from tests.conftest import write_config
from tests.integration.test_provision_permissions import run_cli, sandbox  # noqa: F401

pytestmark = pytest.mark.redmine


def _ids(gateway, query_id: int, project_id: int) -> list[int]:
    return [i["id"] for i in gateway.find_issues(query_id=query_id, project_id=project_id,
                                                 limit=100)]


def test_each_saved_query_lists_exactly_its_requests_nearest_deadline_first(
        redmine, gateway, project, people, support_tracker, sandbox, tmp_path):  # noqa: F811
    config = write_config(tmp_path / "bridge.yaml", sandbox.document(project))
    first = run_cli("provision", "--config", str(config))
    assert first.exit_code == 0, first.output
    for name in sq.NAMES["en"].values():
        assert f"create saved query {name!r} in project {project['identifier']}" in first.output
    assert "nothing to do" in run_cli("provision", "--config", str(config)).output

    fields = sandbox.fields()
    bridge = sandbox.bridge_user(project)
    statuses = {s["name"]: s["id"] for s in gateway.statuses()}
    today = dt.date.today()
    later = today + dt.timedelta(days=10)

    def request(subject: str, state: str | None, *, answered: bool, first_due: str,
                resolution_due: str, due: dt.date = later, status: str = "New") -> int:
        issue = people["customer"].gateway.create_issue(
            project_id=project["id"], tracker_id=support_tracker, subject=subject)
        values = {"first_response_due": first_due, "resolution_due": resolution_due,
                  "first_response_at": "2026-11-30 10:00" if answered else ""}
        if state is not None:
            values["sla_state"] = state
        bridge.gateway.update_issue(issue["id"], due_date=due.isoformat(), custom_fields=[
            {"id": fields[k]["id"], "value": v} for k, v in values.items()])
        if status != "New":
            gateway.update_issue(issue["id"], status_id=statuses[status])
        return int(issue["id"])

    on_track = request("on track, answered", "on track", answered=True,
                       first_due="2026-11-30 12:00", resolution_due="2026-12-09 18:00")
    new = request("on track, waiting", "on track", answered=False,
                  first_due="2026-12-01 15:00", resolution_due="2026-12-08 18:00")
    at_risk = request("at risk, answered", "at risk", answered=True,
                      first_due="2026-11-30 11:00", resolution_due="2026-12-03 12:00")
    at_risk_new = request("at risk, waiting", "at risk", answered=False,
                          first_due="2026-12-01 12:00", resolution_due="2026-12-05 18:00")
    breached = request("breached, due today", "breached", answered=True,
                       first_due="2026-11-27 11:00", resolution_due="2026-11-30 18:00", due=today)
    today_on_track = request("on track, due today", "on track", answered=True,
                             first_due="2026-11-30 10:00", resolution_due="2026-12-01 17:00",
                             due=today)
    request("breached, closed", "breached", answered=False, first_due="2026-11-20 10:00",
            resolution_due="2026-11-25 10:00", due=today, status="Closed")
    request("not taken in by the bridge", None, answered=False, first_due="", resolution_due="",
            due=today)
    assert on_track  # in no list: on track, answered, due later

    queries = {q["name"]: q["id"] for q in gateway.iter_paged("/queries.json", "queries")
               if q.get("project_id") == project["id"]}
    names = sq.NAMES["en"]
    assert _ids(gateway, queries[names["breached"]], project["id"]) == [breached]
    assert _ids(gateway, queries[names["at_risk"]], project["id"]) == [at_risk, at_risk_new]
    assert _ids(gateway, queries[names["awaiting_first_response"]], project["id"]) == [
        at_risk_new, new]
    assert _ids(gateway, queries[names["resolution_today"]], project["id"]) == [
        breached, today_on_track]

    # The support roles see the queries; a customer does not.
    seen_by = {who: {q["name"] for q in people[who].gateway.iter_paged("/queries.json", "queries")}
               for who in ("engineer", "lead", "customer")}
    assert set(names.values()) <= seen_by["engineer"] and set(names.values()) <= seen_by["lead"]
    assert not set(names.values()) & seen_by["customer"]


def test_a_query_changed_by_hand_is_put_back(redmine, gateway, project, sandbox,  # noqa: F811
                                             tmp_path):
    config = write_config(tmp_path / "bridge.yaml", sandbox.document(project))
    assert run_cli("provision", "--config", str(config)).exit_code == 0
    admin = AdminSession(redmine.url, redmine.admin_login, redmine.admin_password)
    query = next(q for q in gateway.iter_paged("/queries.json", "queries")
                 if q.get("project_id") == project["id"] and q["name"] == sq.NAMES["en"]["at_risk"])
    wanted = sq.read_definition(admin, query["id"], sq.QueryDefinition(
        query["name"], project["id"], {}, (), (), frozenset()))
    # Someone drops a column and sorts by subject.
    sq.apply([sq.QueryAction("update", replace(wanted, columns=wanted.columns[:-1],
                                               sort=(("subject", "asc"),)),
                             project["identifier"], query["id"])], admin, log=lambda _line: None)

    shown = run_cli("provision", "--config", str(config), "--dry-run")
    assert shown.output.strip() == (f"update saved query 'SLA: at risk' in project "
                                    f"{project['identifier']}: columns, sort order")
    assert run_cli("provision", "--config", str(config)).exit_code == 0
    assert sq.read_definition(admin, query["id"], wanted) == wanted
