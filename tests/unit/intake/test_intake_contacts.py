"""INN, email and phone: what is accepted, what is refused, and the normal forms."""

from __future__ import annotations

import pytest

from redmine_sla_bridge.domain.intake import check_email, check_inn, check_phone


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("7707083893", "7707083893"),  # Sberbank, 10 digits
        ("500100732259", "500100732259"),  # a person's 12-digit INN
        (" 7707 083 893 ", "7707083893"),
        ("7707-083-893", "7707083893"),
        ("7707083893/773601001", "7707083893"),  # "ИНН/КПП" written together
    ],
)
def test_valid_inn_is_compacted(raw: str, normal: str) -> None:
    assert check_inn(raw).ok
    assert check_inn(raw).value == normal


@pytest.mark.parametrize(
    ("raw", "rule"),
    [
        ("0000000000", "zeros"),  # python-stdnum accepts these: we must not
        ("000000000000", "zeros"),
        ("7707083894", "checksum"),
        ("500100732258", "checksum"),
        ("770708389", "length"),
        ("77070838931", "length"),
        ("77O7083893", "format"),  # letter O
        ("٧٧٠٧٠٨٣٨٩٣", "format"),  # Arabic-Indic digits pass str.isdigit()
        ("", "format"),
        ("7" * 400, "format"),
    ],
)
def test_invalid_inn_names_the_rule(raw: str, rule: str) -> None:
    result = check_inn(raw)
    assert not result.ok
    assert result.rule == rule
    assert result.value is None


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("ivan@example.ru", "ivan@example.ru"),
        ("Ivan.Petrov@Example.RU", "Ivan.Petrov@example.ru"),  # local part kept as written
        ("Иван Иванов <ivan@x.ru>", "ivan@x.ru"),
        ("mailto:a@b.co", "a@b.co"),
        ("support+sla@mail.example.com", "support+sla@mail.example.com"),
        ("a@почта.рф", "a@почта.рф"),
        ("a@xn--80a1acny.xn--p1ai", "a@почта.рф"),  # punycode decoded (email-validator)
    ],
)
def test_valid_email(raw: str, normal: str) -> None:
    assert check_email(raw).value == normal


@pytest.mark.parametrize(
    "raw",
    ["a@b", "a..b@x.ru", ".a@x.ru", "a@-x.ru", "a@x_y.ru", "a b@x.ru", "a@x.ru.", "@x.ru",
     "ivan", "", "a@@x.ru", "x" * 65 + "@x.ru", "a@x.r"],
)
def test_invalid_email(raw: str) -> None:
    assert not check_email(raw).ok


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("8 (495) 662-87-34", "+7 495 662-87-34"),
        ("+7 495 662 87 34", "+7 495 662-87-34"),
        ("84956628734", "+7 495 662-87-34"),
        ("+7 (495) 662-87-34", "+7 495 662-87-34"),
        ("7 495 662 87 34", "+7 495 662-87-34"),
        ("495 662-87-34", "+7 495 662-87-34"),
        ("8-916-123-45-67", "+7 916 123-45-67"),
        ("+7 (495) 662-87-34 доб. 123", "+7 495 662-87-34 доб. 123"),
        ("8 495 662 87 34 ext 5", "+7 495 662-87-34 доб. 5"),
        ("+7 495 662 87 34, 8 916 123 45 67", "+7 495 662-87-34"),
        ("+49 30 1234567", "+49 30 1234567"),
        ("0049 30 1234567", "+49 30 1234567"),
        ("8 10 49 30 1234567", "+49 30 1234567"),
        ("+1 202 555 0123", "+1 202-555-0123"),
    ],
)
def test_valid_phone_gets_its_international_form(raw: str, normal: str) -> None:
    assert check_phone(raw).value == normal


@pytest.mark.parametrize(
    "raw",
    [
        "662-87-34",  # no area code
        "+7 095 111 11 11",  # Russian numbers do not start with 0
        "+7 495 662 87 3",  # one digit short
        "+7 495 662 87 345",
        "телефон",
        "+0 123456789",
        "+1234567",  # too short for any country
        "+1234567890123456",  # longer than E.164 allows
        "",
        "8 (495) 662-87-34 звонить после обеда",
    ],
)
def test_invalid_phone(raw: str) -> None:
    assert not check_phone(raw).ok
