"""Recognise, authenticate and reduce Redmine webhook bodies to a hint.

A webhook is only a hint that an issue changed: the bridge re-reads the issue with its
journals before deciding, so the formats' differences cannot change a decision. What
is kept from a body is who sent it, which issue and journal it names, and the delivery
id used to drop repeats.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from redmine_sla_bridge.entrypoints.web.request_body import BodyRejected, load_json

SIGNATURE_HEADER = "X-Redmine-Signature-256"
TOKEN_HEADER = "X-Bridge-Token"
DELIVERY_HEADERS = ("X-Redmine-Delivery", "X-Request-Id")


class WebhookRejected(Exception):
    """The body must not be stored; `status` is the HTTP answer (400/401/413/415)."""

    def __init__(self, status: int, message: str):
        self.status = status
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class WebhookHint:
    source: str  # "redmine7" | "suer"
    event: str  # e.g. "issue.created", "opened", "updated"
    issue_id: int
    journal_id: int  # 0 for the issue's creation: (issue, journal) names one version
    delivery_id: str | None


def sign(secret: str, body: bytes) -> str:
    """The Redmine 7 signature header value for a body (also used by tests and tools)."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _positive_int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise WebhookRejected(400, f"{what} must be an integer")
    try:
        number = int(value)
    except ValueError:
        raise WebhookRejected(400, f"{what} must be an integer") from None
    if number <= 0 or number > 2**62:
        raise WebhookRejected(400, f"{what} is out of range")
    return number


def _optional_id(container: Any, what: str) -> int | None:
    if not isinstance(container, dict) or container.get("id") in (None, ""):
        return None
    return _positive_int(container["id"], what)


def _parse_json(body: bytes) -> dict[str, Any]:
    try:
        document = load_json(body)
    except BodyRejected as exc:
        raise WebhookRejected(exc.status, exc.message) from None
    if not isinstance(document, dict):
        raise WebhookRejected(400, "the body must be a JSON object")
    return document


def parse_webhook(body: bytes, headers: Any, *, secret: str | None, token: str | None,
                  url_token: str | None = None) -> WebhookHint:
    """Authenticate and parse one delivery.

    Redmine 7 native bodies must carry a valid `X-Redmine-Signature-256` (HMAC-SHA256 of
    the raw body with `secret`). suer/redmine_webhook bodies are unsigned: they must bring
    `token` in the URL (`?token=`) or in the `X-Bridge-Token` header. The signature is
    checked before the JSON is even parsed, so an unauthenticated sender learns nothing;
    the JSON's encoding and depth limits (request_body.py) are checked after it.
    """
    signature = headers.get(SIGNATURE_HEADER)
    if signature is not None:
        if not secret:
            raise WebhookRejected(401, "signed webhooks are not enabled (no secret configured)")
        if not hmac.compare_digest(signature.strip().lower().encode(), sign(secret, body).encode()):
            raise WebhookRejected(401, "bad signature")
        document = _parse_json(body)
        return _redmine7(document, headers)
    presented = url_token or headers.get(TOKEN_HEADER)
    if presented is None:
        raise WebhookRejected(401, f"missing {SIGNATURE_HEADER} or token")
    if not token or not hmac.compare_digest(presented.encode(), token.encode()):
        raise WebhookRejected(401, "bad token")
    document = _parse_json(body)
    if "payload" in document:
        return _suer(document)
    raise WebhookRejected(400, "not a recognised webhook format (no payload)")


def _redmine7(document: dict[str, Any], headers: Any) -> WebhookHint:
    event = document.get("type")
    data = document.get("data")
    if not isinstance(event, str) or not isinstance(data, dict):
        raise WebhookRejected(400, "a Redmine webhook needs `type` and `data`")
    issue = data.get("issue")
    if not isinstance(issue, dict):
        raise WebhookRejected(400, "data.issue is missing")
    delivery = next((headers.get(h) for h in DELIVERY_HEADERS if headers.get(h)), None)
    return WebhookHint(
        source="redmine7",
        event=event[:64],
        issue_id=_positive_int(issue.get("id"), "data.issue.id"),
        journal_id=_optional_id(data.get("journal"), "data.journal.id") or 0,
        delivery_id=delivery[:200] if delivery else None,
    )


def _suer(document: dict[str, Any]) -> WebhookHint:
    payload = document["payload"]
    if not isinstance(payload, dict):
        raise WebhookRejected(400, "payload must be an object")
    action = payload.get("action")
    issue = payload.get("issue")
    if not isinstance(action, str) or not isinstance(issue, dict):
        raise WebhookRejected(400, "payload needs `action` and `issue`")
    return WebhookHint(
        source="suer",
        event=action[:64],
        issue_id=_positive_int(issue.get("id"), "payload.issue.id"),
        journal_id=_optional_id(payload.get("journal"), "payload.journal.id") or 0,
        delivery_id=None,  # the plugin sends none; (issue, journal) dedupes instead
    )
