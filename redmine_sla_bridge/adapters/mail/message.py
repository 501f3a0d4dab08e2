"""Reading one RFC 5322 message: who sent it, what it says, what it refers to, whether a
machine sent it, and its attachments. Values only; no network.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses

from redmine_sla_bridge.domain.addresses import normalize_address
from redmine_sla_bridge.domain.intake.free_text import html_to_text, strip_quoted

_MSGID = re.compile(r"<[^<>\s]+>")
_MACHINE_SENDERS = ("mailer-daemon", "postmaster")


class UnreadableMessage(ValueError):
    """Bytes that are not an email at all (exit 65 for `mail --stdin`)."""


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class ParsedMail:
    raw: bytes
    message_id: str | None
    from_address: str | None
    sender: str | None
    sender_name: str
    subject: str
    text: str
    """The whole body as text (a new request keeps a forwarded history)."""
    references: tuple[str, ...] = ()
    automatic: str | None = None
    attachments: tuple[Attachment, ...] = field(default=())
    declared_size: int = 0
    """The server's size of a message read by its header only (too large to fetch)."""

    @property
    def reply_text(self) -> str:
        """The new text of a reply: no quoted history, no signature."""
        return strip_quoted(self.text, strip_signature=True)

    @property
    def size(self) -> int:
        return max(len(self.raw), self.declared_size)

    @property
    def message_id_domain(self) -> str | None:
        if not self.message_id or "@" not in self.message_id:
            return None
        return self.message_id.rsplit("@", 1)[1].strip("<> ").lower() or None

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.raw).hexdigest()


def parse_message(raw: bytes, *, declared_size: int = 0) -> ParsedMail:
    if not raw.strip():
        raise UnreadableMessage("an empty message")
    try:
        message = BytesParser(policy=policy.default).parsebytes(raw)
    except Exception as exc:  # the lenient parser failing means unreadable bytes
        raise UnreadableMessage(f"not an email: {exc}") from exc
    if not isinstance(message, EmailMessage) or not list(message.keys()):
        raise UnreadableMessage("not an email: no header")
    from_name, from_address = _address(message, "From")
    _, reply_to = _address(message, "Reply-To")
    body, body_parts = _body_text(message)
    return ParsedMail(
        raw=raw,
        message_id=_first_id(_header(message, "Message-ID")),
        from_address=from_address,
        sender=reply_to or from_address,
        sender_name=from_name,
        subject=" ".join(_header(message, "Subject").split()),
        text=body.strip(),
        references=_references(message),
        automatic=automatic_reason(message, from_address),
        attachments=_attachments(message, body_parts),
        declared_size=declared_size,
    )


def _header(message: Message, name: str) -> str:
    try:
        value = message.get(name)
    except Exception:  # noqa: BLE001 - a malformed header the registry cannot parse
        return ""
    return "" if value is None else str(value)


def _address(message: Message, name: str) -> tuple[str, str | None]:
    raw = _header(message, name)
    if not raw:
        return "", None
    for display, address in getaddresses([raw]):
        try:
            return display.strip(), normalize_address(address)
        except ValueError:
            continue
    return "", None


def _first_id(value: str) -> str | None:
    found = _MSGID.search(value)
    if found:
        return found.group(0)
    value = value.strip()
    return f"<{value}>" if value and " " not in value else None


def _references(message: Message) -> tuple[str, ...]:
    """In-Reply-To first, then References newest first, without repeats."""
    ids = _MSGID.findall(_header(message, "In-Reply-To"))
    ids += reversed(_MSGID.findall(_header(message, "References")))
    return tuple(dict.fromkeys(ids))


def automatic_reason(message: Message, from_address: str | None) -> str | None:
    """Why a machine sent this message (RFC 3834 and common practice), or None."""
    auto = _header(message, "Auto-Submitted").strip().lower()
    if auto and auto != "no":
        return f"Auto-Submitted: {auto}"
    precedence = _header(message, "Precedence").strip().lower()
    if precedence in ("bulk", "junk", "list", "auto_reply"):
        return f"Precedence: {precedence}"
    for name in ("X-Autoreply", "X-Autorespond", "X-Auto-Reply", "List-Id", "List-Unsubscribe"):
        if message.get(name) is not None:
            return f"{name} header"
    if from_address is not None and from_address.split("@", 1)[0].lower() in _MACHINE_SENDERS:
        return f"sender {from_address}"
    if message.get("Return-Path") is not None and _header(message, "Return-Path").strip() == "<>":
        return "empty Return-Path (a bounce)"
    if message.get_content_type() == "multipart/report":
        return f"multipart/report ({message.get_param('report-type') or 'report'})"
    return None


# -- the body -------------------------------------------------------------------------


def _body_text(message: EmailMessage) -> tuple[str, set[int]]:
    """The text/plain part, else the HTML one as text; and the ids of the parts used."""
    for kind in ("plain", "html"):
        part = message.get_body(preferencelist=(kind,))
        if part is not None:
            text = _decoded(part)
            return (text if kind == "plain" else html_to_text(text)), {id(part)}
    return "", set()


def _decoded(part: Message) -> str:
    try:
        content = part.get_content()  # type: ignore[attr-defined]
        if isinstance(content, str):
            return content
    except (LookupError, ValueError, AttributeError):
        pass
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    return payload.decode(part.get_content_charset() or "utf-8", "replace") \
        if _known_charset(part.get_content_charset()) else payload.decode("utf-8", "replace")


def _known_charset(name: str | None) -> bool:
    if not name:
        return False
    try:
        "".encode(name)
    except LookupError:
        return False
    return True


def _attachments(message: EmailMessage, body_parts: set[int]) -> tuple[Attachment, ...]:
    out: list[Attachment] = []
    for part in message.walk():
        if part.is_multipart() or id(part) in body_parts:
            continue
        filename = part.get_filename()
        disposition = part.get_content_disposition()
        if disposition != "attachment" and not filename:
            continue
        if part.get_content_type() == "message/delivery-status":
            continue
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes):
            continue
        name = _safe_name(filename or f"attachment-{len(out) + 1}")
        out.append(Attachment(name, part.get_content_type(), data))
    return tuple(out)


def _safe_name(name: str) -> str:
    name = name.replace("\\", "/").rsplit("/", 1)[-1].strip().strip(".") or "attachment"
    return re.sub(r"[\x00-\x1f]", "_", name)[:200]
