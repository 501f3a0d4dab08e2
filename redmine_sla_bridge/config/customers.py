"""The layouts of the customer directory file (`policy.customers.file`).

The models check each value's type and form; whatever needs the whole file (an INN
listed twice, a license kind the policy does not know) is checked by the reader in
`adapters.customers`, which also turns the models into domain customers.

YAML (any nesting an admin can read; dates unquoted are fine, INNs must be quoted)::

    customers:
      - inn: "7701234567"
        name: ООО "Ромашка"
        partner: false                      # optional, default false
        licenses:                           # optional
          - {kind: update, product: ИКС Стандарт, starts: 2024-03-01, expires: 2025-02-28}
          - {kind: perpetual, product: ИКС Стандарт, starts: 2024-03-01}   # no expires: see below
          - {kind: premium, product: ИКС Стандарт, starts: 2024-03-01, expires: never}
          - kind: contract                  # AS-4: individual contract with its own SLA
            starts: 2024-01-01
            expires: 2024-12-31
            sla: {reference: "SLA-17", first_response: 2h, resolution: 16h, calendar: "24x7"}
        demos:                              # optional, ID-4
          - {starts: 2024-05-01, ends: 2024-05-30, product: Ideco ICS}

`expires` left out (or an empty CSV cell): the license ends when the policy's default
term for its kind says (`policy.license_terms`, e.g. premium one year: AR-5, ID-3); a
kind without a default term (perpetual) never ends. `expires: never` = never ends,
whatever the kind's default. A date = the license's last valid day.

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
* product empty or `*` = the license covers all products; expires empty = the kind's
  default term (`policy.license_terms`), or never ends if it has none; `never` = never
  ends.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, StrictBool

from redmine_sla_bridge.config.base import StrictModel
from redmine_sla_bridge.config.types import Date, DurationText, ExpiryDate, InnText, Text

DEMO_ROW_KIND = "demo"
"""In the CSV, `kind` = demo makes the row a demo period rather than a license."""

# --- YAML -----------------------------------------------------------------------------

# The entry models keep their private names: for a value of the wrong shape pydantic's
# message names the class ("Input should be a valid dictionary or instance of
# _LicenseSpec"), and those messages must read as before.


class _SlaSpec(StrictModel):
    """The SLA terms of a `contract` license (AS-4)."""

    reference: Text | None = None
    acknowledgement: DurationText | None = None
    first_response: DurationText | None = None
    resolution: DurationText | None = None
    calendar: Text | None = None


class _LicenseSpec(StrictModel):
    kind: Text = Field(min_length=1)
    product: Text | None = None
    starts: Date
    expires: ExpiryDate | None = None
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


class CustomerFileSpec(StrictModel):
    """The whole YAML file."""

    customers: list[_CustomerSpec]


# --- CSV ------------------------------------------------------------------------------

CSV_REQUIRED_COLUMNS = ("inn", "name", "kind", "starts", "expires")
CSV_OPTIONAL_COLUMNS = (
    "partner",
    "product",
    "reference",
    "acknowledgement",
    "first_response",
    "resolution",
    "calendar",
    "note",
)
CSV_SLA_COLUMNS = ("reference", "acknowledgement", "first_response", "resolution", "calendar")
"""The columns a `contract` row may fill with its SLA terms (as in the YAML's `sla:`)."""

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
CsvExpiryDate = Annotated[ExpiryDate, BeforeValidator(_csv_date)]


class CsvRowSpec(StrictModel):
    """One CSV row, its empty cells left out."""

    inn: InnText
    name: Text = Field(min_length=1)
    partner: Annotated[bool, BeforeValidator(_csv_bool)] = False
    kind: Text | None = None
    product: Text | None = None
    starts: CsvDate | None = None
    expires: CsvExpiryDate | None = None
    reference: Text | None = None
    acknowledgement: DurationText | None = None
    first_response: DurationText | None = None
    resolution: DurationText | None = None
    calendar: Text | None = None
    note: Text | None = None


__all__ = [
    "CSV_OPTIONAL_COLUMNS",
    "CSV_REQUIRED_COLUMNS",
    "CSV_SLA_COLUMNS",
    "DEMO_ROW_KIND",
    "CsvDate",
    "CsvExpiryDate",
    "CsvRowSpec",
    "CustomerFileSpec",
]
