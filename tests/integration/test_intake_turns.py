"""The intake channels (the HTTP intake API, and the support mailbox, which files through
it) keep the turns an issue filed in Redmine keeps: a contact's second open request waits
in the ID-8 queue, and a tier the head of support decides (ID-1) is not acknowledged
before his decision. On the real Redmine, with the customer's mail read back from SMTP."""

from __future__ import annotations

import pytest

from redmine_sla_bridge.service.intake_api import submit_request
from tests.conftest import unique
from tests.integration.turns_testing import (
    at,
    document_for,
    fields_of,
    turns_fields,  # noqa: F401  (the fixture, used by name)
    with_mail,
)

pytestmark = [pytest.mark.redmine, pytest.mark.usefixtures("turns_fields")]


def _runtime(make_runtime, redmine, project, smtp, monkeypatch, **lifecycle):
    monkeypatch.setenv("TEST_INTAKE_TOKEN", "intake-token")
    document = document_for(redmine, project, **lifecycle)
    document["intake_api"] = {"token": "${TEST_INTAKE_TOKEN}", "project": project["identifier"]}
    return with_mail(make_runtime, document, smtp)


def _request(email: str, subject: str) -> dict:
    return {"subject": subject, "description": "VPN is down since the update",
            "contact": {"name": "Ivan Petrov", "email": email}}


def _public_notes(gateway, issue_id) -> list[str]:
    return [j["notes"] for j in gateway.issue(issue_id)["journals"]
            if j.get("notes") and not j["private_notes"]]


def _delivered_to(rt, smtp, email: str) -> list:
    rt.notifier.deliver_due(rt.clock())
    return [r.message for r in smtp.received if email in r.message["To"]]


def test_a_contacts_second_request_through_the_api_waits_its_turn(
        make_runtime, redmine, gateway, project, smtp, monkeypatch):
    rt = _runtime(make_runtime, redmine, project, smtp, monkeypatch, one_request_at_a_time=True)
    email = f"{unique('q')}@customer.example"

    first = submit_request(rt, _request(email, "First"), at(3, 10))
    assert first.status == 201 and first.body["outcome"] == "accepted", first.body
    assert first.body["deadlines"]["first_response"] is not None
    second = submit_request(rt, _request(email, "Second"), at(3, 10, 5))
    assert second.status == 201 and second.body["outcome"] == "queued", second.body
    # No term is promised while the request waits: none in the answer, none in Redmine.
    assert set(second.body["deadlines"].values()) == {None}
    queued = fields_of(gateway, second.body["issue_id"])
    assert queued["SLA state"] == "queued"
    assert queued["First response due"] in (None, "")
    notes = _public_notes(gateway, second.body["issue_id"])
    assert len(notes) == 1 and f"#{first.body['issue_id']}" in notes[0]
    subjects = [m["Subject"] for m in _delivered_to(rt, smtp, email)]
    assert any(f"#{second.body['issue_id']}" in s for s in subjects), subjects

    # The key stays on the issue, so a client's retry finds it instead of filing it again.
    again = submit_request(rt, _request(email, "Second"), at(3, 10, 7),
                           idempotency_key=second.body["idempotency_key"])
    assert again.status == 200 and again.body["duplicate"] is True
    assert again.body["issue_id"] == second.body["issue_id"]

    other = submit_request(rt, _request(f"{unique('o')}@customer.example", "Other"), at(3, 10, 6))
    assert other.body["outcome"] == "accepted"  # another contact has no queue


def test_a_tier_the_lead_decides_is_not_acknowledged_through_the_api(
        make_runtime, redmine, gateway, project, smtp, monkeypatch, people):
    lead = f"Lead {people['lead'].login}"
    rt = _runtime(make_runtime, redmine, project, smtp, monkeypatch,
                  needs_decision={"assign_to": lead, "deciders": [lead], "tiers": ["standard"]})
    email = f"{unique('d')}@customer.example"

    answer = submit_request(rt, _request(email, "Help"), at(3, 10))
    assert answer.status == 201 and answer.body["outcome"] == "needs decision", answer.body
    issue = gateway.issue(answer.body["issue_id"])
    assert issue["assigned_to"]["id"] == people["lead"].id
    assert fields_of(gateway, issue["id"])["SLA state"] == "needs decision"
    # The customer hears once, of the decision; nothing public and no mail before it.
    assert _public_notes(gateway, issue["id"]) == []
    assert _delivered_to(rt, smtp, email) == []
