"""A running bridge keeps the field ids it resolved for each set of Redmine fields; a
field renamed in Redmine meanwhile makes a new set, so the bridge notices at once."""

from __future__ import annotations

import pytest

from redmine_sla_bridge.domain.ports import NotManageable
from redmine_sla_bridge.service.process_issue import process_issue
from tests.conftest import write_config
from tests.integration.test_provision_permissions import run_cli, sandbox  # noqa: F401

pytestmark = pytest.mark.redmine


def test_a_field_renamed_in_redmine_under_a_running_bridge_is_noticed(
        redmine, gateway, project, support_tracker, sandbox, make_runtime, tmp_path):  # noqa: F811
    document = sandbox.document(project, queries=False)
    config = write_config(tmp_path / "bridge.yaml", document)
    first = run_cli("provision", "--config", str(config))
    assert first.exit_code == 0, first.output
    rt = make_runtime(document, english_fields=False)
    tier_id = sandbox.fields()["tier"]["id"]

    def filed() -> int:
        return gateway.create_issue(project_id=project["id"], tracker_id=support_tracker,
                                    subject="VPN is down", description="It broke.")["id"]

    assert process_issue(rt, filed()).action == "accepted"
    assert process_issue(rt, filed()).action == "accepted"  # the same fields: resolved once

    # An admin renames the tier field (here through provision with another config);
    # the running bridge, still configured with the old name, must not write by stale ids.
    renamed = sandbox.document(project, names=sandbox.names(tier=f"{sandbox.prefix} level"),
                               queries=False)
    write_config(config, renamed)
    result = run_cli("provision", "--config", str(config))
    assert result.exit_code == 0, result.output
    with pytest.raises(NotManageable, match="custom fields missing in Redmine"):
        process_issue(rt, filed())

    # A bridge with the new name takes the next issue, on the same field ids.
    rt_new = make_runtime(renamed, english_fields=False, name="renamed")
    issue_id = filed()
    assert process_issue(rt_new, issue_id).action == "accepted"
    tier = next(f for f in gateway.issue(issue_id, journals=False)["custom_fields"]
                if f["id"] == tier_id)
    assert tier["value"] == "standard"
