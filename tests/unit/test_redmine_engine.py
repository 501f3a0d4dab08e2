"""The HTTP session under python-redmine reads its environment once, at start."""

from __future__ import annotations

import pytest
import requests

from redmine_sla_bridge.adapters.redmine.engine import read_environment_once
from redmine_sla_bridge.adapters.redmine.gateway import RedmineGateway


@pytest.fixture(autouse=True)
def clean_proxy_env(monkeypatch):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY", "http_proxy",
                 "https_proxy", "no_proxy", "all_proxy", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)


def test_proxy_from_the_environment_is_kept_for_the_redmine_url(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.corp:3128")
    session = requests.Session()
    read_environment_once(session, "https://redmine.corp")
    assert session.trust_env is False
    assert session.proxies == {"https": "http://proxy.corp:3128"}


def test_no_proxy_for_the_redmine_host_means_no_proxy(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.corp:3128")
    monkeypatch.setenv("NO_PROXY", "redmine.corp,localhost")
    session = requests.Session()
    read_environment_once(session, "https://redmine.corp")
    assert session.proxies == {}


def test_ca_bundle_from_the_environment_unless_verification_is_off(monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/corp-ca.pem")
    session = requests.Session()
    read_environment_once(session, "https://redmine.corp")
    assert session.verify == "/etc/corp-ca.pem"
    off = requests.Session()
    off.verify = False
    read_environment_once(off, "https://redmine.corp")
    assert off.verify is False


def test_the_gateway_session_does_not_reread_the_environment_per_call(monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.corp:3128")
    gateway = RedmineGateway("http://redmine.corp/", "k" * 40)
    session = gateway._redmine.engine.session
    assert session.trust_env is False
    assert session.proxies == {"http": "http://proxy.corp:3128"}
    monkeypatch.setenv("HTTP_PROXY", "http://other:1")  # read at start only
    assert session.proxies == {"http": "http://proxy.corp:3128"}
