"""Notices about an update wait on hold until the update is applied: through a real
SMTP server and a real store, with "now" injected."""

from __future__ import annotations

from datetime import timedelta

from notify_testing import T0, later

CUSTOMER = "ivan.petrov@customer.ru"
HOLD = timedelta(hours=6)


def test_a_held_notice_is_sent_only_after_release(smtp_server, make_notifier, store):
    notifier = make_notifier(smtp_server)
    assert notifier.queue("ack:7:0", CUSTOMER, "Registered", "Body", T0, issue_id=7, hold=HOLD)
    assert notifier.deliver_due(later(minutes=30)).sent == []
    assert len(smtp_server.received) == 0
    assert notifier.release("ack:7:0", later(minutes=31))
    assert notifier.deliver_due(later(minutes=31)).sent == ["ack:7:0"]
    assert len(smtp_server.received) == 1
    assert not notifier.release("ack:7:0", later(minutes=32))  # sent: nothing to release


def test_a_cancelled_notice_is_never_sent_not_even_after_its_hold(smtp_server, make_notifier, store):
    notifier = make_notifier(smtp_server)
    notifier.queue("ack:8:0", CUSTOMER, "Registered", "Body", T0, issue_id=8, hold=HOLD)
    assert notifier.cancel("ack:8:0", "Redmine refused the update (422)")
    assert notifier.deliver_due(T0 + HOLD + timedelta(minutes=1)).sent == []
    assert store.notice_state("ack:8:0") == "failed"
    assert len(smtp_server.received) == 0


def test_a_notice_whose_releaser_died_goes_out_when_the_hold_ends(smtp_server, make_notifier):
    notifier = make_notifier(smtp_server)
    notifier.queue("ack:9:0", CUSTOMER, "Registered", "Body", T0, issue_id=9, hold=HOLD)
    assert notifier.deliver_due(T0 + HOLD - timedelta(seconds=1)).sent == []
    assert notifier.deliver_due(T0 + HOLD).sent == ["ack:9:0"]
