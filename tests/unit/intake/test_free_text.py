"""Free-form customer email read as a support engineer reads it (issue 17, item 2).

The samples in data/free_text/ are written the way customers write: Outlook (also with
CRLF line ends), Thunderbird, web mail, a forward, replies over a quoted history. Each
test asserts every field found, so a field found by mistake fails it as surely as a
field missed."""

from __future__ import annotations

from pathlib import Path

import pytest
from stdnum.ru import inn as stdnum_inn

from redmine_sla_bridge.domain.intake import IntakeRequest, fill_empty_fields
from redmine_sla_bridge.domain.intake.free_text import (
    html_to_text,
    read_free_text,
    strip_quoted,
)
from redmine_sla_bridge.domain.intake.products import ProductLine, ProductRule
from redmine_sla_bridge.domain.intake.versions import VersionPolicy, normalize_version

DATA = Path(__file__).parent / "data" / "free_text"

PRODUCTS = (
    ProductRule("Ideco ICS", ("Ideco UTM", "Айдеко ICS"), lines=(
        ProductLine.of("current", "Ideco ICS", current_version="20"),
        ProductLine.of("6", "Ideco ICS 6", versions="6", aliases=("ICS 6", "UTM 6")),
    )),
    ProductRule("ИКС Стандарт", ("ИКС",)),
    ProductRule("КОМПАС-3D"),
    ProductRule("Ideco PBX", ("IP-АТС Ideco PBX",), VersionPolicy(current="4")),
)


def sample(name: str) -> str:
    raw = (DATA / name).read_bytes().decode("utf-8")
    return html_to_text(raw) if name.endswith(".html") else raw


def read(name: str, **sender: str):
    return read_free_text(sample(name), products=PRODUCTS, **sender)


def sources(found) -> dict[str, str]:
    return {f.path: f.source for f in found.findings if found.first(f.path) is f}


# --- the samples: every field found, exactly ---------------------------------------------

CASES = {
    # The issue's own message: version, «ИНН организации», a name, a position and two
    # phones in text and signature; our phone in the quoted Outlook history is not read.
    "01_outlook_issue.txt": {
        "contact.name": "Петров Алексей Викторович",
        "contact.position": "Системный администратор",
        "contact.phone": "+7 495 123-45-67 доб. 214",
        "organization.name": "ООО «Ромашка»",
        "organization.inn": "7709034563",
        "version": "7.2",
    },
    # Outlook with CRLF line ends; «ИНН/КПП 7707083893/773601001»; ASCII quotes.
    "02_outlook_crlf_inn_kpp.txt": {
        "contact.name": "Иванова Мария",
        "contact.position": "ведущий инженер отдела информационных технологий",
        "contact.phone": "+7 343 222-11-00",
        "organization.name": 'АО "Вектор"',
        "organization.inn": "7707083893",
        "product": "Ideco ICS",
        "version": "7.2 build 456",
    },
    # Thunderbird: answers written between the quoted questions; "--" signature.
    "03_thunderbird_inline.txt": {
        "contact.name": "Анна Смирнова",
        "contact.position": "инженер",
        "contact.phone": "+7 912 345-67-89",
        "organization.inn": "7736050003",
        "product": "ИКС Стандарт",
        "version": "7.2.3",
    },
    # Yandex reply: «Версия: 20.1, сборка 1187», an IP; the name on the closing line;
    # the support phone in the quote is not read.
    "04_yandex_reply.txt": {
        "contact.name": "Кузнецов Сергей",
        "version": "20.1 build 1187",
    },
    # A forwarded message is the request: its data count; the forwarder signs.
    "05_forwarded.txt": {
        "contact.name": "Николаев Дмитрий",
        "contact.position": "начальник отдела ИТ",
        "contact.email": "o.sidorova@romashka.ru",
        "organization.inn": "7709034563",
        "product": "КОМПАС-3D",
        "version": "21.0.3",
    },
    # OGRN, KPP, an account and a BIK but no INN; the bank is not the customer.
    "06_ogrn_kpp_no_inn.txt": {"product": "ИКС"},
    # 8 9161234567: its 9161234567 passes the INN checksum; it is a phone only.
    "07_phone_inn_trap.txt": {"contact.phone": "+7 916 123-45-67"},
    # A date, an IP and a time near the product: none is a version.
    "08_date_ip_not_version.txt": {"product": "ИКС Стандарт"},
    # HTML only: <br>, <div>, &nbsp;, &laquo;; <style>/<script> dropped; <blockquote>
    # history (with our phone) dropped.
    "09_html_webmail.html": {
        "contact.name": "Гусев Павел",
        "contact.position": "Главный специалист по информационной безопасности",
        "contact.phone": "+7 343 310-20-30",
        "organization.name": "ФГБУ «Центр цифровых технологий»",
        "organization.inn": "6663003127",
        "product": "Ideco ICS",
        "version": "20.1",
    },
    # «ИП Иванов И.И.», a 12-digit INN, "ver. 22.1"; a name over a bare 11-digit mobile
    # at the end reads as a signature.
    "10_ip_entrepreneur.txt": {
        "contact.name": "Иван Иванович",
        "contact.phone": "+7 903 123-45-67",
        "organization.name": "ИП Иванов И.И",
        "organization.inn": "500100732259",
        "product": "КОМПАС-3D",
        "version": "22.1",
    },
    # Gmail in Russian: «ср, 20 мая 2026 г. в 10:15, … <…>:»; "7.3 build 12".
    "11_gmail_ru.txt": {"version": "7.3 build 12"},
    # Apple Mail «… написал(а):» with no "> " marks; «Отправлено с iPhone».
    "12_apple_mail_mobile.txt": {"product": "Ideco UTM", "version": "6.2.1"},
    # English, "On … wrote:" wrapped over two lines, "ext. 17", "IT Manager".
    "13_english_wrapped.txt": {
        "contact.name": "John Smith",
        "contact.position": "IT Manager",
        "contact.phone": "+7 812 300-40-50 доб. 17",
        "organization.name": 'АО "Вектор"',
        "organization.inn": "7728168971",
        "version": "20.1",
    },
    # "-----Original Message-----": the INN of the quoted part is not read.
    "14_original_message.txt": {"version": "7.2.0.123"},
    # A signature with no marker: the last paragraph starts with a name.
    "15_trailing_block.txt": {
        "contact.name": "Петров Иван Сергеевич",
        "contact.position": "ведущий инженер",
        "contact.phone": "+7 495 123-45-67",
        "organization.name": "ЗАО «Альфа-Сервис»",
        "product": "ИКС",
        "version": "7.1",
    },
    # «С уважением, Сергеева Елена, руководитель отдела ИТ»; a line name of a product.
    "16_closing_inline.txt": {
        "contact.name": "Сергеева Елена",
        "contact.position": "руководитель отдела ИТ",
        "organization.inn": "7702070139",
        "product": "Ideco ICS 6",
        "version": "6.5",
    },
    # A lone INN (no label) beside its KPP; an unquoted «ООО Ромашка Плюс».
    "17_lone_inn.txt": {
        "organization.name": "ООО Ромашка Плюс",
        "organization.inn": "7707083893",
        "product": "ИКС Стандарт",
        "version": "7.2",
    },
    # Two different lone numbers: neither.
    "18_two_lone_numbers.txt": {"product": "ИКС"},
    # «ИНН» with a bad checksum: skipped, and then no lone number is taken either.
    "19_labelled_bad_checksum.txt": {"product": "ИКС", "version": "7.2"},
    # Extensions in brackets and «вн.».
    "20_extensions.txt": {
        "contact.name": "Алексеев Алексей",
        "contact.phone": "+7 495 648-06-40 доб. 1263",
        "version": "7.2",
    },
    "21_sender_only_mobile.txt": {"product": "ИКС", "version": "7.1"},
    "22_one_word_signature.txt": {
        "contact.name": "Ольга", "product": "Ideco PBX", "version": "4",
    },
    # An Outlook block whose subject is "FW:": forwarded, kept.
    "23_outlook_forward_subject.txt": {
        "contact.name": "Громов Антон",
        "contact.position": "инженер-конструктор",
        "contact.phone": "+7 345 255-66-77",
        "contact.email": "a.gromov@zavod.ru",
        "organization.inn": "7728168971",
        "product": "КОМПАС-3D",
        "version": "21",
    },
    # A written-out legal form with nested quotes; «ИНН учреждения —»; «(сборка 301)».
    "24_gosconcern.txt": {
        "contact.name": "Ковалёв Пётр Андреевич",
        "contact.position": "заместитель начальника управления информатизации",
        "organization.name": ("Федеральное государственное бюджетное учреждение "
                              "«Научный центр „Сигнал“»"),
        "organization.inn": "7702070139",
        "product": "ИКС Стандарт",
        "version": "7.2 build 301",
    },
    # A bare 9161234567: a valid INN and a valid mobile without its 8: neither.
    "25_bare_mobile_digits.txt": {
        "contact.name": "Пётр", "product": "ИКС", "version": "7.2 build 5",
    },
}


def test_every_sample_has_a_case() -> None:
    assert sorted(p.name for p in DATA.iterdir()) == sorted(CASES)
    assert len(CASES) >= 25


@pytest.mark.parametrize("name", sorted(CASES))
def test_sample_fields(name: str) -> None:
    assert read(name).values == CASES[name]


def test_issue_message_sources_and_lines() -> None:
    found = read("01_outlook_issue.txt")
    assert sources(found) == {
        "contact.name": "signature", "contact.position": "signature",
        "contact.phone": "signature", "organization.name": "signature",
        "organization.inn": "text", "version": "text",
    }
    inn = found.first("organization.inn")
    assert inn is not None and (inn.raw, inn.line, inn.basis) == (
        "ИНН организации 7709034563", 4, "label")
    # both phones, signature first; the support's phone of the quote is not among them
    assert [f.value for f in found.every("contact.phone")] == [
        "+7 495 123-45-67 доб. 214", "+7 916 555-12-34"]
    assert found.skipped == ()


def test_issue_message_fills_only_empty_fields() -> None:
    found = read("01_outlook_issue.txt", sender_name="Petrov A.", sender_email="ap@romashka.ru")
    request = IntakeRequest.from_dict({"organization": {"inn": "7707083893"}, "version": "7.3"})
    filled, paths = fill_empty_fields(request, found.as_labelled())
    assert paths == ("contact.name", "contact.email", "contact.phone", "contact.position",
                     "organization.name")
    assert filled.organization.inn == "7707083893" and filled.version == "7.3"
    assert filled.contact.email == "ap@romashka.ru"


def test_version_value_normalizes_with_the_build_as_local_label() -> None:
    value = read("02_outlook_crlf_inn_kpp.txt").values["version"]
    parsed = normalize_version(value)
    assert parsed is not None and parsed.text == "7.2+456"


def test_phone_trap_is_really_a_trap() -> None:
    assert stdnum_inn.is_valid("9161234567")  # the sample's premise
    found = read("07_phone_inn_trap.txt")
    assert found.first("organization.inn") is None
    assert found.skipped == ()


def test_date_time_and_ip_are_neither_version_nor_phone() -> None:
    found = read("08_date_ip_not_version.txt")
    assert found.skipped == ()
    assert found.every("version") == () and found.every("contact.phone") == ()


def test_bare_digits_that_are_both_inn_and_mobile_are_reported() -> None:
    found = read("25_bare_mobile_digits.txt")
    assert [(s.path, s.raw, s.rule) for s in found.skipped] == [
        ("organization.inn", "9161234567", "maybe_phone")]


def test_two_lone_numbers_are_ambiguous() -> None:
    found = read("18_two_lone_numbers.txt")
    assert [(s.raw, s.rule) for s in found.skipped] == [
        ("7707083893", "ambiguous"), ("7736050003", "ambiguous")]


def test_labelled_inn_with_bad_checksum_is_skipped_not_filled() -> None:
    found = read("19_labelled_bad_checksum.txt")
    assert [(s.path, s.raw, s.rule) for s in found.skipped] == [
        ("organization.inn", "ИНН 7707083894", "checksum")]


def test_ogrn_and_kpp_never_become_the_inn() -> None:
    found = read("06_ogrn_kpp_no_inn.txt")
    assert found.every("organization.inn") == ()
    assert [s for s in found.skipped if s.path == "organization.inn"] == []


def test_lone_inn_is_marked_lone() -> None:
    inn = read("17_lone_inn.txt").first("organization.inn")
    assert inn is not None and (inn.basis, inn.source) == ("lone", "text")


def test_one_word_signature_yields_to_the_longer_sender_name() -> None:
    found = read("22_one_word_signature.txt", sender_name="Смирнова Ольга Николаевна")
    assert [(f.value, f.source) for f in found.every("contact.name")] == [
        ("Смирнова Ольга Николаевна", "sender"), ("Ольга", "signature")]


def test_sender_fills_the_name_and_email_of_a_mobile_message() -> None:
    found = read("21_sender_only_mobile.txt", sender_name='"Кузнецов Сергей (ООО Ромашка)"',
                 sender_email="S.Kuznetsov@ROMASHKA.RU")
    assert found.values == {"contact.name": "Кузнецов Сергей",
                            "contact.email": "S.Kuznetsov@romashka.ru",
                            "product": "ИКС", "version": "7.1"}
    assert sources(found)["contact.name"] == "sender"


def test_sender_name_that_is_not_a_person_is_not_used() -> None:
    found = read("21_sender_only_mobile.txt", sender_name="Отдел ИТ",
                 sender_email="it@romashka.ru")
    assert "contact.name" not in found.values


def test_sender_email_wins_over_an_address_in_the_text() -> None:
    found = read("05_forwarded.txt", sender_email="d.nikolaev@romashka.ru")
    assert [(f.value, f.source) for f in found.every("contact.email")] == [
        ("d.nikolaev@romashka.ru", "sender"), ("o.sidorova@romashka.ru", "text")]


# --- versions, one form at a time ---------------------------------------------------------

@pytest.mark.parametrize(("text", "version"), [
    ("Стоит версия 7.2, не работает.", "7.2"),
    ("Обновились на v7.2.1 вчера.", "7.2.1"),
    ("У нас 7.2 build 456.", "7.2 build 456"),
    ("Версия 7.2\nСборка: 456", "7.2 build 456"),
    ("в версии 7.2.3 ошибка", "7.2.3"),
    ("ver. 7.2 на сервере", "7.2"),
    ("Версия ПО: 7.2.0.123", "7.2.0.123"),
    ("Ideco ICS 20.1 (сборка 77)", "20.1 build 77"),
    ("Ставили версию 7.3-rc1", "7.3-rc1"),
    ("Версия от 12.03.2026 не запускается", None),
    ("Шлюз 10.0.7.2 не отвечает, дата 12.03.2026", None),
    ("Позвоните 8 916 123-45-67, ИКС 3 сервера", None),
    ("Только сборка 456 и всё", None),
])
def test_version_forms(text: str, version: str | None) -> None:
    assert read_free_text(text, products=PRODUCTS).values.get("version") == version


def test_build_alone_is_skipped_as_build_only() -> None:
    found = read_free_text("Только сборка 456 и всё", products=PRODUCTS)
    assert [(s.path, s.rule) for s in found.skipped] == [("version", "build_only")]


# --- organizations and phones, one form at a time -----------------------------------------

@pytest.mark.parametrize(("text", "organization"), [
    ("Пишу от ООО «Ромашка».", "ООО «Ромашка»"),
    ("Мы АО „Вектор“, Москва", "АО „Вектор“"),
    ("Заказчик: ПАО “Газ”", "ПАО “Газ”"),
    ("ИП Сидоров Пётр Петрович, г. Тула", "ИП Сидоров Пётр Петрович"),
    ("ФГБОУ ВО «МГТУ им. Н.Э. Баумана»", "ФГБОУ ВО «МГТУ им. Н.Э. Баумана»"),
    ("Общество с ограниченной ответственностью «Альфа»", "Общество с ограниченной ответственностью «Альфа»"),
    ("МБОУ «Школа № 5»", "МБОУ «Школа № 5»"),
    ("р/с 40702810900000000001 в АО «Банк»", None),
])
def test_organization_forms(text: str, organization: str | None) -> None:
    assert read_free_text(text, products=()).values.get("organization.name") == organization


@pytest.mark.parametrize(("text", "phone"), [
    ("тел. +7 (495) 662-87-34", "+7 495 662-87-34"),
    ("Телефон: 8(495)6628734 доб.12", "+7 495 662-87-34 доб. 12"),
    ("моб. 9161234567", "+7 916 123-45-67"),
    ("звоните +7 916 123 45 67", "+7 916 123-45-67"),
    ("8-800-555-33-40", "+7 800 555-33-40"),
    ("+49 30 1234567", "+49 30 1234567"),
    ("ОГРН 1027700132195", None),
    ("р/с 40702810938000012345", None),
    ("IP 192.168.100.200 и версия 10.0.7.2", None),
])
def test_phone_forms(text: str, phone: str | None) -> None:
    assert read_free_text(text, products=()).values.get("contact.phone") == phone


def test_never_raises_on_noise() -> None:
    for text in ("", "\n\n", "> " * 5000, "ИНН" * 3000, "8" * 20_000, "«" * 5000,
                 "С уважением,\n" * 500, "От: x\nОтправлено: y\nКому: z\n",
                 "тел. 8 916 123-45-67 " * 2000, "ООО " * 5000):
        found = read_free_text(text, products=PRODUCTS)
        assert all(len(found.every(path)) <= 20 for path in found.values)
        assert len(found.skipped) <= 50


# --- strip_quoted -------------------------------------------------------------------------

def test_strip_outlook_russian_header_and_separator() -> None:
    text = sample("01_outlook_issue.txt")
    new = strip_quoted(text)
    assert new.endswith("Моб.: 8 916 555-12-34")
    assert "support@vendor.ru" not in new and "____" not in new


def test_strip_outlook_english_header_with_bold_marks() -> None:
    text = ("Fixed, thanks.\n\n*From:* Support <support@vendor.ru>\n*Sent:* Wednesday, "
            "May 20, 2026 10:15 AM\n*To:* Ivan\n*Subject:* RE: VPN\n\nold text")
    assert strip_quoted(text) == "Fixed, thanks."


@pytest.mark.parametrize("header", [
    "-----Original Message-----",
    "----- Исходное сообщение -----",
    "-----Исходное сообщение-----",
    "20 мая 2026 г., в 10:15, Иван <ivan@x.ru> написал(а):",
    "On Wed, May 20, 2026 at 10:15 AM Ivan Petrov <ivan@x.ru> wrote:",
    "20.05.2026 10:15, Иван Петров пишет:",
    "ср, 20 мая 2026 г. в 10:15, Иван Петров <ivan@x.ru>:",
    '20.05.2026, 10:15, "Иван Петров" <ivan@yandex.ru>:',
    "Среда, 20 мая 2026, 10:15 +03:00 от Иван Петров <ivan@mail.ru>:",
])
def test_strip_history_headers(header: str) -> None:
    text = f"Новый текст.\n\n{header}\nстарый текст\n> ещё старее\n"
    assert strip_quoted(text) == "Новый текст."


def test_strip_keeps_a_reply_written_between_quoted_lines() -> None:
    text = ("20.05.2026 10:15, Поддержка пишет:\n> Какая версия?\nВерсия 7.2\n"
            "> А ИНН?\nИНН 7707083893\n")
    assert strip_quoted(text) == "Версия 7.2\nИНН 7707083893"


def test_strip_keeps_a_forwarded_message() -> None:
    text = sample("05_forwarded.txt")
    assert strip_quoted(text) == text.strip()


def test_strip_keeps_prose_that_mentions_writing() -> None:
    text = "Как я уже написал:\nне работает VPN."
    assert strip_quoted(text) == text


@pytest.mark.parametrize(("text", "expected"), [
    ("Не работает.\n\nС уважением,\nИван Петров\n+7 916 123-45-67", "Не работает."),
    ("Не работает.\n-- \nИван", "Не работает."),
    ("Broken.\n\nBest regards,\nJohn", "Broken."),
    ("Не работает.\n\nОтправлено с iPhone", "Не работает."),
    ("Не работает.\nС уважением, Иван", "Не работает."),
    ("С уважением к вашему труду, прошу помочь.", "С уважением к вашему труду, прошу помочь."),
])
def test_strip_signature(text: str, expected: str) -> None:
    assert strip_quoted(text, strip_signature=True) == expected
    kept = "\n".join(line.rstrip() for line in text.split("\n"))
    assert strip_quoted(text) == kept  # kept unless asked


def test_strip_crlf_and_trailing_spaces() -> None:
    assert strip_quoted("a  \r\nb\r\n\r\n> c\r\n") == "a\nb"


# --- html_to_text -------------------------------------------------------------------------

def test_html_breaks_entities_and_dropped_tags() -> None:
    html = ("<html><head><title>t</title><style>p{x:y}</style></head><body>"
            "<p>Строка&nbsp;1</p><div>Строка 2<br>Строка 3</div>"
            "<ul><li>пункт &laquo;а&raquo;</li><li>пункт &amp; б</li></ul>"
            "<script>alert(1)</script>"
            "<table><tr><td>ИНН</td><td>7707083893</td></tr></table>"
            "<p>   много    пробелов  </p></body></html>")
    assert html_to_text(html) == ("Строка 1\nСтрока 2\nСтрока 3\nпункт «а»\nпункт & б\n"
                                  "ИНН\t7707083893\nмного пробелов")


def test_html_blockquote_becomes_quoted_lines() -> None:
    html = "<div>Ответ</div><blockquote>вопрос<br>ещё</blockquote>"
    assert html_to_text(html) == "Ответ\n> вопрос\n> ещё"
    assert strip_quoted(html_to_text(html)) == "Ответ"


def test_html_pre_keeps_its_lines() -> None:
    assert html_to_text("<pre>a  b\nc</pre>") == "a  b\nc"
