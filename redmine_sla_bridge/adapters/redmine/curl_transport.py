"""The two calls of every event (an issue's GET, its PUT) on libcurl, through pycurl.

Why a second HTTP client beside requests: these two calls are most of the bridge's own
CPU per event, and of that the HTTP client's share was urllib3 and `http.client`
(building the request in Python, parsing the answer's headers with the `email`
package). libcurl does the same exchange in C: 0.45 against 1.07 ms of CPU for the
same kept-alive GET of an issue (docs/PERFORMANCE.md, "Per-event cost"). Everything
else (uploads, paging, admin calls) stays on requests.

What is the same as on requests, so that the gateway cannot tell the two apart:
the bytes requests would send (its session's headers, the API key among them), the proxy
and CA settings requests resolved once at start for the Redmine URL, the kept-alive
connection, and the in-call retry policy, which is urllib3's own `Retry` object
driven here: connection failures retried for every method (nothing was sent),
timeouts and dropped answers only for GET, 502/503/504 only for GET, its backoff
and its sleep. libcurl's failures become the urllib3 errors they correspond to, so
`engine.as_requests_error` gives the requests exception requests would have raised.

One difference, on purpose: a call's time is bounded as a whole (the connect timeout
plus the read timeout), where urllib3 bounds each read.
"""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, cast

import pycurl
import urllib3
from requests.structures import CaseInsensitiveDict
from requests.utils import DEFAULT_CA_BUNDLE_PATH
from urllib3 import HTTPResponse
from urllib3 import exceptions as u3
from urllib3.util.retry import Retry

_TIMED_OUT = {pycurl.E_OPERATION_TIMEDOUT}
_NO_CONNECTION = {pycurl.E_COULDNT_CONNECT, pycurl.E_COULDNT_RESOLVE_HOST}
_PROXY = {pycurl.E_COULDNT_RESOLVE_PROXY, 97}  # 97: CURLE_PROXY (libcurl >= 7.73)
_TLS = {pycurl.E_SSL_CONNECT_ERROR, pycurl.E_PEER_FAILED_VERIFICATION,
        pycurl.E_SSL_CERTPROBLEM, pycurl.E_SSL_CACERT_BADFILE, pycurl.E_SSL_CIPHER,
        pycurl.E_SSL_ENGINE_NOTFOUND, pycurl.E_SSL_ENGINE_SETFAILED, pycurl.E_SSL_ISSUER_ERROR,
        pycurl.E_SSL_CRL_BADFILE, pycurl.E_SSL_SHUTDOWN_FAILED}
@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str | None
    content: bytes

    @property
    def headers(self) -> CaseInsensitiveDict[str]:
        headers: CaseInsensitiveDict[str] = CaseInsensitiveDict()
        if self.content_type:
            headers["Content-Type"] = self.content_type
        return headers

    @property
    def reason(self) -> str:
        try:
            return HTTPStatus(self.status).phrase
        except ValueError:
            return ""


class CurlTransport:
    """Sends GET and JSON PUT/POST calls to one Redmine; one libcurl handle (and so one
    kept-alive connection) per thread, since a handle must not be shared between
    threads. Settings are fixed at construction."""

    def __init__(self, *, origin: str, headers: Mapping[str, str], proxy: str | None,
                 verify: bool | str, timeout: float, keep_alive: bool, retry: Retry) -> None:
        self._origin = origin
        self.timeout = timeout
        self._retry = retry
        self._proxied = bool(proxy)
        # What urllib3 sends besides the session's headers: its User-Agent (so that
        # Redmine's log shows one client for all of the bridge's calls), no Accept, no
        # compression. "Expect:" keeps libcurl from asking before a large body, which
        # requests never does.
        named = {name.lower() for name in headers}
        lines = [f"{name}: {value}" for name, value in headers.items()
                 if name.lower() not in ("accept-encoding", "connection")]
        if "user-agent" not in named:
            lines.append(f"User-Agent: python-urllib3/{urllib3.__version__}")
        if "accept" not in named:
            lines.append("Accept:")
        # python-redmine's session asks for no compression, so libcurl need decode none.
        lines.append("Accept-Encoding: identity")
        if not keep_alive:
            lines.append("Connection: close")
        lines.append("Expect:")
        self._headers = lines
        self._json_headers = [*lines, "Content-Type: application/json"]
        options: list[tuple[int, Any]] = [
            (pycurl.NOSIGNAL, 1),  # timeouts without SIGALRM: the bridge is threaded
            (pycurl.CONNECTTIMEOUT_MS, max(1, round(timeout * 1000))),
            (pycurl.TIMEOUT_MS, max(1, round(2 * timeout * 1000))),
            (pycurl.FOLLOWLOCATION, 0),
            (pycurl.HTTP_VERSION, pycurl.CURL_HTTP_VERSION_1_1),  # what requests speaks
            # An empty proxy keeps libcurl from reading the proxy variables itself: they
            # were read once, at start, as requests reads them.
            (pycurl.PROXY, proxy or ""),
            (pycurl.FORBID_REUSE, 0 if keep_alive else 1),
        ]
        if verify is False:
            options += [(pycurl.SSL_VERIFYPEER, 0), (pycurl.SSL_VERIFYHOST, 0)]
        else:
            bundle = DEFAULT_CA_BUNDLE_PATH if verify is True else str(verify)
            options.append((pycurl.CAPATH if os.path.isdir(bundle) else pycurl.CAINFO, bundle))
        self._options = options
        self._local = threading.local()

    def send(self, method: str, url: str, body: bytes | None) -> Answer:
        """The answer of the call, after the in-call retries; a failure to get one
        raises the urllib3 error urllib3 would have raised."""
        retries = self._retry
        path = url[len(self._origin):] if url.startswith(self._origin) else url
        while True:
            try:
                answer = self._perform(method, url, body)
            except _Failed as failed:
                # Raises MaxRetryError when spent, or the error itself when it may not
                # be retried (a write whose answer was lost may have been applied).
                retries = retries.increment(method, path, error=failed.error,
                                            _pool=cast(Any, self._pool_label))
                retries.sleep()
                continue
            if retries.is_retry(method, answer.status):
                try:
                    retries = retries.increment(
                        method, path, response=HTTPResponse(status=answer.status),
                        _pool=cast(Any, self._pool_label))
                except u3.MaxRetryError:
                    return answer  # spent: the last answer is the call's (raise_on_status off)
                retries.sleep()
                continue
            return answer

    @property
    def _pool_label(self) -> str:
        return f"Redmine at {self._origin}"

    def _handle(self) -> tuple[pycurl.Curl, threading.local]:
        local = self._local
        if getattr(local, "handle", None) is None or local.pid != os.getpid():
            # (also a handle made before a fork: the child makes its own)
            local.handle, local.pid, local.mode = self._new_handle(), os.getpid(), None
        return local.handle, local

    def _new_handle(self) -> pycurl.Curl:
        handle = pycurl.Curl()
        for option, value in self._options:
            handle.setopt(option, value)
        return handle

    def _perform(self, method: str, url: str, body: bytes | None) -> Answer:
        handle, local = self._handle()
        content = io.BytesIO()
        handle.setopt(pycurl.URL, url)
        handle.setopt(pycurl.WRITEDATA, content)
        # The method and headers stay on the handle: set again only when they change.
        if body is None:
            if local.mode != method:
                handle.setopt(pycurl.HTTPGET, 1)
                handle.setopt(pycurl.CUSTOMREQUEST, None if method == "GET" else method)
                handle.setopt(pycurl.HTTPHEADER, self._headers)
        else:
            handle.setopt(pycurl.POSTFIELDS, body)  # also makes it a POST
            if local.mode != method:
                handle.setopt(pycurl.CUSTOMREQUEST, None if method == "POST" else method)
                handle.setopt(pycurl.HTTPHEADER, self._json_headers)
        local.mode = method
        try:
            handle.perform()
        except pycurl.error as exc:
            if len(exc.args) != 2:  # an option libcurl refused, not a transfer's failure
                raise
            code, message = exc.args
            raise _Failed(self._error(code, message, handle, url)) from None
        # Nothing reads an answer's other headers (python-redmine decodes the body by
        # its Content-Type, and the in-call retries ignore Retry-After): libcurl parses
        # them in C and keeps the one that matters.
        return Answer(handle.getinfo(pycurl.RESPONSE_CODE),
                      handle.getinfo(pycurl.CONTENT_TYPE), content.getvalue())

    def _error(self, code: int, message: str, handle: pycurl.Curl, url: str) -> Exception:
        text = f"curl error {code}: {message}"
        sent = handle.getinfo(pycurl.REQUEST_SIZE) > 0
        if code in _TIMED_OUT:
            if sent:  # the request went out: it may have been applied
                return u3.ReadTimeoutError(cast(Any, self._pool_label), url,
                                           f"Read timed out. ({text})")
            return u3.ConnectTimeoutError(text)
        if not sent and (code in _PROXY or (self._proxied and code in _NO_CONNECTION)):
            return u3.ProxyError("Unable to connect to proxy", OSError(text))
        if not sent and code in _NO_CONNECTION:
            return u3.NewConnectionError(cast(Any, self._pool_label),
                                         f"Failed to establish a new connection: {text}")
        if code in _TLS:
            return u3.SSLError(text)
        return u3.ProtocolError("Connection aborted.", OSError(text))


class _Failed(Exception):
    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error
