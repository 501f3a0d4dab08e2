"""The bridge's fields are the bridge's alone (issue 15), on the real Redmine: a customer
with a Redmine account (Reporter) forges SLA values through the New issue form, as a
browser posts it, and through the REST API with his own key; the gate still decides,
the forgery is undone with a private note naming him, and he gets exactly one
acknowledgement or refusal."""

from __future__ import annotations

import re

import pytest
import requests

from redmine_sla_bridge.adapters.redmine.gateway import RedmineGateway
from redmine_sla_bridge.service.process_issue import process_issue
from tests.conftest import TEST_REDMINE_TIMEOUT, Person, base_document, unique

pytestmark = pytest.mark.redmine

TOKEN = re.compile(r'name="authenticity_token" value="([^"]+)"')


def _document(redmine, project, **intake):
    document = base_document(redmine)
    document["scope"]["projects"] = [project["identifier"]]
    document["polling"] = {"enabled": False}
    document["policy"]["targets"] = [{"when": {}, "first_response": "8h"}]
    if intake:
        document["intake"] = intake
    return document


def _journals(gateway, issue_id) -> list[dict]:
    return [j for j in gateway.issue(issue_id)["journals"] if j.get("notes")]


def _fields(gateway, issue_id) -> dict:
    issue = gateway.issue(issue_id, journals=False)
    return {f["name"]: f.get("value") for f in issue["custom_fields"]}


def _browser(redmine, login: str) -> requests.Session:
    """Logged in through Redmine's own login form, as a browser would."""
    session = requests.Session()
    page = session.get(f"{redmine.url}/login", timeout=60)
    token = TOKEN.search(page.text).group(1)
    answer = session.post(f"{redmine.url}/login", timeout=60, data={
        "authenticity_token": token, "username": login, "password": "password-" + login,
        "back_url": redmine.url})
    assert answer.ok and "/logout" in answer.text, "login failed"
    return session


@pytest.fixture()
def other_admin(redmine, gateway, project) -> Person:
    """A Redmine administrator who is not the bridge: administrators pass Redmine's
    workflow field permissions, so only the bridge itself can undo what they type."""
    from redminelib import Redmine

    login = unique("adm")
    user = gateway.create_user(login, "Other", login, f"{login}@example.ru", "password-" + login)
    Redmine(redmine.url, key=redmine.api_key).user.update(user["id"], admin=True)
    roles = {r["name"]: r["id"] for r in gateway.roles()}
    gateway.add_member(project["id"], user["id"], [roles["Manager"]])
    return Person(user["id"], login, RedmineGateway(redmine.url, redmine.api_key,
                                                    keep_alive=False, impersonate=login,
                                                    timeout=TEST_REDMINE_TIMEOUT))


def test_the_new_issue_form_drops_a_customers_forged_sla_and_the_gate_decides_once(
        make_runtime, redmine, gateway, project, support_tracker, people):
    rt = make_runtime(_document(redmine, project))
    fields = rt.redmine.catalog.project_fields(project["identifier"])[1]
    customer = people["customer"]
    browser = _browser(redmine, customer.login)
    form = browser.get(f"{redmine.url}/projects/{project['identifier']}/issues/new", timeout=60)
    token = TOKEN.search(form.text).group(1)
    posted = browser.post(f"{redmine.url}/projects/{project['identifier']}/issues", timeout=60,
                          data={"authenticity_token": token,
                                "issue[tracker_id]": str(support_tracker),
                                "issue[subject]": "Форма: VPN не работает",
                                "issue[description]": "Не работает VPN",
                                f"issue[custom_field_values][{fields.id('sla_state')}]": "met",
                                f"issue[custom_field_values][{fields.id('tier')}]": "partner",
                                "commit": "Create"})
    assert posted.ok
    issue_id = int(re.search(r"/issues/(\d+)", posted.url).group(1))
    # Provisioning made the bridge's fields read-only for the customer's role.
    assert _fields(gateway, issue_id)["SLA state"] in ("", None)

    assert process_issue(rt, issue_id).action == "accepted"
    assert process_issue(rt, issue_id).action == "unchanged"
    values = _fields(gateway, issue_id)
    assert (values["SLA state"], values["SLA tier"]) == ("on track", "standard")
    public = [j for j in _journals(gateway, issue_id) if not j["private_notes"]]
    assert len(public) == 1 and "registered" in public[0]["notes"]


def test_a_state_forged_at_creation_is_cleared_and_the_request_acknowledged_once(
        make_runtime, redmine, gateway, project, support_tracker, other_admin):
    rt = make_runtime(_document(redmine, project))
    fields = rt.redmine.catalog.project_fields(project["identifier"])[1]
    issue = other_admin.gateway.create_issue(
        project_id=project["id"], tracker_id=support_tracker, subject="VPN не работает",
        description="Не работает VPN",
        custom_fields=fields.payload({"sla_state": "met", "tier": "partner"}))
    assert _fields(gateway, issue["id"])["SLA state"] == "met"  # Redmine took the forgery

    assert process_issue(rt, issue["id"]).action == "accepted"
    assert process_issue(rt, issue["id"]).action == "unchanged"
    values = _fields(gateway, issue["id"])
    assert (values["SLA state"], values["SLA tier"]) == ("on track", "standard")
    notes = _journals(gateway, issue["id"])
    private = [j for j in notes if j["private_notes"]]
    public = [j for j in notes if not j["private_notes"]]
    assert len(public) == 1 and "registered" in public[0]["notes"]  # one acknowledgement
    assert len(private) == 1 and other_admin.login in private[0]["notes"]


def test_a_forged_request_missing_data_is_still_refused_once(
        make_runtime, redmine, gateway, project, support_tracker, other_admin):
    rt = make_runtime(_document(redmine, project, required=["organization.inn"]))
    fields = rt.redmine.catalog.project_fields(project["identifier"])[1]
    issue = other_admin.gateway.create_issue(
        project_id=project["id"], tracker_id=support_tracker, subject="API: VPN",
        description="Не работает VPN", custom_fields=fields.payload({"sla_state": "on track"}))
    assert process_issue(rt, issue["id"]).action == "rejected"
    assert process_issue(rt, issue["id"]).action == "unchanged"
    assert _fields(gateway, issue["id"])["SLA state"] in ("", None)
    public = [j for j in _journals(gateway, issue["id"]) if not j["private_notes"]]
    assert len(public) == 1 and "add a comment" in public[0]["notes"]  # filed in Redmine


def test_a_state_changed_after_intake_is_put_back_with_a_note_naming_who(
        make_runtime, redmine, gateway, project, support_tracker, people, other_admin):
    rt = make_runtime(_document(redmine, project))
    fields = rt.redmine.catalog.project_fields(project["identifier"])[1]
    customer = people["customer"]
    issue = customer.gateway.create_issue(project_id=project["id"], tracker_id=support_tracker,
                                          subject="API: VPN", description="Не работает VPN")
    assert process_issue(rt, issue["id"]).action == "accepted"
    other_admin.gateway.update_issue(issue["id"], custom_fields=fields.payload({"sla_state": "met"}))
    outcome = process_issue(rt, issue["id"])
    assert outcome.action == "updated" and "reverted sla_state" in outcome.detail
    assert _fields(gateway, issue["id"])["SLA state"] == "on track"
    private = [j for j in _journals(gateway, issue["id"]) if j["private_notes"]]
    assert len(private) == 1 and other_admin.login in private[0]["notes"]
    assert process_issue(rt, issue["id"]).action == "unchanged"
