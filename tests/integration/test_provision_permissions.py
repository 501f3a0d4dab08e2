"""`provision` sets who may change and see the bridge's fields, checked the way the users
meet them: Redmine's own New issue form, opened in a browser session (login form,
session cookie, authenticity token) as the customer and as the engineer, and writes
through the REST API as the customer, the engineer and the bridge's own user.

Each test has fields, a bridge role and a marker instance of its own (Redmine's custom
fields, roles and field permissions are global), and removes them afterwards.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

import pytest
import requests
from click.testing import CliRunner

from redmine_sla_bridge.adapters.redmine import workflow_permissions as wp
from redmine_sla_bridge.adapters.redmine.admin_forms import AdminSession
from redmine_sla_bridge.adapters.redmine.fields import REQUESTER_KEYS
from redmine_sla_bridge.adapters.redmine.gateway import RedmineGateway
from redmine_sla_bridge.entrypoints.cli import cli
from tests.conftest import TEST_REDMINE_TIMEOUT, Person, base_document, unique, write_config

pytestmark = pytest.mark.redmine

FIELD_KEYS = (
    "tier", "license_status", "sla_priority", "sla_state", "first_response_due",
    "resolution_due", "first_response_at", "first_response_day", "contact_name", "contact_email",
    "contact_phone",
    "contact_position", "organization", "inn", "product", "product_version",
    "contract_number", "intake_key", "impact", "request_type", "sla_outcome", "next_check",
)
BRIDGE_KEYS = tuple(k for k in FIELD_KEYS if k not in REQUESTER_KEYS)
_TOKEN = re.compile(r'name="authenticity_token" value="([^"]+)"')
_FIELD_INPUT = re.compile(r'<(?:input|select|textarea)[^>]*name="issue\[custom_field_values\]\[(\d+)\]'
                          r'(?:\[\])?"[^>]*>')


def run_cli(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


class Browser:
    """A user in Redmine's web UI: logged in through /login like a browser."""

    def __init__(self, url: str, login: str, password: str) -> None:
        self.url = url
        self.http = requests.Session()
        page = self.http.get(url + "/login", timeout=30).text
        token = html.unescape(_TOKEN.search(page).group(1))
        answer = self.http.post(url + "/login", allow_redirects=False, timeout=30, data={
            "authenticity_token": token, "username": login, "password": password})
        assert answer.status_code == 302 and "/login" not in answer.headers["Location"], login

    def get(self, path: str, **params) -> str:
        answer = self.http.get(self.url + path, params=params, timeout=60)
        answer.raise_for_status()
        return answer.text


def offered_fields(page: str) -> set[int]:
    """Ids of the custom fields an issue form lets the user type in."""
    return {int(m) for m in _FIELD_INPUT.findall(page)}


@dataclass
class Sandbox:
    """One test's own fields (names, marker instance), bridge role and bridge users."""

    redmine: object
    gateway: RedmineGateway
    prefix: str = field(default_factory=lambda: unique("w"))
    users: list[int] = field(default_factory=list)

    @property
    def bridge_role(self) -> str:
        return f"SLA bridge {self.prefix}"

    def names(self, **renamed: str) -> dict[str, str]:
        return {key: renamed.get(key, f"{self.prefix} {key}") for key in FIELD_KEYS}

    def document(self, project: dict | None, *, language: str = "en", names: dict | None = None,
                 **provision) -> dict:
        document = base_document(self.redmine, language=language,
                                 fields=self.names() if names is None else names)
        if project is not None:
            document["scope"]["projects"] = [project["identifier"]]
        document["provision"] = {"instance": self.prefix, "bridge_role": self.bridge_role,
                                 **provision}
        return document

    def fields(self) -> dict[str, dict]:
        """This sandbox's fields by key (names keep the prefix, even renamed ones)."""
        by_name = {f["name"]: f for f in self.gateway.custom_fields()
                   if f["name"].startswith(self.prefix + " ")}
        return {key: by_name[name] for key, name in self.names().items() if name in by_name}

    def bridge_user(self, project: dict) -> Person:
        """The bridge's own user: a member of the project with the bridge's role only."""
        roles = {r["name"]: r["id"] for r in self.gateway.roles()}
        login = unique("bridge")
        user = self.gateway.create_user(login, "SLA", "bridge", f"{login}@example.ru",
                                        "password-" + login)
        self.users.append(user["id"])
        self.gateway.add_member(project["id"], user["id"], [roles[self.bridge_role]])
        return Person(user["id"], login, RedmineGateway(self.gateway.url, self.redmine.api_key,
                                                        keep_alive=False, impersonate=login,
                                                        timeout=TEST_REDMINE_TIMEOUT))

    def clean_up(self) -> None:
        admin = AdminSession(self.redmine.url, self.redmine.admin_login, self.redmine.admin_password)
        ids = [f["id"] for f in self.gateway.custom_fields()
               if f["name"].startswith(self.prefix + " ")]
        if ids:
            # Redmine keeps a deleted field's permission rules: drop them with it.
            statuses = [s["id"] for s in self.gateway.statuses()]
            for tracker in self.gateway.trackers():
                if tracker["name"] != "Support":  # the only tracker a sandbox provisions
                    continue
                track = wp.Tracker(tracker["id"], tracker["name"], 0)
                for role_id, role_name in wp.workflow_roles(admin).items():
                    cells = {(s, f): "" for s in statuses for f in ids}
                    wp.apply([wp.Change(role_id, role_name, track, cells, dict.fromkeys(ids, ""))],
                             admin, log=lambda _line: None)
        for field_id in ids:
            admin.delete_custom_field(field_id)
        for user_id in self.users:
            requests.delete(f"{self.redmine.url}/users/{user_id}.json", timeout=30,
                            headers={"X-Redmine-API-Key": self.redmine.api_key}).raise_for_status()
        for role in self.gateway.roles():
            if role["name"] == self.bridge_role:
                admin.delete_role(role["id"])


@pytest.fixture()
def sandbox(redmine, redmine_env, gateway):
    made = Sandbox(redmine, gateway)
    yield made
    made.clean_up()


def _values(gateway: RedmineGateway, issue_id: int, fields: dict[str, dict]) -> dict[str, str]:
    ids = {f["id"]: key for key, f in fields.items()}
    issue = gateway.issue(issue_id, journals=False)
    return {ids[f["id"]]: f.get("value") or "" for f in issue["custom_fields"] if f["id"] in ids}


def _payload(fields: dict[str, dict], **values: str) -> list[dict]:
    return [{"id": fields[key]["id"], "value": value} for key, value in values.items()]


REQUEST = {"contact_name": "Иван Петров", "contact_email": "ivan@example.ru",
           "contact_phone": "+7 495 662-87-34", "organization": "ООО Пример",
           "inn": "7707083893", "product": "ИКС", "product_version": "7.3", "impact": "P3"}


def test_customers_fill_only_the_request_and_only_the_bridge_writes_its_fields(
        redmine, gateway, project, people, support_tracker, sandbox, tmp_path):
    config = write_config(tmp_path / "bridge.yaml", sandbox.document(project))
    first = run_cli("provision", "--config", str(config))
    assert first.exit_code == 0, first.output
    assert f"create role {sandbox.bridge_role!r}" in first.output
    assert "set field permissions of role 'Reporter'" in first.output
    assert "verified" in first.output
    second = run_cli("provision", "--config", str(config))
    assert second.exit_code == 0, second.output
    assert "nothing to do" in second.output

    fields = sandbox.fields()
    assert len(fields) == len(FIELD_KEYS)
    requester = {fields[k]["id"] for k in REQUESTER_KEYS}
    owned = {fields[k]["id"] for k in BRIDGE_KEYS}
    new_form = f"/projects/{project['identifier']}/issues/new"

    # Redmine's New issue form: the customer types the request, never what the bridge sets.
    customer, engineer = people["customer"], people["engineer"]
    as_customer = offered_fields(
        Browser(redmine.url, customer.login, "password-" + customer.login).get(new_form))
    assert requester <= as_customer
    assert not owned & as_customer
    # Support may fill the request for a customer on the phone; the SLA is still the bridge's.
    as_engineer = offered_fields(
        Browser(redmine.url, engineer.login, "password-" + engineer.login).get(new_form))
    assert requester <= as_engineer
    assert not owned & as_engineer

    # A request filed through the API with the bridge's fields keeps only the request.
    issue = customer.gateway.create_issue(
        project_id=project["id"], tracker_id=support_tracker, subject="Не работает VPN",
        custom_fields=_payload(fields, **REQUEST, tier="standard", sla_state="met",
                               intake_key="forged"))
    filed = _values(gateway, issue["id"], fields)
    assert {k: filed[k] for k in REQUEST} == REQUEST
    assert filed["tier"] == filed["sla_state"] == filed["intake_key"] == ""

    # The bridge's own user (the bridge role only) writes them through the REST API.
    bridge = sandbox.bridge_user(project)
    written = {"tier": "standard", "license_status": "active", "sla_priority": "P3",
               "sla_state": "on track", "first_response_due": "2026-12-01 18:00",
               "resolution_due": "2026-12-04 18:00", "intake_key": "key-1"}
    bridge.gateway.update_issue(issue["id"], custom_fields=_payload(fields, **written))
    after = _values(gateway, issue["id"], fields)
    assert {k: after[k] for k in written} == written

    # Engineers and leads cannot overwrite the SLA, but may correct the request's data.
    engineer.gateway.update_issue(issue["id"], custom_fields=_payload(
        fields, sla_state="met", tier="premium", contact_phone="+7 495 000-00-00"))
    people["lead"].gateway.update_issue(issue["id"], custom_fields=_payload(
        fields, resolution_due="2027-01-01 00:00"))
    after = _values(gateway, issue["id"], fields)
    assert (after["sla_state"], after["tier"], after["resolution_due"]) == (
        "on track", "standard", "2026-12-04 18:00")
    assert after["contact_phone"] == "+7 495 000-00-00"

    # The intake key is internal: the customer does not see it at all.
    seen = {f["id"] for f in customer.gateway.issue(issue["id"], journals=False)["custom_fields"]}
    assert fields["intake_key"]["id"] not in seen and fields["inn"]["id"] in seen
    intake_key = fields["intake_key"]
    assert intake_key["visible"] is False
    visible_to = {r["name"] for r in intake_key["roles"]}
    assert {"Manager", "Developer", sandbox.bridge_role} <= visible_to
    assert "Reporter" not in visible_to

    # Once support works on the issue the request's data is read-only for customers
    # (Redmine's default Reporter may not edit issues at all; the rule holds for any role
    # that may), and stays editable for support.
    admin = AdminSession(redmine.url, redmine.admin_login, redmine.admin_password)
    roles = {r["name"]: r["id"] for r in gateway.roles()}
    statuses = {s["name"]: s["id"] for s in gateway.statuses()}
    reporter = wp.read_rules(admin, roles["Reporter"], support_tracker)
    developer = wp.read_rules(admin, roles["Developer"], support_tracker)
    inn = str(fields["inn"]["id"])
    assert reporter[(statuses["New"], inn)] == ""
    assert reporter[(statuses["In Progress"], inn)] == "readonly"
    assert developer[(statuses["In Progress"], inn)] == ""
    assert developer[(statuses["New"], str(fields["tier"]["id"]))] == "readonly"
    bridge_rules = wp.read_rules(admin, roles[sandbox.bridge_role], support_tracker)
    assert all(bridge_rules[(s, str(f["id"]))] == "" for s in statuses.values()
               for f in fields.values())


def test_dry_run_and_manual_steps_show_the_permissions_and_a_changed_rule_is_put_back(
        redmine, gateway, project, support_tracker, sandbox, tmp_path):
    document = sandbox.document(project)
    config = write_config(tmp_path / "bridge.yaml", document)
    dry = run_cli("provision", "--config", str(config), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert f"create role {sandbox.bridge_role!r}" in dry.output
    assert "then: set the field permissions of role" in dry.output
    assert not sandbox.fields()  # a dry run changes nothing

    no_admin = write_config(tmp_path / "no-admin.yaml", {
        **document, "redmine": {k: v for k, v in document["redmine"].items() if k != "admin"}})
    manual = CliRunner().invoke(cli, ["provision", "--config", str(no_admin)])
    assert manual.exit_code == 1
    assert "Administration > Workflow > Fields permissions, tracker Support:" in manual.output
    assert f"Read-only: {sandbox.prefix} tier" in manual.output
    assert f"New role: {sandbox.bridge_role}" in manual.output
    assert "Visible: to these roles only: every role but Reporter" in manual.output

    assert run_cli("provision", "--config", str(config)).exit_code == 0
    # An admin makes the tier editable for developers in New by hand.
    admin = AdminSession(redmine.url, redmine.admin_login, redmine.admin_password)
    developer = next(r["id"] for r in gateway.roles() if r["name"] == "Developer")
    new = next(s["id"] for s in gateway.statuses() if s["name"] == "New")
    tier = sandbox.fields()["tier"]["id"]
    wp.apply([wp.Change(developer, "Developer", wp.Tracker(support_tracker, "Support", new),
                        {(new, tier): ""}, {tier: "tier"})], admin, log=lambda _line: None)

    shown = run_cli("provision", "--config", str(config), "--dry-run")
    assert shown.exit_code == 0, shown.output
    assert shown.output.strip() == (f"set field permissions of role 'Developer', tracker "
                                    f"'Support' (1 rule(s)): readonly: {sandbox.prefix} tier")
    fixed = run_cli("provision", "--config", str(config))
    assert fixed.exit_code == 0, fixed.output
    assert "done: 1 change(s) applied and verified" in fixed.output
    assert wp.read_rules(admin, developer, support_tracker)[(new, str(tier))] == "readonly"


def test_with_permissions_off_provision_leaves_rules_and_visibility_alone(
        redmine, gateway, project, support_tracker, sandbox, tmp_path):
    config = write_config(tmp_path / "bridge.yaml", sandbox.document(project, permissions=False,
                                                                      queries=False))
    result = run_cli("provision", "--config", str(config))
    assert result.exit_code == 0, result.output
    assert "field permissions" not in result.output and "create role" not in result.output
    assert sandbox.fields()["intake_key"]["visible"] is True
    admin = AdminSession(redmine.url, redmine.admin_login, redmine.admin_password)
    reporter = next(r["id"] for r in gateway.roles() if r["name"] == "Reporter")
    rules = wp.read_rules(admin, reporter, support_tracker)
    assert not any(rules.get((s["id"], str(f["id"]))) for s in gateway.statuses()
                   for f in sandbox.fields().values())
    assert "nothing to do" in run_cli("provision", "--config", str(config)).output


def test_an_unknown_support_role_is_refused_before_anything_changes(
        redmine, project, sandbox, tmp_path):
    config = write_config(tmp_path / "bridge.yaml",
                          sandbox.document(project, support_roles=["Support engineer"]))
    result = CliRunner().invoke(cli, ["provision", "--config", str(config)])
    assert result.exit_code == 1
    assert "Redmine has no role 'Support engineer'" in result.output
    assert not sandbox.fields()
