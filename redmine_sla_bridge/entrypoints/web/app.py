"""The Flask application: webhook receiver, intake API, health endpoints, dashboard.

Request handlers only authenticate, validate and store: accepting a webhook means it is
durably in the inbox (202), and the work happens in the inbox worker. Every malformed
input gets a 4xx with a JSON reason; nothing a client sends can produce a 5xx.
"""

from __future__ import annotations

import hmac
import io
import json
import logging
from collections.abc import Callable

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from redmine_sla_bridge.domain.ports import RedmineRejected, RedmineUnavailable
from redmine_sla_bridge.entrypoints.web import dashboard as dashboard_page
from redmine_sla_bridge.entrypoints.web import webhook_endpoint
from redmine_sla_bridge.entrypoints.web.readiness import CachedCheck, Check
from redmine_sla_bridge.entrypoints.web.request_body import BodyRejected, json_text, read_body
from redmine_sla_bridge.service.bridge import Bridge
from redmine_sla_bridge.service.intake_api import (
    IntakeNotAcknowledged,
    IntakeOutcomeUnknown,
    submit_request,
)
from redmine_sla_bridge.telemetry import metrics

log = logging.getLogger(__name__)

# How long one Redmine answer serves /readyz: 100 probes cost a worker at most one call
# per period, and an outage shows within it.
REDMINE_CHECK_TTL_S = 10.0


def create_app(rt: Bridge, on_enqueue: Callable[[], None] | None = None, *,
               dashboard: dashboard_page.Dashboard | None = None) -> Flask:
    """Build the app around a bridge (see `redmine_sla_bridge.bootstrap`). `on_enqueue`
    is called after an event is stored (serve wakes the inbox drainer with it);
    `dashboard` serves `/dashboard` (without it, 404)."""
    app = Flask("redmine_sla_bridge")
    settings = rt.settings
    max_body = settings.max_body_bytes
    app.config["MAX_CONTENT_LENGTH"] = max_body
    app.extensions["bridge_runtime"] = rt

    def error(status: int, message: str, **extra) -> tuple[Response, int]:
        return jsonify({"error": message, **extra}), status

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        return error(exc.code or 500, exc.description or exc.name)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        # A bug or the store being unwritable: the client must retry (Redmine does).
        log.exception("request failed")
        return error(503, "the bridge could not store the request; retry later")

    def json_body_required() -> tuple[Response, int] | None:
        """The size (413, chunked bodies included) and type (415) checks of a JSON body,
        then its UTF-8 and nesting depth (400). The body is read once, within the limit,
        and put back as the request's input, so `request.get_data()` returns it.
        (The webhook has its own endpoint, webhook_endpoint.py, which checks UTF-8 and
        depth after the signature.)"""
        try:
            body = read_body(request.environ, max_body)
        except BodyRejected as exc:
            # What is left of an oversized body stays unread: gunicorn drains it within
            # its own bounds (time and bytes) or closes the connection.
            return error(exc.status, exc.message)
        if request.mimetype != "application/json":
            return error(415, "expected Content-Type: application/json")
        try:
            json_text(body)
        except BodyRejected as exc:
            return error(exc.status, exc.message)
        request.environ["wsgi.input"] = io.BytesIO(body)
        request.environ["CONTENT_LENGTH"] = str(len(body))
        return None

    @app.post("/api/v1/requests")
    def intake_request():
        api = settings.intake_api
        if api is None:
            return error(404, "the intake API is not enabled (config: intake_api)")
        presented = request.headers.get("Authorization", "")
        expected = "Bearer " + api.token
        if not hmac.compare_digest(presented.encode(), expected.encode()):
            return error(401, "missing or wrong bearer token")
        problem = json_body_required()
        if problem:
            return problem
        try:
            document = json.loads(request.get_data(cache=False))
        except (ValueError, UnicodeDecodeError):
            return error(400, "the body is not valid JSON")
        key = request.headers.get("Idempotency-Key")
        try:
            answer = submit_request(rt, document, idempotency_key=key)
        except (IntakeOutcomeUnknown, IntakeNotAcknowledged) as exc:
            return error(503, str(exc), idempotency_key=exc.key)
        except RedmineUnavailable:
            # Known: the create itself did not happen (or no key could have found it).
            return error(503, "Redmine is unavailable; nothing was created, retry later")
        except RedmineRejected as exc:
            log.error("Redmine refused the new issue: %s", exc)
            return error(502, "Redmine refused the new issue; the bridge's admin must check it")
        return jsonify(answer.body), answer.status

    dashboard_page.register(app, dashboard)
    # POST /webhooks/redmine is answered in front of Flask (webhook_endpoint.py).
    webhook_endpoint.install(app, rt, on_enqueue)

    @app.get("/metrics")
    def prometheus():
        body, content_type = metrics.render()
        return Response(body, mimetype=content_type.split(";")[0],
                        headers={"Content-Type": content_type})

    @app.get("/healthz")
    def healthz():
        return jsonify({"status": "ok"})

    store_check = Check("store", lambda: rt.store.check_writable(rt.clock()))
    redmine_check = CachedCheck(Check("redmine", rt.redmine.ping), REDMINE_CHECK_TTL_S)

    @app.get("/readyz")
    def readyz():
        checks = {"store": store_check(), "redmine": redmine_check()}
        ready = all(v == "ok" for v in checks.values())
        return jsonify({"ready": ready, "checks": checks}), 200 if ready else 503

    return app
