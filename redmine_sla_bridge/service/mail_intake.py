"""The support mailbox's use case: one received email in, exactly one effect out.

An email is, in this order: a repeat (its key was recorded: nothing), too large, the
bridge's own, automatic (auto-reply, bounce, list: never answered), over its sender's
rate limit, a reply to an issue (a public note posted as the customer-mail user, so the
SLA clock counts it as the requester's), or a new request (filed through the intake,
`intake_api.submit_document`, with the mail key as its idempotency key).

The key is recorded only after the effect is durable in Redmine; a crash in between
repeats the effect's check, not the effect: a new request is found by its Intake key,
a note by its `.eml` attachment, whose name carries a digest of the key. The caller (the
mail adapter) removes the message from the inbox only after this function returned.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import logging
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from redmine_sla_bridge.domain.markup import quote
from redmine_sla_bridge.domain.ports import RedmineError, RedmineRejected, RedmineUnavailable
from redmine_sla_bridge.service.bridge import Bridge
from redmine_sla_bridge.service.intake_api import LINE_LIMIT, SUBJECT_LIMIT, submit_document
from redmine_sla_bridge.service.ports import InboundAttachment, InboundMail, MailIssues, MailThreads
from redmine_sla_bridge.service.process_issue import process_issue
from redmine_sla_bridge.telemetry import metrics

log = logging.getLogger(__name__)

_THREAD_ID = re.compile(r"^<?redmine\.issue-(\d+)\.[^@]*@([^>]+)>?$", re.IGNORECASE)
_SUBJECT_NUMBER = re.compile(r"(?:№|#)\s?(\d{1,9})\b")
MAX_REFERENCES = 10
"""How many of a reply's In-Reply-To / References ids are looked at (newest first)."""
MESSAGE_LOCK = dt.timedelta(minutes=5)
"""How long one reader holds a message against a second reader (or MTA delivery)."""
MAX_KEY_LOOKUPS = 3
"""How many of them may be looked up in Redmine by Intake key (messages we filed)."""


class Outcome(enum.StrEnum):
    FILED = "filed"
    NOTED = "noted"
    DUPLICATE = "duplicate"
    AUTOMATIC = "automatic"
    OWN = "own"
    RATE_LIMITED = "rate_limited"
    TOO_LARGE = "too_large"
    REFUSED = "refused"


class MailRetryLater(RedmineUnavailable):
    """Another reader is filing the same message right now: leave it in the inbox."""


@dataclass(frozen=True)
class MailSettings:
    project: str
    tracker: str
    own_addresses: frozenset[str]
    own_domains: frozenset[str]
    """Domains of the bridge's own Message-IDs (the notifier's sender domain)."""
    max_message_bytes: int
    attachment_max_bytes: int
    rate_messages: int
    rate_window: dt.timedelta


@dataclass(frozen=True)
class MailPorts:
    issues: MailIssues
    threads: MailThreads


@dataclass(frozen=True)
class MailResult:
    outcome: Outcome
    issue_id: int | None = None
    detail: str = ""


@dataclass(frozen=True)
class _Eml:
    filename: str
    data: bytes
    content_type: str = "message/rfc822"


_TEXTS = {
    "ru": {"oversized": "Вложение «{name}» ({size}) больше допустимого размера ({limit}) и не "
                        "прикреплено к обращению. Пришлите его другим способом.",
           "refused.subject": "Обращение не зарегистрировано: {subject}",
           "refused.body": "Здравствуйте!\n\nВаше письмо «{subject}» не зарегистрировано как "
                           "обращение:\n{reasons}\n\nИсправьте, пожалуйста, и отправьте снова.\n",
           "empty": "(письмо без текста)"},
    "en": {"oversized": "The attachment \"{name}\" ({size}) is over the size limit ({limit}) and "
                        "was not attached. Please send it another way.",
           "refused.subject": "Request not registered: {subject}",
           "refused.body": "Hello,\n\nyour email \"{subject}\" was not registered as a request:\n"
                           "{reasons}\n\nPlease correct it and send it again.\n",
           "empty": "(an email without text)"},
}


def handle_mail(bridge: Bridge, ports: MailPorts, settings: MailSettings, mail: InboundMail,
                now: dt.datetime | None = None) -> MailResult:
    """The one effect of `mail`. Raises `RedmineUnavailable` (and store errors) when the
    effect could not be made durable: the message must then stay in the inbox."""
    now = now or bridge.clock()
    key = key_of(mail)
    lock, holder = f"mail-lock:{key}", uuid.uuid4().hex
    if not bridge.store.try_lease(lock, holder, now, MESSAGE_LOCK):
        raise MailRetryLater(f"mail {key} is being handled by another reader")
    try:
        result = _handle(bridge, ports, settings, mail, now)
        if result.outcome is not Outcome.DUPLICATE:
            bridge.store.remember(key, now)  # only now: the effect is durable
    finally:
        bridge.store.release(lock, holder)
    metrics.MAIL_MESSAGES.labels(str(result.outcome)).inc()
    log.info("mail %s: %s", key_of(mail), result.outcome,
             extra={"mail_key": key_of(mail), "outcome": str(result.outcome),
                    "issue_id": result.issue_id, "detail": result.detail})
    return result


def _handle(bridge: Bridge, ports: MailPorts, settings: MailSettings, mail: InboundMail,
            now: dt.datetime) -> MailResult:
    if bridge.store.seen(key_of(mail)):
        return MailResult(Outcome.DUPLICATE)
    if mail.size > settings.max_message_bytes:
        log.warning("mail %s from %s is %d bytes, over mail.max_message_bytes (%d): ignored",
                    key_of(mail), mail.from_address, mail.size, settings.max_message_bytes)
        return MailResult(Outcome.TOO_LARGE, detail=f"{mail.size} bytes")
    if _is_own(settings, mail):
        return MailResult(Outcome.OWN)
    if mail.automatic is not None:
        return MailResult(Outcome.AUTOMATIC, detail=mail.automatic)
    if mail.sender is None:
        return MailResult(Outcome.AUTOMATIC, detail="no sender address")
    if not _within_rate(bridge, settings, key_of(mail), mail.sender, now):
        log.warning("mail %s: sender %s is over the rate limit (%d messages per %s): ignored",
                    key_of(mail), mail.sender, settings.rate_messages, settings.rate_window)
        return MailResult(Outcome.RATE_LIMITED, detail=mail.sender)
    issue_id = _reply_target(bridge, settings, mail)
    if issue_id is not None:
        return _note(bridge, ports, settings, mail, issue_id, now)
    return _file(bridge, ports, settings, mail, now)


def _is_own(settings: MailSettings, mail: InboundMail) -> bool:
    if mail.from_address is not None and mail.from_address in settings.own_addresses:
        return True
    domain = (mail.message_id_domain or "").lower()
    return bool(domain) and domain in settings.own_domains


def _within_rate(bridge: Bridge, settings: MailSettings, key: str, sender: str,
                 now: dt.datetime) -> bool:
    """A fixed window per sender, counted with effect keys: slot n of the window is
    taken by the n-th message (at most `rate_messages` store writes). A message counts
    once: one left in the inbox (Redmine down) and read again at every pass keeps the
    slot it took, else an outage of `rate_messages` passes would drop it as rate-limited."""
    window = int(now.timestamp() // settings.rate_window.total_seconds())
    counted = f"mail-rated:{hashlib.sha256(key.encode()).hexdigest()[:24]}:{window}"
    if bridge.store.seen(counted):
        return True
    digest = hashlib.sha256(sender.encode()).hexdigest()[:24]
    for slot in range(settings.rate_messages):
        if bridge.store.remember(f"mail-rate:{digest}:{window}:{slot}", now):
            bridge.store.remember(counted, now)  # a crash before this costs one slot
            return True
    return False


# -- replies --------------------------------------------------------------------------


def _reply_target(bridge: Bridge, settings: MailSettings, mail: InboundMail) -> int | None:
    references = mail.references[:MAX_REFERENCES]
    candidates: list[int] = []
    for ref in references:
        match = _THREAD_ID.match(ref.strip())
        if match and match.group(2).lower() in settings.own_domains:
            candidates.append(int(match.group(1)))
    for ref in references[:MAX_KEY_LOOKUPS]:
        if _THREAD_ID.match(ref.strip()):
            continue
        try:
            found = bridge.redmine.find_intake(settings.project, mail_key(ref))
        except LookupError:
            break  # no Intake key field: messages we filed cannot be found
        if found is not None:
            candidates.append(found)
    for number in _SUBJECT_NUMBER.findall(mail.subject):
        candidates.append(int(number))
    for issue_id in dict.fromkeys(candidates):
        try:
            if bridge.redmine.load(issue_id) is not None:
                return issue_id
        except RedmineRejected:
            continue  # 404/403: not an issue of ours
    return None


def _note(bridge: Bridge, ports: MailPorts, settings: MailSettings, mail: InboundMail,
          issue_id: int, now: dt.datetime) -> MailResult:
    marker = eml_prefix(key_of(mail))
    done = ports.issues.has_attachment(issue_id, marker)
    if not done:
        texts = _texts(bridge)
        fitting, oversized = _split(settings, mail.attachments)
        ports.issues.add_requester_note(issue_id, mail.reply_text.strip() or texts["empty"],
                                        [*fitting, _eml(settings, mail)])
        if oversized:
            ports.issues.attach(issue_id, (), _oversized_note(bridge, settings, oversized))
    try:
        # Also when the note was there already: a reader killed right after the note
        # had not yet resumed or reopened the issue (the plan is idempotent).
        process_issue(bridge, issue_id, now)  # resume, reopen, re-gate now, not at the poll
    except RedmineError as exc:
        log.warning("mail %s: note added to #%d; processing it is left to the poll: %s",
                    key_of(mail), issue_id, exc)
    return MailResult(Outcome.NOTED, issue_id, "already noted" if done else "")


# -- new requests ---------------------------------------------------------------------


def _file(bridge: Bridge, ports: MailPorts, settings: MailSettings, mail: InboundMail,
          now: dt.datetime) -> MailResult:
    assert mail.sender is not None
    subject = " ".join(mail.subject.split())
    contact: dict[str, str] = {"email": mail.sender}
    if mail.sender_name.strip():
        contact["name"] = mail.sender_name.strip()[:LINE_LIMIT]
    document = {"subject": subject[:SUBJECT_LIMIT] or None,
                "description": mail.text.strip() or None, "contact": contact}
    with ports.threads.replying_to(mail.message_id):
        answer = submit_document(bridge, document, now, idempotency_key=key_of(mail),
                                 project=settings.project, tracker=settings.tracker)
    if answer.status == 409:
        raise MailRetryLater(f"mail {key_of(mail)} is being filed by another reader")
    if answer.status not in (200, 201):
        _answer_refusal(bridge, mail, subject, answer.body, now)
        return MailResult(Outcome.REFUSED, detail=str(answer.status))
    issue_id = int(answer.body["issue_id"])
    marker = eml_prefix(key_of(mail))
    if not ports.issues.has_attachment(issue_id, marker):
        fitting, oversized = _split(settings, mail.attachments)
        note = _oversized_note(bridge, settings, oversized) if oversized else None
        ports.issues.attach(issue_id, [*fitting, _eml(settings, mail)], note)
    return MailResult(Outcome.FILED, issue_id, "" if answer.status == 201 else "already filed")


def _answer_refusal(bridge: Bridge, mail: InboundMail, subject: str, body: dict[str, Any],
                    now: dt.datetime) -> None:
    if bridge.notifier is None or mail.sender is None:
        return
    texts = _texts(bridge)
    items = body.get("reasons") or body.get("errors") or []
    lines = [f"- {item.get('message')}" for item in (items if isinstance(items, list) else [])
             if isinstance(item, dict)]
    bridge.notifier.queue(
        f"mail-refused:{key_of(mail)}"[:255], mail.sender,
        texts["refused.subject"].format(subject=subject or "—"),
        texts["refused.body"].format(subject=subject or "—", reasons="\n".join(lines)), now)


# -- helpers --------------------------------------------------------------------------


def key_of(mail: InboundMail) -> str:
    """The mail's effect key: from its Message-ID, else from a digest of its bytes."""
    if mail.message_id:
        return mail_key(mail.message_id)
    return "mail:h:" + hashlib.sha256(mail.raw).hexdigest()[:56]


def mail_key(message_id: str) -> str:
    """The effect key and idempotency key of a Message-ID (at most 128 printable ASCII)."""
    bare = message_id.strip().strip("<>").strip()
    key = f"mail:{bare}"
    if len(key) <= 128 and re.fullmatch(r"[\x21-\x7e]+", key):
        return key
    return "mail:h:" + hashlib.sha256(bare.encode("utf-8", "replace")).hexdigest()[:56]


def eml_prefix(key: str) -> str:
    """The name prefix of the `.eml` kept on the issue: it marks the message as done."""
    return "mail-" + hashlib.sha256(key.encode()).hexdigest()[:16]


def _eml(settings: MailSettings, mail: InboundMail) -> InboundAttachment:
    prefix = eml_prefix(key_of(mail))
    if len(mail.raw) <= settings.attachment_max_bytes:
        return _Eml(f"{prefix}.eml", mail.raw)
    head = mail.raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    return _Eml(f"{prefix}.headers.txt", head[: settings.attachment_max_bytes], "text/plain")


def _split(settings: MailSettings, attachments: Sequence[InboundAttachment]
           ) -> tuple[list[InboundAttachment], list[InboundAttachment]]:
    fitting = [a for a in attachments if len(a.data) <= settings.attachment_max_bytes]
    oversized = [a for a in attachments if len(a.data) > settings.attachment_max_bytes]
    for attachment in oversized:
        metrics.MAIL_ATTACHMENTS_OVERSIZED.inc()
        log.warning("attachment %r is %d bytes, over mail.attachment_max_bytes (%d): named "
                    "in a note", attachment.filename, len(attachment.data),
                    settings.attachment_max_bytes)
    return fitting, oversized


def _oversized_note(bridge: Bridge, settings: MailSettings,
                    oversized: Sequence[InboundAttachment]) -> str:
    template = _texts(bridge)["oversized"]
    # The file name is the sender's: quoted as data, never markup in the bridge's note.
    formatting = bridge.rules.text_formatting
    return "\n\n".join(template.format(name=quote(a.filename, formatting), size=_size(len(a.data)),
                                       limit=_size(settings.attachment_max_bytes))
                       for a in oversized)


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{n / 1024:.0f} KB"


def _texts(bridge: Bridge) -> dict[str, str]:
    return _TEXTS.get(bridge.settings.language, _TEXTS["en"])
