"""The saved queries `provision` makes: each lists exactly the requests it should, nearest
deadline first, for the support roles only, and is put back when changed by hand.

The SLA values are set directly through the REST API as the bridge's own user (what the
bridge would write, in the config's language), so the lists do not depend on the day the
test runs; "today" is Redmine's own, which the native due date is compared with. The
"answer due today" query is checked on requests the bridge itself took in, at injected
times.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from redmine_sla_bridge.adapters.redmine import saved_queries as sq
from redmine_sla_bridge.adapters.redmine.admin_forms import AdminSession
from redmine_sla_bridge.domain.processing.field_values import value_label
from redmine_sla_bridge.service.process_issue import process_issue
from tests.conftest import write_config
from tests.integration.test_provision_permissions import run_cli, sandbox  # noqa: F401

pytestmark = pytest.mark.redmine


def _ids(gateway, query_id: int, project_id: int) -> list[int]:
    return [i["id"] for i in gateway.find_issues(query_id=query_id, project_id=project_id,
                                                 limit=100)]


@pytest.mark.slow
@pytest.mark.parametrize("language", ["en", "ru"])
def test_each_saved_query_lists_exactly_its_requests_nearest_deadline_first(
        redmine, gateway, project, people, support_tracker, sandbox, tmp_path,  # noqa: F811
        language):
    config = write_config(tmp_path / "bridge.yaml", sandbox.document(project, language=language))
    first = run_cli("provision", "--config", str(config))
    assert first.exit_code == 0, first.output
    for name in sq.NAMES[language].values():
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
            values["sla_state"] = value_label("sla_state", state, language)
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
    names = sq.NAMES[language]
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


@pytest.mark.slow
def test_answer_due_today_lists_the_unanswered_requests_whose_first_response_is_due_today(
        redmine, gateway, project, people, support_tracker, sandbox, make_runtime,  # noqa: F811
        tmp_path):
    # Redmine's "today" is the viewer's (here the API key's user) and not injectable: a
    # new issue's start date shows it. The regulation's zone is chosen so that its day is
    # that day and it is about noon there now, so deadlines of 1 and 3 hours fall today
    # and one of 14 hours tomorrow, whenever the test runs.
    probe = gateway.create_issue(project_id=project["id"], tracker_id=support_tracker,
                                 subject="what day is it for Redmine")
    today = dt.date.fromisoformat(gateway.issue(probe["id"], journals=False)["start_date"])
    utc_now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    offset = round((dt.datetime.combine(today, dt.time(12)) - utc_now) / dt.timedelta(hours=1))
    zone = f"Etc/GMT{-offset:+d}" if offset else "Etc/UTC"  # Etc/GMT-3 is UTC+3
    document = sandbox.document(project, language="ru")
    document["calendars"] = {"office": {"timezone": zone, "week": "24x7", "holidays": "none"}}
    document["policy"]["priority"] = {"mode": "impact", "levels": ["P1", "P2", "P3", "P4"],
                                      "default_impact": "P4"}
    document["policy"]["targets"] = [
        {"when": {"priority": "P1"}, "first_response": "1h"},
        {"when": {"priority": "P2"}, "first_response": "3h"},
        {"when": {"priority": "P3"}, "first_response": "14h"},
        {"when": {}, "first_response": "2h"}]
    config = write_config(tmp_path / "bridge.yaml", document)
    assert run_cli("provision", "--config", str(config)).exit_code == 0
    fields = sandbox.fields()
    moment: list[dt.datetime] = []
    rt = make_runtime(document, english_fields=False, clock=lambda: moment[0])

    def request(subject: str, impact: str, *, take_in: bool = True) -> int:
        issue = people["customer"].gateway.create_issue(
            project_id=project["id"], tracker_id=support_tracker, subject=subject,
            custom_fields=[{"id": fields["impact"]["id"], "value": impact}])
        created = dt.datetime.fromisoformat(
            gateway.issue(issue["id"], journals=False)["created_on"].replace("Z", "+00:00"))
        moment[:] = [created + dt.timedelta(minutes=1)]
        if take_in:
            assert process_issue(rt, issue["id"]).action == "accepted"
        return int(issue["id"])

    later_today = request("due in 3 hours", "P2")
    sooner_today = request("due in an hour", "P1")
    tomorrow = request("due in 14 hours", "P3")
    answered = request("due in 2 hours, answered", "P4")
    people["engineer"].gateway.update_issue(answered, notes="Смотрим, ответим в течение часа.")
    moment[:] = [moment[0] + dt.timedelta(minutes=5)]
    process_issue(rt, answered)
    request("not taken in by the bridge", "P1", take_in=False)

    days = {i: rt.redmine.load(i).values.get("first_response_day")
            for i in (later_today, sooner_today, tomorrow, answered)}
    assert days == {later_today: today.isoformat(), sooner_today: today.isoformat(),
                    tomorrow: (today + dt.timedelta(days=1)).isoformat(),
                    answered: today.isoformat()}
    assert rt.redmine.load(answered).values.get("first_response_at")
    query = next(q["id"] for q in gateway.iter_paged("/queries.json", "queries")
                 if q.get("project_id") == project["id"] and q["name"] == "Ответ нужен сегодня")
    assert _ids(gateway, query, project["id"]) == [sooner_today, later_today]
