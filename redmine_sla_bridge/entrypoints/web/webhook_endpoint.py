"""`POST /webhooks/redmine` as a plain WSGI app in front of Flask.

The webhook is the bridge's hottest request, and Flask's own handling of it (the request
and app contexts, a URL adapter built twice, signals, a `Response` object) cost about
0.3 ms of CPU per webhook in-process: more than the signature check, the parse and the
inbox write together (docs/PERFORMANCE.md, "Ingest"). So this path is answered here,
before Flask: the request is read through a Werkzeug `Request` (the class Flask's
`request` is built on, so headers, Content-Type and the query string are read exactly as
before) and the answer goes straight to `start_response`. Every other path goes to Flask.

The answers are those of the Flask route this replaced: 413/411/400 for a body that
cannot be read within the limit, 415 for another Content-Type, then the webhook's own
checks (signature before parsing, webhook_formats.py), 202 once the event is in the
inbox, 503 when storing failed (the sender retries), 405 for another method.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import TYPE_CHECKING

from flask import Flask
from werkzeug.wrappers import Request

from redmine_sla_bridge.entrypoints.web.request_body import BodyRejected, read_body
from redmine_sla_bridge.entrypoints.web.webhook_formats import WebhookRejected, parse_webhook
from redmine_sla_bridge.service.bridge import Bridge
from redmine_sla_bridge.service.inbox import enqueue_issue
from redmine_sla_bridge.telemetry import metrics

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/webhooks/redmine"
_JSON = "application/json"


class WebhookEndpoint:
    """The WSGI app: `POST /webhooks/redmine` here, everything else to `fallback`."""

    def __init__(self, rt: Bridge, fallback: WSGIApplication,
                 on_enqueue: Callable[[], None] | None = None) -> None:
        self._rt = rt
        self._fallback = fallback
        self._on_enqueue = on_enqueue
        settings = rt.settings
        self._max_body = settings.max_body_bytes
        self._secret = settings.webhook_secret
        self._token = settings.webhook_token

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != WEBHOOK_PATH:
            return self._fallback(environ, start_response)
        if environ.get("REQUEST_METHOD") != "POST":
            return _answer(start_response, 405, _error("The method is not allowed for the "
                                                       "requested URL."), [("Allow", "POST")])
        try:
            status, body = self._accept(environ)
        except Exception:  # a bug or the store being unwritable: the sender must retry
            log.exception("request failed")
            status, body = 503, _error("the bridge could not store the request; retry later")
        return _answer(start_response, status, body)

    def _accept(self, environ: WSGIEnvironment) -> tuple[int, bytes]:
        try:
            body = read_body(environ, self._max_body)
        except BodyRejected as exc:
            # What is left of an oversized body stays unread: gunicorn drains it within
            # its own bounds (time and bytes) or closes the connection.
            return exc.status, _error(exc.message)
        request = Request(environ)
        if request.mimetype != _JSON:
            return 415, _error("expected Content-Type: application/json")
        try:
            hint = parse_webhook(body, request.headers, secret=self._secret, token=self._token,
                                 url_token=request.args.get("token")
                                 if environ.get("QUERY_STRING") else None)
        except WebhookRejected as exc:
            return exc.status, _error(exc.message)
        rt = self._rt
        stored = enqueue_issue(rt.store, hint.source, hint.issue_id, rt.clock(),
                               journal_id=hint.journal_id, delivery_id=hint.delivery_id,
                               payload=body.decode("utf-8", "replace"))
        (metrics.EVENTS_RECEIVED if stored else metrics.EVENTS_DUPLICATE).labels(hint.source).inc()
        if stored and self._on_enqueue is not None:
            self._on_enqueue()
        answer = {"accepted": True, "duplicate": not stored, "issue_id": hint.issue_id}
        return 202, json.dumps(answer).encode()


def _error(message: str) -> bytes:
    # As Flask's jsonify writes it (compact, one line), like every other error answer.
    return json.dumps({"error": message}, separators=(",", ":")).encode() + b"\n"


def _answer(start_response: StartResponse, status: int, body: bytes,
            headers: list[tuple[str, str]] | None = None) -> list[bytes]:
    start_response(f"{status} {HTTPStatus(status).phrase}",
                   [("Content-Type", _JSON), ("Content-Length", str(len(body))), *(headers or ())])
    return [body]


def install(app: Flask, rt: Bridge, on_enqueue: Callable[[], None] | None = None) -> None:
    """Put the endpoint in front of a Flask app (Flask's documented middleware hook:
    `app.wsgi_app`; the test client goes through it too)."""
    app.wsgi_app = WebhookEndpoint(rt, app.wsgi_app, on_enqueue)  # type: ignore[method-assign]
