"""The support-mailbox reader: IMAP passes (`mail`, `mail --once`) and an MTA pipe
(`mail --stdin`).

Every message goes to `handle` (service.mail_intake.handle_mail bound to a bridge);
the message leaves the inbox only after `handle` returned, i.e. after its effect is
durable and its key recorded. A failure (Redmine or the store unavailable) leaves it
where it is for the next pass; the key makes the repeat a no-op. A lease in the store
keeps a second `mail` process off the same folder.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from redmine_sla_bridge.config.mail import ImapConfig
from redmine_sla_bridge.telemetry import metrics

from .imap import ImapMailbox, MailboxUnavailable
from .message import ParsedMail, UnreadableMessage, parse_message

log = logging.getLogger(__name__)

EX_OK, EX_DATAERR, EX_TEMPFAIL = 0, 65, 75
"""sysexits.h: done; a message that can never be read; try again later."""


@dataclass
class PassReport:
    done: int = 0
    failed: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    lease_held_elsewhere: bool = False


class MailReader:
    def __init__(self, handle: Callable[[ParsedMail], str], store, clock: Callable[[], datetime],
                 *, imap: ImapConfig | None, max_message_bytes: int,
                 mailbox: ImapMailbox | None = None) -> None:
        self.handle = handle
        self.store = store
        self.clock = clock
        self.imap = imap
        self.max_message_bytes = max_message_bytes
        self.mailbox = mailbox or (ImapMailbox(imap) if imap is not None else None)
        self.holder = uuid.uuid4().hex

    # -- one message --------------------------------------------------------------

    def read_stdin(self, raw: bytes) -> int:
        """A sendmail-style exit code for one message piped in by the MTA."""
        try:
            mail = parse_message(raw)
        except UnreadableMessage as exc:
            metrics.MAIL_MESSAGES.labels("unreadable").inc()
            log.error("mail from stdin cannot be read: %s", exc)
            return EX_DATAERR
        try:
            self.handle(mail)
        except Exception as exc:  # Redmine, the store, a bug: the MTA keeps it and retries
            log.warning("mail from stdin not processed, the MTA will retry: %s", exc,
                        exc_info=not _expected(exc))
            return EX_TEMPFAIL
        return EX_OK

    # -- IMAP ---------------------------------------------------------------------

    @property
    def lease_name(self) -> str:
        assert self.imap is not None
        return (f"mail:imap:{self.imap.username}@{self.imap.host}:"
                f"{self.imap.effective_port}/{self.imap.folder}")[:255]

    def _lease(self) -> bool:
        assert self.imap is not None
        return self.store.try_lease(self.lease_name, self.holder, self.clock(),
                                    timedelta(seconds=self.imap.lease_seconds))

    def run_once(self, *, release: bool = True) -> PassReport:
        """One pass over the folder (at most imap.batch_size messages)."""
        assert self.imap is not None and self.mailbox is not None, "mail.imap is not configured"
        report = PassReport()
        if not self._lease():
            log.info("another mail reader holds %s; not reading", self.lease_name)
            report.lease_held_elsewhere = True
            return report
        try:
            for listed in self.mailbox.list(self.imap.batch_size):
                if not self._lease():
                    log.warning("lost the mail lease %s; stopping this pass", self.lease_name)
                    break
                self._one(listed.uid, listed.size, report)
        finally:
            if release:
                self.store.release(self.lease_name, self.holder)
        return report

    def _one(self, uid: int, size: int, report: PassReport) -> None:
        assert self.mailbox is not None
        too_large = size > self.max_message_bytes
        raw = self.mailbox.fetch(uid, header_only=too_large)
        if raw is None:
            return  # gone meanwhile (another client moved it)
        try:
            mail = parse_message(raw, declared_size=size)
        except UnreadableMessage as exc:
            metrics.MAIL_MESSAGES.labels("unreadable").inc()
            log.error("mail uid %d cannot be read (%s): moved to %s", uid, exc,
                      self.imap.processed_folder if self.imap else "?")
            self.mailbox.done(uid)
            report.done += 1
            return
        try:
            outcome = self.handle(mail)
        except Exception as exc:
            report.failed += 1
            log.warning("mail uid %d (%s) left in the inbox for the next pass: %s", uid,
                        mail.message_id, exc, exc_info=not _expected(exc))
            return
        self.mailbox.done(uid)  # only now: the effect is durable
        report.done += 1
        report.outcomes[outcome] = report.outcomes.get(outcome, 0) + 1

    def run(self, stop: threading.Event, *, max_passes: int | None = None) -> None:
        """Passes until `stop` is set (or `max_passes`), waiting poll_interval (or IDLE)
        in between; an unusable server is retried at the next pass."""
        assert self.imap is not None and self.mailbox is not None
        passes = 0
        while not stop.is_set() and (max_passes is None or passes < max_passes):
            passes += 1
            try:
                report = self.run_once(release=False)
                if report.done or report.failed:
                    log.info("mail pass: %d done, %d left for later", report.done, report.failed,
                             extra={"outcomes": report.outcomes})
                if report.done >= self.imap.batch_size:
                    continue  # more waiting: no pause
                if self.mailbox.wait(self.imap.poll_interval_seconds, stop):
                    continue
            except (MailboxUnavailable, OSError) as exc:
                log.warning("mailbox unavailable: %s", exc)
                self.mailbox.close()
            except Exception as exc:
                log.warning("mail pass failed: %s", exc, exc_info=not _expected(exc))
                self.mailbox.close()
            stop.wait(self.imap.poll_interval_seconds)
        self.store.release(self.lease_name, self.holder)
        self.mailbox.close()


def _expected(exc: BaseException) -> bool:
    from redmine_sla_bridge.domain.ports import RedmineError

    return isinstance(exc, RedmineError | MailboxUnavailable | OSError)
