"""The proxy settings read once at start decide how the gateway reaches the real Redmine,
for the calls through requests and for the issue reads and writes sent on libcurl
(BridgeEngine.direct_request) alike."""

from __future__ import annotations

import pytest

from redmine_sla_bridge.adapters.redmine.gateway import (
    RedmineGateway,
    RedmineRejected,
    RedmineUnavailable,
)

pytestmark = pytest.mark.redmine

CLOSED_PROXY = "http://127.0.0.1:9"  # discard port: nothing listens
NO_SUCH_ISSUE = 2**31 - 1  # Redmine answers 404: the call reached Redmine, not the proxy


@pytest.fixture(autouse=True)
def no_proxy_env(monkeypatch):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY",
                 "http_proxy", "https_proxy", "no_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


def _gateway(redmine) -> RedmineGateway:
    return RedmineGateway(redmine.url, redmine.api_key, keep_alive=False, retries=0, timeout=5)


def test_a_proxy_in_the_environment_at_start_is_used(redmine, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", CLOSED_PROXY)
    gateway = _gateway(redmine)
    monkeypatch.delenv("HTTP_PROXY")  # read at start: removing it now changes nothing
    with pytest.raises(RedmineUnavailable):
        gateway.current_user()
    with pytest.raises(RedmineUnavailable):
        gateway.issue(NO_SUCH_ISSUE)
    with pytest.raises(RedmineUnavailable):
        gateway.update_issue(NO_SUCH_ISSUE, notes="never sent")


def test_no_proxy_for_the_redmine_host_reaches_redmine_directly(redmine, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", CLOSED_PROXY)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    gateway = _gateway(redmine)
    assert gateway.current_user()["api_key"] == redmine.api_key
    with pytest.raises(RedmineRejected) as caught:
        gateway.issue(NO_SUCH_ISSUE)
    assert caught.value.status == 404


def test_a_proxy_set_after_start_is_not_picked_up_per_call(redmine, monkeypatch):
    gateway = _gateway(redmine)
    monkeypatch.setenv("HTTP_PROXY", CLOSED_PROXY)
    assert gateway.current_user()["api_key"] == redmine.api_key
    with pytest.raises(RedmineRejected) as caught:
        gateway.update_issue(NO_SUCH_ISSUE, notes="no such issue")
    assert caught.value.status == 404
