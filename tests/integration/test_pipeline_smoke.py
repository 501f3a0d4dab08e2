"""New issue -> `sync --once` -> fields, due date and acknowledgement, in two calls."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from redmine_sla_bridge.entrypoints.cli import cli
from tests.conftest import base_document, write_config

pytestmark = pytest.mark.redmine


def test_sync_once_acknowledges_a_new_issue(redmine, redmine_env, provisioned, gateway, project, tmp_path):
    document = base_document(redmine)
    document["store"] = {"url": f"sqlite:///{tmp_path / 'bridge.sqlite3'}"}
    document["policy"]["targets"] = [{"when": {}, "first_response": "8h", "resolution": "5d"}]
    config = write_config(tmp_path / "bridge.yaml", document)
    support = next(t["id"] for t in gateway.trackers() if t["name"] == "Support")
    issue = gateway.create_issue(project_id=project["id"], tracker_id=support,
                                 subject="VPN is down", description="Help please")
    result = CliRunner().invoke(cli, ["sync", "--once", "--config", str(config)],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert f"#{issue['id']}: accepted" in result.output
    after = gateway.issue(issue["id"])
    fields = {f["name"]: f.get("value") for f in after["custom_fields"]}
    assert fields["SLA tier"] == "standard"
    assert fields["SLA state"] == "on track"
    assert fields["First response due"]
    assert after["due_date"]
    assert "registered as #%d" % issue["id"] in after["journals"][-1]["notes"]
