"""python-redmine's engine, with the timeout and retries it does not apply by itself.

python-redmine 2.5.0 copies `requests={'timeout': ...}` onto the requests.Session as an
attribute, which requests ignores: without this subclass a hung Redmine hangs the bridge.
"""

from __future__ import annotations

from collections.abc import Callable

import requests
from redminelib.engines.sync import SyncEngine
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry


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
