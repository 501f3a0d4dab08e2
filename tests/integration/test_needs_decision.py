"""ID-1 / AR-7 on the real Redmine: a request the head of support decides is assigned to
him with a private note, never refused automatically; his decision in the issue's list
field is applied with exactly one notice to the customer."""

from __future__ import annotations

import pytest

from redmine_sla_bridge.service.process_issue import process_issue
from tests.conftest import unique
from tests.integration.turns_testing import (
    document_for,
    fields_of,
    file_request,
    turns_fields,  # noqa: F401  (the fixture, used by name)
    with_mail,
)

pytestmark = [pytest.mark.redmine, pytest.mark.usefixtures("turns_fields")]


def _runtime(make_runtime, redmine, project, people, smtp):
    lead = f"Lead {people['lead'].login}"
    document = document_for(redmine, project, needs_decision={
        "assign_to": lead, "deciders": [lead], "tiers": ["standard"]})
    return with_mail(make_runtime, document, smtp)


def _decide(rt, person, issue_id, value):
    fields = rt.redmine.catalog.project_fields(rt.redmine.catalog.scope.projects[0])[1]
    person.gateway.update_issue(issue_id, custom_fields=fields.payload({"lead_decision": value}))


def _public_bridge_notes(gateway, issue_id):
    return [j for j in gateway.issue(issue_id)["journals"]
            if j.get("notes") and not j["private_notes"]]


def _waiting(rt, gateway, project, support_tracker, people, smtp):
    issue = file_request(rt, gateway, project, support_tracker, f"{unique('d')}@customer.example")
    outcome = process_issue(rt, issue["id"])
    assert outcome.action == "needs decision", outcome.detail
    after = gateway.issue(issue["id"])
    assert after["status"]["name"] != "Rejected"
    assert after["assigned_to"]["id"] == people["lead"].id
    fields = fields_of(gateway, issue["id"])
    assert fields["SLA state"] == "needs decision" and fields["Lead decision"] == "needed"
    assert fields["First response due"] in (None, "")
    (note,) = [j for j in after["journals"] if j.get("notes")]
    assert note["private_notes"] is True and "head of support" in note["notes"]
    rt.notifier.deliver_due(rt.clock())
    assert smtp.received == []  # the customer hears of the decision, once
    return issue


def test_the_leads_serve_is_applied_with_one_acknowledgement(
        make_runtime, redmine, gateway, project, support_tracker, people, smtp):
    rt = _runtime(make_runtime, redmine, project, people, smtp)
    issue = _waiting(rt, gateway, project, support_tracker, people, smtp)

    # An engineer's decision is not the lead's: put back, nobody told.
    _decide(rt, people["engineer"], issue["id"], "serve")
    process_issue(rt, issue["id"])
    assert fields_of(gateway, issue["id"])["Lead decision"] == "needed"
    assert _public_bridge_notes(gateway, issue["id"]) == []

    _decide(rt, people["lead"], issue["id"], "serve")
    assert process_issue(rt, issue["id"]).action == "accepted"
    assert process_issue(rt, issue["id"]).action == "unchanged"
    for _ in range(2):
        rt.notifier.deliver_due(rt.clock())
    fields = fields_of(gateway, issue["id"])
    assert fields["SLA state"] == "on track" and fields["First response due"]
    (ack,) = _public_bridge_notes(gateway, issue["id"])
    assert f"#{issue['id']}" in ack["notes"]
    assert len(smtp.received) == 1
    assert f"#{issue['id']}" in smtp.received[0].message["Subject"]


def test_the_leads_refusal_is_one_notice_and_the_rejected_status(
        make_runtime, redmine, gateway, project, support_tracker, people, smtp):
    rt = _runtime(make_runtime, redmine, project, people, smtp)
    issue = _waiting(rt, gateway, project, support_tracker, people, smtp)
    _decide(rt, people["lead"], issue["id"], "refuse")
    assert process_issue(rt, issue["id"]).action == "rejected"
    process_issue(rt, issue["id"])
    for _ in range(2):
        rt.notifier.deliver_due(rt.clock())
    assert gateway.issue(issue["id"])["status"]["name"] == "Rejected"
    (refusal,) = _public_bridge_notes(gateway, issue["id"])
    assert "head of support" in refusal["notes"]
    assert len(smtp.received) == 1
