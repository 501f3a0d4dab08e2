"""BA-7 / BA-10 on the real Redmine: the engineer records why the term cannot be met and
the new term; the customer is told both once, and the SLA shows the agreed extension
(breached only when that term is missed), rebuilt from the issue's journals."""

from __future__ import annotations

import pytest

from redmine_sla_bridge.service.process_issue import process_issue
from redmine_sla_bridge.service.sweep import sweep
from tests.conftest import unique
from tests.integration.turns_testing import (
    REASONS,
    at,
    document_for,
    fields_of,
    file_request,
    move_history,
    turns_fields,  # noqa: F401  (the fixture, used by name)
)

pytestmark = [pytest.mark.redmine, pytest.mark.usefixtures("turns_fields")]


def test_an_agreed_extension_is_told_once_and_replaces_the_term(
        make_runtime, redmine, gateway, project, support_tracker, local_redmine, people):
    rt = make_runtime(document_for(redmine, project, extension={"reasons": REASONS}))
    issue = file_request(rt, gateway, project, support_tracker, f"{unique('e')}@customer.example")
    move_history(local_redmine, gateway, issue["id"], at(3, 10), [])
    assert process_issue(rt, issue["id"], now=at(3, 10, 1)).action == "accepted"
    # 2 working days end at a close (18:00).
    assert fields_of(gateway, issue["id"])["Resolution due"] == "2026-03-05 18:00"

    fields = rt.redmine.catalog.project_fields(project["identifier"])[1]
    engineer = people["engineer"].gateway
    engineer.update_issue(issue["id"], notes="Looking into it.")  # answered in time
    engineer.update_issue(issue["id"], custom_fields=fields.payload(
        {"extension_reason": "Needs a product update", "extended_due": "2026-03-20 18:00"}))
    move_history(local_redmine, gateway, issue["id"], at(3, 10),
                 [at(3, 10, 1), at(3, 11), at(4, 12)])
    assert process_issue(rt, issue["id"], now=at(4, 12, 1)).action == "updated"
    after = fields_of(gateway, issue["id"])
    assert after["SLA state"] == "extended"
    assert after["Resolution due"] == "2026-03-20 18:00"
    notice = gateway.issue(issue["id"])["journals"][-1]
    assert not notice["private_notes"]
    assert "Needs a product update" in notice["notes"] and "20.03.2026 18:00" in notice["notes"]

    # Past the regulation's term (5 March) nothing is breached: the agreed one holds.
    assert sweep(rt, now=at(11, 12)).changed == {}
    assert process_issue(rt, issue["id"], now=at(11, 12)).action == "unchanged"
    notes = [j for j in gateway.issue(issue["id"])["journals"]
             if j.get("notes") and "20.03.2026" in j["notes"]]
    assert len(notes) == 1
    # Missing the agreed term is a breach.
    assert sweep(rt, now=at(23, 9)).changed == {issue["id"]: "breached"}
