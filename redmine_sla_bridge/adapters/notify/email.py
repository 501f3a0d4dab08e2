"""Building the customer email: the content fixed once when the notice is queued, and the
MIME message made from it at each delivery attempt.

Threading: every notice about an issue names the issue's thread root in `In-Reply-To` and
`References`, and its own Message-ID has the same shape. Both follow Redmine's MailHandler
pattern `redmine.<object>-<id>.<digits>[.<hex>]@...`, so when the customer answers, a
Redmine that receives email files the reply on the issue (the subject is not needed).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from .addresses import domain_of, needs_smtputf8, normalize_address

_PAYLOAD_VERSION = 1


class InvalidPayload(ValueError):
    """A stored notice payload this version cannot read."""


@dataclass(frozen=True)
class Sender:
    """Who the emails are from. `address` is the envelope sender and the From address."""

    address: str
    name: str = ""
    reply_to: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "address", normalize_address(self.address))
        if self.reply_to is not None:
            object.__setattr__(self, "reply_to", normalize_address(self.reply_to))

    @property
    def domain(self) -> str:
        return domain_of(self.address)


@dataclass(frozen=True)
class NoticeContent:
    """What one notice says, rendered once at queue time and kept as the store payload.

    Date and Message-ID are fixed here, not at delivery: a resend after a crash is then
    the same message, which mail clients show once (see Notifier on at-least-once).
    """

    subject: str
    body: str
    date: datetime
    message_id: str
    thread_id: str | None = None

    @classmethod
    def render(cls, key: str, subject: str, body: str, now: datetime, domain: str, *,
               issue_id: int | None = None) -> NoticeContent:
        """Fix the content of the notice `key` (Date and Message-ID from `now`)."""
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError(f"now must be timezone-aware, got {now!r}")
        # A header cannot hold a line break; texts from templates often end with one.
        one_line_subject = " ".join(subject.split())
        if not one_line_subject:
            raise ValueError("a notice needs a subject")
        if not body.strip():
            raise ValueError("a notice needs a body")
        text = body.replace("\r\n", "\n").replace("\r", "\n")
        return cls(
            subject=one_line_subject,
            body=text if text.endswith("\n") else text + "\n",
            date=now,
            message_id=notice_message_id(key, now, domain, issue_id=issue_id),
            thread_id=None if issue_id is None else issue_thread_id(issue_id, domain),
        )

    def to_payload(self) -> str:
        # Readable JSON (not the MIME text) so that support staff can read a stuck
        # notice in the store; ensure_ascii=False keeps Russian text legible.
        return json.dumps({
            "v": _PAYLOAD_VERSION, "subject": self.subject, "body": self.body,
            "date": self.date.isoformat(), "message_id": self.message_id,
            "thread_id": self.thread_id,
        }, ensure_ascii=False)

    @classmethod
    def from_payload(cls, payload: str | None) -> NoticeContent:
        """Read a payload written by `to_payload`; InvalidPayload if it is not one."""
        try:
            data = json.loads(payload or "")
            if data.get("v") != _PAYLOAD_VERSION:
                raise InvalidPayload(f"unknown notice payload version {data.get('v')!r}")
            return cls(subject=data["subject"], body=data["body"],
                       date=datetime.fromisoformat(data["date"]),
                       message_id=data["message_id"], thread_id=data.get("thread_id"))
        except InvalidPayload:
            raise
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise InvalidPayload(f"unreadable notice payload ({type(exc).__name__})") from None


def issue_thread_id(issue_id: int, domain: str) -> str:
    """The Message-ID every notice about `issue_id` refers to as its thread root.

    No message carries it; it only ties the notices together, and Redmine's MailHandler
    (all versions: `^<?redmine\\.(\\w+)-(\\d+)\\.\\d+@`) maps it to the issue.
    """
    return f"<redmine.issue-{int(issue_id)}.0@{domain}>"


def notice_message_id(key: str, now: datetime, domain: str, *,
                      issue_id: int | None = None) -> str:
    """A Message-ID unique to the notice `key` (stable: derived from the key).

    For an issue it also matches Redmine's current MailHandler pattern (which accepts a
    trailing `.<hex>`; older versions do not, and rely on the root in `References`), so a
    client that keeps only `In-Reply-To` still reaches the issue.
    """
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:20]
    if issue_id is None:
        return f"<sla-bridge.{digest}@{domain}>"
    stamp = now.strftime("%Y%m%d%H%M%S")
    return f"<redmine.issue-{int(issue_id)}.{stamp}.{digest}@{domain}>"


def build_message(content: NoticeContent, sender: Sender, recipient: str) -> EmailMessage:
    """The MIME message for `recipient` (an address from `normalize_address`).

    policy.SMTP: CRLF line ends, headers folded at 78 columns, and non-ASCII header text
    (the Russian subject and sender name) encoded per RFC 2047 as UTF-8.
    """
    # A Cyrillic mailbox name cannot be written in a 7-bit header: such a message goes
    # out as SMTPUTF8 (RFC 6532 headers), which smtplib asks the relay for.
    message = EmailMessage(policy=policy.SMTPUTF8 if needs_smtputf8(recipient) else policy.SMTP)
    message["From"] = Address(display_name=sender.name, addr_spec=sender.address)
    # Address() refuses a non-ASCII local part even under SMTPUTF8 (a "defect" of the
    # stdlib parser), so such a recipient is written as the bare address it already is.
    message["To"] = recipient if needs_smtputf8(recipient) else Address(addr_spec=recipient)
    if sender.reply_to:
        message["Reply-To"] = Address(addr_spec=sender.reply_to)
    message["Subject"] = content.subject
    message["Date"] = format_datetime(content.date)
    message["Message-ID"] = content.message_id
    if content.thread_id:
        message["In-Reply-To"] = content.thread_id
        message["References"] = content.thread_id
    # RFC 3834: vacation responders must not answer, or their replies would land on the
    # issue as customer comments. Exchange reads the X- header instead.
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "OOF, AutoReply"
    # base64, not 8bit: the body then never depends on the relay's 8BITMIME support.
    message.set_content(content.body, charset="utf-8", cte="base64")
    return message
