"""Customer-facing texts: ru and en, the rejection note, config overrides."""

from __future__ import annotations

import datetime as dt

import pytest

from redmine_sla_bridge.domain.intake import (
    PLACEHOLDERS,
    AnyOf,
    IntakeRequest,
    IntakeRules,
    MessageCatalog,
    Organization,
    ProductRule,
    VersionLine,
    VersionPolicy,
    check,
    check_override,
    rejection_note,
)

RULES = dict(
    required=("description", "version", "organization.inn"),
    any_of=(AnyOf(("contact.email", "contact.phone")),),
    products=(ProductRule("ИКС Стандарт", (), VersionPolicy(
        lines=(VersionLine("6", dt.date(2024, 12, 31)),))),),
)
REQUEST = IntakeRequest(description="Помогите", organization=Organization(inn="0000000000"),
                        product="ИКС Стандарт", version="6.1 build 7")


def _decide(language: str, **overrides):
    rules = IntakeRules(**RULES, messages=MessageCatalog(language, overrides))
    return rules, check(REQUEST, rules, request_date=dt.date(2025, 1, 10), is_demo=True,
                        demo_history=[(dt.date(2024, 6, 1), dt.date(2024, 6, 30))])


def test_russian_messages_and_note() -> None:
    rules, decision = _decide("ru")
    assert [r.message for r in decision.reasons] == [
        "ИНН «0000000000» недействителен: ИНН состоит из 10 (организация) или 12 (ИП) цифр "
        "с верной контрольной суммой.",
        "Нужно указать хотя бы одно из: адрес электронной почты, контактный телефон.",
        "Поддержка версии 6.1 build 7 продукта «ИКС Стандарт» прекращена 31.12.2024.",
        "Демонстрационный период уже предоставлялся с 01.06.2024; поддержка в демо-режиме — "
        "не более одного демонстрационного периода в год, следующий возможен с 01.06.2025.",
    ]
    note = rejection_note(decision, rules)
    assert note.startswith("Здравствуйте!")
    assert "Что не так:\n• ИНН «0000000000» недействителен" in note
    assert ("Чтобы обращение взяли в работу, ответьте на это письмо и пришлите:\n"
            "• верный ИНН организации (10 или 12 цифр)\n"
            "• адрес электронной почты, контактный телефон (хотя бы одно)\n"
            "• версию продукта, которая поддерживается (после обновления)\n\n") in note
    assert note.endswith("мы проверим его ещё раз.")


def test_english_messages_and_note() -> None:
    rules, decision = _decide("en")
    assert decision.reasons[2].message == (
        'Support for version 6.1 build 7 of "ИКС Стандарт" ended on 2024-12-31.')
    note = rejection_note(decision, rules)
    assert note.startswith("Hello,")
    assert "• a valid INN of the organization (10 or 12 digits)" in note
    assert note.endswith("it will be checked again.")


def test_nothing_to_send_leaves_the_send_section_out() -> None:
    rules = IntakeRules(messages=MessageCatalog("en"))
    decision = check(IntakeRequest(), rules, request_date=dt.date(2025, 1, 10), is_demo=True,
                     demo_history=[(dt.date(2024, 6, 1), dt.date(2024, 6, 30))])
    note = rejection_note(decision, rules)
    assert "send:" not in note
    assert "demo period" in note


def test_overrides_replace_templates_and_rule_keys_win() -> None:
    rules, decision = _decide(
        "ru",
        **{"reason.invalid_inn.zeros": "ИНН из одних нулей: $value",
           "note.footer": "Ждём ответа.", "note.item": "- $text"},
    )
    assert decision.reasons[0].message == "ИНН из одних нулей: 0000000000"
    note = rejection_note(decision, rules)
    assert note.endswith("Ждём ответа.")
    assert "\n- ИНН из одних нулей: 0000000000" in note


@pytest.mark.parametrize(
    ("key", "template", "error"),
    [
        ("reason.nope", "x", "unknown message key"),
        ("reason.unsupported_version", "версия $vesion", r"unknown placeholder\(s\) \$vesion"),
        ("note.footer", "$value", "unknown placeholder"),
        ("note.header", "100$", "invalid template"),
    ],
)
def test_bad_overrides_are_refused(key: str, template: str, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        check_override(key, template)
    with pytest.raises(ValueError):
        MessageCatalog("ru", {key: template})


def test_every_default_template_uses_only_its_placeholders() -> None:
    for key in PLACEHOLDERS:
        for language in ("ru", "en"):
            template = MessageCatalog(language).template(key)
            assert template is not None, (language, key)
            check_override(key, template)


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="language"):
        MessageCatalog("de")  # type: ignore[arg-type]


def test_field_labels() -> None:
    assert MessageCatalog("ru").field_label("contact.phone") == "контактный телефон"
    assert MessageCatalog("en").field_label("contact.phone") == "phone number"
