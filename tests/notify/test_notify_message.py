"""The email itself: addresses, Message-IDs Redmine files replies by, the stored payload."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from notify_testing import SENDER, T0

from redmine_sla_bridge.adapters.notify import (
    InvalidAddress,
    NoticeContent,
    build_message,
    issue_thread_id,
    mask_address,
    normalize_address,
    notice_message_id,
)
from redmine_sla_bridge.adapters.notify.email import InvalidPayload

# Redmine's MailHandler pattern, older and current (with the optional hex suffix).
REDMINE_OLD = re.compile(r"^<redmine\.([a-z0-9_]+)\-(\d+)\.\d+@")
REDMINE_NEW = re.compile(r"^<?redmine\.([a-z0-9_]+)\-(\d+)\.\d+(\.[a-f0-9]+)?@")


@pytest.mark.parametrize("raw, expected", [
    ("Ivan.Petrov@Customer.RU", "Ivan.Petrov@customer.ru"),
    ("  ivan+sla@customer.ru ", "ivan+sla@customer.ru"),
    ("ivan@почта.рф", "ivan@xn--80a1acny.xn--p1ai"),
    # RFC 6531: the mailbox name stays as written; only SMTPUTF8 can carry it.
    ("иван.петров@почта.рф", "иван.петров@xn--80a1acny.xn--p1ai"),
    ("o'brien@mail.example.co.uk", "o'brien@mail.example.co.uk"),
])
def test_valid_addresses_are_normalized_for_smtp(raw, expected):
    assert normalize_address(raw) == expected


@pytest.mark.parametrize("raw, reason", [
    ("", "empty"),
    ("ivan.customer.ru", "exactly one @"),
    ("ivan@", "nothing before or after"),
    ("Иван Петров <ivan@customer.ru>", "not one bare email address"),
    ("anna@customer.ru, boris@customer.ru", "not one bare email address"),
    ("иван..петров@customer.ru", "not a valid mailbox name"),
    ("иван«»@customer.ru", "not a valid mailbox name"),
    ("ivan..petrov@customer.ru", "not a valid mailbox name"),
    ("ivan@localhost", "not a valid domain name"),
    ("ivan@-customer.ru", "not a valid domain name"),
    ("ivan@customer..ru", "not a valid domain name"),
    ("ivan@10.0.0.1", "not a valid domain name"),
])
def test_invalid_addresses_say_why_without_repeating_the_address(raw, reason):
    with pytest.raises(InvalidAddress, match=reason) as error:
        normalize_address(raw)
    if "@" in raw and raw.split("@")[0]:
        assert raw.split("@")[0] not in str(error.value)


def test_masked_address_for_logs():
    assert mask_address("ivan.petrov@customer.ru") == "i***@customer.ru"
    assert mask_address("garbage") == "***"


def test_message_ids_lead_redmine_to_the_issue():
    root = issue_thread_id(123, "example.ru")
    own = notice_message_id("ack:issue:123", T0, "example.ru", issue_id=123)
    for pattern in (REDMINE_OLD, REDMINE_NEW):
        assert pattern.match(root).groups()[:2] == ("issue", "123")
    assert REDMINE_NEW.match(own).groups()[:2] == ("issue", "123")
    # Stable per key (a resend is recognisably the same message), distinct across keys.
    assert own == notice_message_id("ack:issue:123", T0, "example.ru", issue_id=123)
    assert own != notice_message_id("at-risk:issue:123", T0, "example.ru", issue_id=123)
    assert not REDMINE_NEW.match(notice_message_id("survey:1", T0, "example.ru"))


def test_content_is_fixed_at_queue_time_and_survives_the_store():
    content = NoticeContent.render("ack:issue:5", " Обращение\n №5 принято \r\n", "Текст\r\nещё",
                                   T0, "example.ru", issue_id=5)
    assert content.subject == "Обращение №5 принято"  # a header cannot hold line breaks
    assert content.body == "Текст\nещё\n"
    assert "Обращение" in content.to_payload()  # readable in the store, not \u-escaped
    assert NoticeContent.from_payload(content.to_payload()) == content


@pytest.mark.parametrize("payload", [None, "", "not json", '{"v": 99}', '{"v": 1}', "[]"])
def test_unreadable_payloads_are_reported(payload):
    with pytest.raises(InvalidPayload):
        NoticeContent.from_payload(payload)


def test_rendering_refuses_what_cannot_be_sent():
    with pytest.raises(ValueError, match="subject"):
        NoticeContent.render("k", " \n ", "body", T0, "example.ru")
    with pytest.raises(ValueError, match="body"):
        NoticeContent.render("k", "subject", "  ", T0, "example.ru")
    with pytest.raises(ValueError, match="timezone-aware"):
        NoticeContent.render("k", "subject", "body", datetime(2025, 3, 3, 9), "example.ru")


def test_message_headers_without_reply_to_and_thread():
    content = NoticeContent.render("survey:1", "Оцените работу", "Текст", T0, SENDER.domain)
    sender = type(SENDER)(SENDER.address)  # no name, no Reply-To
    message = build_message(content, sender, "ivan@xn--80a1acny.xn--p1ai")
    assert message["From"] == "support@example.ru"
    assert message["To"] == "ivan@xn--80a1acny.xn--p1ai"
    assert message["Reply-To"] is None and message["In-Reply-To"] is None
    assert message["Content-Transfer-Encoding"] == "base64"
    assert message.as_bytes().isascii()


def test_a_cyrillic_domain_is_delivered_in_its_idna_form(smtp_server, make_notifier):
    notifier = make_notifier(smtp_server)
    notifier.queue("ack:issue:1", "ivan@почта.рф", "Принято", "Текст", T0, issue_id=1)
    assert notifier.deliver_due(T0).sent == ["ack:issue:1"]
    assert smtp_server.received[0].rcpt_tos == ["ivan@xn--80a1acny.xn--p1ai"]
