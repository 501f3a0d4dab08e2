"""The Redmine custom fields the bridge owns, and the run-time map from names to ids."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from redmine_sla_bridge.domain.lifecycle.clock import SlaState
from redmine_sla_bridge.domain.policy import LicenseStatus

# Redmine offers a list field's values in the order they were provisioned, and installed
# fields have "expired" before "trial" (the enum's order is precedence, not display). A
# status added to the enum later goes after these, as an admin would append it by hand.
_LICENSE_STATUS_ORDER = (
    LicenseStatus.ACTIVE,
    LicenseStatus.EXPIRING,
    LicenseStatus.EXPIRED,
    LicenseStatus.TRIAL,
    LicenseStatus.NONE,
)
LICENSE_STATUSES: tuple[str, ...] = tuple(
    status.value
    for status in (
        *_LICENSE_STATUS_ORDER,
        *(status for status in LicenseStatus if status not in _LICENSE_STATUS_ORDER),
    )
)
SLA_STATES: tuple[str, ...] = tuple(state.value for state in SlaState)
REQUEST_TYPES = ("error", "information", "proposal")  # AS-5

DUE_FORMAT = "%Y-%m-%d %H:%M"
"""Redmine has no datetime custom field: deadlines are strings in the calendar's zone,
in a form that sorts correctly as text."""


MARKER_PREFIX = "redmine-sla-bridge"
_MARKER = re.compile(r"\[redmine-sla-bridge:(?:([A-Za-z0-9][A-Za-z0-9_.-]*):)?([a-z_]+)\]\s*$")


def marker(key: str, instance: str | None = None) -> str:
    """The stable key written at the end of a field's description: `provision` finds the
    field by it even after the field was renamed (in the config or by hand)."""
    return f"[{MARKER_PREFIX}:{instance}:{key}]" if instance else f"[{MARKER_PREFIX}:{key}]"


def parse_marker(description: str | None) -> tuple[str | None, str] | None:
    """(instance, key) of the marker ending `description`, or None."""
    match = _MARKER.search(description or "")
    return (match.group(1), match.group(2)) if match else None


@dataclass(frozen=True)
class FieldSpec:
    key: str  # the bridge's own name, e.g. "tier"
    name: str  # the Redmine field name, from the config
    field_format: str  # "list" or "string"
    possible_values: tuple[str, ...] = ()
    searchable: bool = False
    description: str = ""
    # A field added in a later version: until `provision` creates it, the bridge works
    # without what it carries instead of refusing every issue.
    required: bool = True
    # "bridge": only the bridge writes it; "requester": the request's data, which the
    # requester types in the New issue form and support may correct.
    written_by: str = "bridge"
    marker: str = ""

    @property
    def full_description(self) -> str:
        """The description as Redmine holds it: the text, then the marker."""
        return f"{self.description} {self.marker}".strip()


_SET_BY = {"en": " (set by redmine-sla-bridge)", "ru": " (заполняет redmine-sla-bridge)"}
_DESCRIPTIONS: dict[str, dict[str, str]] = {
    "en": {
        "tier": "Customer tier, from the customer directory",
        "license_status": "License status at the request: active, expiring, expired, trial, none",
        "sla_priority": "Priority under the support regulation",
        "sla_state": "SLA clock: on track, at risk, breached, paused, met",
        "first_response_due": "First-response deadline, YYYY-MM-DD HH:MM in the regulation's "
        "time zone",
        "resolution_due": "Resolution deadline, YYYY-MM-DD HH:MM in the regulation's time zone",
        "first_response_at": "When support first answered publicly",
        "impact": "Impact stated by the requester",
        "request_type": "Kind of request: error, information, proposal",
        "intake": "Intake data, filled from the request or from labelled lines of its "
        "description",
        "intake_key": "Idempotency key of a request taken in through the intake API: a "
        "retried request finds its issue by it",
        "sla_outcome": "What is decided about the request, for reports: fr/res = first "
        "response/resolution met, breached or open, working minutes taken/allowed; paused "
        "minutes; reopens; auto_closed; or refused= the refusal codes",
    },
    "ru": {
        "tier": "Уровень поддержки по справочнику клиентов",
        "license_status": "Статус лицензии на момент обращения: active — действует, "
        "expiring — скоро истекает, expired — истекла, trial — пробная, none — нет лицензии",
        "sla_priority": "Приоритет по регламенту поддержки",
        "sla_state": "Состояние SLA: on track — в срок, at risk — под угрозой, "
        "breached — нарушено, paused — на паузе, met — выполнено",
        "first_response_due": "Срок первого ответа, ГГГГ-ММ-ДД ЧЧ:ММ по часовому поясу "
        "регламента",
        "resolution_due": "Срок решения, ГГГГ-ММ-ДД ЧЧ:ММ по часовому поясу регламента",
        "first_response_at": "Когда поддержка впервые ответила публично",
        "impact": "Влияние на работу по оценке заявителя",
        "request_type": "Тип обращения: error — ошибка, information — консультация, "
        "proposal — предложение",
        "intake": "Данные обращения: из формы или из строк описания вида «ИНН: …»",
        "intake_key": "Ключ идемпотентности обращения, принятого через API: повторная "
        "отправка находит по нему уже созданную задачу",
        "sla_outcome": "Итог по обращению для отчётов: fr/res — первый ответ/решение: met — в "
        "срок, breached — с нарушением, open — ещё нет; рабочие минуты: затрачено/отведено; "
        "paused — минуты паузы; reopened — возобновлений; auto_closed — закрыто "
        "автоматически; refused= — коды отказа",
    },
}

_INTAKE_TEXT = (
    "contact_name", "contact_email", "contact_phone", "contact_position",
    "organization", "inn", "product", "product_version", "contract_number",
)
REQUESTER_KEYS = frozenset((*_INTAKE_TEXT, "impact", "request_type"))
"""The request's data: the requester may type it when filing, support may correct it."""


def field_specs(names: Any, *, tiers: Sequence[str], priorities: Sequence[str],
                impacts: Sequence[str] = ("P1", "P2", "P3", "P4"), language: str = "en",
                instance: str | None = None) -> list[FieldSpec]:
    """Every field the bridge needs, named as in the config's `fields` section, described
    in `language`, each with its marker."""
    texts = _DESCRIPTIONS[language]

    def spec(key: str, field_format: str, values: tuple[str, ...] = (), *,
             searchable: bool = False, required: bool = True) -> FieldSpec:
        requester = key in REQUESTER_KEYS
        text = texts["intake" if key in _INTAKE_TEXT else key]
        return FieldSpec(key, getattr(names, key), field_format, values, searchable=searchable,
                         description=text if requester else text + _SET_BY[language],
                         required=required, written_by="requester" if requester else "bridge",
                         marker=marker(key, instance))

    lists: dict[str, tuple[str, ...]] = {
        "tier": tuple(tiers),
        "license_status": LICENSE_STATUSES,
        "sla_priority": tuple(priorities),
        "sla_state": SLA_STATES,
        "impact": tuple(impacts),
        "request_type": REQUEST_TYPES,
    }
    specs = [spec(key, "list", values) for key, values in lists.items()]
    specs += [spec(key, "string")
              for key in ("first_response_due", "resolution_due", "first_response_at")]
    specs += [spec(key, "string", searchable=True) for key in _INTAKE_TEXT]
    specs.append(spec("intake_key", "string", required=False))
    # Reports read it from issue lists (domain/reporting/outcome.py); an installation
    # without it works, and `report --rebuild` fills it once `provision` created it.
    specs.append(spec("sla_outcome", "string", required=False))
    return specs


def specs_for_config(config: Any) -> list[FieldSpec]:
    """The field specs of a loaded BridgeConfig: list values come from its policy."""
    priority = config.policy.priority
    return field_specs(config.fields, tiers=config.policy.tier_names(),
                       priorities=priority.levels, impacts=priority.impact_names,
                       language=config.language, instance=config.provision.instance)


class FieldMap:
    """Bridge field keys <-> Redmine custom field ids, resolved by name at run time."""

    def __init__(self, ids: Mapping[str, int]) -> None:
        self._ids = dict(ids)
        self._keys = {v: k for k, v in self._ids.items()}

    @classmethod
    def resolve(cls, specs: Iterable[FieldSpec], redmine_fields: Iterable[Mapping[str, Any]]):
        """Map names to ids; raise KeyError naming every field Redmine lacks."""
        by_name = {f["name"]: f["id"] for f in redmine_fields}
        specs = list(specs)
        missing = [s.name for s in specs if s.required and s.name not in by_name]
        if missing:
            raise KeyError(
                "custom fields missing in Redmine (run `redmine-sla-bridge provision`): "
                + ", ".join(missing)
            )
        return cls({s.key: by_name[s.name] for s in specs if s.name in by_name})

    def id(self, key: str) -> int:
        return self._ids[key]

    def __contains__(self, key: str) -> bool:
        return key in self._ids

    def values_of(self, issue: Mapping[str, Any]) -> dict[str, str | None]:
        """The bridge's fields as found on an issue JSON (missing ones are absent)."""
        out: dict[str, str | None] = {}
        for field in issue.get("custom_fields", ()):
            key = self._keys.get(field.get("id"))
            if key is not None:
                value = field.get("value")
                out[key] = value if value not in ("", None) else None
        return out

    def payload(self, values: Mapping[str, str | None]) -> list[dict[str, Any]]:
        """`custom_fields` for an issue create/update (None clears a field)."""
        return [{"id": self._ids[k], "value": "" if v is None else v} for k, v in values.items()]
