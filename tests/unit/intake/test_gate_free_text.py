"""The gate reads a letter's free text after its labelled lines (issue 17, point 2):
only the fields still empty are filled, each such value is flagged for the engineer."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from redmine_sla_bridge.domain.intake import (
    AnyOf,
    Contact,
    FlagCode,
    IntakeRequest,
    IntakeRules,
    MessageCatalog,
    ProductRule,
    check,
)
from redmine_sla_bridge.domain.intake.gate import flags_note

DATA = Path(__file__).parent / "data" / "free_text"
TODAY = dt.date(2026, 5, 20)

# AR-1: what the issue's refused Outlook letter was refused for.
AR_RULES = IntakeRules(
    required=("description", "version", "organization.inn", "contact.name"),
    any_of=(AnyOf(("contact.email", "contact.phone")),),
    products=(ProductRule("ИКС", ("Ideco ICS",)),),
)


def outlook() -> str:
    return (DATA / "01_outlook_issue.txt").read_text(encoding="utf-8")


def test_the_issues_outlook_letter_is_accepted_with_its_fields_from_the_text():
    decision = check(IntakeRequest(subject="Не работает VPN", description=outlook()),
                     AR_RULES, request_date=TODAY)
    assert decision.accepted, decision.reasons
    got = decision.normalized
    assert got.organization.inn == "7709034563"
    assert got.version == "7.2" and got.version_normalized == "7.2"
    assert got.contact.name == "Петров Алексей Викторович"
    assert got.contact.position == "Системный администратор"
    assert got.organization.name == "ООО «Ромашка»"
    # The signature's «Тел.:» is a labelled line; the support line quoted from our own
    # earlier reply is not the customer's.
    assert got.contact.phone == "+7 495 123-45-67 доб. 214"
    assert decision.found_in_description == ("contact.phone",)
    filled = {f.path for f in decision.found_in_free_text}
    assert filled == {"organization.inn", "version", "contact.name", "contact.position",
                      "organization.name"}


def test_each_free_text_value_is_a_flag_naming_where_it_was_read():
    decision = check(IntakeRequest(description=outlook()), AR_RULES, request_date=TODAY)
    flagged = {f.field: f for f in decision.flags if f.code is FlagCode.FROM_FREE_TEXT}
    assert set(flagged) == {f.path for f in decision.found_in_free_text}
    inn = flagged["organization.inn"]
    assert inn.params["value"] == "7709034563"
    assert inn.params["where"] == "текст письма, строка 4"
    assert flagged["contact.name"].params["where"].startswith("подпись, строка ")
    note = flags_note(decision, AR_RULES, "plain")
    assert "7709034563" in note and "проверьте" in note
    english = dataclasses.replace(AR_RULES, messages=MessageCatalog("en"))
    note = flags_note(check(IntakeRequest(description=outlook()), english,
                            request_date=TODAY), english, "plain")
    assert "read from the free text (the text, line 4)" in note


def test_labelled_lines_and_fields_win_over_the_free_text():
    text = "Версия продукта: 8.1\n" + outlook()
    request = IntakeRequest(description=text, contact=Contact(name="Иванов Иван"))
    decision = check(request, AR_RULES, request_date=TODAY)
    assert decision.normalized.version == "8.1"
    assert decision.normalized.contact.name == "Иванов Иван"
    assert decision.found_in_description == ("contact.phone", "version")
    filled = {f.path for f in decision.found_in_free_text}
    assert "version" not in filled and "contact.name" not in filled
    assert "organization.inn" in filled


def test_without_free_text_reading_the_letter_is_refused_as_before():
    rules = dataclasses.replace(AR_RULES, read_free_text=False)
    decision = check(IntakeRequest(description=outlook()), rules, request_date=TODAY)
    assert not decision.accepted
    assert {r.field for r in decision.reasons} >= {"version", "organization.inn",
                                                   "contact.name"}
    assert decision.found_in_free_text == ()
    assert not any(f.code is FlagCode.FROM_FREE_TEXT for f in decision.flags)


def test_a_number_failing_the_inn_checksum_is_not_taken_and_the_refusal_stays():
    text = "Здравствуйте, не работает VPN, версия 7.2.\nИНН 7709034564\n"
    decision = check(IntakeRequest(description=text, contact=Contact(
        name="Петров Иван", email="p@example.ru")), AR_RULES, request_date=TODAY)
    assert [(str(r.code), r.field) for r in decision.reasons] == [
        ("missing_field", "organization.inn")]
    assert decision.normalized.version == "7.2"


def test_the_decision_document_lists_the_free_text_findings():
    decision = check(IntakeRequest(description=outlook()), AR_RULES, request_date=TODAY)
    rows = {row["field"]: row for row in decision.to_dict()["found_in_free_text"]}
    assert rows["organization.inn"] == {"field": "organization.inn", "value": "7709034563",
                                        "raw": "ИНН организации 7709034563", "source": "text",
                                        "line": 4}
