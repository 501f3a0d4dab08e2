"""The HTML report and `/dashboard` in headless Chromium, and `/dashboard` under `serve`.

- The report file (`report_html.render`) opened from disk, and `/dashboard` served by
  the bridge's Flask app under a real HTTP server (werkzeug's, threaded) with a fake
  report source: every chart is an SVG with one bar per data point and series (counted
  in the rendered DOM against the report's own figures), the charts have a size on the
  page, nothing but the page itself is requested, and the page logs no console error,
  exception or CSP violation (DevTools' Runtime and Log domains; a console.error
  written on purpose at the end proves the channel is read). Screenshots are saved to
  var/test-artefacts/dashboard/ (git-ignored) and named in the test's output.
- Credentials over HTTP: none 401 with WWW-Authenticate, a wrong token 401, the right
  one (header or ?token=) and an HTTP basic user 200.
- The real `redmine-sla-bridge serve` (gunicorn) with `dashboard` in its config: the
  same 401s, and with the token the dashboard answers from the composition root's
  report source (503 naming the missing module in a build without `service.report`).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.security import generate_password_hash
from werkzeug.serving import make_server

from redmine_sla_bridge.bootstrap import bootstrap
from redmine_sla_bridge.config.loader import load_config
from redmine_sla_bridge.entrypoints.report_html import render
from redmine_sla_bridge.entrypoints.web.app import create_app
from redmine_sla_bridge.entrypoints.web.dashboard import Dashboard, DashboardSettings
from tests.conftest import write_config
from tests.integration.test_field_names_ru import PNG, HeadlessChromium
from tests.report_sample import sample_report

ROOT = Path(__file__).resolve().parents[2]
ARTEFACTS = ROOT / "var" / "test-artefacts" / "dashboard"
BENCHMARKS = ROOT / "benchmarks"
TOKEN = "browser-dashboard-token-5c1d"
PASSWORD = "пароль руководителя"

# What the page's DOM holds, read in the browser.
CHARTS_JS = """JSON.stringify(Array.from(document.querySelectorAll('svg.chart')).map(svg => ({
  chart: svg.dataset.chart,
  width: svg.getBoundingClientRect().width,
  bars: Array.from(svg.querySelectorAll('rect.bar')).map(r => ({
    series: r.dataset.series, key: r.dataset.key, value: Number(r.dataset.value),
    height: r.getBoundingClientRect().height})),
  lines: svg.querySelectorAll('g.target-line').length})))"""


class Browser(HeadlessChromium):
    """The shared DevTools driver, keeping every event it reads: console messages and
    requests arrive while a page loads, which `open` otherwise drops."""

    def __init__(self, profile: Path) -> None:
        self.seen: list[dict] = []
        super().__init__(profile, language="en", size="1280,1000")
        for domain in ("Runtime.enable", "Log.enable", "Network.enable"):
            self.call(domain, session=self.page)

    def _message(self, timeout: float) -> dict:
        message = super()._message(timeout)
        self.seen.append(message)
        return message

    def problems(self) -> list[str]:
        out = []
        for event in self.seen:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                out.append("console: " + " ".join(str(a.get("value")) for a in params.get("args", [])))
            elif method == "Runtime.exceptionThrown":
                out.append("exception: " + json.dumps(params.get("exceptionDetails", {}))[:300])
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                out.append("log: " + params["entry"].get("text", ""))
        return out

    def requested(self) -> list[str]:
        return [e["params"]["request"]["url"] for e in self.seen
                if e.get("method") == "Network.requestWillBeSent"]

    def statuses(self) -> list[tuple[str, int]]:
        """(URL, status) of the answers over the network (data: URLs are the browser's
        own, e.g. the date input's calendar icon)."""
        return [(e["params"]["response"]["url"], e["params"]["response"]["status"]) for e in self.seen
                if e.get("method") == "Network.responseReceived"
                and not e["params"]["response"]["url"].startswith("data:")]

    def charts(self) -> dict[str, dict]:
        return {c["chart"]: c for c in json.loads(self.evaluate(CHARTS_JS))}


def expected_bars(report: dict) -> dict[tuple[str, str], int]:
    """(chart, series) -> bar count, from the report's figures alone."""
    weeks, tiers = len(report["by_week"]), len(report["by_tier"])
    breached = [g for g in report["by_product"]
                if g["summary"]["first_response"]["breached"] + g["summary"]["resolution"]["breached"]]
    out = {}
    for target in ("first_response", "resolution"):
        for outcome in ("met", "breached"):
            out[f"weekly_{target}", outcome] = weeks
            out[f"tier_{target}", outcome] = tiers
        out["breaches_by_product", target] = len(breached)
    return out


def check_page(browser: Browser, report: dict, page_url: str, shot: Path) -> None:
    charts = browser.charts()
    assert set(charts) == {"weekly_first_response", "weekly_resolution", "tier_first_response",
                           "tier_resolution", "first_response_histogram", "breaches_by_product"}
    for (chart, series), count in expected_bars(report).items():
        bars = [b for b in charts[chart]["bars"] if b["series"] == series]
        assert len(bars) == count, (chart, series)
    for target in ("first_response", "resolution"):
        weekly = {(b["key"], b["series"]): b["value"] for b in charts[f"weekly_{target}"]["bars"]}
        for week in report["by_week"]:
            for outcome in ("met", "breached"):
                assert weekly[week["key"], outcome] == week["summary"][target][outcome]
    histogram = charts["first_response_histogram"]
    assert sum(b["value"] for b in histogram["bars"]) == len(report["first_response_times"])
    targets = {t["target_minutes"] for t in report["first_response_times"] if t["target_minutes"]}
    assert histogram["lines"] == len(targets)
    for chart in charts.values():
        assert chart["width"] > 300, chart["chart"]  # laid out, not collapsed
        drawn = [b for b in chart["bars"] if b["value"] > 0]
        assert drawn and all(b["height"] > 0 for b in drawn), chart["chart"]
    assert browser.evaluate("document.querySelectorAll('tr.breach').length") == (
        len(report["breaches"]) + sum(len(c["breaches"]) for c in report["contracts"]))
    assert browser.evaluate("document.querySelector('script') === null")
    # Only the page itself was fetched: no stylesheet, font, script or image from anywhere.
    assert [u for u in browser.requested() if not u.startswith("data:")] == [page_url]
    assert browser.problems() == []
    shot.parent.mkdir(parents=True, exist_ok=True)
    browser.screenshot(shot)
    data = shot.read_bytes()
    assert data.startswith(PNG) and len(data) > 20_000, shot
    print(f"screenshot: {shot}")


class FakeSource:
    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def __call__(self, period_from, period_to, project, customer):
        self.calls.append((period_from, period_to, project, customer))
        return sample_report("ru", period_from=period_from.isoformat(), period_to=period_to.isoformat())


def config_document(tmp_path: Path, **sections) -> dict:
    return {
        "language": "ru",
        # Nothing here asks Redmine: a closed port.
        "redmine": {"url": "http://127.0.0.1:9", "api_key": "${DASH_REDMINE_KEY}", "retries": 0,
                    "timeout_seconds": 2},
        "store": {"url": f"sqlite:///{tmp_path / 'dashboard.sqlite3'}"},
        "polling": {"enabled": False},
        "lifecycle": {"sweep_interval_seconds": 86400},
        "calendars": {"office": {"timezone": "Europe/Moscow",
                                 "week": {"mon-fri": [["09:00", "18:00"]]}, "holidays": "RU"}},
        "policy": {"calendar": "office", "tiers": [{"name": "standard", "when": {}}],
                   "priority": {"mode": "impact", "default_impact": "P3"}},
        **sections,
    }


@pytest.fixture()
def server(tmp_path, monkeypatch) -> Iterator[tuple[str, FakeSource]]:
    monkeypatch.setenv("DASH_REDMINE_KEY", "k" * 40)
    bridge = bootstrap(load_config(write_config(tmp_path / "bridge.yaml", config_document(tmp_path))),
                       notifier=None)
    source = FakeSource()
    settings = DashboardSettings(token=TOKEN, users={"lead": generate_password_hash(PASSWORD)},
                                 cache_seconds=60, timezone=bridge.rules.timezone)
    app = create_app(bridge, dashboard=Dashboard(settings, source, bridge.clock))
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{http.server_port}", source
    finally:
        http.shutdown()
        thread.join(10)
        bridge.store.close()


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, list[str]], str]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            status, head, body = answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as error:
        status, head, body = error.code, error.headers, error.read()
    return status, {k.lower(): head.get_all(k) for k in head}, body.decode()


def basic(login: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{login}:{password}".encode()).decode()}


def test_dashboard_answers_only_with_credentials(server):
    url, source = server
    status, headers, body = get(url + "/dashboard")
    assert status == 401 and "authentication required" in body
    assert any(c.startswith("Basic ") for c in headers["www-authenticate"])
    assert any(c.startswith("Bearer ") for c in headers["www-authenticate"])
    assert get(url + "/dashboard", {"Authorization": "Bearer wrong-token-0000000000"})[0] == 401
    assert get(url + "/dashboard?token=wrong-token-0000000000")[0] == 401
    assert get(url + "/dashboard", basic("lead", "wrong"))[0] == 401
    assert source.calls == []
    status, headers, body = get(url + "/dashboard", {"Authorization": f"Bearer {TOKEN}"})
    assert status == 200 and headers["content-type"] == ["text/html; charset=utf-8"]
    assert "Отчёт о соблюдении SLA" in body
    assert get(url + f"/dashboard?token={TOKEN}")[0] == 200
    assert get(url + "/dashboard", basic("lead", PASSWORD))[0] == 200
    assert len(source.calls) == 1  # the same period: served from the cache
    status, _, body = get(url + "/dashboard?from=2026-02-30", {"Authorization": f"Bearer {TOKEN}"})
    assert status == 400 and "from: '2026-02-30' is not a date" in body


def test_the_report_file_and_the_dashboard_render_in_chromium(server, tmp_path):
    url, source = server
    report = sample_report("ru", weeks=5)
    page = tmp_path / "report.html"
    page.write_text(render(report), encoding="utf-8")
    browser = Browser(tmp_path / "chromium-profile")
    try:
        browser.open(page.as_uri())
        check_page(browser, report, page.as_uri(), ARTEFACTS / "report-file-ru.png")

        browser.seen.clear()
        browser.open(url + "/dashboard")  # no credentials: the browser gets the 401
        assert (url + "/dashboard", 401) in browser.statuses()

        browser.call("Network.setExtraHTTPHeaders", session=browser.page,
                     headers={"Authorization": f"Bearer {TOKEN}"})
        browser.seen.clear()
        address = url + "/dashboard?from=2026-11-01&to=2026-11-30"
        browser.open(address)
        assert browser.statuses() == [(address, 200)]
        served = sample_report("ru", period_from="2026-11-01", period_to="2026-11-30")
        check_page(browser, served, address, ARTEFACTS / "dashboard-ru.png")

        # Another period through the page's own form, as a lead would choose it.
        browser.evaluate("document.querySelector('input[name=from]').value = '2026-10-01';"
                         "document.querySelector('input[name=to]').value = '2026-10-31';"
                         "document.querySelector('form.period button').click(); true", then_loads=True)
        assert source.calls[-1] == (dt.date(2026, 10, 1), dt.date(2026, 10, 31), None, None)
        assert browser.evaluate("location.search") == "?from=2026-10-01&to=2026-10-31&project=&customer="
        assert "2026-10-01 – 2026-10-31" in browser.evaluate("document.querySelector('header').innerText")

        browser.evaluate("console.error('probe: the console is read'); true")
        browser.call("Runtime.evaluate", session=browser.page, expression="1")  # flush events
        assert browser.problems() == ["console: probe: the console is read"]
    finally:
        browser.close()


def test_serve_wires_the_dashboard_from_its_config(tmp_path, monkeypatch):
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import common
    finally:
        sys.path.remove(str(BENCHMARKS))
    monkeypatch.setenv("DASH_REDMINE_KEY", "k" * 40)
    monkeypatch.setenv("DASH_TOKEN", TOKEN)
    monkeypatch.setenv("DASH_LEAD_HASH", generate_password_hash(PASSWORD))
    config = write_config(tmp_path / "serve.yaml", config_document(
        tmp_path, dashboard={"enabled": True, "token": "${DASH_TOKEN}",
                             "users": {"lead": "${DASH_LEAD_HASH}"}}))
    port = common.free_port()
    log = (tmp_path / "serve.log").open("w")
    proc = common.start_serve(config, port, workers=1, output=log)
    try:
        url = f"http://127.0.0.1:{port}/dashboard"
        assert get(url)[0] == 401
        assert get(url, {"Authorization": "Bearer not-the-token-000000"})[0] == 401
        assert get(url, basic("lead", "not the password"))[0] == 401
        status, _, body = get(url, basic("lead", PASSWORD))
        assert status == get(url, {"Authorization": f"Bearer {TOKEN}"})[0]
        # The report asked Redmine (a closed port here): 503 with the reason.
        assert status == 503 and "could not be read from Redmine" in body
    finally:
        common.stop(proc)
        log.close()
