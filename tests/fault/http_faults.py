"""An HTTP-aware fault proxy in front of the real Redmine: each request is forwarded
as is, unless a rule says to answer it with an error without forwarding, or to forward
it and then drop Redmine's answer (the call was applied, the caller never hears)."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

FORWARD = "forward"
DROP_ANSWER = "drop answer"

Rule = Callable[[str, str, int], str | int]
"""(method, path, how many requests matched this method+path before) -> FORWARD,
DROP_ANSWER, or an HTTP status to answer without forwarding."""


class FaultProxy:
    def __init__(self, target: str, rule: Rule) -> None:
        self.target = urlsplit(target)
        self.rule = rule
        self.seen: dict[tuple[str, str], int] = {}
        self.log: list[tuple[str, str, str | int]] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args: object) -> None:
                pass

            def _any(self) -> None:
                proxy.handle(self)

            do_GET = do_POST = do_PUT = do_DELETE = _any

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        path = urlsplit(request.path).path
        with self._lock:
            count = self.seen.get((request.command, path), 0)
            self.seen[(request.command, path)] = count + 1
        action = self.rule(request.command, path, count)
        self.log.append((request.command, path, action))
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length else b""
        if isinstance(action, int):
            payload = b'{"errors":["injected fault"]}'
            request.send_response(action)
            request.send_header("Content-Type", "application/json")
            request.send_header("Content-Length", str(len(payload)))
            request.send_header("Connection", "close")
            request.end_headers()
            request.wfile.write(payload)
            request.close_connection = True
            return
        upstream = http.client.HTTPConnection(self.target.hostname, self.target.port, timeout=60)
        headers = {k: v for k, v in request.headers.items()
                   if k.lower() not in ("host", "connection", "keep-alive")}
        upstream.request(request.command, request.path, body=body, headers=headers)
        answer = upstream.getresponse()
        data = answer.read()
        upstream.close()
        if action == DROP_ANSWER:
            request.close_connection = True
            request.connection.close()  # applied by Redmine; the caller gets no answer
            return
        request.send_response(answer.status)
        for key, value in answer.getheaders():
            if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                request.send_header(key, value)
        request.send_header("Content-Length", str(len(data)))
        request.send_header("Connection", "close")
        request.end_headers()
        request.wfile.write(data)
        request.close_connection = True
