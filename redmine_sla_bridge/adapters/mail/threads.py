"""Threading the acknowledgement under the customer's own email.

The notifier threads every notice about an issue under the issue's root id
(`notify.email.issue_thread_id`). A notice queued while the mailbox files a message
(`replying_to(message_id)`) answers that message instead: In-Reply-To and References
name the customer's Message-ID, so the customer's mail client shows the acknowledgement
under the request. Its own Message-ID keeps the `redmine.issue-<id>.` shape, so a reply
to it is filed on the issue (service/mail_intake).
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
from collections.abc import Iterator
from datetime import datetime, timedelta

from redmine_sla_bridge.adapters.notify import Sender
from redmine_sla_bridge.adapters.notify.addresses import InvalidAddress, normalize_address
from redmine_sla_bridge.adapters.notify.email import NoticeContent
from redmine_sla_bridge.adapters.notify.notifier import CHANNEL
from redmine_sla_bridge.adapters.notify.notifier import Notifier as EmailNotifier
from redmine_sla_bridge.adapters.store import Store

_REPLYING_TO: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "mail_replying_to", default=None)


class ThreadingNotifier:
    """The email notifier, with notices queued inside `replying_to` answering a message."""

    def __init__(self, inner: EmailNotifier, store: Store, sender: Sender) -> None:
        self.inner = inner
        self.enabled = True
        self._store = store
        self._sender = sender

    @contextlib.contextmanager
    def replying_to(self, message_id: str | None) -> Iterator[None]:
        token = _REPLYING_TO.set(message_id)
        try:
            yield
        finally:
            _REPLYING_TO.reset(token)

    def queue(self, key: str, recipient: str, subject: str, body: str, now: datetime, *,
              issue_id: int | None = None, hold: timedelta | None = None) -> bool:
        answered = _REPLYING_TO.get()
        try:
            normalize_address(recipient)
        except InvalidAddress:
            answered = None  # the notifier records and gives it up
        if answered is None or issue_id is None or not key or len(key) > 255:
            return self.inner.queue(key, recipient, subject, body, now, issue_id=issue_id,
                                    hold=hold)
        content = NoticeContent.render(key, subject, body, now, self._sender.domain,
                                       issue_id=issue_id)
        content = dataclasses.replace(content, thread_id=answered)
        return self._store.record_notice(key, CHANNEL, recipient.strip(), now,
                                         payload=content.to_payload(),
                                         in_flight=hold or timedelta(0))

    def release(self, key: str, now: datetime) -> bool:
        return self.inner.release(key, now)

    def cancel(self, key: str, reason: str) -> bool:
        return self.inner.cancel(key, reason)

    def deliver_due(self, now: datetime) -> object:
        return self.inner.deliver_due(now)


class NoThreads:
    """Without email notices there is nothing to thread."""

    @contextlib.contextmanager
    def replying_to(self, message_id: str | None) -> Iterator[None]:
        yield
