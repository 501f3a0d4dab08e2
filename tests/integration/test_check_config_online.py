"""`check-config --online` and the preflight adapter against the real Redmine: every
Redmine name a config uses is checked, and an unknown one is named with its path."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from redmine_sla_bridge.adapters.redmine.preflight import check_redmine_names, name_problems
from redmine_sla_bridge.config.loader import load_config
from redmine_sla_bridge.entrypoints.cli import cli
from tests.conftest import base_document, write_config

pytestmark = pytest.mark.redmine


def _document(redmine, project: dict, lead: str, **changes) -> dict:
    """A config naming the test project, its lead and Redmine's stock names."""
    document = base_document(
        redmine, admin=False,
        scope={"projects": [project["identifier"]], "trackers": ["Support"]},
        statuses={"rejected": "Rejected", "closed": "Closed", "reopened": "New",
                  "paused": ["Feedback"], "done": ["Resolved", "Closed"]},
        intake_api={"token": "intake-token-for-tests", "project": project["identifier"],
                    "tracker": "Support"},
        lifecycle={
            "escalation": {"at_risk": {"add_watchers": [lead]},
                           "breached": {"assign_to": lead, "raise_priority": "Urgent"}},
            "auto_close": [{"name": "AC", "from_statuses": ["Feedback"], "idle_since": "support_answer",
                            "after": "14d", "to_status": "Closed"}],
            "customer_reply": [{"from_statuses": ["Feedback"], "to_status": "In Progress"}],
            "time_accounting": {"activity": "Development"},
        },
    )
    document["policy"]["priority"]["redmine"] = {"P1": "Immediate", "P2": "High"}
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        node = document
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    return document


def _lead_name(gateway, project: dict, people: dict) -> str:
    lead = people["lead"]
    for membership in gateway.memberships(project["id"]):
        if membership.get("user", {}).get("id") == lead.id:
            return membership["user"]["name"]
    raise AssertionError("the lead is not a member")


@pytest.fixture()
def lead(gateway, project, people) -> str:
    return _lead_name(gateway, project, people)


def test_a_config_whose_names_all_exist_passes(redmine, redmine_env, gateway, project, lead, tmp_path):
    path = write_config(tmp_path / "bridge.yaml", _document(redmine, project, lead))
    assert check_redmine_names(load_config(path), gateway) == []
    result = CliRunner().invoke(cli, ["check-config", "--online", str(path)])
    assert result.exit_code == 0, result.output
    assert f"OK: {path} (every Redmine name it uses exists at {redmine.url})" in result.output


def test_every_unknown_name_is_reported_with_its_path_and_what_redmine_has(
        redmine, redmine_env, gateway, project, lead, tmp_path):
    document = _document(
        redmine, project, lead,
        statuses__rejected="Rejectd", statuses__paused__0="feedback",
        scope__trackers__0="Suport",
        intake_api__tracker="Bugz", intake_api__project="no-such-project-here",
        lifecycle__escalation__breached__raise_priority="Urgnt",
        lifecycle__escalation__breached__assign_to="Nobody Atall",
        lifecycle__time_accounting__activity="Suport",
        lifecycle__auto_close__0__to_status="Closd",
        lifecycle__customer_reply__0__from_statuses__0="Feedbak",
        policy__priority__redmine__P2="Hihg",
    )
    document["lifecycle"]["escalation"]["at_risk"]["add_watchers"].append("Ghost Watcher")
    path = write_config(tmp_path / "bridge.yaml", document)
    problems = {".".join(map(str, p.path)): p.message for p in name_problems(load_config(path), gateway)}
    statuses = "[it has: Closed, Feedback, In Progress, New, Rejected, Resolved]"
    assert problems["statuses.rejected"] == (
        f"Redmine has no status 'Rejectd'; did you mean 'Rejected'? {statuses}")
    assert problems["statuses.paused.0"] == (
        f"Redmine has no status 'feedback'; did you mean 'Feedback'? (names are case-sensitive) {statuses}")
    assert problems["lifecycle.auto_close.0.to_status"].startswith("Redmine has no status 'Closd'")
    assert problems["lifecycle.customer_reply.0.from_statuses.0"].startswith(
        "Redmine has no status 'Feedbak'")
    assert problems["scope.trackers.0"].startswith("Redmine has no tracker 'Suport'; did you mean 'Support'?")
    assert "Support" in problems["intake_api.tracker"] and "'Bugz'" in problems["intake_api.tracker"]
    assert problems["intake_api.project"].startswith(
        "Redmine has no project with the identifier 'no-such-project-here'")
    listed = problems["intake_api.project"]
    assert project["identifier"] in listed or "in all)" in listed
    for path_, name in (("lifecycle.escalation.breached.raise_priority", "Urgnt"),
                        ("policy.priority.redmine.P2", "Hihg")):
        assert problems[path_].startswith(f"Redmine has no priority {name!r}")
        assert "Immediate" in problems[path_]
    assert problems["lifecycle.time_accounting.activity"].startswith(
        "Redmine has no time entry activity 'Suport'")
    assert problems["lifecycle.escalation.breached.assign_to"].startswith(
        f"'Nobody Atall' is not a member of project {project['identifier']!r}")
    assert lead in problems["lifecycle.escalation.breached.assign_to"]
    assert "'Ghost Watcher' is not a member" in problems["lifecycle.escalation.at_risk.add_watchers.1"]
    assert len(problems) == 12, problems

    result = CliRunner().invoke(cli, ["check-config", "--online", str(path)])
    assert result.exit_code == 2
    assert f"{path}: 12 problem(s) with the Redmine at {redmine.url}:" in result.output
    assert "  - statuses.rejected (line " in result.output
    assert "  - scope.trackers[0] (line " in result.output
    assert redmine.api_key not in result.output


def test_a_tracker_not_enabled_in_a_scoped_project_is_reported(
        redmine, redmine_env, gateway, project, lead, tmp_path):
    document = _document(redmine, project, lead)
    document["scope"]["trackers"] = ["Support", "Bug"]  # the test project has only Support
    path = write_config(tmp_path / "bridge.yaml", document)
    (problem,) = check_redmine_names(load_config(path), gateway)
    assert problem == (f"scope.trackers[1]: tracker 'Bug' is not enabled in project "
                       f"{project['identifier']!r} (its settings, Trackers), so the bridge sees no "
                       "issue of it there [enabled there: Support]")


def test_a_wrong_api_key_is_exit_1(redmine, redmine_env, project, lead, tmp_path, monkeypatch):
    monkeypatch.setenv("TEST_REDMINE_API_KEY", "0" * 40)
    path = write_config(tmp_path / "bridge.yaml", _document(redmine, project, lead))
    result = CliRunner().invoke(cli, ["check-config", "--online", str(path)])
    assert result.exit_code == 1, result.output
    assert "rejected the API key (401)" in result.output
    assert "0" * 40 not in result.output
