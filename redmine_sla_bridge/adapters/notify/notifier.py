"""Customer notices by email: queued by the service, delivered by a separate job.

`queue` only writes to the bridge's store, so a slow or dead SMTP server can never hold
up an issue update; `deliver_due` (run by the scheduler) sends what is due and reports
each notice back to the store as sent, to retry (with backoff), or given up.

Delivery is at-least-once. If the process dies after the server accepted a message but
before `mark_notice_sent` committed, the notice comes back when its lease ends and is
sent again. Losing an acknowledgement or an auto-close warning is worse for the customer
than a duplicate, and the duplicate carries the same Message-ID and Date (fixed at queue
time), so mail clients and archives show it as one message.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from redmine_sla_bridge.adapters.store import DueNotice, Store, backoff

from .addresses import InvalidAddress, mask_address, normalize_address
from .email import InvalidPayload, NoticeContent, Sender, build_message
from .smtp import SmtpFailure, SmtpSession, SmtpTransport

if TYPE_CHECKING:
    from redmine_sla_bridge.config.notify import NotifyConfig

log = logging.getLogger(__name__)

CHANNEL = "email"
DEFAULT_MAX_ATTEMPTS = 24
DEFAULT_BATCH_SIZE = 20
_MIN_LEASE = timedelta(minutes=10)
# Worst-case SMTP steps per run, each bounded by the socket timeout: connect, greeting,
# EHLO, STARTTLS, EHLO, AUTH; then MAIL, RCPT, DATA, end of data per message.
_STEPS_TO_CONNECT = 6
_STEPS_PER_MESSAGE = 4
_MAX_KEY_LENGTH = 255  # the store's notices.key column


@dataclass
class DeliveryReport:
    """What one `deliver_due` run did, by notice key (reasons as stored in last_error)."""

    sent: list[str] = field(default_factory=list)
    retrying: dict[str, str] = field(default_factory=dict)
    given_up: dict[str, str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    """Due notices of another channel, left to their own deliverer (see Notifier)."""

    @property
    def total(self) -> int:
        return len(self.sent) + len(self.retrying) + len(self.given_up)


class Notifier:
    """Sends each customer notice once, through SMTP, retrying failures with backoff.

    Notice keys are global in the store (e.g. "ack:issue:123", "autoclose-warning:
    issue:123:2025-03-03"): queueing a key again is a no-op, whatever its state.
    """

    enabled = True

    def __init__(self, store: Store, transport: SmtpTransport, sender: Sender, *,
                 max_attempts: int = DEFAULT_MAX_ATTEMPTS,
                 batch_size: int = DEFAULT_BATCH_SIZE):
        if max_attempts < 1 or batch_size < 1:
            raise ValueError("max_attempts and batch_size must be at least 1")
        self._store = store
        self._transport = transport
        self._sender = sender
        self._max_attempts = max_attempts
        self._batch_size = batch_size

    @classmethod
    def from_config(cls, config: NotifyConfig, store: Store) -> Notifier:
        """A notifier for an enabled `notify` section (use `build_notifier` otherwise)."""
        if config.smtp is None or config.from_address is None:
            raise ValueError("the notify section has no smtp server or from_address")
        sender = Sender(config.from_address, config.from_name, config.reply_to)
        return cls(store, SmtpTransport.from_config(config.smtp), sender,
                   max_attempts=config.max_attempts, batch_size=config.batch_size)

    @property
    def max_attempts(self) -> int:
        return self._max_attempts

    def queue(self, key: str, recipient: str, subject: str, body: str, now: datetime, *,
              issue_id: int | None = None, hold: timedelta | None = None) -> bool:
        """Record the notice `key` for delivery by `deliver_due`; no network is used.

        With `hold`, the notice waits until `release` (or, should the caller die before
        it can say, until `hold` has passed): a notice about an update is recorded
        before the update, so a crash cannot lose it, and sent only once the update
        was applied (`cancel` when it was refused).

        Returns True if the key is new (recorded now), False if it was recorded before
        (queued, sent or given up): the customer gets it once. An invalid recipient is
        recorded and given up at once (state "failed", the reason in last_error), and
        True is still returned since the key was new. `issue_id` threads the email with
        the issue's other notices and lets Redmine file a reply on the issue.
        """
        if not key or len(key) > _MAX_KEY_LENGTH:
            raise ValueError(f"a notice key must have 1 to {_MAX_KEY_LENGTH} characters")
        content = NoticeContent.render(key, subject, body, now, self._sender.domain,
                                       issue_id=issue_id)
        # in_flight=0: the notice is due at once, for the delivery job, not for us.
        if not self._store.record_notice(key, CHANNEL, recipient.strip(), now,
                                         payload=content.to_payload(),
                                         in_flight=hold or timedelta(0)):
            log.debug("notice %s was queued before; not queued again", key)
            return False
        try:
            normalize_address(recipient)
        except InvalidAddress as exc:
            self._give_up(key, f"invalid recipient address: {exc}")
        return True

    def release(self, key: str, now: datetime) -> bool:
        """The update a held notice was about is applied: deliver it at the next run."""
        return self._store.release_notice(key, now)

    def cancel(self, key: str, reason: str) -> bool:
        """The update a held notice was about was refused: never send it."""
        if self._store.notice_failed(key, f"not sent: {reason}", None):
            log.info("notice %s cancelled: %s", key, reason)
            return True
        return False

    def deliver_due(self, now: datetime, limit: int | None = None) -> DeliveryReport:
        """Send the notices due at `now` (at most `limit`, default the batch size).

        One SMTP connection serves the batch. A notice the server accepted is marked
        sent; a refused address (5.1.x) or an invalid one is given up at once; any other
        failure is retried after `backoff(attempts)`, up to max_attempts tries in all.
        When the server cannot be used at all (down, TLS, login), the rest of the batch
        is not tried and is rescheduled like a failure. Store errors propagate: the
        notices then come back after their lease (see the module doc: at-least-once).
        """
        limit = self._batch_size if limit is None else limit
        report = DeliveryReport()
        due = self._store.due_notices(now, limit=limit, lease=self.lease_for(limit))
        session: SmtpSession | None = None
        server_unusable: str | None = None
        try:
            for notice in due:
                if notice.channel != CHANNEL:
                    # Not ours; it comes back to its own deliverer when the lease ends.
                    report.skipped.append(notice.key)
                    continue
                try:
                    content = NoticeContent.from_payload(notice.payload)
                    recipient = normalize_address(notice.recipient)
                    message = build_message(content, self._sender, recipient)
                except InvalidAddress as exc:
                    self._give_up(notice.key, f"invalid recipient address: {exc}", report)
                    continue
                except (InvalidPayload, ValueError) as exc:
                    self._give_up(notice.key, f"cannot build the email: {exc}", report)
                    continue
                if server_unusable is not None:
                    self._retry(notice, f"not tried: {server_unusable}", now, report)
                    continue
                try:
                    if session is None:
                        session = self._transport.open()
                    session.send(message, self._sender.address, recipient)
                except SmtpFailure as failure:
                    if failure.session_broken:
                        server_unusable = failure.reason
                        if session is not None:
                            session.close()
                            session = None
                    if failure.permanent:
                        self._give_up(notice.key, failure.reason, report)
                    else:
                        self._retry(notice, failure.reason, now, report)
                    continue
                self._mark_sent(notice, recipient, now, report)
        finally:
            if session is not None:
                session.close()
        return report

    def lease_for(self, limit: int) -> timedelta:
        """How long a run holds its notices. It must outlast the run, or another
        deliverer could take the same notices meanwhile and send them twice."""
        steps = _STEPS_TO_CONNECT + _STEPS_PER_MESSAGE * limit
        return max(_MIN_LEASE, timedelta(seconds=self._transport.timeout_seconds * steps))

    # -- reporting to the store -------------------------------------------------------

    def _mark_sent(self, notice: DueNotice, recipient: str, now: datetime,
                   report: DeliveryReport) -> None:
        if self._store.mark_notice_sent(notice.key, now):
            log.info("notice %s sent to %s", notice.key, mask_address(recipient))
        else:
            # Our lease ran out mid-run and another deliverer sent it as well.
            log.warning("notice %s was sent, but had already been reported by another "
                        "delivery run: the customer may have received it twice", notice.key)
        report.sent.append(notice.key)

    def _retry(self, notice: DueNotice, reason: str, now: datetime,
               report: DeliveryReport) -> None:
        attempts = notice.attempts + 1
        if attempts >= self._max_attempts:
            self._give_up(notice.key, f"{reason} (after {attempts} attempts)", report)
            return
        next_attempt_at = now + backoff(notice.attempts)
        if self._store.notice_failed(notice.key, reason, next_attempt_at):
            log.warning("notice %s not sent (attempt %d of %d): %s; next try at %s",
                        notice.key, attempts, self._max_attempts, reason,
                        next_attempt_at.isoformat())
        report.retrying[notice.key] = reason

    def _give_up(self, key: str, reason: str, report: DeliveryReport | None = None) -> None:
        if self._store.notice_failed(key, reason, None):
            log.error("notice %s given up: %s", key, reason)
        if report is not None:
            report.given_up[key] = reason


class NullNotifier:
    """Email is not configured: nothing is recorded, nothing is sent."""

    enabled = False

    def queue(self, key: str, recipient: str, subject: str, body: str, now: datetime, *,
              issue_id: int | None = None, hold: timedelta | None = None) -> bool:
        """Always False: no email will go out for this notice."""
        log.debug("email notices are disabled; notice %s not queued", key)
        return False

    def release(self, key: str, now: datetime) -> bool:
        return False

    def cancel(self, key: str, reason: str) -> bool:
        return False

    def deliver_due(self, now: datetime, limit: int | None = None) -> DeliveryReport:
        return DeliveryReport()


def build_notifier(config: NotifyConfig | None, store: Store) -> Notifier | NullNotifier:
    """`Notifier` for an enabled `notify` section, else `NullNotifier`."""
    if config is None or not config.enabled:
        return NullNotifier()
    return Notifier.from_config(config, store)
