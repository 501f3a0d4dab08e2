"""SMTP login and TLS against a real server, and the password kept out of every log."""

from __future__ import annotations

import base64
import logging

import pytest
from notify_testing import SENDER, SMTP_LOGIN, SMTP_PASSWORD, T0, plain_transport

from redmine_sla_bridge.adapters.notify import Notifier, SmtpTransport
from redmine_sla_bridge.config.notify import NotifyConfig, SmtpConfig

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

CUSTOMER = "client@customer.ru"


def _queue_one(notifier: Notifier, key: str = "ack:issue:1") -> None:
    notifier.queue(key, CUSTOMER, "Обращение принято", "Спасибо, мы начали работу.", T0,
                   issue_id=1)


def test_login_to_a_server_that_requires_it(start_server, make_notifier):
    server = start_server(with_auth=True)
    notifier = make_notifier(server, username=SMTP_LOGIN, password=SMTP_PASSWORD)
    _queue_one(notifier)
    assert notifier.deliver_due(T0).sent == ["ack:issue:1"]
    assert [login for _, login in server.logins] == [SMTP_LOGIN]
    assert len(server.received) == 1


def test_without_login_a_server_requiring_it_refuses_and_the_notice_waits(start_server,
                                                                         make_notifier, store):
    server = start_server(with_auth=True)
    notifier = make_notifier(server)
    _queue_one(notifier)
    reason = notifier.deliver_due(T0).retrying["ack:issue:1"]
    assert reason.startswith("sender refused: 530")
    assert store.notice_state("ack:issue:1") == "pending"


def test_the_password_never_reaches_logs_reports_or_reprs(start_server, make_notifier, store,
                                                         caplog):
    server = start_server(with_auth=True)
    caplog.set_level(logging.DEBUG)  # every logger, the SMTP server's included
    wrong = "wr0ng-" + SMTP_PASSWORD
    failing = make_notifier(server, username=SMTP_LOGIN, password=wrong, max_attempts=2)
    _queue_one(failing)
    first = failing.deliver_due(T0)
    last = failing.deliver_due(T0.replace(minute=1))
    working = make_notifier(server, username=SMTP_LOGIN, password=SMTP_PASSWORD)
    _queue_one(working, "ack:issue:2")
    sent = working.deliver_due(T0.replace(minute=2))

    assert "ack:issue:1" in first.retrying and "ack:issue:1" in last.given_up
    assert sent.sent == ["ack:issue:2"]
    config = SmtpConfig(host="smtp.example.ru", username=SMTP_LOGIN, password=SMTP_PASSWORD)
    visible = [caplog.text, repr(first), repr(last), repr(failing._transport),
               repr(config), str(config), config.model_dump_json(),
               repr(SmtpTransport.from_config(config))]
    for secret in (SMTP_PASSWORD, wrong):
        assert not any(secret in text for text in visible)
    # Nor in the AUTH PLAIN form (base64), in what the bridge itself logs.
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name != "mail.log")
    for secret in (SMTP_PASSWORD, wrong):
        blob = base64.b64encode(f"\0{SMTP_LOGIN}\0{secret}".encode()).decode()
        assert blob not in ours and secret not in ours
    assert "login to 127.0.0.1" in caplog.text  # the failure itself is logged


def test_a_non_ascii_password_fails_clearly_without_quoting_it(start_server, make_notifier,
                                                              caplog):
    server = start_server(with_auth=True)
    notifier = make_notifier(server, username=SMTP_LOGIN, password="пароль-Ж")
    _queue_one(notifier)
    with caplog.at_level(logging.DEBUG):
        reason = notifier.deliver_due(T0).retrying["ack:issue:1"]
    assert "non-ASCII username or password" in reason
    assert "Ж" not in caplog.text and "пароль" not in caplog.text


def test_starttls_with_an_internal_ca_from_the_config(start_server, store, certificate):
    # The server refuses mail and AUTH before STARTTLS, so delivery proves TLS was used.
    server = start_server(with_auth=True, tls_context=certificate.server_context(),
                          require_starttls=True, auth_require_tls=True)
    config = NotifyConfig.model_validate({
        "enabled": True, "from_address": SENDER.address,
        "smtp": {"host": server.host, "port": server.port, "security": "starttls",
                 "username": SMTP_LOGIN, "password": SMTP_PASSWORD,
                 "ca_file": str(certificate.cert), "timeout_seconds": 5},
    })
    notifier = Notifier.from_config(config, store)
    _queue_one(notifier)
    assert notifier.deliver_due(T0).sent == ["ack:issue:1"]
    assert len(server.received) == 1


def test_implicit_tls(start_server, store, certificate):
    server = start_server(ssl_context=certificate.server_context())
    transport = plain_transport(server, security="tls",
                                ssl_context=certificate.client_context())
    notifier = Notifier(store, transport, SENDER)
    _queue_one(notifier)
    assert notifier.deliver_due(T0).sent == ["ack:issue:1"]
    assert len(server.received) == 1


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_an_untrusted_certificate_is_refused(start_server, make_notifier, certificate, security):
    if security == "tls":
        server = start_server(ssl_context=certificate.server_context())
    else:
        server = start_server(tls_context=certificate.server_context())
    notifier = make_notifier(server, security=security)  # system CAs only
    _queue_one(notifier)
    reason = notifier.deliver_due(T0).retrying["ack:issue:1"]
    assert reason.startswith("TLS with 127.0.0.1") and "certificate" in reason
    assert server.received == []


def test_starttls_never_falls_back_to_plain_text(smtp_server, make_notifier):
    notifier = make_notifier(smtp_server, security="starttls")  # the server offers no TLS
    _queue_one(notifier)
    reason = notifier.deliver_due(T0).retrying["ack:issue:1"]
    assert "STARTTLS" in reason
    assert smtp_server.received == []
