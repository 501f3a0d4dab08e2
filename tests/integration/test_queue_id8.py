"""ID-8 on the real Redmine: a contact's second open request waits its turn and starts
its clock when the first is closed (the closing issue's event wakes it)."""

from __future__ import annotations

import pytest

from redmine_sla_bridge.service.process_issue import process_issue
from tests.conftest import unique
from tests.integration.turns_testing import (
    at,
    document_for,
    fields_of,
    file_request,
    move_history,
    turns_fields,  # noqa: F401  (the fixture, used by name)
)

pytestmark = [pytest.mark.redmine, pytest.mark.usefixtures("turns_fields")]


def test_the_second_request_waits_and_starts_when_the_first_is_closed(
        make_runtime, redmine, gateway, project, support_tracker, local_redmine, people):
    rt = make_runtime(document_for(redmine, project, one_request_at_a_time=True))
    email = f"{unique('q')}@customer.example"
    first = file_request(rt, gateway, project, support_tracker, email, "First")
    second = file_request(rt, gateway, project, support_tracker, email, "Second")
    other = file_request(rt, gateway, project, support_tracker, f"{unique('o')}@customer.example")
    for issue in (first, second, other):
        move_history(local_redmine, gateway, issue["id"], at(3, 10), [])

    assert process_issue(rt, first["id"], now=at(3, 10, 1)).action == "accepted"
    assert process_issue(rt, other["id"], now=at(3, 10, 1)).action == "accepted"  # another contact
    outcome = process_issue(rt, second["id"], now=at(3, 10, 2))
    assert outcome.action == "queued", outcome.detail
    queued = fields_of(gateway, second["id"])
    assert queued["SLA state"] == "queued"
    assert queued["First response due"] in (None, "") and queued["Resolution due"] in (None, "")
    journals = gateway.issue(second["id"])["journals"]
    public = [j for j in journals if j.get("notes") and not j["private_notes"]]
    private = [j for j in journals if j.get("notes") and j["private_notes"]]
    assert len(public) == 1 and f"#{first['id']}" in public[0]["notes"]
    assert "one at a time" in public[0]["notes"]
    assert len(private) == 1 and "position 2" in private[0]["notes"]
    # Nothing happens to it while the first is worked.
    assert process_issue(rt, second["id"], now=at(4, 12)).action == "unchanged"

    closed = rt.redmine.catalog.facts.status_ids["Closed"]
    people["engineer"].gateway.update_issue(first["id"], notes="Fixed.", status_id=closed)
    move_history(local_redmine, gateway, first["id"], at(3, 10), [at(3, 10, 1), at(4, 14, 59)])
    process_issue(rt, first["id"], now=at(4, 15))  # Wednesday 15:00: wakes the second

    active = fields_of(gateway, second["id"])
    assert active["SLA state"] == "on track"
    # 8 working hours from Wednesday 15:00, not from Tuesday's filing: Thursday 14:00.
    assert active["First response due"] == "2026-03-05 14:00"
    ack = gateway.issue(second["id"])["journals"][-1]
    assert not ack["private_notes"] and "05.03.2026 14:00" in ack["notes"]

    # Rebuilt from Redmine: the clock's start is the bridge's journal that took the
    # request out of the queue, read again on every later pass.
    move_history(local_redmine, gateway, second["id"], at(3, 10),
                 [at(3, 10, 2), at(3, 10, 2), at(4, 15)])
    assert process_issue(rt, second["id"], now=at(5, 10)).action == "unchanged"
    assert fields_of(gateway, second["id"])["First response due"] == "2026-03-05 14:00"
