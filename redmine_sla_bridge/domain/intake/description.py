"""Intake data written as labelled lines in a request's text ("ИНН: 7707083893").

Requests that arrive by email carry their data in the body. A line is read as
"<label><separator><value>" where:

- the label is one of the configured labels of a field (case-insensitive, any run of
  whitespace inside a label matches any run of whitespace);
- the separator is ":", "=", "-", "–", "—" (spaces around allowed) or a tab (a row copied
  from a table);
- the line may start with a bullet ("-", "*", "•", "1.", "2)") and the label may be bold
  in Markdown ("**ИНН:** ...");
- lines starting with ">" are quoted replies (possibly our own earlier template) and
  are skipped;
- the value is the rest of the line; a label with nothing after it is no value (values
  on the next line are NOT read: "Телефон:" followed by the question text would turn the
  question into a phone number).

Windows/Mac line endings are fine. The first value of a field wins.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from redmine_sla_bridge.domain.intake.request import TEXT_FIELD_PATHS, IntakeRequest

LABELLED_PATHS: tuple[str, ...] = tuple(p for p in TEXT_FIELD_PATHS if p != "description")
"""Fields a labelled line may fill (the description itself cannot)."""

DEFAULT_LABELS: Mapping[str, tuple[str, ...]] = {
    "organization.name": (
        "Организация", "Название организации", "Наименование организации",
        "Полное название организации", "Полное наименование организации", "Компания",
        "Organization", "Organisation", "Organization name", "Company", "Company name",
    ),
    "organization.inn": ("ИНН", "ИНН организации", "ИНН/КПП", "INN", "TIN", "Tax ID"),
    "contact.name": (
        "Контактное лицо", "ФИО", "Ф.И.О.", "Ф. И. О.", "Имя", "Name", "Full name",
        "Contact name", "Contact person",
    ),
    "contact.position": ("Должность", "Position", "Job title"),
    "contact.phone": (
        "Телефон", "Тел.", "Тел", "Контактный телефон", "Мобильный телефон", "Phone",
        "Phone number", "Telephone", "Tel.", "Tel", "Mobile",
    ),
    "contact.email": (
        "E-mail", "Email", "Почта", "Эл. почта", "Электронная почта",
        "Адрес электронной почты", "Mail",
    ),
    "product": ("Продукт", "Программный продукт", "Product"),
    "version": (
        "Версия", "Версия продукта", "Версия ПО", "Версия программы", "Номер версии",
        "Version", "Product version",
    ),
    "contract_number": (
        "Номер контракта", "№ контракта", "Контракт", "Госконтракт", "№ Гос. Контракта",
        "Номер госконтракта", "Договор", "Номер договора", "№ договора", "Contract",
        "Contract number", "Contract No",
    ),
    "impact": ("Приоритет", "Критичность", "Влияние", "Impact", "Priority", "Severity"),
    "type": ("Тип обращения", "Тип заявки", "Тип", "Request type", "Type"),
}
"""Labels shipped by default, per field path (Russian and English)."""

_MAX_VALUE = 500  # a "value" longer than this is prose, not a field
_MAX_LINE = 1000  # longer lines (logs, base64) are never labelled lines: skip the regex


@dataclass(frozen=True, slots=True)
class LabelledData:
    """What the labelled lines said (`values`: path -> first value) and the rest of the
    text (`free_text`: the lines that are not labelled lines, i.e. the question)."""

    values: Mapping[str, str] = field(default_factory=dict)
    free_text: str = ""


def parse_labelled_lines(
    text: str, labels: Mapping[str, Sequence[str]] = DEFAULT_LABELS
) -> LabelledData:
    """Read the labelled lines of `text`; never raises on any text."""
    if not text:
        return LabelledData({}, "")
    pattern, by_label = _compile(tuple((path, tuple(names)) for path, names in labels.items()))
    values: dict[str, str] = {}
    free: list[str] = []
    for line in text.splitlines():
        if line.lstrip().startswith(">"):
            continue
        too_long = len(line) > _MAX_LINE
        match = pattern.match(line) if pattern is not None and not too_long else None
        if match is None:
            free.append(line)
            continue
        value = match["value"].strip().strip("*").strip()
        path = by_label.get(_label_key(match["label"]))
        if path is None:  # the regex's case folding is wider than str.lower() ("ſ")
            free.append(line)
            continue
        if value and len(value) <= _MAX_VALUE:
            values.setdefault(path, value)
    return LabelledData(values, "\n".join(free).strip())


def fill_empty_fields(
    request: IntakeRequest, data: LabelledData
) -> tuple[IntakeRequest, tuple[str, ...]]:
    """Copy labelled values into the fields of `request` that are empty; return the new
    request and the paths actually filled (in `LABELLED_PATHS` order)."""
    filled: list[str] = []
    for path in LABELLED_PATHS:
        value = data.values.get(path)
        current = request.get(path)
        if value and not (current and str(current).strip()):
            request = request.with_value(path, value)
            filled.append(path)
    return request, tuple(filled)


def _label_key(label: str) -> str:
    return " ".join(label.lower().split())


def _label_regex(label: str) -> str:
    return r"\s+".join(re.escape(part) for part in label.split())


# Possessive quantifiers (*+, ++): runs of spaces or stars never backtrack, so a line of
# 20,000 "*" is rejected in linear time instead of cubic.
_BULLET = r"(?:[-*•·‣▪●◦–—+]++\s*+|\d{1,2}[.)]\s++)?"
_SEPARATOR = r"(?:[ \t\u00a0]*+[:：=\-–—]|\t)"


@functools.lru_cache(maxsize=16)
def _compile(
    labels: tuple[tuple[str, tuple[str, ...]], ...],
) -> tuple[re.Pattern[str] | None, dict[str, str]]:
    by_label: dict[str, str] = {}
    for path, names in labels:
        for name in names:
            if name.strip():
                by_label.setdefault(_label_key(name), path)
    if not by_label:
        return None, by_label
    # Longest first, so "Номер контракта" is not read as "Номер..." of a shorter label.
    alternatives = "|".join(_label_regex(k) for k in sorted(by_label, key=len, reverse=True))
    pattern = re.compile(
        rf"^\s*+{_BULLET}[*_]*+\s*+(?P<label>{alternatives})[ \u00a0]*+[*_]*+{_SEPARATOR}"
        r"[ \t*_]*+(?P<value>.*)$",
        re.IGNORECASE,
    )
    return pattern, by_label
