"""The per-sender rate limit counts messages, not tries (the real store, no servers).

A message Redmine cannot take now stays in the inbox and is read again at every pass;
each try used to take a new slot of its sender's window, so an outage of `rate_messages`
passes ended with the message moved to the processed folder as rate-limited: lost.
"""

from __future__ import annotations

import datetime as dt

import pytest

from redmine_sla_bridge.adapters.mail import NoThreads
from redmine_sla_bridge.adapters.mail.message import parse_message
from redmine_sla_bridge.adapters.store import Store
from redmine_sla_bridge.domain.ports import RedmineUnavailable
from redmine_sla_bridge.service.bridge import Bridge
from redmine_sla_bridge.service.mail_intake import MailPorts, MailSettings, Outcome, handle_mail
from redmine_sla_bridge.service.settings import Settings
from tests.mail import samples
from tests.unit.processing.builders import document, rules_of

NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)


class RedmineDown:
    """Every look-up fails as an unreachable Redmine does."""

    def __init__(self) -> None:
        self.tries = 0

    def find_intake(self, project: str, key: str) -> int | None:
        self.tries += 1
        raise RedmineUnavailable("connection refused")

    def load(self, issue_id: int) -> None:
        raise RedmineUnavailable("connection refused")


@pytest.fixture()
def bridge(tmp_path):
    store = Store.from_url(f"sqlite:///{tmp_path / 'bridge.sqlite3'}")
    yield Bridge(settings=Settings(language="en"), rules=rules_of(tmp_path, document()),
                 redmine=RedmineDown(), store=store)  # type: ignore[arg-type]
    store.close()


SETTINGS = MailSettings(project="support", tracker="Support", own_addresses=frozenset(),
                        own_domains=frozenset({"bridge.test"}), max_message_bytes=10_000_000,
                        attachment_max_bytes=5_000_000, rate_messages=3,
                        rate_window=dt.timedelta(hours=1))
PORTS = MailPorts(issues=None, threads=NoThreads())  # type: ignore[arg-type]  # issues: never reached


def test_a_message_retried_through_an_outage_is_never_rate_limited(bridge):
    mail = parse_message(samples.html_only("ivan@example.ru", samples.mid()))
    for minute in range(3 * SETTINGS.rate_messages):
        with pytest.raises(RedmineUnavailable):
            handle_mail(bridge, PORTS, SETTINGS, mail, NOW + dt.timedelta(minutes=minute))
    assert bridge.redmine.tries == 3 * SETTINGS.rate_messages  # every try reached the intake
    assert not bridge.store.seen("mail:" + mail.message_id.strip("<>"))


def test_the_sender_limit_still_counts_distinct_messages(bridge):
    mails = [parse_message(samples.html_only("ivan@example.ru", samples.mid()))
             for _ in range(SETTINGS.rate_messages + 1)]
    for mail in mails[:-1]:
        with pytest.raises(RedmineUnavailable):  # within the limit: on to the intake
            handle_mail(bridge, PORTS, SETTINGS, mail, NOW)
        with pytest.raises(RedmineUnavailable):  # the same message again: its own slot
            handle_mail(bridge, PORTS, SETTINGS, mail, NOW)
    result = handle_mail(bridge, PORTS, SETTINGS, mails[-1], NOW)
    assert result.outcome is Outcome.RATE_LIMITED
    other = parse_message(samples.html_only("maria@example.ru", samples.mid()))
    with pytest.raises(RedmineUnavailable):  # another sender has a window of its own
        handle_mail(bridge, PORTS, SETTINGS, other, NOW)
