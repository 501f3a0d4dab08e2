"""Reading messages (no servers): machines' mail, quoted history, keys."""

from __future__ import annotations

import pytest

from redmine_sla_bridge.adapters.mail.message import UnreadableMessage, parse_message, strip_quoted
from redmine_sla_bridge.service.mail_intake import mail_key
from tests.mail import samples


def test_outlook_cp1251_quoted_printable_is_decoded():
    mail = parse_message(samples.outlook_cp1251("ivan@example.ru", "<a@example.ru>"))
    assert mail.subject == "Не работает VPN" and mail.sender_name == "Иван Петров"
    assert "Не работает VPN после обновления." in mail.text
    assert mail.automatic is None and mail.message_id_domain == "example.ru"


@pytest.mark.parametrize("raw", [
    samples.auto_reply("a@example.ru", "<x@example.ru>"),
    samples.bounce("<y@example.ru>"),
    b"From: a@example.ru\r\nPrecedence: bulk\r\nSubject: s\r\n\r\nx",
    b"From: a@example.ru\r\nList-Id: <l.example.ru>\r\nSubject: s\r\n\r\nx",
    b"From: a@example.ru\r\nReturn-Path: <>\r\nSubject: s\r\n\r\nx",
])
def test_machines_mail_is_recognized(raw):
    assert parse_message(raw).automatic is not None


def test_auto_submitted_no_is_a_person():
    assert parse_message(b"From: a@example.ru\r\nAuto-Submitted: no\r\n\r\nx").automatic is None


def test_reply_text_loses_quote_and_signature():
    raw = samples.reply("a@example.ru", "<r@example.ru>", "<q@bridge.test>", "№12")
    mail = parse_message(raw)
    assert mail.reply_text == "Спасибо, после перезагрузки заработало."
    assert mail.references == ("<q@bridge.test>",)
    assert strip_quoted("Да\n\n-----Original Message-----\nFrom: x", strip_signature=True) == "Да"


def test_unreadable_and_keys():
    with pytest.raises(UnreadableMessage):
        parse_message(b"   ")
    assert mail_key("<abc@example.ru>") == "mail:abc@example.ru"
    assert mail_key("<" + "x" * 200 + "@e>").startswith("mail:h:")
    assert len(mail_key("<" + "x" * 200 + "@e>")) <= 128
