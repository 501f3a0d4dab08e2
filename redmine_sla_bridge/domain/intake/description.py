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

CANONICAL_LABELS: Mapping[str, Mapping[str, str]] = {
    "ru": {
        "organization.name": "Наименование организации",
        "organization.inn": "ИНН организации",
        "contact.name": "ФИО",
        "contact.position": "Должность",
        "contact.phone": "Контактный телефон",
        "contact.email": "Электронная почта",
        "product": "Программный продукт",
        "version": "Версия ПО",
        "contract_number": "Номер контракта",
        "impact": "Критичность",
        "type": "Тип заявки",
    },
    "en": {
        "organization.name": "Organization name",
        "organization.inn": "Organization INN",
        "contact.name": "Full name",
        "contact.position": "Job title",
        "contact.phone": "Phone number",
        "contact.email": "E-mail",
        "product": "Product name",
        "version": "Software version",
        "contract_number": "Contract No",
        "impact": "Severity",
        "type": "Type of request",
    },
}
"""The label the bridge asks customers to write, per language and field (docs, forms).

Redmine's mail handler reads a line "<keyword>: <value>" as its own attribute and
deletes it from the description when `allow_override` permits: its keywords are the
attribute names (`field_fixed_version` «Версия», `field_priority` «Приоритет», …) in the
sender's and the default language, and the name of every custom field of the issue. So
no canonical label equals a keyword of any Redmine locale nor a default name of the
bridge's own fields («Версия продукта», «ИНН», «Product version», …):
`tests/unit/intake/test_label_keywords.py` checks this against Redmine's locale files.
The older labels («Версия:», «ИНН:», «Приоритет:») are still read."""

DEFAULT_LABELS: Mapping[str, tuple[str, ...]] = {
    "organization.name": (
        "Наименование организации", "Организация", "Название организации",
        "Полное название организации", "Полное наименование организации", "Компания",
        "Organization name", "Organization", "Organisation", "Company", "Company name",
    ),
    "organization.inn": ("ИНН организации", "ИНН", "ИНН/КПП", "Organization INN", "INN", "TIN",
                         "Tax ID"),
    "contact.name": (
        "ФИО", "Контактное лицо", "Ф.И.О.", "Ф. И. О.", "Имя", "Full name", "Name",
        "Contact name", "Contact person",
    ),
    "contact.position": ("Должность", "Job title", "Position"),
    "contact.phone": (
        "Контактный телефон", "Телефон", "Тел.", "Тел", "Мобильный телефон", "Phone number",
        "Phone", "Telephone", "Tel.", "Tel", "Mobile",
    ),
    "contact.email": (
        "Электронная почта", "E-mail", "Email", "Почта", "Эл. почта",
        "Адрес электронной почты", "Mail",
    ),
    "product": ("Программный продукт", "Продукт", "Product name", "Product"),
    "version": (
        "Версия ПО", "Версия", "Версия продукта", "Версия программы", "Номер версии",
        "Software version", "Version", "Product version",
    ),
    "contract_number": (
        "Номер контракта", "№ контракта", "Контракт", "Госконтракт", "№ Гос. Контракта",
        "Номер госконтракта", "Договор", "Номер договора", "№ договора", "Contract No",
        "Contract", "Contract number",
    ),
    "impact": ("Критичность", "Приоритет", "Влияние", "Severity", "Impact", "Priority"),
    "type": ("Тип заявки", "Тип обращения", "Тип", "Type of request", "Request type", "Type"),
}
"""Labels shipped by default, per field path (Russian and English), canonical first."""

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
