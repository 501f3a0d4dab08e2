"""The intake gate on the real Redmine: acceptance, every refusal, parsing, reopen, API."""

from __future__ import annotations

import pytest

from redmine_sla_bridge.entrypoints.web.app import create_app
from redmine_sla_bridge.service.process_issue import process_issue
from tests.conftest import base_document

pytestmark = pytest.mark.redmine

PRODUCTS = [
    {"name": "ИКС Стандарт", "aliases": ["ИКС"], "supported_versions": ">=7.0",
     "version_lines": {"7.0.*": {"end_of_support": "2025-06-30"}}},
]


def _document(redmine, language="ru", **intake):
    document = base_document(redmine, language=language)
    document["polling"] = {"enabled": False}
    document["intake"] = {
        "required": ["contact.name", "contact.email", "organization.inn", "product", "version",
                     "description"],
        "products": PRODUCTS,
        **intake,
    }
    document["policy"]["targets"] = [{"when": {}, "first_response": "8h"}]
    return document


def _fields(gateway, issue_id) -> dict:
    issue = gateway.issue(issue_id, journals=False)
    return {f["name"]: f.get("value") for f in issue["custom_fields"]}


def _file(rt, gateway, project, tracker, *, description="Не работает VPN", **values):
    fields = rt.redmine.catalog.project_fields(project["identifier"])[1]
    return gateway.create_issue(project_id=project["id"], tracker_id=tracker, subject="Запрос",
                                description=description, custom_fields=fields.payload(values))


COMPLETE = {"contact_name": "Иван Петров", "contact_email": "ivan@example.ru",
            "contact_phone": "8 (495) 662-87-34", "inn": "7707083893", "product": "ИКС",
            "product_version": "7.2 build 456"}


def test_a_complete_request_is_accepted_with_fields_filled(make_runtime, redmine, gateway, project,
                                                           support_tracker):
    rt = make_runtime(_document(redmine))
    issue = _file(rt, gateway, project, support_tracker, **COMPLETE)
    outcome = process_issue(rt, issue["id"])
    assert outcome.action == "accepted", outcome.detail
    fields = _fields(gateway, issue["id"])
    assert fields["Contact phone"] == "+7 495 662-87-34"  # normalised for the engineer
    assert fields["Product"] == "ИКС Стандарт"  # the alias resolved
    assert fields["SLA state"] == "on track"
    note = gateway.issue(issue["id"])["journals"][-1]["notes"]
    assert f"№{issue['id']}" in note and "Приоритет: P3" in note


@pytest.mark.parametrize("changes, codes, phrase", [
    ({"contact_name": None, "contact_email": None}, ["missing_field", "missing_field"],
     "Не указано: ФИО контактного лица"),
    ({"inn": "7707083894"}, ["invalid_inn"], "ИНН «7707083894» недействителен"),
    ({"contact_email": "ivan@"}, ["invalid_email"], "Адрес электронной почты «ivan@»"),
    ({"product": "Касперский"}, ["unsupported_product"], "Продукт «Касперский» не входит"),
    ({"product_version": "6.5"}, ["unsupported_version"], "не поддерживается"),
    ({"product_version": "7.0.3"}, ["unsupported_version"], "прекращена 30.06.2025"),
    ({"product_version": "последняя"}, ["unknown_version"], "последняя"),
])
def test_bad_requests_are_rejected_with_their_codes_and_a_readable_note(
        make_runtime, redmine, gateway, project, support_tracker, changes, codes, phrase):
    rt = make_runtime(_document(redmine))
    values = {k: v for k, v in {**COMPLETE, **changes}.items() if v is not None}
    issue = _file(rt, gateway, project, support_tracker, **values)
    outcome = process_issue(rt, issue["id"])
    assert outcome.action == "rejected"
    assert sorted(outcome.detail.split(", ")) == sorted(codes)
    after = gateway.issue(issue["id"])
    assert after["status"]["name"] == "Rejected"
    note = after["journals"][-1]["notes"]
    assert phrase in note
    assert "ответьте на это письмо" in note  # what to do to get served
    assert after["description"] == "Не работает VPN"  # nothing of the request is lost


def test_an_invalid_phone_is_refused_when_the_phone_is_required(make_runtime, redmine, gateway,
                                                                project, support_tracker):
    document = _document(redmine)
    document["intake"]["required"].append("contact.phone")
    rt = make_runtime(document)
    issue = _file(rt, gateway, project, support_tracker, **{**COMPLETE, "contact_phone": "12"})
    outcome = process_issue(rt, issue["id"])
    assert (outcome.action, outcome.detail) == ("rejected", "invalid_phone")


def test_the_rejection_note_is_in_english_when_configured(make_runtime, redmine, gateway, project,
                                                          support_tracker):
    rt = make_runtime(_document(redmine, language="en"))
    issue = _file(rt, gateway, project, support_tracker, **{**COMPLETE, "inn": "123"})
    assert process_issue(rt, issue["id"]).action == "rejected"
    note = gateway.issue(issue["id"])["journals"][-1]["notes"]
    assert "INN" in note and "123" in note
    assert not any("а" <= ch <= "я" for ch in note.lower())


def test_an_email_style_description_is_parsed_into_the_fields(make_runtime, redmine, gateway,
                                                               project, support_tracker):
    rt = make_runtime(_document(redmine))
    description = ("Добрый день!\r\nПосле обновления не работает VPN.\r\n\r\n"
                   "ФИО: Иван Петров\r\nE-mail: ivan@example.ru\r\nТелефон: 8 (495) 662-87-34\r\n"
                   "Организация: ПАО Сбербанк\r\nИНН: 7707083893\r\nПродукт: ИКС Стандарт\r\n"
                   "Версия: 7.2 build 456\r\n")
    issue = _file(rt, gateway, project, support_tracker, description=description)
    assert process_issue(rt, issue["id"]).action == "accepted"
    fields = _fields(gateway, issue["id"])
    assert fields["INN"] == "7707083893"
    assert fields["Organization"] == "ПАО Сбербанк"
    assert fields["Product version"] == "7.2 build 456"
    assert fields["Contact email"] == "ivan@example.ru"


def test_reopening_after_fixing_runs_the_gate_again(make_runtime, redmine, gateway, project,
                                                    support_tracker, people):
    rt = make_runtime(_document(redmine))
    bad = {**COMPLETE, "inn": "7707083894"}
    issue = _file(rt, gateway, project, support_tracker, **bad)
    assert process_issue(rt, issue["id"]).action == "rejected"
    # Still rejected and nobody said anything: nothing happens.
    assert process_issue(rt, issue["id"]).action == "unchanged"
    fields = rt.redmine.catalog.project_fields(project["identifier"])[1]
    # The support lead corrects the INN and reopens (Redmine's default workflow lets only
    # a manager or an admin leave Rejected).
    people["lead"].gateway.update_issue(issue["id"], status_id=rt.redmine.catalog.facts.status_ids["New"],
                                        custom_fields=fields.payload({"inn": "7707083893"}))
    assert process_issue(rt, issue["id"]).action == "accepted"
    assert _fields(gateway, issue["id"])["SLA state"] == "on track"


def test_a_reply_to_a_rejection_with_the_missing_data_reopens_and_accepts(
        make_runtime, redmine, gateway, project, support_tracker, people):
    rt = make_runtime(_document(redmine))
    customer = people["customer"]
    fields = rt.redmine.catalog.project_fields(project["identifier"])[1]
    values = {k: v for k, v in COMPLETE.items() if k != "inn"}
    issue = customer.gateway.create_issue(project_id=project["id"], tracker_id=support_tracker,
                                          subject="Запрос", description="Не работает VPN",
                                          custom_fields=fields.payload(values))
    assert process_issue(rt, issue["id"]).action == "rejected"
    customer.gateway.update_issue(issue["id"], notes="ИНН: 7707083893")
    outcome = process_issue(rt, issue["id"])
    assert outcome.action == "accepted"
    after = gateway.issue(issue["id"])
    assert after["status"]["name"] == "New"
    assert _fields(gateway, issue["id"])["INN"] == "7707083893"


def test_intake_api_answers_422_or_201(make_runtime, redmine, gateway, project, monkeypatch):
    monkeypatch.setenv("TEST_INTAKE_TOKEN", "intake-token")
    document = _document(redmine)
    document["intake_api"] = {"token": "${TEST_INTAKE_TOKEN}", "project": project["identifier"]}
    rt = make_runtime(document)
    client = create_app(rt).test_client()
    auth = {"Authorization": "Bearer intake-token"}
    request = {"subject": "VPN", "description": "Не работает VPN",
               "contact": {"name": "Иван Петров", "email": "ivan@example.ru"},
               "organization": {"name": "ПАО Сбербанк", "inn": "7707083893"},
               "product": "ИКС Стандарт", "version": "7.2"}

    assert client.post("/api/v1/requests", json=request).status_code == 401
    bad = client.post("/api/v1/requests", json={**request, "organization": {"inn": "1"}}, headers=auth)
    assert bad.status_code == 422
    assert bad.json["accepted"] is False
    assert [r["code"] for r in bad.json["reasons"]] == ["invalid_inn"]
    assert client.post("/api/v1/requests", json={"contact": "x"}, headers=auth).status_code == 400

    good = client.post("/api/v1/requests", json=request, headers=auth)
    assert good.status_code == 201, good.json
    body = good.json
    assert body["accepted"] is True and body["registration_number"] == f"№{body['issue_id']}"
    assert body["tier"] == "standard" and body["priority"] == "P3"
    assert body["deadlines"]["first_response"] is not None
    issue = gateway.issue(body["issue_id"])
    fields = {f["name"]: f.get("value") for f in issue["custom_fields"]}
    assert fields["INN"] == "7707083893" and fields["SLA state"] == "on track"
    assert fields["First response due"] == body["deadlines"]["first_response"][:16].replace("T", " ")
    assert issue["journals"][-1]["notes"].startswith("Ваше обращение зарегистрировано")
    # The pipeline sees the new issue afterwards and finds nothing to do.
    assert process_issue(rt, body["issue_id"]).action == "unchanged"
