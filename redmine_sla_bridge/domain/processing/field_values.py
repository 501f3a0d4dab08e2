"""The bridge's own issue fields, by key: what an engineer sees, as text.

Keys (`tier`, `sla_state`, `contact_email`, ...) are the bridge's names; the Redmine
adapter maps them to custom field ids.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from zoneinfo import ZoneInfo

from redmine_sla_bridge.domain.intake.request import IntakeRequest
from redmine_sla_bridge.domain.lifecycle.clock import ClockReading
from redmine_sla_bridge.domain.lifecycle.history import IssueHistory, Role
from redmine_sla_bridge.domain.policy import TargetKind
from redmine_sla_bridge.domain.reporting.outcome import OUTCOME_KEY, outcome_of
from redmine_sla_bridge.domain.request_decision import RequestDecision

DUE_FORMAT = "%Y-%m-%d %H:%M"
"""Redmine has no datetime custom field: deadlines are strings in the calendar's zone,
in a form that sorts correctly as text."""

PATH_TO_FIELD: Mapping[str, str] = {
    "contact.name": "contact_name",
    "contact.email": "contact_email",
    "contact.phone": "contact_phone",
    "contact.position": "contact_position",
    "organization.name": "organization",
    "organization.inn": "inn",
    "product": "product",
    "version": "product_version",
    "type": "request_type",
    "impact": "impact",
    "contract_number": "contract_number",
}
"""Request path -> the field it is shown in."""

LANGUAGES = ("en", "ru")

VALUE_LABELS: Mapping[str, Mapping[str, Mapping[str, str]]] = {
    # AS/AR/BA clock states (domain.lifecycle.clock.SlaState).
    "sla_state": {
        "on track": {"en": "on track", "ru": "в срок"},
        "at risk": {"en": "at risk", "ru": "под угрозой"},
        "breached": {"en": "breached", "ru": "нарушено"},
        "paused": {"en": "paused", "ru": "на паузе"},
        "met": {"en": "met", "ru": "выполнено"},
        # ID-8, ID-1/AR-7, BA-7 (domain.lifecycle.turns).
        "queued": {"en": "queued", "ru": "в очереди"},
        "needs decision": {"en": "needs decision", "ru": "ждёт решения руководителя"},
        "extended": {"en": "extended", "ru": "срок продлён"},
    },
    # ID-1 / AR-7: the head of support's decision (domain.lifecycle.turns.LEAD_DECISIONS).
    "lead_decision": {
        "needed": {"en": "needed", "ru": "требуется"},
        "serve": {"en": "serve", "ru": "обслужить"},
        "refuse": {"en": "refuse", "ru": "отказать"},
    },
    # domain.policy.LicenseStatus.
    "license_status": {
        "active": {"en": "active", "ru": "действует"},
        "expiring": {"en": "expiring", "ru": "скоро истекает"},
        "expired": {"en": "expired", "ru": "истекла"},
        "trial": {"en": "trial", "ru": "пробная"},
        "none": {"en": "none", "ru": "нет лицензии"},
    },
    # AS-5.
    "request_type": {
        "error": {"en": "error", "ru": "ошибка"},
        "information": {"en": "information", "ru": "консультация"},
        "proposal": {"en": "proposal", "ru": "предложение"},
    },
}
"""The one table of list values as Redmine shows them: field key -> the domain's value ->
language -> label. The domain keeps its own values; the Redmine adapter writes the label
of the config's language and reads any label (or the domain value) back. A new value of a
list field needs a row here (tests/unit/test_field_labels.py fails without it). English
labels are the domain values, so an English installation never has values to migrate."""


def value_label(key: str, value: str, language: str,
                extra: Mapping[str, Mapping[str, Mapping[str, str]]] | None = None) -> str:
    """The label of a domain value in `language`; the value itself where none is known
    (a value the config declares, such as a priority level, is shown as written)."""
    table = (extra or {}).get(key) or VALUE_LABELS.get(key) or {}
    return table.get(value, {}).get(language, value)
OPTIONAL_KEYS = frozenset({OUTCOME_KEY})
"""Fields added in a later version: written only where Redmine has them (`provision`)."""


def fields_from_request(request: IntakeRequest,
                        paths: Iterable[str] = PATH_TO_FIELD) -> dict[str, str | None]:
    """Field values for the given request paths that have a value."""
    out: dict[str, str | None] = {}
    for path in paths:
        if path not in PATH_TO_FIELD:
            continue
        value = request.get(path)
        if isinstance(value, str):  # created_at is the one non-text path, and no field
            out[PATH_TO_FIELD[path]] = value
    return out


def format_field_time(moment: dt.datetime | None, zone: ZoneInfo) -> str | None:
    """DUE_FORMAT's text; isoformat is C without strftime's format parsing (each plan
    writes several of these)."""
    if not moment:
        return None
    return moment.astimezone(zone).replace(tzinfo=None).isoformat(" ", "minutes")


def parse_field_time(text: str, zone: ZoneInfo) -> dt.datetime:
    if (len(text) == 16 and text[4] == text[7] == "-" and text[10] == " " and text[13] == ":"
            and text.isascii()):
        # DUE_FORMAT's shape, read in C (strptime is pure Python, twice per plan);
        # fromisoformat refuses what strptime would for this shape.
        return dt.datetime.fromisoformat(text).replace(tzinfo=zone)
    return dt.datetime.strptime(text, DUE_FORMAT).replace(tzinfo=zone)


def sla_values(decision: RequestDecision, history: IssueHistory, reading: ClockReading,
               zone: ZoneInfo) -> dict[str, str | None]:
    """The SLA fields of an issue, as the engineer sees them."""
    first = history.first_public_note(Role.SUPPORT)
    return {
        "tier": decision.policy.tier,
        "license_status": str(decision.policy.license_status.value),
        "sla_priority": decision.policy.priority,
        "sla_state": str(reading.state),
        "first_response_due": format_field_time(reading.due(TargetKind.FIRST_RESPONSE), zone),
        "resolution_due": format_field_time(reading.due(TargetKind.RESOLUTION), zone),
        "first_response_at": format_field_time(first.at if first else None, zone),
        "first_response_day": _day(reading.due(TargetKind.FIRST_RESPONSE), zone),
        OUTCOME_KEY: outcome_of(history, reading).text(),
    }


def _day(moment: dt.datetime | None, zone: ZoneInfo) -> str | None:
    """A deadline's day where the regulation counts (Redmine's date format)."""
    return moment.astimezone(zone).date().isoformat() if moment else None
