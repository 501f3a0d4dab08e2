"""Field names in the users' language, and fields found by their marker when renamed.

The Russian tests provision the Russian default names behind a sandbox prefix, with a
marker set of their own (tests/integration/test_provision_permissions.py `sandbox`): the
shared default fields of the preset tests keep their values while these tests switch
languages, and the sandbox's fields are removed afterwards.

The issue page is looked at in Debian's chromium, headless, driven over the DevTools
protocol on a pipe, after logging in through Redmine's login form like a person.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
import select
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from redmine_sla_bridge.adapters.redmine.admin_forms import AdminSession, CustomFieldForm
from redmine_sla_bridge.adapters.redmine.fields import FieldMap, marker, specs_for_config
from redmine_sla_bridge.config.loader import load_config
from redmine_sla_bridge.config.model import DEFAULT_FIELD_NAMES
from redmine_sla_bridge.service.process_issue import process_issue
from tests.conftest import write_config
from tests.integration.test_provision_permissions import (  # noqa: F401
    FIELD_KEYS,
    Sandbox,
    run_cli,
    sandbox,
)

pytestmark = pytest.mark.redmine

RUSSIAN = DEFAULT_FIELD_NAMES["ru"]
PNG = b"\x89PNG\r\n\x1a\n"


class HeadlessChromium:
    """Debian's chromium over the DevTools protocol (`--remote-debugging-pipe`: JSON
    messages ending in NUL on file descriptors 3 and 4), so no driver is needed."""

    def __init__(self, profile: Path, *, language: str = "ru", size: str = "1280,1400") -> None:
        binary = shutil.which("chromium")
        if binary is None:
            pytest.skip("Debian's chromium is not installed (apt-get install chromium; "
                        "`dev-redmine start` installs it with Redmine)")
        into_chrome, self._out = os.pipe()
        self._in, from_chrome = os.pipe()

        def descriptors() -> None:
            os.dup2(into_chrome, 3)
            os.dup2(from_chrome, 4)

        self.process = subprocess.Popen(
            [binary, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--remote-debugging-pipe", f"--user-data-dir={profile}", f"--lang={language}",
             f"--accept-lang={language}", f"--window-size={size}", "about:blank"],
            preexec_fn=descriptors, pass_fds=(3, 4), stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(into_chrome)
        os.close(from_chrome)
        self._buffer = b""
        self._events: list[dict] = []
        self._last_id = 0
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.page = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self.call("Page.enable", session=self.page)

    def _message(self, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._in], [], [], left)[0]:
                raise TimeoutError("chromium did not answer")
            chunk = os.read(self._in, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium exited")
            self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        return json.loads(message)

    def call(self, method: str, *, session: str | None = None, timeout: float = 60, **params):
        self._last_id += 1
        message: dict = {"id": self._last_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._out, json.dumps(message).encode() + b"\0")
        while True:
            answer = self._message(timeout)
            if answer.get("id") == self._last_id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer.get("result", {})
            self._events.append(answer)

    def _loaded(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == "Page.loadEventFired" for e in self._events):
            self._events.append(self._message(deadline - time.monotonic()))
        self._events.clear()

    def open(self, url: str) -> None:
        self._events.clear()
        self.call("Page.navigate", session=self.page, url=url)
        self._loaded()

    def evaluate(self, expression: str, *, then_loads: bool = False):
        if then_loads:
            self._events.clear()
        value = self.call("Runtime.evaluate", session=self.page, expression=expression,
                          returnByValue=True).get("result", {}).get("value")
        if then_loads:
            self._loaded()
        return value

    def log_in(self, url: str, login: str, password: str) -> None:
        """Through Redmine's login form, as a person would."""
        self.open(url + "/login")
        self.evaluate(f"document.getElementById('username').value = {json.dumps(login)};"
                      f"document.getElementById('password').value = {json.dumps(password)};"
                      "document.querySelector('#login-form form').submit(); true",
                      then_loads=True)
        assert "/login" not in self.evaluate("location.pathname"), "Redmine refused the login"

    def screenshot(self, path: Path) -> None:
        shot = self.call("Page.captureScreenshot", session=self.page, format="png",
                         captureBeyondViewport=True)
        path.write_bytes(base64.b64decode(shot["data"]))

    def close(self) -> None:
        with contextlib.suppress(RuntimeError, TimeoutError, OSError):
            self.call("Browser.close", timeout=10)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._in)
        os.close(self._out)


TIERS = [{"name": "standard", "display_name": {"ru": "Стандартный", "en": "Standard"},
          "when": {}}]


@pytest.fixture()
def ru_sandbox(redmine, redmine_env, gateway):
    """A sandbox whose prefix is short enough for the Russian names (Redmine allows 30
    characters in a field name)."""
    made = Sandbox(redmine, gateway, prefix="r" + secrets.token_hex(1))
    yield made
    made.clean_up()


def _russian(own: Sandbox) -> dict[str, str]:
    """The Russian default names, each behind the sandbox's prefix: the shared default
    fields (the preset tests') are never renamed or given other values by this test."""
    return {key: f"{own.prefix} {RUSSIAN[key]}" for key in FIELD_KEYS}


def _fields(gateway, names: dict[str, str]) -> dict[str, dict]:
    by_name = {f["name"]: f for f in gateway.custom_fields()}
    return {key: by_name[name] for key, name in names.items() if name in by_name}


def _shown(page: str, text: str) -> bool:
    return f">{text}</span>" in page or f">{text}</div>" in page


def _issue_page(redmine, issue_id: int, shot: Path) -> str:
    browser = HeadlessChromium(shot.parent / "chromium-profile")
    try:
        browser.log_in(redmine.url, redmine.admin_login, redmine.admin_password)
        browser.open(f"{redmine.url}/issues/{issue_id}")
        browser.screenshot(shot)
        page = browser.evaluate("document.documentElement.outerHTML")
    finally:
        browser.close()
    data = shot.read_bytes()
    assert data.startswith(PNG) and len(data) > 10_000, shot
    return page


@pytest.mark.slow
def test_a_russian_config_shows_russian_names_and_values(
        redmine, gateway, project, support_tracker, ru_sandbox, make_runtime, tmp_path):
    sandbox = ru_sandbox  # noqa: F811
    names = _russian(sandbox)
    document = sandbox.document(project, language="ru", names=names)
    document["policy"]["tiers"] = TIERS
    document["policy"]["priority"]["redmine"] = {"P1": "Immediate", "P2": "Urgent",
                                                 "P3": "High", "P4": "Normal"}
    config = write_config(tmp_path / "bridge-ru.yaml", document)
    result = run_cli("provision", "--config", str(config))
    assert result.exit_code == 0, result.output

    fields = _fields(gateway, names)
    admin = AdminSession(redmine.url, redmine.admin_login, redmine.admin_password)
    tier = admin.field_details(fields["tier"]["id"])
    assert tier.description == ("Уровень поддержки по справочнику клиентов "
                                f"(заполняет redmine-sla-bridge) {marker('tier', sandbox.prefix)}")
    offered = lambda key: [v["value"] for v in fields[key]["possible_values"]]  # noqa: E731
    assert offered("sla_state") == ["в срок", "под угрозой", "нарушено", "на паузе", "выполнено",
                                    "в очереди", "ждёт решения руководителя", "срок продлён"]
    assert offered("license_status") == ["действует", "скоро истекает", "истекла", "пробная",
                                         "нет лицензии"]
    assert offered("request_type") == ["ошибка", "консультация", "предложение"]
    assert offered("tier") == ["Стандартный"]
    assert fields["first_response_day"]["field_format"] == "date"
    queries = {q["name"] for q in gateway.iter_paged("/queries.json", "queries")
               if q.get("project_id") == project["id"]}
    assert queries == {"SLA: нарушено", "SLA: под угрозой", "Ждут первого ответа",
                       "Ответ нужен сегодня", "Срок решения сегодня"}

    # The bridge finds the Russian fields by name at run time and fills them.
    rt = make_runtime(document, english_fields=False)
    issue = gateway.create_issue(project_id=project["id"], tracker_id=support_tracker,
                                 subject="Не работает VPN", description="Помогите, пожалуйста.")
    assert process_issue(rt, issue["id"]).action == "accepted"
    by_id = {f["id"]: key for key, f in fields.items()}
    shown = {by_id[f["id"]]: f.get("value") for f in gateway.issue(issue["id"])["custom_fields"]
             if f["id"] in by_id}
    assert (shown["sla_state"], shown["tier"], shown["license_status"]) == (
        "в срок", "Стандартный", "нет лицензии")
    # The core reads its own values back.
    assert rt.redmine.load(issue["id"]).values["sla_state"] == "on track"
    after = gateway.issue(issue["id"])
    assert "Уровень обслуживания: Стандартный." in after["journals"][-1]["notes"]
    # Every issue list marks a late request by Redmine's own due date and priority.
    assert after["due_date"] == shown["resolution_due"][:10]
    assert after["priority"]["name"] == "High"  # P3, the default impact

    page = _issue_page(redmine, issue["id"], tmp_path / f"issue-{issue['id']}-ru.png")
    labels = {name for name in names.values() if _shown(page, name)}
    # The intake key is internal; the admin sees it too, like every other field.
    assert labels == set(names.values()), sorted(set(names.values()) - labels)
    for value in ("в срок", "Стандартный", "нет лицензии"):
        assert _shown(page, value), value
    assert not _shown(page, "on track") and not _shown(page, "standard")


@pytest.mark.slow
def test_switching_the_language_renames_the_values_and_rewrites_the_issues(
        redmine, gateway, project, support_tracker, ru_sandbox, make_runtime, tmp_path):
    sandbox = ru_sandbox  # noqa: F811
    names = _russian(sandbox)
    # Field permissions have tests of their own; each plan of them reads many admin pages.
    english = sandbox.document(project, language="en", names=names, permissions=False)
    english["policy"]["tiers"] = TIERS
    config = write_config(tmp_path / "bridge.yaml", english)
    result = run_cli("provision", "--config", str(config))
    assert result.exit_code == 0, result.output
    fields = _fields(gateway, names)
    by_id = {f["id"]: key for key, f in fields.items()}

    def shown(issue_id: int) -> dict[str, str | None]:
        return {by_id[f["id"]]: f.get("value") for f in gateway.issue(issue_id)["custom_fields"]
                if f["id"] in by_id}

    rt_en = make_runtime(english, english_fields=False, name="en")
    issue = gateway.create_issue(project_id=project["id"], tracker_id=support_tracker,
                                 subject="VPN is down", description="Please help.")
    assert process_issue(rt_en, issue["id"]).action == "accepted"
    written = shown(issue["id"])
    assert (written["sla_state"], written["tier"], written["license_status"]) == (
        "on track", "Standard", "none")
    domain_values = rt_en.redmine.load(issue["id"]).values

    russian = sandbox.document(project, language="ru", names=names, permissions=False)
    russian["policy"]["tiers"] = TIERS
    write_config(config, russian)
    # Before the migration, the Russian bridge reads the English issue as it was written.
    rt_ru = make_runtime(russian, english_fields=False, name="ru")
    assert rt_ru.redmine.load(issue["id"]).values == domain_values

    planned = run_cli("provision", "--config", str(config), "--dry-run")
    assert planned.exit_code == 0, planned.output
    assert (f"update field {names['sla_state']!r}: rename values 'on track' to 'в срок', "
            f"'at risk' to 'под угрозой', 'breached' to 'нарушено'") in planned.output
    assert "'Standard' to 'Стандартный'" in planned.output
    assert (f"rewrite the values of {names['tier']!r} on 1 issue, {names['license_status']!r} "
            f"on 1 issue, {names['sla_state']!r} on 1 issue") in planned.output
    assert (f"update saved query 'SLA: нарушено' in project {project['identifier']}: "
            f"rename from 'SLA: breached', filters") in planned.output
    assert shown(issue["id"]) == written  # a dry run changes nothing

    journals = len(gateway.issue(issue["id"])["journals"])
    migrated = run_cli("provision", "--config", str(config))
    assert migrated.exit_code == 0, migrated.output
    now = shown(issue["id"])
    assert (now["sla_state"], now["tier"], now["license_status"]) == (
        "в срок", "Стандартный", "нет лицензии")
    assert len(gateway.issue(issue["id"])["journals"]) == journals + 1  # one update per issue
    assert "nothing to do" in run_cli("provision", "--config", str(config)).output
    queries = {q["name"] for q in gateway.iter_paged("/queries.json", "queries")
               if q.get("project_id") == project["id"]}
    assert "SLA: breached" not in queries and "SLA: нарушено" in queries

    # The rewrite is no change of the bridge's decision: nothing is reverted, no note.
    assert rt_ru.redmine.load(issue["id"]).values == domain_values
    assert process_issue(rt_ru, issue["id"]).action == "unchanged"
    assert len(gateway.issue(issue["id"])["journals"]) == journals + 1


def test_renaming_a_field_in_the_config_renames_it_in_redmine(
        redmine, gateway, project, sandbox, tmp_path):  # noqa: F811
    config = write_config(tmp_path / "bridge.yaml", sandbox.document(project, queries=False))
    first = run_cli("provision", "--config", str(config))
    assert first.exit_code == 0, first.output
    before = sandbox.fields()

    names = sandbox.names(tier=f"{sandbox.prefix} Уровень поддержки",
                          inn=f"{sandbox.prefix} ИНН организации")
    renamed = sandbox.document(project, names=names, queries=False)
    write_config(config, renamed)
    result = run_cli("provision", "--config", str(config))
    assert result.exit_code == 0, result.output
    assert (f"update field {names['tier']!r}: rename {sandbox.prefix + ' tier'!r} to "
            f"{names['tier']!r}") in result.output
    assert "create " not in result.output
    by_id = {f["id"]: f["name"] for f in gateway.custom_fields()}
    assert by_id[before["tier"]["id"]] == names["tier"]
    assert by_id[before["inn"]["id"]] == names["inn"]
    assert sum(name.startswith(sandbox.prefix + " ") for name in by_id.values()) == len(FIELD_KEYS)
    assert "nothing to do" in run_cli("provision", "--config", str(config)).output

    # The run time maps the new names to the same fields.
    fields = FieldMap.resolve(specs_for_config(load_config(config)), gateway.custom_fields())
    assert fields.id("tier") == before["tier"]["id"]


def test_a_field_made_before_markers_is_taken_by_its_name_and_marked(
        redmine, gateway, project, support_tracker, sandbox, tmp_path):  # noqa: F811
    admin = AdminSession(redmine.url, redmine.admin_login, redmine.admin_password)
    name = f"{sandbox.prefix} tier"
    admin.create_custom_field(CustomFieldForm(
        name=name, field_format="list", possible_values=("gold",), tracker_ids=(support_tracker,),
        description="Customer tier (set by redmine-sla-bridge from the customer directory)"))
    old = next(f for f in gateway.custom_fields() if f["name"] == name)

    config = write_config(tmp_path / "bridge.yaml", sandbox.document(project, queries=False))
    result = run_cli("provision", "--config", str(config))
    assert result.exit_code == 0, result.output
    own = marker("tier", sandbox.prefix)
    assert f"update field {name!r}: add values standard; " in result.output
    assert f"write the description and marker {own}" in result.output
    details = admin.field_details(old["id"])
    assert details.description.endswith(own)
    tier = next(f for f in gateway.custom_fields() if f["id"] == old["id"])
    assert [v["value"] for v in tier["possible_values"]] == ["gold", "standard"]
