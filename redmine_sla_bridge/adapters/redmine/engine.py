"""python-redmine's engine, with the timeout and retries it does not apply by itself.

python-redmine 2.5.0 copies `requests={'timeout': ...}` onto the requests.Session as an
attribute, which requests ignores: without this subclass a hung Redmine hangs the bridge.

`direct_request` sends the two calls every event makes (an issue's GET, its PUT) on
libcurl without requests' per-call machinery (docs/PERFORMANCE.md, "Per-event cost").
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

import requests
from redminelib.engines.sync import SyncEngine
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers, select_proxy
from urllib3 import exceptions as u3
from urllib3.util.retry import Retry

from redmine_sla_bridge.adapters.redmine.curl_transport import CurlTransport


class BridgeEngine(SyncEngine):
    """Adds a per-request timeout, urllib3 retries of idempotent calls, an optional
    `Connection: close`, and a hook that counts every call (for metrics and budgets)."""

    def __init__(self, *, timeout: float, retries: int, keep_alive: bool, base_url: str = "",
                 on_request: Callable[[str, str], None] | None = None, **options):
        self.timeout = timeout
        self.keep_alive = keep_alive
        self.on_request = on_request
        super().__init__(**options)
        read_environment_once(self.session, base_url)
        retry = Retry(
            total=retries,
            connect=retries,
            read=retries,
            status=retries,
            # A POST or PUT whose answer was lost may have been applied: retrying it
            # could post the same note twice. Those are retried by the event inbox,
            # which re-reads the issue first.
            allowed_methods=frozenset({"GET", "HEAD"}),
            status_forcelist=(502, 503, 504),
            backoff_factor=0.2,
            # urllib3 would sleep a Retry-After of up to 6 hours per retry, holding the
            # event's inbox lease: the in-call retries stay short, the inbox backs off.
            respect_retry_after_header=False,
            raise_on_status=False,
        )
        adapter = HTTPAdapter(max_retries=retry)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self._adapter = adapter
        # The engine's defaults: answers read as JSON (no raw or ignored responses).
        self._plain_answers = (self.return_response and not self.return_raw_response
                               and not self.ignore_response)
        self._direct = direct_transport(self, base_url)

    def direct_request(self, method: str, url: str, params: Mapping[str, str] | None = None,
                       data: Any = None):
        """`request` for the hot calls, with the same outcome at less than half the CPU.

        requests spends more CPU per call than the HTTP exchange itself (merging session
        and call settings, cookie jars that Redmine's API never fills, hooks, typing
        checks of the body), and urllib3 and `http.client` most of the rest. This sends
        on libcurl (`curl_transport`) with the settings requests resolved for Redmine
        (headers, proxy, CA bundle, timeout, retry policy), reads a JSON success itself
        and hands any other answer, as a `requests.Response`, to python-redmine's own
        `process_response`; libcurl's failures become the requests exceptions requests
        would raise. So every answer and failure comes out as from `request`. `data`
        is a JSON body. A redirect, a client with a login instead of a key, or a
        method other than GET, PUT and POST takes `request`.
        """
        direct = self._direct
        verb = method.upper()
        if direct is None or verb not in ("GET", "PUT", "POST"):
            return self.request(method, url, params=dict(params or {}), data=data)
        if self.on_request is not None:
            self.on_request(verb, url)
        if params:
            url = f"{url}?{urlencode(params, doseq=True)}"
        body = None if data is None else json.dumps(data).encode()
        try:
            answer = direct.send(verb, url, body)
        except (u3.HTTPError, OSError) as exc:
            raise as_requests_error(exc) from exc
        status = answer.status
        if 300 <= status < 400:
            # requests follows it and python-redmine warns or refuses: leave it to them.
            return super().request(method, url, data=data)
        if (status in (200, 201, 204) and self._plain_answers
                and _charset(answer.content_type) in (None, "utf-8")):
            # python-redmine's reading of a success (requests' decoding of UTF-8 JSON),
            # without building a Response.
            if not answer.content.strip():
                return True
            try:
                return json.loads(answer.content)
            except ValueError:
                pass  # process_response decides (with requests' decoding) and raises
        response = requests.Response()
        response.status_code = status
        response.reason = answer.reason
        response.headers = answer.headers
        response.encoding = get_encoding_from_headers(response.headers)
        response._content = answer.content
        response.url = url
        return self.process_response(response)

    def construct_request_kwargs(self, method, headers, params, data):
        kwargs = SyncEngine.construct_request_kwargs(method, headers, params, data)
        kwargs["timeout"] = self.timeout
        if not self.keep_alive:
            kwargs["headers"]["Connection"] = "close"
        return kwargs

    def request(self, method, url, headers=None, params=None, data=None):
        if self.on_request is not None:
            self.on_request(method.upper(), url)
        return super().request(method, url, headers=headers, params=params, data=data)


def read_environment_once(session: requests.Session, base_url: str) -> None:
    """Take the proxy and CA-bundle settings from the environment now, not per call.

    With `trust_env` on, requests re-reads the proxy variables, the CA-bundle variables
    and ~/.netrc on every request: about a quarter of the HTTP client's CPU per call
    here (docs/PERFORMANCE.md). The bridge talks to one Redmine whose address never
    changes, so the answer is the same each time: resolve it once for that URL
    (NO_PROXY included) and switch the per-call lookup off. ~/.netrc is not consulted:
    the bridge authenticates with its API key, or with the admin login it is given.
    """
    if base_url:
        # requests' own resolution (proxies, NO_PROXY, CA-bundle variables), done once.
        settings = session.merge_environment_settings(base_url, {}, None, session.verify, None)
        session.proxies = settings["proxies"]
        session.verify = settings["verify"]
    session.trust_env = False


def direct_transport(engine: BridgeEngine, base_url: str) -> CurlTransport | None:
    """The transport of `direct_request`, with what requests resolved for the Redmine
    URL; None where requests must send every call (a login, also one in the URL, or a
    client certificate: libcurl is not given those)."""
    session = engine.session
    if (not base_url or session.auth is not None or session.cert is not None
            or "://" not in base_url or "@" in base_url.split("://", 1)[1].split("/", 1)[0]):
        return None
    scheme, rest = base_url.split("://", 1)
    return CurlTransport(
        origin=f"{scheme}://{rest.split('/', 1)[0]}",
        # python-redmine's session headers (API key, impersonation) and requests' own
        # defaults (User-Agent, Accept, Accept-Encoding): what requests would send.
        headers=dict(session.headers),
        proxy=select_proxy(base_url, session.proxies),
        verify=session.verify if isinstance(session.verify, (bool, str)) else True,
        timeout=engine.timeout,
        keep_alive=engine.keep_alive,
        retry=engine._adapter.max_retries,
    )


@functools.lru_cache(maxsize=32)  # Redmine sends one or two distinct Content-Types
def _charset(content_type: str | None) -> str | None:
    """requests' reading of the charset (`get_encoding_from_headers`), for one header."""
    if not content_type:
        return None
    return get_encoding_from_headers(CaseInsensitiveDict({"content-type": content_type}))


def as_requests_error(exc: BaseException) -> requests.RequestException:
    """The requests exception requests' `HTTPAdapter.send` raises for this urllib3 error,
    so the gateway sorts failures of `direct_request` like those of `request`."""
    if isinstance(exc, (u3.ProtocolError, OSError)):
        return requests.ConnectionError(exc)
    if isinstance(exc, u3.MaxRetryError):
        reason = exc.reason
        if isinstance(reason, u3.ConnectTimeoutError) and not isinstance(reason, u3.NewConnectionError):
            return requests.ConnectTimeout(exc)
        if isinstance(reason, u3.ResponseError):
            return requests.exceptions.RetryError(exc)
        if isinstance(reason, u3.ProxyError):
            return requests.exceptions.ProxyError(exc)
        if isinstance(reason, u3.SSLError):
            return requests.exceptions.SSLError(exc)
        return requests.ConnectionError(exc)
    if isinstance(exc, u3.ClosedPoolError):
        return requests.ConnectionError(exc)
    if isinstance(exc, u3.ProxyError):
        return requests.exceptions.ProxyError(exc)
    if isinstance(exc, u3.SSLError):
        return requests.exceptions.SSLError(exc)
    if isinstance(exc, u3.ReadTimeoutError):
        return requests.ReadTimeout(exc)
    if isinstance(exc, u3.InvalidHeader):
        return requests.exceptions.InvalidHeader(exc)
    # requests lets any other urllib3 error through; the gateway calls it unavailable.
    return requests.RequestException(exc)
