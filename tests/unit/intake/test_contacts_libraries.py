"""Phones and emails as customers really write them (issue 16): `check_phone` reads them
with phonenumbers, `check_email` with email-validator.

Every accepted sample names its exact normal form; every refused one its rule. The
seeds' own numbers and addresses (shared/seeds/*.txt) are among the samples.
"""

from __future__ import annotations

import datetime as dt

import pytest

from redmine_sla_bridge.domain.intake import (
    Contact,
    IntakeRequest,
    IntakeRules,
    ReasonCode,
    check,
    check_email,
    check_phone,
)

SEED = "+7 495 648-06-40 доб. 1263"  # 004: «тел. 8 (495) 648-06-40 (доб. 1263)»
CITY = "+7 495 648-06-40"

PHONES = [
    # the seeds' own numbers
    ("8 (495) 648-06-40 (доб. 1263)", SEED),
    ("+7 (495) 662-87-34", "+7 495 662-87-34"),
    ("+7 (495) 662 87 34", "+7 495 662-87-34"),
    ("+7 (495) 987 32 70", "+7 495 987-32-70"),
    ("8 800 555 33 40", "+7 800 555-33-40"),
    ("+7 495 240-92-96", "+7 495 240-92-96"),
    ("8 800 555-92-97", "+7 800 555-92-97"),
    ("+7 (473) 202-24-64", "+7 473 202-24-64"),
    ("+7 (473)202-24-87", "+7 473 202-24-87"),
    # extensions, in brackets or not, every label
    ("8 (495) 648-06-40 доб. 1263", SEED),
    ("8 (495) 648-06-40, доб. 1263", SEED),
    ("8 (495) 648-06-40 доб.1263", SEED),
    ("8 (495) 648-06-40 (доб.1263)", SEED),
    ("8 (495) 648-06-40 доб 1263", SEED),
    ("8 (495) 648-06-40 (доб 1263)", SEED),
    ("8 (495) 648-06-40 доб.: 1263", SEED),
    ("8 (495) 648-06-40 ДОБ. 1263", SEED),
    ("8 (495) 648-06-40 добавочный 1263", SEED),
    ("8 (495) 648-06-40 (добавочный 1263)", SEED),
    ("8 (495) 648-06-40 доп. 1263", SEED),
    ("8 (495) 648-06-40 вн. 1263", SEED),
    ("8 (495) 648-06-40 (вн. 1263)", SEED),
    ("8 (495) 648-06-40 внутр. 1263", SEED),
    ("8 (495) 648-06-40 ext. 1263", SEED),
    ("8 (495) 648-06-40 ext 1263", SEED),
    ("8 (495) 648-06-40 EXT 1263", SEED),
    ("8 (495) 648-06-40 (ext. 1263)", SEED),
    ("8 (495) 648-06-40 x1263", SEED),
    ("8 (495) 648-06-40 x 1263", SEED),
    ("8 (495) 648-06-40 #1263", SEED),
    (SEED, SEED),  # the normal form itself
    # +7 / 8 / 7 / none, any grouping
    ("+7 495 648 06 40", CITY),
    ("+7(495)648-06-40", CITY),
    ("+7-495-648-06-40", CITY),
    ("+7.495.648.06.40", CITY),
    ("8.495.648.06.40", CITY),
    ("7 (495) 648-06-40", CITY),
    ("74956480640", CITY),
    ("+74956480640", CITY),
    ("84956480640", CITY),
    ("(495) 648-06-40", CITY),
    ("495 648 06 40", CITY),
    ("+7\u00a0495\u00a0648\u201106\u201140", CITY),  # no-break spaces and hyphens
    ("8 (495) 648–06–40", CITY),  # en dashes
    ("tel:+7-495-648-06-40", CITY),
    # mobile numbers
    ("+7 916 123-45-67", "+7 916 123-45-67"),
    ("8 916 123 45 67", "+7 916 123-45-67"),
    ("8(916)1234567", "+7 916 123-45-67"),
    ("89161234567", "+7 916 123-45-67"),
    ("+7 (999) 000-00-00", "+7 999 000-00-00"),
    # other cities: 3-, 4- and 5-digit codes
    ("8 (812) 703-39-34", "+7 812 703-39-34"),
    ("8 (383) 212-34-56", "+7 383 212-34-56"),
    ("8 (3952) 12-34-56", "+7 395 212-34-56"),
    ("8 (34342) 2-12-34", "+7 343 422-12-34"),
    # Kazakhstan shares +7
    ("+7 727 244 00 00", "+7 7272 44 00 00"),
    ("+7 701 123 45 67", "+7 701 123 4567"),
    # other countries
    ("+375 29 123-45-67", "+375 29 123-45-67"),
    ("+380 44 123 4567", "+380 44 123 4567"),
    ("+44 20 7946 0958", "+44 20 7946 0958"),
    ("+49 30 1234567", "+49 30 1234567"),
    ("+1 202 555 0123", "+1 202-555-0123"),
    ("+998 71 123 45 67", "+998 71 123 45 67"),
    ("+86 10 1234 5678", "+86 10 1234 5678"),
    ("00 49 30 1234567", "+49 30 1234567"),
    ("8 10 375 29 123 45 67", "+375 29 123-45-67"),
    # several numbers: the first, with its own extension
    ("+7 495 648-06-40; +7 916 123-45-67", CITY),
    ("8 (495) 648-06-40 / 8 (916) 123-45-67", CITY),
    ("+7 495 648-06-40 доб. 12, 8 916 123 45 67", "+7 495 648-06-40 доб. 12"),
]


@pytest.mark.parametrize(("raw", "normal"), PHONES)
def test_real_phone_forms_are_read(raw: str, normal: str) -> None:
    result = check_phone(raw)
    assert result == check_phone(raw)  # no state between calls
    assert (result.ok, result.value, result.rule) == (True, normal, None)


@pytest.mark.parametrize("normal", sorted({normal for _, normal in PHONES}))
def test_phone_normal_form_checks_to_itself(normal: str) -> None:
    # the gate runs again on every pass: a normalised field must not change again
    assert check_phone(normal).value == normal


@pytest.mark.parametrize(
    "raw",
    [
        "648-06-40",  # no area code
        "+7 495 648 06 4",  # a digit short
        "+7 495 648 06 401",  # a digit over
        "12345",
        "+1234567890123456",  # longer than E.164 allows
        "+7 095 111 11 11",  # no such code in the +7 plan
        "+0 123456789",
        "+999 123 456 789",  # no such country code
        "8 (495) 648-06-40 звонить после обеда",
        "+7 (495) ABC-06-40",  # phonenumbers alone reads letters as keypad digits
        "+7 (495) 662-87-34 (многоканальный)",  # a comment, even the seed's: letters
        "+7 495 648-06-40+1",
        "8 (495) 648-06-40 доб. 1234567",  # no extension has 7 digits
        "8 (495) 648-06-40 доб.",  # a label without its number
        "доб. 123",
        "телефон",
        "٤٩٥ ٦٤٨ ٠٦ ٤٠",  # Arabic-Indic digits: ASCII only, as for the INN
        "+",
        "()",
        "   ",
        "",
        "7" * 400,
    ],
)
def test_what_is_not_a_phone_is_refused(raw: str) -> None:
    assert check_phone(raw) == check_phone(raw)
    result = check_phone(raw)
    assert (result.ok, result.value, result.rule) == (False, None, "format")


EMAILS = [
    ("иван@пример.рф", "иван@пример.рф"),
    ("ivan.petrov@пример.рф", "ivan.petrov@пример.рф"),
    ("ИВАН@ПРИМЕР.РФ", "ИВАН@пример.рф"),  # the domain lower-cased, the local part kept
    ("Иван.Петров@Почта.РФ", "Иван.Петров@почта.рф"),
    ("первый.второй@домен.москва", "первый.второй@домен.москва"),
    ("ivan@xn--e1afmkfd.xn--p1ai", "ivan@пример.рф"),  # punycode decoded: one spelling
    ("info@xn--80aswg.xn--p1ai", "info@сайт.рф"),
    ("user+tag@example.com", "user+tag@example.com"),
    ('"ivan petrov"@example.ru', '"ivan petrov"@example.ru'),  # quoted local part
    ('"ivan"@example.ru', "ivan@example.ru"),  # needless quotes dropped
    ("IVAN@EXAMPLE.RU", "IVAN@example.ru"),
    ("o'brien@example.ie", "o'brien@example.ie"),
    ("ivan_petrov-2@mail.example.com", "ivan_petrov-2@mail.example.com"),
    ("user@sub.domain.co.uk", "user@sub.domain.co.uk"),
    ("a@b.co", "a@b.co"),
    ("x" * 64 + "@x.ru", "x" * 64 + "@x.ru"),  # the longest local part
    # the seeds' addresses
    ("d.homutov@ideco.ru", "d.homutov@ideco.ru"),
    ("support@a-real.ru", "support@a-real.ru"),
    ("support@barier.pro", "support@barier.pro"),
    ("support.catalog@rusbitech.ru", "support.catalog@rusbitech.ru"),
    # how they arrive
    ("Иван Иванов <иван@пример.рф>", "иван@пример.рф"),
    ('"Петров, Иван" <ivan@example.ru>', "ivan@example.ru"),
    ("mailto:иван@пример.рф", "иван@пример.рф"),
    ("  ivan@example.ru  ", "ivan@example.ru"),
]


@pytest.mark.parametrize(("raw", "normal"), EMAILS)
def test_real_addresses_are_accepted(raw: str, normal: str) -> None:
    result = check_email(raw)
    assert (result.ok, result.value, result.rule) == (True, normal, None)
    assert check_email(normal).value == normal  # checks to itself on the next pass


@pytest.mark.parametrize(
    "raw",
    [
        "a@b",  # no dot in the domain
        "ivan@localhost",
        "ivan@example.test",  # reserved for no mail
        "ivan@example.invalid",
        "ivan@[192.168.0.1]",  # domain literal
        "a..b@x.ru",
        ".ivan@x.ru",
        "ivan.@x.ru",
        "иван@",
        "@пример.рф",
        "иван@@пример.рф",
        "иван@пример..рф",
        "a b@x.ru",
        '"unclosed@example.ru',
        "ivan(comment)@example.ru",
        "ivan@example.ru, petr@example.ru",
        "x" * 65 + "@x.ru",  # local part over 64
        "a@" + ("b" * 60 + ".") * 5 + "ru",  # address over 254
        "a@x.r",  # one-letter top-level domain
        "иван@пример.р",  # one letter too, though its punycode is longer
        "ivan@exa\u200bmple.ru",  # zero-width space
        "ivan@-example.ru",
        "ivan@example_1.ru",
        "ivan@example.123",
        "Иван <ivan@x.ru",
        "mailto:",
        "<>",
        "",
        "a@" + "b" * 400 + ".ru",  # the length guard
    ],
)
def test_what_is_not_an_address_is_refused(raw: str) -> None:
    result = check_email(raw)
    assert (result.ok, result.value, result.rule) == (False, None, "format")


RULES = IntakeRules(required=("contact.email", "contact.phone"))


def test_the_gate_writes_the_normal_forms() -> None:
    request = IntakeRequest(contact=Contact(email="Иван <иван@ПРИМЕР.РФ>",
                                            phone="8 (495) 648-06-40 (доб. 1263)"))
    decision = check(request, RULES, request_date=dt.date(2025, 3, 3))
    assert decision.reasons == ()
    assert (decision.normalized.contact.email, decision.normalized.contact.phone) == (
        "иван@пример.рф", SEED)


def test_the_gate_reports_what_the_customer_wrote() -> None:
    request = IntakeRequest(contact=Contact(email="иван@пример", phone="8 (495) 648-06-4"))
    decision = check(request, RULES, request_date=dt.date(2025, 3, 3))
    assert [(r.code, r.field, dict(r.params)) for r in decision.reasons] == [
        (ReasonCode.INVALID_EMAIL, "contact.email", {"value": "иван@пример", "rule": "format"}),
        (ReasonCode.INVALID_PHONE, "contact.phone",
         {"value": "8 (495) 648-06-4", "rule": "format"}),
    ]
    assert (decision.normalized.contact.email, decision.normalized.contact.phone) == (
        "иван@пример", "8 (495) 648-06-4")
