"""The `notify` config section: defaults, refusals an admin can act on, secrets hidden."""

from __future__ import annotations

import pytest
import yaml
from pydantic import ValidationError

from redmine_sla_bridge.config.notify import NotifyConfig, SmtpConfig

EXAMPLE = """
enabled: true
smtp:
  host: smtp.example.ru
  security: tls
  username: bridge
  password: from-the-environment
  timeout_seconds: 20
from_address: support@example.ru
from_name: "Техподдержка"
reply_to: support-in@example.ru
max_attempts: 10
"""


def _errors(data: dict) -> str:
    with pytest.raises(ValidationError) as error:
        NotifyConfig.model_validate(data)
    return str(error.value)


def test_example_section_and_defaults():
    config = NotifyConfig.model_validate(yaml.safe_load(EXAMPLE))
    assert config.smtp.effective_port == 465
    assert config.smtp.password.get_secret_value() == "from-the-environment"
    assert (config.max_attempts, config.batch_size) == (10, 20)
    assert NotifyConfig().enabled is False
    assert SmtpConfig(host="h.example.ru").effective_port == 587
    assert SmtpConfig(host="127.0.0.1", security="none").effective_port == 25
    assert SmtpConfig(host="h.example.ru", port=2525).effective_port == 2525


def test_enabled_needs_a_server_and_a_sender():
    assert "needs notify.smtp and notify.from_address" in _errors({"enabled": True})


def test_a_typo_is_an_error():
    assert "passwrd" in _errors({"smtp": {"host": "h.example.ru", "passwrd": "x"}})


def test_login_needs_both_parts_and_an_env_default_of_empty_means_no_login():
    assert "both smtp.username and smtp.password" in _errors(
        {"smtp": {"host": "h.example.ru", "username": "bridge"}})
    # `${SMTP_USERNAME:-}` and `${SMTP_PASSWORD:-}` left unset: no login at all.
    smtp = SmtpConfig(host="h.example.ru", username="", password="")
    assert smtp.username is None and smtp.password is None


def test_no_password_in_clear_text_except_to_a_local_relay():
    message = _errors({"smtp": {"host": "smtp.example.ru", "security": "none",
                                "username": "u", "password": "p"}})
    assert "clear text" in message
    for host in ("localhost", "127.0.0.1", "::1"):
        SmtpConfig(host=host, security="none", username="u", password="p")


def test_bad_host_and_addresses_are_refused():
    assert "the port goes in `port`" in _errors({"smtp": {"host": "smtp.example.ru:587"}})
    assert "from_address" in _errors({"from_address": "Поддержка <support@example.ru>"})
    assert "reply_to" in _errors({"reply_to": "support@"})
    config = NotifyConfig(from_address="support@почта.рф")
    assert config.from_address == "support@xn--80a1acny.xn--p1ai"
    # A customer's Cyrillic mailbox is reached over SMTPUTF8; the bridge's own must not
    # depend on that extension.
    assert "only Latin letters before the @" in _errors({"from_address": "поддержка@почта.рф"})


def test_the_password_is_never_shown():
    config = NotifyConfig.model_validate(yaml.safe_load(EXAMPLE))
    for text in (repr(config), str(config), config.model_dump_json()):
        assert "from-the-environment" not in text


def test_ca_file_is_relative_to_the_config_file(tmp_path):
    (tmp_path / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    smtp = SmtpConfig.model_validate({"host": "h.example.ru", "ca_file": "ca.pem"},
                                     context={"base_dir": tmp_path})
    assert smtp.ca_file == tmp_path / "ca.pem"
    with pytest.raises(ValidationError, match="does not exist"):
        SmtpConfig.model_validate({"host": "h.example.ru", "ca_file": "missing.pem"},
                                  context={"base_dir": tmp_path})
