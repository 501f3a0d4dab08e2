"""The Redmine custom fields the bridge owns, and the run-time map from names to ids."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from redmine_sla_bridge.domain.lifecycle.clock import SlaState
from redmine_sla_bridge.domain.lifecycle.turns import LEAD_DECISIONS
from redmine_sla_bridge.domain.policy import LicenseStatus
from redmine_sla_bridge.domain.processing.field_values import LANGUAGES, value_label

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
CONFIG_VALUED = frozenset({"tier", "sla_priority", "impact", "extension_reason"})
"""List fields whose values the config declares (tiers with their display names, priority
levels, impacts, BA-10 delay reasons); every other list field's values are labelled by VALUE_LABELS."""

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
    field_format: str  # "list", "string" or "date"
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
    # List fields: (domain value, label in Redmine) in the config's language, and every
    # spelling the bridge reads back as a domain value (the labels of every language and
    # the domain value itself), so an issue written under another language still reads.
    labels: tuple[tuple[str, str], ...] = ()
    aliases: tuple[tuple[str, str], ...] = ()

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
        "first_response_day": "The first-response deadline's day in the regulation's time zone, "
        "for the query of requests to answer today",
        "impact": "Impact stated by the requester",
        "request_type": "Kind of request: error, information, proposal",
        "intake": "Intake data, filled from the request or from labelled lines of its "
        "description",
        "intake_key": "Idempotency key of a request taken in through the intake API: a "
        "retried request finds its issue by it",
        "lead_decision": "ID-1/AR-7: needed (anyone may ask), serve or refuse (the head of "
        "support decides)",
        "extension_reason": "BA-10: why the resolution term cannot be met (set by the engineer)",
        "extended_due": "BA-7: the new resolution term agreed, YYYY-MM-DD HH:MM (set by the "
        "engineer)",
        "next_check": "The day the SLA state can next change by time alone (at risk, breach, "
        "reminder, auto-close), in the regulation's time zone; 9999-12-31: never. The sweep "
        "reads only issues due by it",
        "sla_outcome": "What is decided about the request, for reports: fr/res = first "
        "response/resolution met, breached or open, working minutes taken/allowed; paused "
        "minutes; reopens; auto_closed; or refused= the refusal codes",
    },
    "ru": {
        "tier": "Уровень поддержки по справочнику клиентов",
        "license_status": "Статус лицензии на момент обращения: действует, скоро истекает, "
        "истекла, пробная, нет лицензии",
        "sla_priority": "Приоритет по регламенту поддержки",
        "sla_state": "Состояние SLA: в срок, под угрозой, нарушено, на паузе, выполнено",
        "first_response_due": "Срок первого ответа, ГГГГ-ММ-ДД ЧЧ:ММ по часовому поясу "
        "регламента",
        "resolution_due": "Срок решения, ГГГГ-ММ-ДД ЧЧ:ММ по часовому поясу регламента",
        "first_response_at": "Когда поддержка впервые ответила публично",
        "first_response_day": "День срока первого ответа по часовому поясу регламента: для "
        "запроса «Ответ нужен сегодня»",
        "impact": "Влияние на работу по оценке заявителя",
        "request_type": "Тип обращения: ошибка, консультация, предложение",
        "intake": "Данные обращения: из формы или из строк описания вида «ИНН: …»",
        "intake_key": "Ключ идемпотентности обращения, принятого через API: повторная "
        "отправка находит по нему уже созданную задачу",
        "lead_decision": "ID-1/AR-7: needed — нужно решение (может выставить любой), "
        "serve — обслужить, refuse — отказать (решает руководитель поддержки)",
        "extension_reason": "BA-10: почему срок решения не может быть выдержан (заполняет инженер)",
        "extended_due": "BA-7: новый согласованный срок решения, ГГГГ-ММ-ДД ЧЧ:ММ "
        "(заполняет инженер)",
        "next_check": "День, когда состояние SLA может измениться само (под угрозой, нарушение, "
        "напоминание, автозакрытие), по часовому поясу регламента; 9999-12-31 — никогда. "
        "Проверка сроков читает только задачи, чей день настал",
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
PEOPLE_KEYS = frozenset(("lead_decision", "extension_reason", "extended_due"))
"""Set by support people (the lead, the engineer), read by the bridge (written_by "people")."""


def field_specs(names: Any, *, tiers: Sequence[str], priorities: Sequence[str],
                impacts: Sequence[str] = ("P1", "P2", "P3", "P4"), language: str = "en",
                instance: str | None = None, lead_decision: bool = False,
                extension_reasons: Sequence[str] = (),
                tier_labels: Mapping[str, Mapping[str, str]] | None = None) -> list[FieldSpec]:
    """Every field the bridge needs, named as in the config's `fields` section, described
    in `language`, each with its marker. List values are shown in `language`
    (VALUE_LABELS; tiers by `tier_labels`: tier -> language -> display name, default the
    tier's key)."""
    texts = _DESCRIPTIONS[language]

    extra = {"tier": {tier: {lang: (tier_labels or {}).get(tier, {}).get(lang, tier)
                             for lang in LANGUAGES} for tier in tiers}}

    def spec(key: str, field_format: str, values: tuple[str, ...] = (), *,
             searchable: bool = False, required: bool = True) -> FieldSpec:
        requester = key in REQUESTER_KEYS
        people = key in PEOPLE_KEYS
        text = texts["intake" if key in _INTAKE_TEXT else key]
        labels = tuple((v, value_label(key, v, language, extra)) for v in values)
        aliases = {v: v for v in values}
        for value in values:
            for lang in LANGUAGES:
                aliases.setdefault(value_label(key, value, lang, extra), value)
        return FieldSpec(key, getattr(names, key), field_format,
                         tuple(label for _, label in labels), searchable=searchable,
                         description=text if requester or people else text + _SET_BY[language],
                         required=required,
                         written_by="requester" if requester else "people" if people else "bridge",
                         marker=marker(key, instance), labels=labels,
                         aliases=tuple(aliases.items()))

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
    # Redmine filters a date field by "today", a text field never: the deadline's day
    # makes "first response due today" a saved query (added later: optional until
    # provisioned).
    specs.append(spec("first_response_day", "date", required=False))
    specs += [spec(key, "string", searchable=True) for key in _INTAKE_TEXT]
    specs.append(spec("intake_key", "string", required=False))
    # Only where the config uses them, so a bridge without these rules needs no new field.
    if lead_decision:
        specs.append(spec("lead_decision", "list", LEAD_DECISIONS))
    if extension_reasons:
        specs.append(spec("extension_reason", "list", tuple(extension_reasons)))
        specs.append(spec("extended_due", "string"))
    # Added later: installations work without it (every sweep pass reads everything).
    specs.append(spec("next_check", "date", required=False))
    # Reports read it from issue lists (domain/reporting/outcome.py); an installation
    # without it works, and `report --rebuild` fills it once `provision` created it.
    specs.append(spec("sla_outcome", "string", required=False))
    return specs


def specs_for_config(config: Any) -> list[FieldSpec]:
    """The field specs of a loaded BridgeConfig: list values come from its policy."""
    priority = config.policy.priority
    lifecycle = config.lifecycle
    return field_specs(config.fields, tiers=config.policy.tier_names(),
                       priorities=priority.levels, impacts=priority.impact_names,
                       language=config.redmine_language, instance=config.provision.instance,
                       lead_decision=lifecycle.needs_decision is not None,
                       extension_reasons=lifecycle.extension.reasons if lifecycle.extension else (),
                       tier_labels=config.policy.tier_labels())


class FieldMap:
    """Bridge field keys <-> Redmine custom field ids, resolved by name at run time, and
    list values <-> their labels: the core reads and writes domain values only."""

    def __init__(self, ids: Mapping[str, int], specs: Iterable[FieldSpec] = ()) -> None:
        self._ids = dict(ids)
        self._keys = {v: k for k, v in self._ids.items()}
        self._labels = {s.key: dict(s.labels) for s in specs if s.labels}
        self._aliases = {s.key: dict(s.aliases) for s in specs if s.aliases}

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
        return cls({s.key: by_name[s.name] for s in specs if s.name in by_name}, specs)

    def id(self, key: str) -> int:
        return self._ids[key]

    @property
    def keys_by_id(self) -> Mapping[int, str]:
        """Redmine's custom field id -> the bridge's key, for the fields it found."""
        return self._keys

    def __contains__(self, key: str) -> bool:
        return key in self._ids

    def domain_value(self, key: str, value: str | None) -> str | None:
        """A value as Redmine holds it -> the domain's (a label of any language, or an
        unknown value as it is)."""
        if value in ("", None):
            return None
        aliases = self._aliases.get(key)
        return aliases.get(value, value) if aliases else value

    def label(self, key: str, value: str | None) -> str:
        """A domain value -> what the bridge writes into Redmine ("" clears). A label of
        another language (a requester's «ошибка» under an English config) is written in
        the config's, like the domain value it stands for."""
        if value is None:
            return ""
        labels = self._labels.get(key)
        if not labels:
            return value
        return labels.get(self._aliases[key].get(value, value), value)

    def values_of(self, issue: Mapping[str, Any]) -> dict[str, str | None]:
        """The bridge's fields as found on an issue JSON (missing ones are absent)."""
        out: dict[str, str | None] = {}
        for field in issue.get("custom_fields", ()):
            key = self._keys.get(field.get("id"))
            if key is not None:
                out[key] = self.domain_value(key, field.get("value"))
        return out

    def payload(self, values: Mapping[str, str | None]) -> list[dict[str, Any]]:
        """`custom_fields` for an issue create/update (None clears a field)."""
        return [{"id": self._ids[k], "value": self.label(k, v)} for k, v in values.items()]
