"""Issue 17, point 4: Redmine's mail handler files an unknown sender's email as
Anonymous and keeps no address. The plan then tells staff (a private note) and the
executor logs and counts the unsent notice, instead of pretending to notify."""

from __future__ import annotations

import dataclasses
import logging

from redmine_sla_bridge.domain.intake.request import Contact
from redmine_sla_bridge.domain.processing import plan
from redmine_sla_bridge.domain.processing.update import IssueUpdate
from redmine_sla_bridge.service.execute import execute
from redmine_sla_bridge.telemetry import metrics
from tests.unit.processing.builders import Journal, at, document, request, rules_of, snapshot

PHONE_ONLY = Contact("Ivan Petrov", None, "+7 495 123-45-67", None)


def test_an_anonymous_emailed_request_without_an_address_is_flagged_for_staff(tmp_path):
    rules = rules_of(tmp_path, document())
    snap = snapshot(Journal(at(2, 10)), channel="email",
                    req=request(at(2, 10), contact=PHONE_ONLY))
    update = plan(snap, rules, at(2, 10, 1))
    assert update.action == "accepted"
    assert update.mails == ()
    assert update.unsent == ("ack",)
    public, staff = update.notes
    assert not public.private and staff.private
    assert "Anonymous" in staff.text and "unknown_user=create" in staff.text


def test_a_refusal_nobody_can_be_told_about_is_flagged_too(tmp_path):
    rules = rules_of(tmp_path, document(intake={"required": ["organization.inn"]}))
    snap = snapshot(Journal(at(2, 10)), channel="email",
                    req=request(at(2, 10), contact=PHONE_ONLY))
    update = plan(snap, rules, at(2, 10, 1))
    assert (update.action, update.mails, update.unsent) == ("rejected", (), ("rejection",))
    assert update.notes[-1].private


def test_with_an_address_or_another_channel_nothing_is_flagged(tmp_path):
    rules = rules_of(tmp_path, document())
    by_mail = plan(snapshot(Journal(at(2, 10)), channel="email"), rules, at(2, 10, 1))
    assert by_mail.unsent == () and len(by_mail.mails) == 1
    assert [n.private for n in by_mail.notes] == [False]
    # A Redmine user is told by Redmine itself; an API caller got the answer.
    for channel in ("redmine", "api"):
        snap = snapshot(Journal(at(2, 10)), channel=channel,
                        req=request(at(2, 10), contact=PHONE_ONLY))
        assert plan(snap, rules, at(2, 10, 1)).unsent == ()


def test_the_executor_logs_and_counts_the_unsent_notice(caplog):
    class Redmine:
        def __init__(self) -> None:
            self.applied: list[IssueUpdate] = []

        def apply(self, update):
            self.applied.append(update)

    class FakeBridge:
        notifier = None
        redmine = Redmine()
        store = None

    before = metrics.NOTICES_UNSENT.labels("ack")._value.get()
    update = dataclasses.replace(IssueUpdate(7, "accepted"), unsent=("ack",))
    with caplog.at_level(logging.WARNING):
        execute(FakeBridge(), update, at(2, 10))  # type: ignore[arg-type]
    assert metrics.NOTICES_UNSENT.labels("ack")._value.get() == before + 1
    (record,) = [r for r in caplog.records if getattr(r, "event", None) == "notice_unsent"]
    assert (record.issue_id, record.notice) == (7, "ack")
    assert FakeBridge.redmine.applied == [update]
