"""The mailbox's own note about an oversized attachment quotes the sender's file name
as data: a name like `"x":http://evil` must not become a link in the bridge's note."""

from __future__ import annotations

import datetime as dt

from redmine_sla_bridge.adapters.mail.message import Attachment
from redmine_sla_bridge.service.bridge import Bridge
from redmine_sla_bridge.service.mail_intake import MailSettings, _oversized_note
from redmine_sla_bridge.service.settings import Settings
from tests.unit.processing.builders import document, rules_of
from tests.unit.service.fakes import FakeIssues, FakeStore, Log


def test_an_oversized_attachments_name_is_quoted_in_the_note(tmp_path):
    log = Log()
    bridge = Bridge(settings=Settings(language="en"), rules=rules_of(tmp_path, document()),
                    redmine=FakeIssues(log), store=FakeStore(log))
    settings = MailSettings(project="p", tracker="Support", own_addresses=frozenset(),
                            own_domains=frozenset(), max_message_bytes=10_000_000,
                            attachment_max_bytes=10, rate_messages=10,
                            rate_window=dt.timedelta(hours=1))
    hostile = '"x":http://evil.example/a.png'
    note = _oversized_note(bridge, settings, [Attachment(hostile, "image/png", b"0" * 20)])
    assert '"x":http://evil' not in note
    assert "evil" in note  # still named, as text
