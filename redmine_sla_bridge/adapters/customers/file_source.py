"""The embedded customer directory: one YAML or CSV file, loaded into memory.

The two layouts and the models of their values are in `config.customers`. Here the file
is read, checked as a whole (INNs, license kinds, date order) and turned into domain
customers. Every problem is reported with the file, the line and the field, all at once.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol

from pydantic import ValidationError

from redmine_sla_bridge.config.customers import (
    CSV_OPTIONAL_COLUMNS,
    CSV_REQUIRED_COLUMNS,
    CSV_SLA_COLUMNS,
    DEMO_ROW_KIND,
    CsvRowSpec,
    CustomerFileSpec,
)
from redmine_sla_bridge.config.types import NEVER, parse_duration
from redmine_sla_bridge.config.yaml_source import (
    YamlPath,
    YamlSyntaxError,
    dotted,
    error_path,
    load_yaml,
    validator_message,
)
from redmine_sla_bridge.domain.calendar import Duration
from redmine_sla_bridge.domain.policy import (
    CONTRACT_KIND,
    LICENSE_KINDS,
    ContractTerms,
    Customer,
    DemoPeriod,
    License,
    TargetKind,
)

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


# --- checks and conversions shared by both layouts ------------------------------------


class _SlaTerms(Protocol):
    """A contract's SLA: a YAML `sla:` mapping, or the SLA columns of a CSV row. Besides
    these it has one duration text (or None) per `TargetKind`, named by its value."""

    @property
    def reference(self) -> str | None: ...

    @property
    def calendar(self) -> str | None: ...


def _contract_terms(sla: _SlaTerms) -> ContractTerms:
    targets: dict[str, Duration | None] = {
        kind: parse_duration(text)
        for kind in TargetKind
        if (text := getattr(sla, kind.value)) is not None
    }
    return ContractTerms(targets=targets, calendar=sla.calendar, reference=sla.reference)


def _license(kind: str, starts: dt.date, expires: dt.date | str | None, product: str | None,
             contract: ContractTerms | None) -> License:
    """A domain license; `expires` None = the kind's default term applies (the policy
    adds it), "never" = never ends."""
    return License(
        kind=kind,
        starts=starts,
        expires=expires if isinstance(expires, dt.date) else None,
        product=product,
        contract=contract,
        never_expires=expires == NEVER,
    )


def _check_inn(inn: str) -> str | None:
    if _INN.match(inn):
        return None
    hint = ""
    if inn.isdigit() and len(inn) in (9, 11):
        hint = " (a spreadsheet may have dropped a leading zero: format the column as text)"
    return f"INN must be 10 or 12 digits, got {inn!r}{hint}"


def _check_license(
    kind: str, expires: dt.date | str | None, starts: dt.date, has_sla: bool,
    known: frozenset[str],
) -> list[tuple[str, str]]:
    """(field, problem) pairs for one license."""
    problems = []
    if kind not in known:
        problems.append(
            ("kind", f"unknown license kind {kind!r}; known: {', '.join(sorted(known))}")
        )
    if isinstance(expires, dt.date) and expires < starts:
        problems.append(("expires", f"{expires} is before starts {starts}"))
    if has_sla and kind != CONTRACT_KIND:
        problems.append(
            ("sla", f"only a {CONTRACT_KIND!r} license may carry SLA terms, this one is {kind!r}")
        )
    return problems


# --- YAML -----------------------------------------------------------------------------


def _yaml_where(loc: YamlPath, data: Any) -> str:
    """customers[3] (INN 7701234567).licenses[0].expires"""
    path = dotted(loc)
    if len(loc) < 2 or loc[0] != "customers" or not isinstance(loc[1], int):
        return path
    try:
        inn = data["customers"][loc[1]]["inn"]
    except (KeyError, IndexError, TypeError):
        return path
    head = dotted(loc[:2])
    return f"{head} (INN {inn}){path[len(head):]}"


def parse_customers_yaml(
    text: str, *, source: str = "customers.yaml", known_kinds: Iterable[str] = LICENSE_KINDS
) -> list[Customer]:
    """Customers from the YAML layout described in `config.customers`."""
    known = frozenset(known_kinds)
    try:
        document = load_yaml(text, dates_as_text=True)
    except YamlSyntaxError as exc:
        where = f"line {exc.line}: " if exc.line is not None else ""
        raise CustomerDirectoryError(source, [f"{where}not valid YAML: {exc.problem}"]) from exc
    data = document.data
    if not isinstance(data, dict) or "customers" not in data:
        raise CustomerDirectoryError(
            source, ["expected a mapping with a `customers:` list at the top"]
        )
    if data["customers"] is None:  # `customers:` with nothing under it: an empty directory
        data["customers"] = []

    def at(loc: YamlPath) -> str:
        line = document.lines.line_of(loc)
        return f"line {line}, {_yaml_where(loc, data)}" if line else _yaml_where(loc, data)

    try:
        spec = CustomerFileSpec.model_validate(data)
    except ValidationError as exc:
        raise CustomerDirectoryError(
            source,
            [f"{at(error_path(error['loc']))}: {validator_message(error)}" for error in exc.errors()],
        ) from None

    problems: list[str] = []
    first_line_of_inn: dict[str, YamlPath] = {}
    for c_index, customer in enumerate(spec.customers):
        base = ("customers", c_index)
        if (problem := _check_inn(customer.inn)) is not None:
            problems.append(f"{at((*base, 'inn'))}: {problem}")
        if customer.inn in first_line_of_inn:
            problems.append(
                f"{at((*base, 'inn'))}: INN {customer.inn} already listed at "
                f"{at(first_line_of_inn[customer.inn])}"
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
                _license(lic.kind, lic.starts, lic.expires, lic.product,
                         _contract_terms(lic.sla) if lic.sla is not None else None)
                for lic in c.licenses
            ),
            demos=tuple(DemoPeriod(d.starts, d.ends, d.product) for d in c.demos),
        )
        for c in spec.customers
    ]


# --- CSV ------------------------------------------------------------------------------


def _sniff_delimiter(header: str) -> str:
    return ";" if header.count(";") > header.count(",") else ","


def parse_customers_csv(
    text: str, *, source: str = "customers.csv", known_kinds: Iterable[str] = LICENSE_KINDS
) -> list[Customer]:
    """Customers from the CSV layout described in `config.customers`."""
    known = frozenset(known_kinds)
    text = text.removeprefix("\ufeff")
    header_line = text.split("\n", 1)[0]
    reader = csv.DictReader(io.StringIO(text), delimiter=_sniff_delimiter(header_line))
    columns = [(c or "").strip().lower() for c in (reader.fieldnames or [])]
    missing = [c for c in CSV_REQUIRED_COLUMNS if c not in columns]
    unknown = [c for c in columns if c not in CSV_REQUIRED_COLUMNS + CSV_OPTIONAL_COLUMNS]
    if missing or unknown:
        problems: list[str] = []
        if missing:
            problems.append(f"line 1: missing column(s) {', '.join(missing)}")
        if unknown:
            problems.append(
                f"line 1: unknown column(s) {', '.join(repr(c) for c in unknown)}; "
                f"allowed: {', '.join(CSV_REQUIRED_COLUMNS + CSV_OPTIONAL_COLUMNS)}"
            )
        raise CustomerDirectoryError(source, problems)
    reader.fieldnames = columns

    problems = []
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
            row = CsvRowSpec.model_validate(cells)
        except ValidationError as exc:
            for error in exc.errors():
                column = next((str(p) for p in error["loc"] if str(p) in columns), "?")
                problems.append(f"line {line}, column {column}: {validator_message(error)}")
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
                    f"line {line}, column name: {row.name!r} differs from {name!r} on line {first} "
                    f"for INN {row.inn}"
                )
            if row.partner != partner:
                problems.append(
                    f"line {line}, column partner: differs from line {first} for INN {row.inn}"
                )
        if row.kind is None:
            continue
        if row.kind == DEMO_ROW_KIND:
            assert row.starts is not None and isinstance(row.expires, dt.date)
            entry[4].append(DemoPeriod(row.starts, row.expires, row.product))
            continue
        assert row.starts is not None
        has_sla = any(getattr(row, c) is not None for c in CSV_SLA_COLUMNS)
        entry[3].append(_license(row.kind, row.starts, row.expires, row.product,
                                 _contract_terms(row) if has_sla else None))
    if problems:
        raise CustomerDirectoryError(source, problems)
    return [
        Customer(inn=inn, name=name, partner=partner, licenses=tuple(licenses), demos=tuple(demos))
        for inn, (_, name, partner, licenses, demos) in grouped.items()
    ]


def _csv_row_problems(row: CsvRowSpec, known: frozenset[str]) -> list[tuple[str, str]]:
    """(column, problem) pairs a row has beyond its cell types."""
    if (problem := _check_inn(row.inn)) is not None:
        return [("inn", problem)]
    has_sla = any(getattr(row, c) is not None for c in CSV_SLA_COLUMNS)
    if row.kind is None:
        extra = [
            c
            for c in ("product", "starts", "expires", *CSV_SLA_COLUMNS)
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
        if not isinstance(row.expires, dt.date):
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
