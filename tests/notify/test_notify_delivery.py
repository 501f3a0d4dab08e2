"""Delivery through a real SMTP server: once per notice, retries with backoff, the 5xx
policy, and at-least-once across a crash. "now" is always injected; nothing sleeps."""

from __future__ import annotations

import logging
from datetime import timedelta
from email.utils import format_datetime

import pytest
from notify_testing import SENDER, T0, later

from redmine_sla_bridge.adapters.notify import (
    NullNotifier,
    build_notifier,
    issue_thread_id,
)
from redmine_sla_bridge.adapters.store import backoff
from redmine_sla_bridge.config.notify import NotifyConfig

# The test server takes a password over plain text, as local test servers do.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

SUBJECT = "Обращение №123 зарегистрировано"
BODY = ("Здравствуйте, Иван Петрович!\n\n"
        "Ваше обращение принято в работу. Срок первого ответа — 4 рабочих часа.\n"
        "Ответьте на это письмо, чтобы дополнить обращение.\n")
CUSTOMER = "ivan.petrov@customer.ru"
TICK = timedelta(microseconds=1)


def test_each_notice_is_emailed_once_with_its_russian_text(smtp_server, make_notifier, store):
    notifier = make_notifier(smtp_server)
    assert notifier.queue("ack:issue:123", CUSTOMER, SUBJECT, BODY, T0, issue_id=123)
    # The service may see the same change again (webhook + poll, a retried event).
    assert not notifier.queue("ack:issue:123", CUSTOMER, SUBJECT, BODY, later(seconds=1),
                              issue_id=123)
    assert not notifier.queue("ack:issue:123", CUSTOMER, "другая тема", BODY, later(minutes=1),
                              issue_id=123)

    first = notifier.deliver_due(T0)
    for minutes in (1, 60, 60 * 24 * 30):
        assert notifier.deliver_due(later(minutes=minutes)).total == 0

    assert first.sent == ["ack:issue:123"]
    assert store.notice_state("ack:issue:123") == "sent"
    (received,) = smtp_server.received
    assert received.mail_from == "support@example.ru"
    assert received.rcpt_tos == [CUSTOMER]
    message = received.message
    assert message["Subject"] == SUBJECT
    # Text is sent in canonical form (CRLF line ends, RFC 2046), then base64-encoded.
    assert message.get_content().replace("\r\n", "\n") == BODY
    assert received.decoded_header("From") == "Техподдержка ООО «Пример» <support@example.ru>"
    assert message["To"] == CUSTOMER
    assert message["Reply-To"] == "support-in@example.ru"
    assert message["Date"].datetime == T0  # from the injected now, not the clock
    assert message["Message-ID"].startswith("<redmine.issue-123.20250303090000.")
    assert message["In-Reply-To"] == message["References"] == issue_thread_id(123, "example.ru")
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_charset() == "utf-8"
    # On the wire every header is 7-bit: Russian text travels as RFC 2047 words.
    head = received.raw.split(b"\r\n\r\n", 1)[0]
    assert head.isascii() and b"=?utf-8?" in head


def test_notices_of_one_issue_share_the_thread_but_not_the_message_id(smtp_server,
                                                                      make_notifier):
    notifier = make_notifier(smtp_server)
    notifier.queue("ack:issue:7", CUSTOMER, "Принято", "Текст", T0, issue_id=7)
    notifier.queue("at-risk:issue:7", CUSTOMER, "Срок под угрозой", "Текст", later(hours=3),
                   issue_id=7)
    notifier.queue("survey:42", CUSTOMER, "Опрос", "Текст", later(hours=3))
    notifier.deliver_due(later(hours=3))

    messages = {m.message["Subject"]: m.message for m in smtp_server.received}
    ack, at_risk, survey = messages["Принято"], messages["Срок под угрозой"], messages["Опрос"]
    assert ack["References"] == at_risk["References"] == "<redmine.issue-7.0@example.ru>"
    assert ack["Message-ID"] != at_risk["Message-ID"]
    assert survey["References"] is None and survey["In-Reply-To"] is None
    assert survey["Message-ID"].startswith("<sla-bridge.")


def test_queue_only_records_so_a_dead_server_never_blocks_the_caller(
        smtp_server, make_notifier, store):
    smtp_server.stop()
    notifier = make_notifier(smtp_server)
    assert notifier.queue("reject:issue:5", CUSTOMER, SUBJECT, BODY, T0, issue_id=5)
    assert store.notice_state("reject:issue:5") == "pending"


def test_server_down_is_retried_with_backoff_then_delivered_once(smtp_server, make_notifier,
                                                                 store):
    smtp_server.stop()
    notifier = make_notifier(smtp_server)
    notifier.queue("ack:issue:1", CUSTOMER, SUBJECT, BODY, T0, issue_id=1)

    report = notifier.deliver_due(T0)
    assert "cannot use 127.0.0.1" in report.retrying["ack:issue:1"]
    assert store.notice_state("ack:issue:1") == "pending"
    # Backoff after the first failure is 5 s; after the second, 10 s more.
    assert notifier.deliver_due(T0 + backoff(0) - TICK).total == 0
    assert "ack:issue:1" in notifier.deliver_due(T0 + backoff(0)).retrying
    retry_at = T0 + backoff(0) + backoff(1)
    assert notifier.deliver_due(retry_at - TICK).total == 0

    smtp_server.start()  # the server is back, on the same port
    assert notifier.deliver_due(retry_at).sent == ["ack:issue:1"]
    assert notifier.deliver_due(later(days=1)).total == 0
    assert len(smtp_server.received) == 1
    assert store.notice_state("ack:issue:1") == "sent"


def test_temporary_refusal_451_is_retried_until_the_server_accepts(smtp_server, make_notifier):
    smtp_server.handler.data_reply = "451 4.3.0 Mail server temporarily rejected message"
    notifier = make_notifier(smtp_server)
    notifier.queue("ack:issue:2", CUSTOMER, SUBJECT, BODY, T0, issue_id=2)

    report = notifier.deliver_due(T0)
    assert report.retrying == {"ack:issue:2": "message refused: 451 4.3.0 Mail server "
                                              "temporarily rejected message"}
    smtp_server.handler.data_reply = None
    assert notifier.deliver_due(later(seconds=4)).total == 0
    assert notifier.deliver_due(later(seconds=5)).sent == ["ack:issue:2"]
    assert len(smtp_server.received) == 1


def test_unknown_mailbox_550_5_1_1_is_given_up_at_once_and_the_batch_goes_on(
        smtp_server, make_notifier, store, caplog):
    gone = "left.the.company@customer.ru"
    smtp_server.handler.rcpt_replies[gone] = (
        f"550 5.1.1 <{gone}>: Recipient address rejected: User unknown")
    notifier = make_notifier(smtp_server)
    notifier.queue("ack:issue:3", gone, SUBJECT, BODY, T0, issue_id=3)
    notifier.queue("ack:issue:4", CUSTOMER, SUBJECT, BODY, T0, issue_id=4)

    with caplog.at_level(logging.ERROR):
        report = notifier.deliver_due(T0)
    assert report.given_up["ack:issue:3"].startswith("recipient refused: 550 5.1.1")
    assert report.sent == ["ack:issue:4"]  # the connection stayed usable
    assert store.notice_state("ack:issue:3") == "failed"
    assert "notice ack:issue:3 given up: recipient refused: 550 5.1.1" in caplog.text
    assert notifier.deliver_due(later(days=1)).total == 0
    assert [r.rcpt_tos for r in smtp_server.received] == [[CUSTOMER]]


@pytest.mark.parametrize("stage, reply", [
    ("rcpt", "554 5.7.1 <x@customer.ru>: Relay access denied"),  # our relay's config
    ("rcpt", "550 Requested action not taken"),  # no enhanced code: cannot blame the address
    ("data", "554 5.6.0 Message content rejected"),
])
def test_other_permanent_5xx_are_retried_up_to_max_attempts(smtp_server, make_notifier, store,
                                                           stage, reply, caplog):
    if stage == "rcpt":
        smtp_server.handler.rcpt_replies["*"] = reply
    else:
        smtp_server.handler.data_reply = reply
    notifier = make_notifier(smtp_server, max_attempts=3)
    notifier.queue("ack:issue:8", CUSTOMER, SUBJECT, BODY, T0, issue_id=8)

    assert "ack:issue:8" in notifier.deliver_due(T0).retrying
    assert "ack:issue:8" in notifier.deliver_due(later(seconds=5)).retrying
    with caplog.at_level(logging.ERROR):
        last = notifier.deliver_due(later(seconds=15))
    assert last.given_up["ack:issue:8"].endswith("(after 3 attempts)")
    assert reply.split(" ", 1)[0] in last.given_up["ack:issue:8"]
    assert store.notice_state("ack:issue:8") == "failed"
    assert "notice ack:issue:8 given up" in caplog.text
    assert notifier.deliver_due(later(days=1)).total == 0
    assert smtp_server.received == []


def test_invalid_address_is_given_up_when_queued_and_never_tried(smtp_server, make_notifier,
                                                                 store, caplog):
    notifier = make_notifier(smtp_server)
    with caplog.at_level(logging.ERROR):
        assert notifier.queue("ack:issue:9", "Иван Петров <ivan@", SUBJECT, BODY, T0,
                              issue_id=9)
    assert store.notice_state("ack:issue:9") == "failed"
    assert "notice ack:issue:9 given up: invalid recipient address" in caplog.text
    assert not notifier.queue("ack:issue:9", "Иван Петров <ivan@", SUBJECT, BODY, T0)
    assert notifier.deliver_due(later(days=1)).total == 0
    assert smtp_server.received == []


def test_a_dead_server_stops_the_batch_after_one_connection_attempt(start_server,
                                                                    make_notifier, store):
    server = start_server(with_auth=True)
    notifier = make_notifier(server, username="bridge", password="wrong")
    for n in range(3):
        notifier.queue(f"ack:issue:{n}", CUSTOMER, SUBJECT, BODY, T0, issue_id=n)

    report = notifier.deliver_due(T0)
    assert server.login_connections == 1  # not one failed login per notice
    assert sorted(report.retrying) == ["ack:issue:0", "ack:issue:1", "ack:issue:2"]
    assert sum(r.startswith("not tried: login to") for r in report.retrying.values()) == 2


def test_crash_after_sending_before_marking_sent_resends_the_same_message(
        smtp_server, make_notifier, store):
    """At-least-once: the SMTP server accepted the message, then the store write
    failed (the process died). The notice comes back after the run's lease and is sent
    again, as the identical message (same Message-ID and Date), so clients show one."""

    class StoreDiesBeforeMarkingSent:
        def __init__(self, real):
            self._real = real

        def __getattr__(self, name):
            return getattr(self._real, name)

        def mark_notice_sent(self, key, now):
            raise ConnectionError("store went away")

    crashing = make_notifier(smtp_server, notice_store=StoreDiesBeforeMarkingSent(store))
    crashing.queue("autoclose-warning:issue:11", CUSTOMER, SUBJECT, BODY, T0, issue_id=11)
    with pytest.raises(ConnectionError):
        crashing.deliver_due(T0)
    assert len(smtp_server.received) == 1
    assert store.notice_state("autoclose-warning:issue:11") == "pending"

    restarted = make_notifier(smtp_server)
    lease = restarted.lease_for(20)
    assert restarted.deliver_due(T0 + lease - TICK).total == 0  # still leased
    assert restarted.deliver_due(T0 + lease).sent == ["autoclose-warning:issue:11"]
    assert restarted.deliver_due(later(days=1)).total == 0

    first, again = (r.message for r in smtp_server.received)
    assert first["Message-ID"] == again["Message-ID"]
    assert first["Date"] == again["Date"] == format_datetime(T0)
    assert store.notice_state("autoclose-warning:issue:11") == "sent"


def test_disabled_notify_section_gives_a_null_notifier_that_records_nothing(store):
    notifier = build_notifier(NotifyConfig(), store)
    assert isinstance(notifier, NullNotifier) and not notifier.enabled
    assert not notifier.queue("ack:issue:1", CUSTOMER, SUBJECT, BODY, T0, issue_id=1)
    assert notifier.deliver_due(later(days=1)).total == 0
    assert store.notice_state("ack:issue:1") is None
    assert build_notifier(None, store).enabled is False


def test_enabled_notify_section_builds_a_working_notifier(smtp_server, store):
    config = NotifyConfig.model_validate({
        "enabled": True,
        "smtp": {"host": smtp_server.host, "port": smtp_server.port, "security": "none"},
        "from_address": SENDER.address, "from_name": "Поддержка", "max_attempts": 5,
    })
    notifier = build_notifier(config, store)
    assert notifier.enabled and notifier.max_attempts == 5
    notifier.queue("ack:issue:1", CUSTOMER, SUBJECT, BODY, T0, issue_id=1)
    assert notifier.deliver_due(T0).sent == ["ack:issue:1"]
    assert smtp_server.received[0].message["Reply-To"] is None


CYRILLIC_CUSTOMER = "иван.петров@почта.рф"


def test_a_cyrillic_mailbox_is_reached_over_smtputf8(start_server, make_notifier, store):
    server = start_server(enable_SMTPUTF8=True)
    notifier = make_notifier(server)
    notifier.queue("ack:issue:5", CYRILLIC_CUSTOMER, SUBJECT, BODY, T0, issue_id=5)

    assert notifier.deliver_due(T0).sent == ["ack:issue:5"]
    (received,) = server.received
    assert received.rcpt_tos == ["иван.петров@xn--80a1acny.xn--p1ai"]
    assert received.message["To"] == "иван.петров@xn--80a1acny.xn--p1ai"
    assert received.message["Subject"] == SUBJECT
    assert received.message.get_content().replace("\r\n", "\n") == BODY


def test_a_relay_without_smtputf8_gives_up_that_notice_only(start_server, make_notifier,
                                                             store):
    server = start_server(enable_SMTPUTF8=False)
    notifier = make_notifier(server)
    notifier.queue("ack:issue:5", CYRILLIC_CUSTOMER, SUBJECT, BODY, T0, issue_id=5)
    notifier.queue("ack:issue:6", CUSTOMER, SUBJECT, BODY, T0, issue_id=6)

    report = notifier.deliver_due(T0)

    # Retrying cannot help (the relay lacks the extension), and the other notice of the
    # batch still goes out over the same connection.
    assert report.sent == ["ack:issue:6"]
    assert store.notice_state("ack:issue:5") == "failed"
    assert "does not offer SMTPUTF8" in report.given_up["ack:issue:5"]
    assert [r.rcpt_tos for r in server.received] == [[CUSTOMER]]
