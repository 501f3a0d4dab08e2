"""Labelled lines in an email body fill empty fields."""

from __future__ import annotations

import pytest

from redmine_sla_bridge.domain.intake import (
    Contact,
    IntakeRequest,
    fill_empty_fields,
    parse_labelled_lines,
)

RU_BODY = (
    "Добрый день!\r\n"
    "- ИНН: 7707083893\r\n"
    "* **Версия:** 7.2 build 456\r\n"
    "1. Телефон — 8 (495) 662-87-34\r\n"
    "Организация - ООО «Ромашка»\r\n"
    "Контактное лицо:  Иванов Иван Иванович\r\n"
    "ДОЛЖНОСТЬ: системный администратор\r\n"
    "Почта:ivan@example.ru\r\n"
    "Продукт: ИКС Стандарт\r\n"
    "Номер контракта: 0373100000123000001\r\n"
    "Приоритет: P2\r\n"
    "\r\n"
    "Не работает VPN после обновления.\r\n"
)


def test_russian_labels_with_crlf_bullets_and_separators() -> None:
    data = parse_labelled_lines(RU_BODY)
    assert dict(data.values) == {
        "organization.inn": "7707083893",
        "version": "7.2 build 456",
        "contact.phone": "8 (495) 662-87-34",
        "organization.name": "ООО «Ромашка»",
        "contact.name": "Иванов Иван Иванович",
        "contact.position": "системный администратор",
        "contact.email": "ivan@example.ru",
        "product": "ИКС Стандарт",
        "contract_number": "0373100000123000001",
        "impact": "P2",
    }
    assert data.free_text == "Добрый день!\n\nНе работает VPN после обновления."


def test_english_labels() -> None:
    body = ("INN: 500100732259\nVersion = 15.7\nPhone\t+7 495 662 87 34\n"
            "Organization: Acme LLC\nName: John Smith\nPosition: CTO\nE-mail: j@acme.io\n"
            "Product: Ideco ICS\nContract: 42\nImpact: P1\nThe gateway is down.")
    data = parse_labelled_lines(body)
    assert dict(data.values) == {
        "organization.inn": "500100732259", "version": "15.7",
        "contact.phone": "+7 495 662 87 34", "organization.name": "Acme LLC",
        "contact.name": "John Smith", "contact.position": "CTO", "contact.email": "j@acme.io",
        "product": "Ideco ICS", "contract_number": "42", "impact": "P1",
    }
    assert data.free_text == "The gateway is down."


@pytest.mark.parametrize(
    ("line", "path", "value"),
    [
        ("ФИО: Петров П.П.", "contact.name", "Петров П.П."),
        ("Ф.И.О.: Петров П.П.", "contact.name", "Петров П.П."),
        ("Email: a@b.ru", "contact.email", "a@b.ru"),
        ("E-mail — a@b.ru", "contact.email", "a@b.ru"),
        ("Договор: 15/2024", "contract_number", "15/2024"),
        ("№ Гос. Контракта: 777", "contract_number", "777"),
        ("Номер   контракта : 9", "contract_number", "9"),
        ("Полное наименование организации: АО «Барьер»", "organization.name", "АО «Барьер»"),
        ("ИНН/КПП: 7707083893/773601001", "organization.inn", "7707083893/773601001"),
        ("  •  Версия ПО: 2.3.1-hotfix", "version", "2.3.1-hotfix"),
        ("2) Контактный телефон: 8 800 555 35 35", "contact.phone", "8 800 555 35 35"),
        ("Тип обращения: Ошибка", "type", "Ошибка"),
    ],
)
def test_label_forms(line: str, path: str, value: str) -> None:
    assert dict(parse_labelled_lines(line).values) == {path: value}


@pytest.mark.parametrize(
    "line",
    [
        "Версия не обновлялась давно",  # no separator: prose, not a label
        "ИНН:",  # empty value
        "> ИНН: 7707083893",  # quoted reply
        "Типовая ошибка: не грузится",  # "Тип" is a label, "Типовая" is not
    ],
)
def test_lines_that_are_not_values(line: str) -> None:
    assert dict(parse_labelled_lines(line).values) == {}


def test_first_value_wins_and_label_lines_leave_free_text() -> None:
    data = parse_labelled_lines("ИНН: 7707083893\nINN: 500100732259\nИНН:\nвопрос")
    assert data.values["organization.inn"] == "7707083893"
    assert data.free_text == "вопрос"


def test_configured_labels() -> None:
    labels = {"organization.inn": ("Налоговый номер",)}
    data = parse_labelled_lines("Налоговый номер: 7707083893\nИНН: 500100732259", labels)
    assert dict(data.values) == {"organization.inn": "7707083893"}
    assert data.free_text == "ИНН: 500100732259"


def test_fill_only_empty_fields_and_report_them() -> None:
    request = IntakeRequest(description=RU_BODY, contact=Contact(email="given@example.ru"))
    filled, found = fill_empty_fields(request, parse_labelled_lines(RU_BODY))
    assert filled.contact.email == "given@example.ru"
    assert "contact.email" not in found
    assert filled.organization.inn == "7707083893"
    assert found == ("contact.name", "contact.phone", "contact.position", "organization.name",
                     "organization.inn", "product", "version", "impact", "contract_number")
