"""The support request as the intake gate sees it, and its JSON document form.

The document shape is shared with the policy and the intake API::

    {"created_at": "2024-05-06T10:15:00+03:00", "subject": "...", "description": "...",
     "contact": {"name": "...", "email": "...", "phone": "...", "position": "..."},
     "organization": {"name": "...", "inn": "..."},
     "product": "...", "version": "...", "version_normalized": "...",
     "type": "error|information|proposal", "impact": "P1|P2|P3|P4",
     "contract_number": "..."}

Every key is optional here; what a regulation demands is the gate's business.
`version_normalized` is written by the gate (the raw `version` is kept next to it).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

FIELD_PATHS: tuple[str, ...] = (
    "created_at",
    "subject",
    "description",
    "contact.name",
    "contact.email",
    "contact.phone",
    "contact.position",
    "organization.name",
    "organization.inn",
    "product",
    "version",
    "type",
    "impact",
    "contract_number",
)
"""Every dotted path a rule (required fields, labels) may name, in document order."""

TEXT_FIELD_PATHS: tuple[str, ...] = tuple(p for p in FIELD_PATHS if p != "created_at")
"""The paths that hold text (everything except the timestamp)."""

_GETTERS = {path: attrgetter(path) for path in (*FIELD_PATHS, "version_normalized")}

FieldValue = str | dt.datetime | None
"""What a field path holds (see `IntakeRequest.get`)."""

_GROUPS = {"contact": ("name", "email", "phone", "position"), "organization": ("name", "inn")}
_TOP_TEXT = ("subject", "description", "product", "version", "version_normalized", "type",
             "impact", "contract_number")


@dataclass(frozen=True, slots=True)
class Contact:
    """The person who wrote the request."""

    name: str | None = None
    email: str | None = None
    phone: str | None = None
    position: str | None = None


@dataclass(frozen=True, slots=True)
class Organization:
    """The organization the person writes for."""

    name: str | None = None
    inn: str | None = None


@dataclass(frozen=True, slots=True)
class FieldError:
    """One structural problem of a request document (wrong JSON type, unknown key...).

    `code` is one of: `not_an_object`, `not_a_string`, `invalid_datetime`, `unknown_field`.
    """

    field: str
    code: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "message": self.message}


class IntakeRequestError(ValueError):
    """The document is not a request at all (the web layer answers 400/422 with `errors`)."""

    def __init__(self, errors: tuple[FieldError, ...]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{e.field or '<root>'}: {e.message}" for e in errors))

    def to_dict(self) -> dict[str, Any]:
        return {"errors": [e.to_dict() for e in self.errors]}


@dataclass(frozen=True, slots=True)
class IntakeRequest:
    """A support request's intake data. Empty strings are stored as None ("not given")."""

    created_at: dt.datetime | None = None
    subject: str | None = None
    description: str | None = None
    contact: Contact = field(default_factory=Contact)
    organization: Organization = field(default_factory=Organization)
    product: str | None = None
    version: str | None = None
    version_normalized: str | None = None
    type: str | None = None
    impact: str | None = None
    contract_number: str | None = None

    def get(self, path: str) -> FieldValue:
        """The value at a dotted path from `FIELD_PATHS` (or `version_normalized`):
        a datetime for `created_at`, text (or None) for every other path."""
        # attrgetter reads a dotted path in C: the gate asks ~50 times per request.
        getter = _GETTERS.get(path)
        found: FieldValue = getter(self) if getter is not None else attrgetter(path)(self)
        return found

    def with_value(self, path: str, value: FieldValue) -> IntakeRequest:
        """A copy with the value at a dotted path replaced."""
        head, _, tail = path.partition(".")
        # The field is named at run time, so `replace` cannot check it statically.
        change: dict[str, Any] = {tail or head: value}
        if tail:
            inner = dataclasses.replace(getattr(self, head), **change)
            return dataclasses.replace(self, **{head: inner})
        return dataclasses.replace(self, **change)

    @classmethod
    def from_dict(cls, data: Any, *, allow_unknown_keys: bool = False) -> IntakeRequest:
        """Build a request from its JSON document.

        Never fails with anything but `IntakeRequestError`, which lists EVERY structural
        problem. Text values must be JSON strings (or null): a number is refused rather
        than converted, because an INN or a version sent as a number has already lost
        its leading zeros / trailing zeros. Unknown keys are refused (a typo such as
        "organisation" must not silently drop data) unless `allow_unknown_keys`.
        """
        errors: list[FieldError] = []
        if not isinstance(data, Mapping):
            raise IntakeRequestError(
                (FieldError("", "not_an_object", f"expected a JSON object, got {_kind(data)}"),)
            )
        known = set(_TOP_TEXT) | set(_GROUPS) | {"created_at"}
        if not allow_unknown_keys:
            errors += _unknown(data, known, prefix="")
        values: dict[str, Any] = {}
        for key in _TOP_TEXT:
            values[key] = _text(data, key, key, errors)
        values["created_at"] = _datetime(data.get("created_at"), errors)
        for group, keys in _GROUPS.items():
            raw = data.get(group)
            if raw is None:
                raw = {}
            if not isinstance(raw, Mapping):
                errors.append(FieldError(group, "not_an_object",
                                         f"expected a JSON object, got {_kind(raw)}"))
                raw = {}
            if not allow_unknown_keys:
                errors += _unknown(raw, set(keys), prefix=group + ".")
            kwargs = {k: _text(raw, k, f"{group}.{k}", errors) for k in keys}
            values[group] = Contact(**kwargs) if group == "contact" else Organization(**kwargs)
        if errors:
            raise IntakeRequestError(tuple(errors))
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """The JSON document; keys whose value is None are left out."""
        out: dict[str, Any] = {}
        if self.created_at is not None:
            out["created_at"] = self.created_at.isoformat()
        for key in ("subject", "description"):
            if (value := getattr(self, key)) is not None:
                out[key] = value
        for group in _GROUPS:
            inner = {k: v for k, v in dataclasses.asdict(getattr(self, group)).items()
                     if v is not None}
            if inner:
                out[group] = inner
        for key in _TOP_TEXT[2:]:
            if (value := getattr(self, key)) is not None:
                out[key] = value
        return out


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, (list, tuple)):
        return "an array"
    return type(value).__name__


def _unknown(data: Mapping[Any, Any], known: set[str], *, prefix: str) -> list[FieldError]:
    return [
        FieldError(f"{prefix}{key}", "unknown_field", f"unknown key {key!r}")
        for key in data
        if key not in known
    ]


def _text(data: Mapping[Any, Any], key: str, path: str, errors: list[FieldError]) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        hint = " (send it as a string: numbers lose leading zeros)" if isinstance(
            value, (int, float)) and not isinstance(value, bool) else ""
        errors.append(FieldError(path, "not_a_string",
                                 f"expected a string, got {_kind(value)}{hint}"))
        return None
    value = value.strip()
    return value or None


def _datetime(value: Any, errors: list[FieldError]) -> dt.datetime | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value.strip())
        except ValueError:
            pass
    errors.append(FieldError("created_at", "invalid_datetime",
                             f"expected an ISO 8601 date-time, got {_kind(value)}"
                             + (f" {value!r}" if isinstance(value, str) else "")))
    return None
