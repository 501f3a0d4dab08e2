"""Issue 17 on the real Redmine: the customer's free-form Outlook letter (windows-1251,
«версия 7.2», «ИНН организации 7709034563», a name and two phones in the text and the
signature) ends accepted with the right fields, both through `redmine-sla-bridge mail`
(a private Dovecot) and through Redmine's own mail handler; and Redmine's Russian
keywords under allow_override=all do not eat the bridge's canonical labels."""

from __future__ import annotations

import html

import pytest

from redmine_sla_bridge.bootstrap import mail_reader
from redmine_sla_bridge.config.model import DEFAULT_FIELD_NAMES
from redmine_sla_bridge.domain.intake import CANONICAL_LABELS
from redmine_sla_bridge.service.process_issue import process_issue
from redmine_sla_bridge.telemetry import metrics
from tests.conftest import base_document, unique
from tests.mail import samples
from tests.mail.redmine_mail_handler import receive
from tests.mail.test_mail_imap import _append, _config, _count, _issues, _runtime

pytestmark = pytest.mark.redmine

AR_INTAKE = {  # AR-1: what the letter was refused for
    "required": ["description", "contact.name", "organization.inn", "version"],
    "any_of": [{"fields": ["contact.email", "contact.phone"]}],
}


def _fields(gateway, issue_id: int) -> dict:
    issue = gateway.issue(issue_id, journals=False)
    return {f["name"]: f.get("value") for f in issue["custom_fields"]}


def _private_notes(gateway, issue_id: int) -> list[str]:
    journals = gateway.issue(issue_id)["journals"]
    return [html.unescape(j["notes"]) for j in journals if j.get("notes") and j["private_notes"]]


def _russian(document: dict) -> dict:
    document["language"] = "ru"
    # The session's provisioned fields: English names and values, Russian notes.
    document["fields"] = dict(DEFAULT_FIELD_NAMES["en"])
    document["field_language"] = "en"
    document["intake"] = AR_INTAKE
    return document


def test_the_issues_outlook_letter_through_the_mailbox_is_accepted(
        tmp_path, redmine, gateway, project, dovecot, requester, imap_env, provisioned):
    path = _config(tmp_path, redmine, project, dovecot, requester)
    import yaml

    document = _russian(yaml.safe_load(path.read_text(encoding="utf-8")))
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    config, bridge = _runtime(path, redmine)
    reader = mail_reader(config, bridge, gateway=redmine.gateway())
    _append(dovecot, samples.outlook_issue_letter("petrov@romashka.example", samples.mid()))
    report = reader.run_once()
    assert report.outcomes == {"filed": 1}, report
    assert _count(dovecot, "INBOX") == 0
    (issue,) = _issues(gateway, project)
    fields = _fields(gateway, issue["id"])
    assert fields["SLA state"] == "on track"
    assert fields["INN"] == "7709034563"
    assert fields["Product version"] == "7.2"
    assert fields["Organization"] == "ООО «Ромашка»"
    assert fields["Contact position"] == "Системный администратор"
    assert fields["Contact email"] == "petrov@romashka.example"
    assert fields["Contact name"] == "Петров Алексей"  # the From header's name wins
    assert fields["Contact phone"] == "+7 495 123-45-67 доб. 214"  # the signature's «Тел.:»
    (note,) = _private_notes(gateway, issue["id"])
    assert "7709034563" in note and "прочитано из свободного текста" in note
    assert "текст письма, строка 4" in note
    bridge.store.close()


@pytest.fixture()
def bridge_ru(make_runtime, redmine):
    document = _russian(base_document(redmine))
    document["polling"] = {"enabled": False}
    return make_runtime(document, english_fields=False)


def test_the_issues_outlook_letter_through_redmines_mail_handler_is_accepted_and_flagged(
        bridge_ru, gateway, project, provisioned):
    before = metrics.NOTICES_UNSENT.labels("ack")._value.get()
    (issue_id,) = receive([samples.outlook_issue_letter("stranger@romashka.example",
                                                        samples.mid())],
                          project=project["identifier"], tracker="Support",
                          unknown_user="accept", no_permission_check="1")
    assert issue_id is not None
    assert gateway.issue(issue_id)["author"]["name"] in ("Anonymous", "Аноним")
    outcome = process_issue(bridge_ru, issue_id)
    assert outcome.action == "accepted", outcome.detail
    fields = _fields(gateway, issue_id)
    assert fields["INN"] == "7709034563"
    assert fields["Product version"] == "7.2"
    assert fields["Contact name"] == "Петров Алексей Викторович"  # from the signature
    assert fields["Contact phone"] == "+7 495 123-45-67 доб. 214"
    assert not fields["Contact email"]  # Redmine kept no sender address
    notes = _private_notes(gateway, issue_id)
    assert any("прочитано из свободного текста" in n for n in notes)
    assert any("Уведомление клиенту не отправлено" in n and "unknown_user=create" in n
               for n in notes)
    assert metrics.NOTICES_UNSENT.labels("ack")._value.get() == before + 1


def test_russian_keywords_with_allow_override_all_leave_the_canonical_label(
        make_runtime, redmine, gateway, project, provisioned):
    document = _russian(base_document(redmine))
    document["polling"] = {"enabled": False}
    document["intake"] = {"required": ["description", "version"]}
    bridge = make_runtime(document, english_fields=False)
    # Redmine reads keywords in the sender's language and the default one
    # (MailHandler#extract_keyword!): a Russian user stands for a Russian default
    # language without changing the shared Redmine's settings.
    roles = {r["name"]: r["id"] for r in gateway.roles()}
    login = unique("ru")
    address = f"{login}@romashka.example"
    user = gateway.create_user(login, "Иван", "Петров", address, "pw-" + login)
    gateway._redmine.user.update(user["id"], language="ru")
    gateway.add_member(project["id"], user["id"], [roles["Reporter"]])
    canonical = CANONICAL_LABELS["ru"]["version"]
    body = "Не работает VPN после обновления.\n{line}\nТелефон: +7 495 123-45-67\n"
    lines = [f"{canonical}: 7.3", "Версия продукта: 7.3", "Версия: 7.3"]
    ids = receive([samples.plain_utf8(address, samples.mid(), f"VPN {i}", body.format(line=line))
                   for i, line in enumerate(lines)],
                  project=project["identifier"], tracker="Support", allow_override="all")
    assert None not in ids
    kept, field_name, eaten = (gateway.issue(i, journals=False) for i in ids)
    assert f"{canonical}: 7.3" in kept["description"]
    # A custom field's name is a keyword, hence the canonical «Версия ПО» and not the
    # Russian field name «Версия продукта». Whether a field of that name is on this
    # project's issues depends on what else ran on the shared Redmine (a preset's Russian
    # fields, the demo's): the issue's own field list says which case this is.
    named = {f["name"]: f.get("value") for f in field_name["custom_fields"]}
    field_ate_it = "Версия продукта" in named
    if field_ate_it:
        assert named["Версия продукта"] == "7.3"
        assert "Версия продукта" not in field_name["description"]
    else:
        assert "Версия продукта: 7.3" in field_name["description"]
    # Redmine took «Версия» as its target version and dropped it
    assert "7.3" not in eaten["description"]
    outcomes = [process_issue(bridge, i) for i in ids]
    assert [o.action for o in outcomes] == [
        "accepted", "rejected" if field_ate_it else "accepted", "rejected"]
    assert _fields(gateway, ids[0])["Product version"] == "7.3"
