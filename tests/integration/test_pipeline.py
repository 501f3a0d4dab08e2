"""The event pipeline against the real Redmine: costs, roles, pauses, loops, crashes."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from redmine_sla_bridge.entrypoints.cli import cli
from redmine_sla_bridge.service.inbox import drain, enqueue_issue
from redmine_sla_bridge.service.process_issue import process_issue
from tests.conftest import base_document, rewrite_times, write_config

pytestmark = pytest.mark.redmine

MSK = ZoneInfo("Europe/Moscow")


def _document(redmine, **policy):
    document = base_document(redmine)
    document["polling"] = {"enabled": False}
    document["policy"]["targets"] = [{"when": {}, "first_response": "8h", "resolution": "5d"}]
    document["policy"].update(policy)
    return document


def _fields(gateway, issue_id) -> dict:
    issue = gateway.issue(issue_id, journals=False)
    return {f["name"]: f.get("value") for f in issue["custom_fields"]}


def test_sync_once_sets_fields_due_date_and_acknowledgement(redmine, redmine_env, provisioned,
                                                            gateway, project, support_tracker, tmp_path):
    document = _document(redmine)
    document["scope"]["projects"] = [project["identifier"]]
    document["polling"] = {"enabled": True}
    document["store"] = {"url": f"sqlite:///{tmp_path / 'sync.sqlite3'}"}
    config = write_config(tmp_path / "bridge.yaml", document)
    issue = gateway.create_issue(project_id=project["id"], tracker_id=support_tracker,
                                 subject="VPN is down", description="Help please")
    result = CliRunner().invoke(cli, ["sync", "--once", "--config", str(config)],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert f"#{issue['id']}: accepted standard/P3" in result.output
    after = gateway.issue(issue["id"])
    fields = {f["name"]: f.get("value") for f in after["custom_fields"]}
    assert fields["SLA tier"] == "standard"
    assert fields["SLA priority"] == "P3"
    assert fields["SLA state"] == "on track"
    assert fields["First response due"] and fields["Resolution due"]
    assert after["due_date"] == fields["Resolution due"][:10]
    assert f"registered as #{issue['id']}" in after["journals"][-1]["notes"]
    again = CliRunner().invoke(cli, ["sync", "--once", "--config", str(config)])
    assert f"#{issue['id']}" not in again.output  # seen again by polling: nothing to do


def test_a_new_request_costs_one_get_and_one_put(make_runtime, redmine, gateway, project, support_tracker):
    rt = make_runtime(_document(redmine))
    _ = rt.redmine.catalog.facts  # read once per process, not per event
    issue = gateway.create_issue(project_id=project["id"], tracker_id=support_tracker,
                                 subject="Two calls", description="x")
    before = dict(rt.redmine.gateway.calls.by_method)
    outcome = process_issue(rt, issue["id"])
    assert outcome.action == "accepted"
    spent = {m: n - before.get(m, 0) for m, n in rt.redmine.gateway.calls.by_method.items()}
    assert {m: n for m, n in spent.items() if n} == {"GET": 1, "PUT": 1}


def test_the_bridges_own_update_triggers_nothing_more(make_runtime, redmine, gateway, project,
                                                      support_tracker):
    rt = make_runtime(_document(redmine))
    issue = gateway.create_issue(project_id=project["id"], tracker_id=support_tracker,
                                 subject="No loop", description="x")
    assert process_issue(rt, issue["id"]).action == "accepted"
    last_journal = gateway.issue(issue["id"])["journals"][-1]
    assert last_journal["user"]["id"] == rt.redmine.catalog.facts.bridge_user_id
    # The webhook for the bridge's own journal arrives: one GET, no PUT.
    enqueue_issue(rt.store, "redmine7", issue["id"], rt.clock(), journal_id=last_journal["id"])
    puts = rt.redmine.gateway.calls.by_method["PUT"]
    report = drain(rt)
    assert [o.action for o in report.outcomes] == ["unchanged"]
    assert rt.redmine.gateway.calls.by_method["PUT"] == puts


def test_a_note_by_the_requester_is_not_a_first_response(make_runtime, redmine, gateway, project,
                                                        support_tracker, people):
    rt = make_runtime(_document(redmine))
    customer, engineer = people["customer"], people["engineer"]
    issue = customer.gateway.create_issue(project_id=project["id"], tracker_id=support_tracker,
                                          subject="Question", description="How do I?")
    assert process_issue(rt, issue["id"]).action == "accepted"

    customer.gateway.update_issue(issue["id"], notes="Any news?")
    process_issue(rt, issue["id"])
    assert _fields(gateway, issue["id"])["First response at"] is None

    engineer.gateway.update_issue(issue["id"], notes="Internal: checking logs", private_notes=True)
    process_issue(rt, issue["id"])
    assert _fields(gateway, issue["id"])["First response at"] is None

    engineer.gateway.update_issue(issue["id"], notes="Please try version 7.3.")
    process_issue(rt, issue["id"])
    answered = gateway.issue(issue["id"])["journals"][-1]["created_on"]
    expected = dt.datetime.fromisoformat(answered.replace("Z", "+00:00")).astimezone(MSK)
    assert _fields(gateway, issue["id"])["First response at"] == expected.strftime("%Y-%m-%d %H:%M")


def test_a_pause_in_feedback_moves_the_deadline_by_the_paused_working_time(
        make_runtime, redmine, gateway, project, support_tracker, people, local_redmine):
    engineer = people["engineer"]
    # Tuesday 3 March 2026, 10:00 Moscow: 8 working hours end at 18:00 the same day.
    created = dt.datetime(2026, 3, 3, 10, 0, tzinfo=MSK)
    rt = make_runtime(_document(redmine), clock=lambda: dt.datetime(2026, 3, 3, 15, 0, tzinfo=MSK))
    issue = gateway.create_issue(project_id=project["id"], tracker_id=support_tracker,
                                 subject="Pause", description="x")
    rewrite_times(local_redmine, issue["id"], created)
    process_issue(rt, issue["id"], now=dt.datetime(2026, 3, 3, 10, 1, tzinfo=MSK))
    assert _fields(gateway, issue["id"])["First response due"] == "2026-03-03 18:00"

    statuses = rt.redmine.catalog.facts.status_ids
    engineer.gateway.update_issue(issue["id"], status_id=statuses["Feedback"])
    engineer.gateway.update_issue(issue["id"], status_id=statuses["In Progress"])
    paused, resumed = [j["id"] for j in gateway.issue(issue["id"])["journals"] if j["details"]][-2:]
    rewrite_times(local_redmine, issue["id"], created, {
        paused: dt.datetime(2026, 3, 3, 11, 0, tzinfo=MSK),
        resumed: dt.datetime(2026, 3, 3, 14, 30, tzinfo=MSK),
    })
    process_issue(rt, issue["id"])
    fields = _fields(gateway, issue["id"])
    # 3.5 working hours paused: 18:00 moves to 12:30 the next working day.
    assert fields["First response due"] == "2026-03-04 12:30"
    assert fields["SLA state"] == "on track"


def test_events_left_by_a_killed_process_are_all_processed_after_restart(
        make_runtime, redmine, gateway, project, support_tracker, tmp_path):
    rt = make_runtime(_document(redmine))
    issues = [gateway.create_issue(project_id=project["id"], tracker_id=support_tracker,
                                   subject=f"Crash {n}", description="x")["id"] for n in range(3)]
    for issue_id in issues:
        enqueue_issue(rt.store, "poll", issue_id, rt.clock(), delivery_id=f"crash-{issue_id}")
    store_url = rt.settings.store_url
    # A worker claims every event and dies (kill -9) before completing any of them.
    script = textwrap.dedent(f"""
        import datetime as dt, os, signal
        from redmine_sla_bridge.adapters.store import Store
        store = Store.from_url({store_url!r})
        claimed = store.claim(dt.datetime.now(dt.timezone.utc), 10, 60, "doomed")
        print(len(claimed), flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=tmp_path, env=dict(os.environ))
    assert proc.returncode == -signal.SIGKILL
    assert proc.stdout.strip() == "3"
    assert drain(rt).processed == 0  # leased by the dead worker
    later = rt.clock() + dt.timedelta(seconds=61)
    report = drain(rt, now=lambda: later)
    assert sorted(o.issue_id for o in report.outcomes) == sorted(issues)
    for issue_id in issues:
        notes = [j for j in gateway.issue(issue_id)["journals"] if j.get("notes")]
        assert len(notes) == 1


def test_redmine_down_keeps_the_event_for_retry(make_runtime, redmine, project):
    document = _document(redmine)
    rt = make_runtime(document)
    from redmine_sla_bridge.adapters.redmine.gateway import RedmineGateway

    _ = rt.redmine.catalog.facts
    rt.redmine.gateway = RedmineGateway("http://127.0.0.1:9", "key", retries=0, timeout=1)
    enqueue_issue(rt.store, "poll", 424242, rt.clock(), delivery_id="down-1")
    report = drain(rt)
    assert report.redmine_down and report.retried == 1 and report.processed == 0
    assert rt.store.pending_count() == 1
    assert rt.store.dead_letters() == []


def test_the_pipeline_on_a_postgresql_store(make_runtime, redmine, gateway, project, support_tracker,
                                            postgres_url):
    """Several replicas share a PostgreSQL store: the same flow as on SQLite."""
    from tests.conftest import postgres_schema

    with postgres_schema(postgres_url) as url:
        document = _document(redmine)
        document["store"] = {"url": url}
        rt = make_runtime(document)
        assert rt.store.backend == "postgresql"
        issue = gateway.create_issue(project_id=project["id"], tracker_id=support_tracker,
                                     subject="On PostgreSQL", description="x")
        for _ in range(3):
            enqueue_issue(rt.store, "redmine7", issue["id"], rt.clock(), journal_id=0)
        report = drain(rt)
        assert [o.action for o in report.outcomes] == ["accepted"]
        assert _fields(gateway, issue["id"])["SLA state"] == "on track"
