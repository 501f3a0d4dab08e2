"""The embedded customer directory: one YAML or CSV file, loaded into memory.

YAML (any nesting an admin can read; dates unquoted are fine, INNs must be quoted)::

    customers:
      - inn: "7701234567"
        name: ООО "Ромашка"
        partner: false                      # optional, default false
        licenses:                           # optional
          - {kind: update, product: ИКС Стандарт, starts: 2024-03-01, expires: 2025-02-28}
          - {kind: perpetual, product: ИКС Стандарт, starts: 2024-03-01}   # no expires = never ends
          - kind: contract                  # AS-4: individual contract with its own SLA
            starts: 2024-01-01
            expires: 2024-12-31
            sla: {reference: "SLA-17", first_response: 2h, resolution: 16h, calendar: "24x7"}
        demos:                              # optional, ID-4
          - {starts: 2024-05-01, ends: 2024-05-30, product: Ideco ICS}

CSV (what a CRM or Excel exports): one row per license, the customer columns repeated on
each row. Header names are fixed, column order is free; `,` or `;` separated; UTF-8
(with or without BOM). Dates are YYYY-MM-DD or DD.MM.YYYY (Russian Excel)::

    inn,name,partner,kind,product,starts,expires,reference,acknowledgement,first_response,resolution,calendar,note

* required columns: inn, name, kind, starts, expires; the others are optional.
* kind = a license kind; `demo` = a demo period (starts..expires); empty = a customer
  row without licenses (e.g. a partner); `contract` may fill reference,
  acknowledgement, first_response, resolution, calendar (its SLA, AS-4).
* partner: yes/no, true/false, 1/0, да/нет; empty = no. It and name must be the same on
  every row of one INN. `note` is ignored (for the humans who keep the file).
* product empty or `*` = the license covers all products; expires empty = never ends.

Every problem is reported with the file, the line and the field, all at once.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BeforeValidator, Field, StrictBool, ValidationError

from redmine_sla_bridge.config.base import StrictModel
from redmine_sla_bridge.config.types import Date, DurationText, InnText, Text, parse_duration
from redmine_sla_bridge.domain.policy import (
    CONTRACT_KIND,
    LICENSE_KINDS,
    ContractTerms,
    Customer,
    DemoPeriod,
    License,
    TargetKind,
)

DEMO_ROW_KIND = "demo"
"""In the CSV, `kind` = demo makes the row a demo period rather than a license."""

_INN = re.compile(r"^\d{10}(\d{2})?$")


class CustomerDirectoryError(ValueError):
    """The customer file is unusable; `problems` lists each one with its line and field."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        shown = problems[:20]
        more = (
            f"\n  ... and {len(problems) - len(shown)} more" if len(problems) > len(shown) else ""
        )
        super().__init__(
            f"customer directory {source}: {len(problems)} problem(s)\n  "
            + "\n  ".join(shown)
            + more
        )


class InMemoryCustomerSource:
    """A `CustomerSource` over customers held in memory, looked up by INN."""

    def __init__(self, customers: Iterable[Customer]) -> None:
        self._by_inn: dict[str, Customer] = {}
        for customer in customers:
            if customer.inn in self._by_inn:
                raise ValueError(f"INN {customer.inn} appears twice in the customer directory")
            self._by_inn[customer.inn] = customer

    def get(self, inn: str) -> Customer | None:
        """The customer with this INN (surrounding spaces ignored), or None."""
        return self._by_inn.get(inn.strip())

    def __len__(self) -> int:
        return len(self._by_inn)

    def __iter__(self) -> Iterator[Customer]:
        return iter(self._by_inn.values())

    def __contains__(self, inn: object) -> bool:
        return isinstance(inn, str) and inn.strip() in self._by_inn

    def referenced_calendars(self) -> frozenset[str]:
        """Calendars named by contract SLAs, for the loader to check they exist."""
        return frozenset(
            lic.contract.calendar
            for customer in self
            for lic in customer.licenses
            if lic.contract is not None and lic.contract.calendar
        )


def load_customer_file(
    path: str | Path, known_kinds: Iterable[str] = LICENSE_KINDS
) -> InMemoryCustomerSource:
    """Load a .yaml/.yml or .csv customer directory; raises CustomerDirectoryError."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise CustomerDirectoryError(str(path), [f"cannot read the file: {exc}"]) from exc
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        customers = parse_customers_yaml(text, source=str(path), known_kinds=known_kinds)
    elif suffix == ".csv":
        customers = parse_customers_csv(text, source=str(path), known_kinds=known_kinds)
    else:
        raise CustomerDirectoryError(str(path), ["the file must end in .yaml, .yml or .csv"])
    return InMemoryCustomerSource(customers)


# --- shared record shapes -------------------------------------------------------------


class _SlaSpec(StrictModel):
    reference: Text | None = None
    acknowledgement: DurationText | None = None
    first_response: DurationText | None = None
    resolution: DurationText | None = None
    calendar: Text | None = None

    def to_domain(self) -> ContractTerms:
        targets = {
            kind: parse_duration(text)
            for kind in TargetKind
            if (text := getattr(self, kind.value)) is not None
        }
        return ContractTerms(targets=targets, calendar=self.calendar, reference=self.reference)


class _LicenseSpec(StrictModel):
    kind: Text = Field(min_length=1)
    product: Text | None = None
    starts: Date
    expires: Date | None = None
    sla: _SlaSpec | None = None


class _DemoSpec(StrictModel):
    starts: Date
    ends: Date
    product: Text | None = None


class _CustomerSpec(StrictModel):
    inn: InnText
    name: Text = Field(min_length=1)
    partner: StrictBool = False
    licenses: list[_LicenseSpec] = Field(default_factory=list)
    demos: list[_DemoSpec] = Field(default_factory=list)


class _DirectorySpec(StrictModel):
    customers: list[_CustomerSpec]


def _pydantic_message(error: dict[str, Any]) -> str:
    return error["msg"].removeprefix("Value error, ")


def _check_inn(inn: str) -> str | None:
    if _INN.match(inn):
        return None
    hint = ""
    if inn.isdigit() and len(inn) in (9, 11):
        hint = " (a spreadsheet may have dropped a leading zero: format the column as text)"
    return f"INN must be 10 or 12 digits, got {inn!r}{hint}"


def _check_license(
    kind: str, expires: dt.date | None, starts: dt.date, has_sla: bool, known: frozenset[str]
) -> list[tuple[str, str]]:
    """(field, problem) pairs for one license."""
    problems = []
    if kind not in known:
        problems.append(
            ("kind", f"unknown license kind {kind!r}; known: {', '.join(sorted(known))}")
        )
    if expires is not None and expires < starts:
        problems.append(("expires", f"{expires} is before starts {starts}"))
    if has_sla and kind != CONTRACT_KIND:
        problems.append(
            ("sla", f"only a {CONTRACT_KIND!r} license may carry SLA terms, this one is {kind!r}")
        )
    return problems


# --- YAML -----------------------------------------------------------------------------


class _DatesAsTextLoader(yaml.SafeLoader):
    """SafeLoader that leaves dates as text: PyYAML would crash on 2025-02-30 with no line
    number; as text it reaches the field's own check, which names line and field."""


_DatesAsTextLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _yaml_line(root: yaml.Node | None, loc: Iterable[Any]) -> int | None:
    """1-based line of the deepest node of `loc` found in the composed YAML tree."""
    if root is None:
        return None
    node, line = root, root.start_mark.line + 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            child = next(
                (v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == part),
                None,
            )
        elif (
            isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value)
        ):
            child = node.value[part]
        else:
            child = None
        if child is None:
            break
        node, line = child, child.start_mark.line + 1
    return line


def _yaml_where(loc: tuple[Any, ...], data: Any) -> str:
    """customers[3] (INN 7701234567).licenses[0].expires"""
    text = ""
    for index, part in enumerate(loc):
        if isinstance(part, int):
            text += f"[{part}]"
            if index == 1 and loc[0] == "customers":
                try:
                    text += f" (INN {data['customers'][part]['inn']})"
                except (KeyError, IndexError, TypeError):
                    pass
        else:
            text += ("." if text else "") + str(part)
    return text


def parse_customers_yaml(
    text: str, *, source: str = "customers.yaml", known_kinds: Iterable[str] = LICENSE_KINDS
) -> list[Customer]:
    """Customers from the YAML layout described in the module docstring."""
    known = frozenset(known_kinds)
    try:
        root = yaml.compose(text, Loader=_DatesAsTextLoader)
        data = yaml.load(text, Loader=_DatesAsTextLoader)  # a SafeLoader subclass: safe
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise CustomerDirectoryError(
            source, [f"{where}not valid YAML: {getattr(exc, 'problem', exc)}"]
        ) from exc
    if not isinstance(data, dict) or "customers" not in data:
        raise CustomerDirectoryError(
            source, ["expected a mapping with a `customers:` list at the top"]
        )
    if data["customers"] is None:  # `customers:` with nothing under it: an empty directory
        data["customers"] = []

    def at(loc: tuple[Any, ...]) -> str:
        line = _yaml_line(root, loc)
        return f"line {line}, {_yaml_where(loc, data)}" if line else _yaml_where(loc, data)

    try:
        spec = _DirectorySpec.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            # Drop pydantic's internal union/validator names so the path is the admin's.
            loc = tuple(
                p for p in error["loc"] if isinstance(p, int) or not any(c in str(p) for c in "[(-")
            )
            problems.append(f"{at(loc)}: {_pydantic_message(error)}")
        raise CustomerDirectoryError(source, problems) from None

    problems: list[str] = []
    first_line_of_inn: dict[str, tuple[Any, ...]] = {}
    for c_index, customer in enumerate(spec.customers):
        base = ("customers", c_index)
        if (problem := _check_inn(customer.inn)) is not None:
            problems.append(f"{at((*base, 'inn'))}: {problem}")
        if customer.inn in first_line_of_inn:
            problems.append(
                f"{at((*base, 'inn'))}: INN {customer.inn} already listed at {at(first_line_of_inn[customer.inn])}"
            )
        first_line_of_inn.setdefault(customer.inn, (*base, "inn"))
        for l_index, lic in enumerate(customer.licenses):
            for field, problem in _check_license(
                lic.kind, lic.expires, lic.starts, lic.sla is not None, known
            ):
                problems.append(f"{at((*base, 'licenses', l_index, field))}: {problem}")
        for d_index, demo in enumerate(customer.demos):
            if demo.ends < demo.starts:
                problems.append(
                    f"{at((*base, 'demos', d_index, 'ends'))}: {demo.ends} is before starts {demo.starts}"
                )
    if problems:
        raise CustomerDirectoryError(source, problems)

    return [
        Customer(
            inn=c.inn,
            name=c.name,
            partner=c.partner,
            licenses=tuple(
                License(
                    kind=lic.kind,
                    starts=lic.starts,
                    expires=lic.expires,
                    product=lic.product,
                    contract=lic.sla.to_domain() if lic.sla is not None else None,
                )
                for lic in c.licenses
            ),
            demos=tuple(DemoPeriod(d.starts, d.ends, d.product) for d in c.demos),
        )
        for c in spec.customers
    ]


# --- CSV ------------------------------------------------------------------------------

_REQUIRED_COLUMNS = ("inn", "name", "kind", "starts", "expires")
_OPTIONAL_COLUMNS = (
    "partner",
    "product",
    "reference",
    "acknowledgement",
    "first_response",
    "resolution",
    "calendar",
    "note",
)
_SLA_COLUMNS = ("reference", "acknowledgement", "first_response", "resolution", "calendar")
_TRUE = {"yes", "true", "1", "да", "y", "д"}
_FALSE = {"no", "false", "0", "нет", "n", "н", ""}


def _csv_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().casefold()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"expected yes or no, got {value!r}")


def _csv_date(value: Any) -> Any:
    # Russian Excel writes dates as DD.MM.YYYY; accept that besides ISO.
    if isinstance(value, str) and re.fullmatch(r"\s*\d{1,2}\.\d{1,2}\.\d{4}\s*", value):
        day, month, year = (int(p) for p in value.strip().split("."))
        try:
            return dt.date(year, month, day)
        except ValueError:
            raise ValueError(f"{value!r} is not a real date") from None
    return value


CsvDate = Annotated[Date, BeforeValidator(_csv_date)]


class _CsvRow(StrictModel):
    inn: InnText
    name: Text = Field(min_length=1)
    partner: Annotated[bool, BeforeValidator(_csv_bool)] = False
    kind: Text | None = None
    product: Text | None = None
    starts: CsvDate | None = None
    expires: CsvDate | None = None
    reference: Text | None = None
    acknowledgement: DurationText | None = None
    first_response: DurationText | None = None
    resolution: DurationText | None = None
    calendar: Text | None = None
    note: Text | None = None


def _sniff_delimiter(header: str) -> str:
    return ";" if header.count(";") > header.count(",") else ","


def parse_customers_csv(
    text: str, *, source: str = "customers.csv", known_kinds: Iterable[str] = LICENSE_KINDS
) -> list[Customer]:
    """Customers from the CSV layout described in the module docstring."""
    known = frozenset(known_kinds)
    text = text.removeprefix("\ufeff")
    header_line = text.split("\n", 1)[0]
    reader = csv.DictReader(io.StringIO(text), delimiter=_sniff_delimiter(header_line))
    columns = [(c or "").strip().lower() for c in (reader.fieldnames or [])]
    missing = [c for c in _REQUIRED_COLUMNS if c not in columns]
    unknown = [c for c in columns if c not in _REQUIRED_COLUMNS + _OPTIONAL_COLUMNS]
    if missing or unknown:
        problems = []
        if missing:
            problems.append(f"line 1: missing column(s) {', '.join(missing)}")
        if unknown:
            problems.append(
                f"line 1: unknown column(s) {', '.join(repr(c) for c in unknown)}; "
                f"allowed: {', '.join(_REQUIRED_COLUMNS + _OPTIONAL_COLUMNS)}"
            )
        raise CustomerDirectoryError(source, problems)
    reader.fieldnames = columns

    problems: list[str] = []
    # INN -> (first line, name, partner, licenses, demos); dict keeps the file's order.
    grouped: dict[str, tuple[int, str, bool, list[License], list[DemoPeriod]]] = {}
    for raw in reader:
        line = reader.line_num
        if None in raw:  # more cells than header columns
            problems.append(
                f"line {line}: {len(raw[None])} cell(s) more than the header has columns"
            )
            continue
        cells = {k: v.strip() for k, v in raw.items() if v is not None and v.strip() != ""}
        if not cells:
            continue  # blank line
        try:
            row = _CsvRow.model_validate(cells)
        except ValidationError as exc:
            for error in exc.errors():
                column = next((str(p) for p in error["loc"] if str(p) in columns), "?")
                problems.append(f"line {line}, column {column}: {_pydantic_message(error)}")
            continue
        row_problems = _csv_row_problems(row, known)
        if row_problems:
            problems.extend(f"line {line}, column {f}: {p}" for f, p in row_problems)
            continue
        entry = grouped.get(row.inn)
        if entry is None:
            entry = grouped[row.inn] = (line, row.name, row.partner, [], [])
        else:
            first, name, partner, _, _ = entry
            if row.name != name:
                problems.append(
                    f"line {line}, column name: {row.name!r} differs from {name!r} on line {first} for INN {row.inn}"
                )
            if row.partner != partner:
                problems.append(
                    f"line {line}, column partner: differs from line {first} for INN {row.inn}"
                )
        if row.kind is None:
            continue
        if row.kind == DEMO_ROW_KIND:
            assert row.starts is not None and row.expires is not None
            entry[4].append(DemoPeriod(row.starts, row.expires, row.product))
            continue
        assert row.starts is not None
        sla_values = {c: getattr(row, c) for c in _SLA_COLUMNS if getattr(row, c) is not None}
        entry[3].append(
            License(
                kind=row.kind,
                starts=row.starts,
                expires=row.expires,
                product=row.product,
                contract=_SlaSpec(**sla_values).to_domain() if sla_values else None,
            )
        )
    if problems:
        raise CustomerDirectoryError(source, problems)
    return [
        Customer(inn=inn, name=name, partner=partner, licenses=tuple(licenses), demos=tuple(demos))
        for inn, (_, name, partner, licenses, demos) in grouped.items()
    ]


def _csv_row_problems(row: _CsvRow, known: frozenset[str]) -> list[tuple[str, str]]:
    """(column, problem) pairs a row has beyond its cell types."""
    if (problem := _check_inn(row.inn)) is not None:
        return [("inn", problem)]
    has_sla = any(getattr(row, c) is not None for c in _SLA_COLUMNS)
    if row.kind is None:
        extra = [
            c
            for c in ("product", "starts", "expires", *_SLA_COLUMNS)
            if getattr(row, c) is not None
        ]
        return (
            [("kind", f"empty (a customer row without a license) but {', '.join(extra)} filled")]
            if extra
            else []
        )
    if row.starts is None:
        return [("starts", "required for a license or demo row")]
    if row.kind == DEMO_ROW_KIND:
        if row.expires is None:
            return [("expires", "a demo period needs its end date")]
        if row.expires < row.starts:
            return [("expires", f"{row.expires} is before starts {row.starts}")]
        if has_sla:
            return [("kind", "a demo row cannot carry SLA columns")]
        return []
    return [
        ("sla columns" if f == "sla" else f, p)
        for f, p in _check_license(row.kind, row.expires, row.starts, has_sla, known)
    ]
