"""The embedded customer directory: YAML and CSV layouts, and their error messages."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import pytest

from redmine_sla_bridge.adapters.customers import (
    CustomerDirectoryError,
    InMemoryCustomerSource,
    load_customer_file,
    parse_customers_csv,
    parse_customers_yaml,
)
from redmine_sla_bridge.domain.calendar.duration import WorkingMinutes
from redmine_sla_bridge.domain.policy import ContractTerms, Customer, DemoPeriod, License

DATA = Path(__file__).parent / "data"
D = dt.date

EXPECTED = [
    Customer(
        "7701234567",
        'ООО "Ромашка"',
        licenses=(
            License("perpetual", D(2023, 3, 1), None, "ИКС Стандарт"),
            License("update", D(2025, 3, 1), D(2026, 2, 28), "ИКС Стандарт"),
        ),
    ),
    Customer("0105012345", "ИП Партнёров", partner=True),
    Customer(
        "500100732259",
        "ЗАО Контракт",
        licenses=(
            License("perpetual", D(2020, 1, 1), None, "*"),
            License(
                "contract",
                D(2025, 1, 1),
                D(2025, 12, 31),
                contract=ContractTerms(
                    {"first_response": WorkingMinutes(120), "resolution": None},
                    calendar="24x7",
                    reference="SLA-17",
                ),
            ),
        ),
        demos=(DemoPeriod(D(2019, 11, 1), D(2019, 11, 30), "Ideco ICS"),),
    ),
]


@pytest.mark.parametrize("name", ["customers.yaml", "customers.csv"])
def test_both_layouts_give_the_same_directory(name):
    source = load_customer_file(DATA / name)
    assert list(source) == EXPECTED
    assert source.get(" 0105012345 ") == EXPECTED[1]
    assert source.get("7700000000") is None
    assert "7701234567" in source and len(source) == 3
    assert source.referenced_calendars() == {"24x7"}


def test_russian_excel_csv_semicolons_bom_crlf_and_dotted_dates():
    source = load_customer_file(DATA / "customers_excel_ru.csv")
    assert list(source) == EXPECTED[:2]


def test_empty_directory_is_allowed():
    assert parse_customers_yaml("customers:\n") == []
    assert parse_customers_csv("inn,name,kind,starts,expires\n") == []


def test_duplicate_inn_in_memory_source_is_refused():
    with pytest.raises(ValueError, match="appears twice"):
        InMemoryCustomerSource([EXPECTED[1], EXPECTED[1]])


YAML_HEAD = """\
customers:
  - inn: "7701234567"
    name: Ромашка
"""

YAML_ERRORS = [
    # (text after YAML_HEAD, expected message parts)
    (
        "    partner: yes please\n",
        ["line 4, customers[0] (INN 7701234567).partner", "valid boolean"],
    ),
    (
        "    licenses:\n      - {kind: update, starts: 2025-03-01, expires: 2025-02-30}\n",
        ["line 5, customers[0] (INN 7701234567).licenses[0].expires", "expected a date YYYY-MM-DD"],
    ),
    (
        "    licenses:\n      - {kind: gold, starts: 2025-03-01}\n",
        ["line 5, customers[0] (INN 7701234567).licenses[0].kind", "unknown license kind 'gold'"],
    ),
    (
        "    licenses:\n      - {kind: update, starts: 2025-03-01, expires: 2024-03-01}\n",
        ["licenses[0].expires", "2024-03-01 is before starts 2025-03-01"],
    ),
    (
        "    licenses:\n      - {kind: update, starts: 2025-03-01, sla: {first_response: 2h}}\n",
        ["licenses[0].sla", "only a 'contract' license may carry SLA terms"],
    ),
    (
        "    licenses:\n      - {kind: contract, starts: 2025-03-01, sla: {first_response: soon}}\n",
        ["line 5", "licenses[0].sla.first_response", 'expected a duration such as "30m"'],
    ),
    ("    licenses:\n      - {kind: update}\n", ["line 5", "licenses[0].starts", "Field required"]),
    (
        "    demos:\n      - {starts: 2025-03-01, ends: 2025-02-01}\n",
        ["line 5", "demos[0].ends", "before starts"],
    ),
    ("    colour: red\n", ["line 4", "colour", "Extra inputs are not permitted"]),
    (
        "  - inn: 7701234568\n    name: Другая\n",
        ["line 4, customers[1] (INN 7701234568).inn", "must be written in quotes"],
    ),
    (
        '  - inn: "7701234567"\n    name: Двойник\n',
        ["line 4, customers[1] (INN 7701234567).inn", "already listed at line 2"],
    ),
    (
        '  - inn: "770123456"\n    name: Короткий\n',
        ["customers[1] (INN 770123456).inn", "10 or 12 digits", "leading zero"],
    ),
    ("    licenses: [\n", ["not valid YAML"]),
]


@pytest.mark.parametrize(("tail", "parts"), YAML_ERRORS, ids=[p[-1] for _, p in YAML_ERRORS])
def test_yaml_errors_name_line_and_field(tail, parts):
    with pytest.raises(CustomerDirectoryError) as error:
        parse_customers_yaml(YAML_HEAD + tail, source="c.yaml")
    message = str(error.value)
    assert message.startswith("customer directory c.yaml:")
    for part in parts:
        assert part in message


@pytest.mark.parametrize("text", ["- inn: '7701234567'\n", "companies: []\n", ""])
def test_yaml_without_customers_list_is_refused(text):
    with pytest.raises(CustomerDirectoryError, match="`customers:` list"):
        parse_customers_yaml(text)


CSV_HEAD = "inn,name,partner,kind,product,starts,expires,first_response,calendar\n"

CSV_ERRORS = [
    # (rows after the header on line 1, expected message parts)
    (
        "7701234567,Ромашка,no,update,,2025-13-01,,,\n",
        ["line 2, column starts", "expected a date YYYY-MM-DD"],
    ),
    (
        "7701234567,Ромашка,no,update,,31.02.2025,,,\n",
        ["line 2, column starts", "'31.02.2025' is not a real date"],
    ),
    (
        "7701234567,Ромашка,maybe,update,,2025-01-01,,,\n",
        ["line 2, column partner", "expected yes or no"],
    ),
    (
        "7701234567,Ромашка,no,gold,,2025-01-01,,,\n",
        ["line 2, column kind", "unknown license kind 'gold'"],
    ),
    (
        "7701234567,Ромашка,no,update,,,,,\n",
        ["line 2, column starts", "required for a license or demo row"],
    ),
    (
        "7701234567,Ромашка,no,update,,2025-01-01,2024-01-01,,\n",
        ["line 2, column expires", "before starts"],
    ),
    (
        "7701234567,Ромашка,no,update,,2025-01-01,,2h,\n",
        ["line 2, column sla columns", "only a 'contract' license"],
    ),
    (
        "7701234567,Ромашка,no,contract,,2025-01-01,,fast,\n",
        ["line 2, column first_response", "expected a duration"],
    ),
    (
        "7701234567,Ромашка,no,demo,,2025-01-01,,,\n",
        ["line 2, column expires", "a demo period needs its end date"],
    ),
    ("7701234567,Ромашка,no,,Lite,,,,\n", ["line 2, column kind", "product filled"]),
    ("770123456,Ромашка,no,update,,2025-01-01,,,\n", ["line 2, column inn", "leading zero"]),
    (",Ромашка,no,update,,2025-01-01,,,\n", ["line 2, column inn", "Field required"]),
    (
        "7701234567,Ромашка,no,update,,2025-01-01,,,,extra\n",
        ["line 2", "1 cell(s) more than the header"],
    ),
    (
        "7701234567,Ромашка,no,update,,2025-01-01,,,\n\n7701234567,Лютик,yes,trial,,2025-01-01,2025-02-01,,\n",
        [
            "line 4, column name: 'Лютик' differs from 'Ромашка' on line 2",
            "line 4, column partner: differs from line 2",
        ],
    ),
]


@pytest.mark.parametrize(("rows", "parts"), CSV_ERRORS, ids=[p[-1] for _, p in CSV_ERRORS])
def test_csv_errors_name_line_and_column(rows, parts):
    with pytest.raises(CustomerDirectoryError) as error:
        parse_customers_csv(CSV_HEAD + rows, source="c.csv")
    message = str(error.value)
    assert message.startswith("customer directory c.csv:")
    for part in parts:
        assert part in message


@pytest.mark.parametrize(
    ("header", "part"),
    [
        ("inn,name,kind,starts\n", "line 1: missing column(s) expires"),
        ("inn,name,kind,starts,expires,colour\n", "line 1: unknown column(s) 'colour'"),
    ],
)
def test_csv_header_errors(header, part):
    with pytest.raises(CustomerDirectoryError, match=part.replace("(", r"\(").replace(")", r"\)")):
        parse_customers_csv(header)


def test_all_problems_are_reported_at_once():
    rows = "".join(f"77012345{n:02d},Ромашка,no,gold,,2025-01-01,,,\n" for n in range(30))
    with pytest.raises(CustomerDirectoryError) as error:
        parse_customers_csv(CSV_HEAD + rows)
    assert len(error.value.problems) == 30
    assert "... and 10 more" in str(error.value)


def test_extra_license_kinds_are_accepted_when_declared():
    text = textwrap.dedent(CSV_HEAD + "7701234567,Ромашка,no,gold,,2025-01-01,,,\n")
    (customer,) = parse_customers_csv(text, known_kinds={"gold"})
    assert customer.licenses[0].kind == "gold"


@pytest.mark.parametrize(
    ("name", "message"), [("c.xlsx", "must end in .yaml"), ("missing.csv", "cannot read")]
)
def test_bad_path(tmp_path, name, message):
    path = tmp_path / name
    if name.endswith(".xlsx"):
        path.write_text("x")
    with pytest.raises(CustomerDirectoryError, match=message):
        load_customer_file(path)
