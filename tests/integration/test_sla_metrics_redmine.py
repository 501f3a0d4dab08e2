"""The SLA metrics the Grafana dashboard reads, on the real Redmine with an injected
clock: a breach the sweep writes counts once, an answer and a resolution in time count
`met`, and the open-requests gauge is the state each sweep leaves the project's issues
in. Read through the bridge's own `/metrics` (its Flask app), as Prometheus reads it."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from prometheus_client.parser import text_string_to_metric_families

from redmine_sla_bridge.adapters.redmine.gateway import RedmineGateway
from redmine_sla_bridge.entrypoints.web.app import create_app
from redmine_sla_bridge.service.process_issue import process_issue
from redmine_sla_bridge.service.sweep import sweep
from tests.conftest import base_document, rewrite_times

pytestmark = pytest.mark.redmine

MSK = ZoneInfo("Europe/Moscow")


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=MSK)  # 3 March 2026: a Tuesday


def scrape(client) -> dict[tuple[str, frozenset], float]:
    answer = client.get("/metrics")
    assert answer.status_code == 200
    out = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            out[sample.name, frozenset(sample.labels.items())] = sample.value
    return out


@pytest.mark.slow  # about 30 s: four rails-runner rewrites of the issues' times
def test_outcomes_and_open_requests_follow_what_the_bridge_writes(
        make_runtime, redmine, project, support_tracker, local_redmine, people):
    # The shared WEBrick Redmine can stall for many seconds under the other tests' load.
    gateway = RedmineGateway(redmine.url, redmine.api_key, keep_alive=False, timeout=60)
    # The counters are the process's, shared with the session's other tests: deltas.
    tier = "individual"  # one of the tier field's values (tests/conftest.py provisions them)
    document = base_document(redmine, language="en")
    document["scope"]["projects"] = [project["identifier"]]
    document["polling"] = {"enabled": False}
    document["redmine"]["timeout_seconds"] = 60
    document["policy"]["tiers"] = [{"name": tier, "when": {}}]
    document["policy"]["targets"] = [{"when": {}, "first_response": "8h", "resolution": "3d"}]
    rt = make_runtime(document)
    client = create_app(rt).test_client()
    priority = "P3"

    def counted(name: str) -> float:
        key = ("bridge_sla_outcomes_total",
               frozenset({"outcome": name, "tier": tier, "priority": priority}.items()))
        return scrape(client).get(key, 0.0)

    before = {name: counted(name) for name in ("met", "breached")}

    def outcome(name: str) -> float:
        return counted(name) - before[name]

    def open_requests(state: str) -> float | None:
        return scrape(client).get(("bridge_open_requests",
                                   frozenset({"state": state, "tier": tier}.items())))

    late = gateway.create_issue(project_id=project["id"], tracker_id=support_tracker,
                                subject="nobody answers", description="Something broke")
    kept = gateway.create_issue(project_id=project["id"], tracker_id=support_tracker,
                                subject="answered and resolved", description="Something broke")
    for issue in (late, kept):
        rewrite_times(local_redmine, issue["id"], at(3, 10))
        process_issue(rt, issue["id"], now=at(3, 10, 1))
    fields = {f["name"]: f.get("value") for f in gateway.issue(late["id"], journals=False)["custom_fields"]}
    assert (fields["SLA tier"], fields["SLA priority"]) == (tier, priority)

    sweep(rt, now=at(3, 11))  # only this test's project is in scope: its two issues
    assert open_requests("on track") == 2 and outcome("breached") == 0.0

    resolved = rt.redmine.catalog.facts.status_ids["Resolved"]
    engineer = RedmineGateway(redmine.url, redmine.api_key, keep_alive=False, timeout=60,
                              impersonate=people["engineer"].login)
    engineer.update_issue(kept["id"], notes="Fixed: please check.",
                                            status_id=resolved)
    answer = gateway.issue(kept["id"])["journals"][-1]["id"]
    rewrite_times(local_redmine, kept["id"], at(3, 10), {answer: at(3, 12)})
    process_issue(rt, kept["id"], now=at(3, 12, 1))
    assert outcome("met") == 1.0

    report = sweep(rt, now=at(3, 18, 1))  # 8 working hours after 10:00, unanswered
    assert report.changed == {late["id"]: "breached"}
    assert outcome("breached") == 1.0
    assert open_requests("breached") == 1.0
    assert open_requests("on track") == 0.0  # emptied, not left at its old count

    sweep(rt, now=at(4, 12))
    process_issue(rt, late["id"], now=at(4, 12, 1))
    assert (outcome("breached"), outcome("met")) == (1.0, 1.0)  # decided once each
