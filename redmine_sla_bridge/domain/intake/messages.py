"""Customer-facing texts of the intake gate, in Russian and English.

Templates use `string.Template` ("$field_label", "${value}"). Keys:

- ``field.<path>``: the human name of a field ("ИНН организации");
- ``reason.<code>`` and ``reason.<code>.<rule>``: one problem (the rule-specific key wins);
  ``reason.<code>.<rule>.lines`` when the reason lists a product's served lines
  (``$lines``: a product served in several lines, ID-2), else the key without ``.lines``;
- ``line.current``, ``line.versions`` (``.until`` with an end of support): one served line
  in such a list ("Ideco ICS 6 (версии 6.x)");
- ``send.<code>`` / ``send.<code>.<rule>``: what the customer should send to fix it
  (an empty template means "nothing to send", e.g. for a used-up demo period);
- ``flag.<code>``: a note for the engineer;
- ``note.header``, ``note.problems``, ``note.item``, ``note.send``, ``note.footer``:
  the rejection note as a whole (`render_rejection_note`).

A config may override any key per language; `PLACEHOLDERS` says which names each key
may use, and `check_override` refuses unknown keys and names at config load.

A value the customer wrote (``$value``, ``$version``, ``$words``...) is quoted through
`domain.markup.quote` when a text is rendered for a note or an email (`target`); names
the bridge itself fills (labels, the config's lists, dates, codes) are `TRUSTED_PARAMS`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from string import Template
from typing import Literal

from redmine_sla_bridge.domain.intake.reasons import Flag, Reason
from redmine_sla_bridge.domain.intake.request import FIELD_PATHS
from redmine_sla_bridge.domain.markup import Target, quote

Language = Literal["ru", "en"]
LANGUAGES: tuple[Language, ...] = ("ru", "en")

_RU: dict[str, str] = {
    "field.created_at": "дата обращения",
    "field.subject": "тема обращения",
    "field.description": "описание вопроса",
    "field.contact": "контактные данные",
    "field.contact.name": "ФИО контактного лица",
    "field.contact.email": "адрес электронной почты",
    "field.contact.phone": "контактный телефон",
    "field.contact.position": "должность",
    "field.organization": "данные организации",
    "field.organization.name": "полное название организации",
    "field.organization.inn": "ИНН организации",
    "field.product": "продукт",
    "field.version": "точная версия продукта",
    "field.type": "тип обращения",
    "field.impact": "приоритет (влияние на работу)",
    "field.contract_number": "номер контракта (договора)",
    "reason.missing_field": "Не указано: $field_label.",
    "reason.missing_field.any_of": "Нужно указать хотя бы одно из: $field_labels.",
    "reason.invalid_inn": "ИНН «$value» недействителен: ИНН состоит из 10 (организация) "
    "или 12 (ИП) цифр с верной контрольной суммой.",
    "reason.invalid_email": "Адрес электронной почты «$value» указан неверно.",
    "reason.invalid_phone": "Телефон «$value» не удалось распознать.",
    "reason.invalid_choice": "$field_label: значение «$value» не из списка ($allowed).",
    "reason.unsupported_product": "Продукт «$value» не входит в число поддерживаемых "
    "($supported).",
    "reason.unsupported_version": "Версия $version продукта «$product» не поддерживается.",
    "reason.unsupported_version.range": "Версия $version продукта «$product» "
    "не поддерживается.",
    "reason.unsupported_version.prerelease": "Версия $version продукта «$product» — "
    "предварительная (альфа, бета или RC); поддержка оказывается только по выпущенным "
    "версиям.",
    "reason.unsupported_version.end_of_support": "Поддержка версии $version продукта "
    "«$product» прекращена $end_of_support.",
    "reason.unsupported_version.not_current": "По продукту «$product» поддержка "
    "оказывается только для актуальной версии ($current), указана версия $version.",
    "reason.unsupported_version.not_current.lines": "Версия $version продукта «$product» "
    "не поддерживается. Поддерживаются: $lines.",
    "reason.unsupported_version.range.lines": "Версия $version продукта «$product» "
    "не поддерживается. Поддерживаются: $lines.",
    "reason.unsupported_version.end_of_support.lines": "Поддержка «$line» прекращена "
    "$end_of_support (указана версия $version). Поддерживаются: $lines.",
    "line.current": "$title (актуальная версия $current)",
    "line.current.until": "$title (актуальная версия $current, до $end_of_support)",
    "line.versions": "$title (версии $versions)",
    "line.versions.until": "$title (версии $versions, до $end_of_support)",
    "reason.unknown_version": "Не удалось распознать номер версии «$value».",
    "reason.demo_already_used": "Демонстрационный период уже предоставлялся "
    "с $previous_start; поддержка в демо-режиме — не более одного демонстрационного "
    "периода в год, следующий возможен с $next_allowed.",
    "send.missing_field": "$field_label",
    "send.missing_field.any_of": "$field_labels (хотя бы одно)",
    "send.invalid_inn": "верный ИНН организации (10 или 12 цифр)",
    "send.invalid_email": "верный адрес электронной почты",
    "send.invalid_phone": "телефон в формате +7 495 123-45-67",
    "send.invalid_choice": "$field_label: одно из значений $allowed",
    "send.unsupported_product": "название продукта из списка: $supported",
    "send.unsupported_version": "версию продукта, которая поддерживается (после обновления)",
    "send.unsupported_version.prerelease": "номер выпущенной версии, на которой "
    "воспроизводится вопрос",
    "send.unsupported_version.not_current": "номер актуальной версии $current "
    "(после обновления)",
    "send.unknown_version": "точный номер версии, например 7.2.1 или «7.2 сборка 456»",
    "send.demo_already_used": "",
    "flag.rudeness": "В обращении есть грубые или нецензурные слова: $words. "
    "Решение об отказе принимает специалист.",
    "flag.ignored_invalid_value": "$field_label: значение «$value» не распознано и не "
    "использовано.",
    "flag.no_sender_address": "Уведомление клиенту не отправлено: обращение пришло по "
    "почте, а адреса отправителя нет (почтовый обработчик Redmine записал автором "
    "«Аноним»). Свяжитесь с клиентом сами (телефон и имя — в полях обращения); чтобы адрес "
    "сохранялся, запускайте обработчик с unknown_user=create или читайте ящик командой "
    "redmine-sla-bridge mail.",
    "flag.from_free_text": "$field_label: «$value» прочитано из свободного текста "
    "($where), а не из поля или строки с подписью; проверьте.",
    "note.header": "Здравствуйте!\n\nК сожалению, по регламенту технической поддержки мы "
    "пока не можем взять ваше обращение в работу.",
    "note.problems": "Что не так:",
    "note.item": "• $text",
    "note.send": "Чтобы обращение взяли в работу, ответьте на это письмо и пришлите:",
    "note.footer": "Когда вы ответите или откроете обращение заново, мы проверим его ещё раз.",
    "note.send.comment": "Чтобы обращение взяли в работу, добавьте к нему комментарий и "
    "укажите:",
    "note.footer.comment": "Когда вы добавите комментарий, мы проверим обращение ещё раз.",
}

_EN: dict[str, str] = {
    "field.created_at": "date of the request",
    "field.subject": "subject",
    "field.description": "description of the question",
    "field.contact": "contact data",
    "field.contact.name": "full name of the contact person",
    "field.contact.email": "email address",
    "field.contact.phone": "phone number",
    "field.contact.position": "position",
    "field.organization": "organization data",
    "field.organization.name": "full name of the organization",
    "field.organization.inn": "the organization's INN (taxpayer number)",
    "field.product": "product",
    "field.version": "exact product version",
    "field.type": "request type",
    "field.impact": "priority (impact on your work)",
    "field.contract_number": "contract number",
    "reason.missing_field": "Missing: $field_label.",
    "reason.missing_field.any_of": "At least one of these is needed: $field_labels.",
    "reason.invalid_inn": "The INN \"$value\" is not valid: an INN has 10 (organization) or "
    "12 (sole proprietor) digits with a valid checksum.",
    "reason.invalid_email": "The email address \"$value\" is not valid.",
    "reason.invalid_phone": "The phone number \"$value\" could not be read.",
    "reason.invalid_choice": "$field_label: \"$value\" is not one of $allowed.",
    "reason.unsupported_product": "The product \"$value\" is not supported (supported: "
    "$supported).",
    "reason.unsupported_version": "Version $version of \"$product\" is not supported.",
    "reason.unsupported_version.range": "Version $version of \"$product\" is not supported.",
    "reason.unsupported_version.prerelease": "Version $version of \"$product\" is a "
    "pre-release (alpha, beta or RC); only released versions are supported.",
    "reason.unsupported_version.end_of_support": "Support for version $version of "
    "\"$product\" ended on $end_of_support.",
    "reason.unsupported_version.not_current": "\"$product\" is supported in its current "
    "version ($current) only; the request names version $version.",
    "reason.unsupported_version.not_current.lines": "Version $version of \"$product\" is "
    "not supported. Supported: $lines.",
    "reason.unsupported_version.range.lines": "Version $version of \"$product\" is not "
    "supported. Supported: $lines.",
    "reason.unsupported_version.end_of_support.lines": "Support for \"$line\" ended on "
    "$end_of_support (the request names version $version). Supported: $lines.",
    "line.current": "$title (current version $current)",
    "line.current.until": "$title (current version $current, until $end_of_support)",
    "line.versions": "$title (versions $versions)",
    "line.versions.until": "$title (versions $versions, until $end_of_support)",
    "reason.unknown_version": "The version \"$value\" could not be read.",
    "reason.demo_already_used": "A demo period was already granted from $previous_start; "
    "demo support is limited to one demo period a year, the next one is possible from "
    "$next_allowed.",
    "send.missing_field": "$field_label",
    "send.missing_field.any_of": "$field_labels (at least one)",
    "send.invalid_inn": "a valid INN of the organization (10 or 12 digits)",
    "send.invalid_email": "a valid email address",
    "send.invalid_phone": "a phone number such as +7 495 123-45-67",
    "send.invalid_choice": "$field_label: one of $allowed",
    "send.unsupported_product": "the product's name from the list: $supported",
    "send.unsupported_version": "a supported version of the product (after an update)",
    "send.unsupported_version.prerelease": "a released version the question still "
    "applies to",
    "send.unsupported_version.not_current": "the current version number $current "
    "(after an update)",
    "send.unknown_version": "the exact version number, e.g. 7.2.1 or \"7.2 build 456\"",
    "send.demo_already_used": "",
    "flag.rudeness": "The request contains rude or obscene words: $words. An engineer "
    "decides whether to refuse.",
    "flag.ignored_invalid_value": "$field_label: \"$value\" could not be read and was not "
    "used.",
    "flag.no_sender_address": "No notice was sent to the customer: the request came by "
    "email but has no sender address (Redmine's mail handler filed it as Anonymous). Contact "
    "the customer yourself (phone and name are in the request's fields); to keep the "
    "address, run the mail handler with unknown_user=create or read the mailbox with "
    "redmine-sla-bridge mail.",
    "flag.from_free_text": "$field_label: \"$value\" was read from the free text ($where), "
    "not from a field or a labelled line; please check it.",
    "note.header": "Hello,\n\nunfortunately, under the technical support regulation we "
    "cannot start working on your request yet.",
    "note.problems": "What is wrong:",
    "note.item": "• $text",
    "note.send": "To have the request served, reply to this message and send:",
    "note.footer": "When you reply or reopen the request, it will be checked again.",
    "note.send.comment": "To have the request served, add a comment to it with:",
    "note.footer.comment": "When you add the comment, the request will be checked again.",
}

DEFAULT_TEMPLATES: Mapping[str, Mapping[str, str]] = {"ru": _RU, "en": _EN}

_ALWAYS = frozenset({"field", "field_label"})
_REASON_PARAMS: dict[str, frozenset[str]] = {
    "missing_field": frozenset({"rule", "fields", "field_labels"}),
    "invalid_inn": frozenset({"value", "rule"}),
    "invalid_email": frozenset({"value", "rule"}),
    "invalid_phone": frozenset({"value", "rule"}),
    "invalid_choice": frozenset({"value", "allowed"}),
    "unsupported_product": frozenset({"value", "supported"}),
    "unsupported_version": frozenset(
        {"value", "version", "normalized", "product", "rule", "supported", "current",
         "end_of_support", "line", "lines"}
    ),
    "unknown_version": frozenset({"value"}),
    "demo_already_used": frozenset({"previous_start", "previous_end", "next_allowed"}),
}
_FLAG_PARAMS: dict[str, frozenset[str]] = {
    "rudeness": frozenset({"words"}),
    "ignored_invalid_value": frozenset({"value", "code", "rule"}),
    "from_free_text": frozenset({"value", "where"}),
    "no_sender_address": frozenset(),
}


RULES: Mapping[str, tuple[str, ...]] = {
    "missing_field": ("any_of",),
    "invalid_inn": ("format", "length", "zeros", "checksum"),
    "invalid_email": ("format",),
    "invalid_phone": ("format",),
    "unsupported_version": ("range", "prerelease", "end_of_support", "not_current"),
}
"""The sub-rules of reason codes; "reason.<code>.<rule>" may be overridden for each."""


_LINES_CODES = frozenset({"unsupported_version"})
"""Reason codes whose reasons may list the product's served lines (``$lines``)."""
_LINE_PARAMS = frozenset({"title", "versions", "current", "end_of_support"})


def _placeholders() -> dict[str, frozenset[str]]:
    allowed: dict[str, frozenset[str]] = {}
    keys = dict.fromkeys(_RU)
    for code, rules in RULES.items():
        for rule in rules:
            keys.update(dict.fromkeys((f"reason.{code}.{rule}", f"send.{code}.{rule}")))
            if code in _LINES_CODES:
                keys.update(dict.fromkeys((f"reason.{code}.{rule}.lines",
                                           f"send.{code}.{rule}.lines")))
    for key in keys:
        kind, _, rest = key.partition(".")
        code = rest.split(".", 1)[0]
        if kind in ("reason", "send"):
            allowed[key] = _ALWAYS | _REASON_PARAMS[code]
        elif kind == "flag":
            allowed[key] = _ALWAYS | _FLAG_PARAMS[code]
        elif kind == "line":
            allowed[key] = _LINE_PARAMS
        elif key == "note.item":
            allowed[key] = frozenset({"text"})
        else:
            allowed[key] = frozenset()
    return allowed


PLACEHOLDERS: Mapping[str, frozenset[str]] = _placeholders()
"""Per template key: the names it may use."""

_DATE_PARAMS = frozenset({"end_of_support", "previous_start", "previous_end", "next_allowed"})

TRUSTED_PARAMS = frozenset({
    "field", "field_label", "field_labels", "fields", "rule", "code", "allowed", "supported",
    "current", "product", "line", "lines", "title", "versions", "where", *_DATE_PARAMS,
})
"""Names filled from the config, the code or the clock (``product`` is the canonical name
of a matched product rule). Any other name is customer data: a name added later is
quoted unless it is listed here."""


_FREE_TEXT_PLACES: Mapping[str, Mapping[str, str]] = {
    "ru": {"text": "текст письма", "signature": "подпись", "sender": "отправитель",
           "line": "строка"},
    "en": {"text": "the text", "signature": "the signature", "sender": "the sender",
           "line": "line"},
}


def free_text_place(language: str, source: str, line: int | None) -> str:
    """Where a free-text value was read, for the engineer: "подпись, строка 12"."""
    words = _FREE_TEXT_PLACES.get(language, _FREE_TEXT_PLACES["en"])
    place = words.get(source, source)
    return f"{place}, {words['line']} {line}" if line is not None else place


def check_override(key: str, template: str) -> None:
    """Raise ValueError if `key` is not a known template key or `template` uses a name
    that key never gets (a typo would otherwise show "$vesion" to the customer)."""
    if key not in PLACEHOLDERS:
        known = ", ".join(sorted(PLACEHOLDERS))
        raise ValueError(f"unknown message key {key!r}; known keys: {known}")
    parsed = Template(template)
    if not parsed.is_valid():
        raise ValueError(f"{key}: invalid template {template!r} (write a literal $ as $$)")
    unknown = set(parsed.get_identifiers()) - PLACEHOLDERS[key]
    if unknown:
        raise ValueError(
            f"{key}: unknown placeholder(s) {', '.join('$' + n for n in sorted(unknown))}; "
            f"allowed: {', '.join('$' + n for n in sorted(PLACEHOLDERS[key])) or 'none'}"
        )


@dataclass(frozen=True, slots=True)
class MessageCatalog:
    """The templates of one language, with the config's overrides on top."""

    language: Language = "ru"
    overrides: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.language not in DEFAULT_TEMPLATES:
            raise ValueError(f"unsupported language {self.language!r}; use one of {LANGUAGES}")
        for key, template in self.overrides.items():
            check_override(key, template)

    def template(self, key: str) -> str | None:
        """The template of `key`, falling back from "a.b.c" to "a.b"; None if none."""
        defaults = DEFAULT_TEMPLATES[self.language]
        while True:
            if key in self.overrides:
                return self.overrides[key]
            if key in defaults:
                return defaults[key]
            if key.count(".") < 2:
                return None
            key = key.rsplit(".", 1)[0]

    def field_label(self, path: str) -> str:
        return self.template(f"field.{path}") or path

    def render(self, key: str, params: Mapping[str, str], *, field_path: str = "",
               target: Target | None = None) -> str:
        """Fill template `key` with `params`; unknown names stay as written (never raises).

        `target` quotes the customer's values for a note in that formatting or for a
        plain-text email; None leaves them as given (the API's and `simulate`'s
        messages)."""
        template = self.template(key)
        if template is None:
            return ""
        values = {k: self._value(k, v, target) for k, v in params.items()}
        values.setdefault("field", field_path)
        values.setdefault("field_label", self.field_label(field_path) if field_path else "")
        if "fields" in params:
            values.setdefault("field_labels", ", ".join(
                self.field_label(p.strip()) for p in params["fields"].split(",") if p.strip()))
        return Template(template).safe_substitute(values)

    def reason_message(self, code: str, field_path: str, params: Mapping[str, str],
                       target: Target | None = None) -> str:
        return self.render(_key("reason", code, params), params, field_path=field_path,
                           target=target)

    def send_text(self, reason: Reason, target: Target | None = None) -> str:
        return self.render(_key("send", reason.code, reason.params), reason.params,
                           field_path=reason.field, target=target)

    def flag_message(self, code: str, field_path: str, params: Mapping[str, str],
                     target: Target | None = None) -> str:
        return self.render(f"flag.{code}", params, field_path=field_path, target=target)

    def reason_text(self, reason: Reason, target: Target) -> str:
        """`reason.message` again, with the customer's values quoted for `target`."""
        return self.reason_message(reason.code, reason.field, reason.params, target)

    def flag_text(self, flag: Flag, target: Target) -> str:
        """`flag.message` again, with the customer's values quoted for `target`."""
        return self.flag_message(flag.code, flag.field, flag.params, target)

    def _value(self, name: str, value: str, target: Target | None) -> str:
        if name in TRUSTED_PARAMS or target is None:
            return self._format_param(name, value)
        return quote(value, target)

    def _format_param(self, name: str, value: str) -> str:
        if name in _DATE_PARAMS and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            date = dt.date.fromisoformat(value)
            return date.strftime("%d.%m.%Y") if self.language == "ru" else date.isoformat()
        return value


def _key(kind: str, code: str, params: Mapping[str, str]) -> str:
    rule = params.get("rule")
    key = f"{kind}.{code}.{rule}" if rule else f"{kind}.{code}"
    # A reason listing a product's served lines has its own wording where one exists
    # (`MessageCatalog.template` falls back to the key without ".lines").
    return f"{key}.lines" if rule and params.get("lines") else key


def render_rejection_note(reasons: Iterable[Reason], catalog: MessageCatalog,
                          target: Target = "textile", *, by_comment: bool = False) -> str:
    """The note that tells the customer why the request waits and what to send.

    Layout: header; "what is wrong" with one bullet per reason; "send" with one bullet
    per distinct thing to send (left out when there is nothing to send); footer saying
    the request is checked again on reply or reopen. `target`: the Redmine text
    formatting of the note, or "plain" for the email of the same text. `by_comment`: the
    requester filed in Redmine itself and answers with a comment, not by email.
    """
    suffix = ".comment" if by_comment else ""
    reasons = tuple(reasons)
    item = catalog.template("note.item") or "• $text"
    parts = [catalog.render("note.header", {})]
    problems = [Template(item).safe_substitute(text=text) for r in reasons
                if (text := catalog.reason_text(r, target))]
    if problems:
        parts.append("\n".join([catalog.render("note.problems", {}), *problems]))
    to_send: dict[str, None] = {}
    for reason in reasons:
        if text := catalog.send_text(reason, target).strip():
            to_send.setdefault(text)
    if to_send:
        parts.append("\n".join([catalog.render("note.send" + suffix, {}),
                                *(Template(item).safe_substitute(text=t) for t in to_send)]))
    parts.append(catalog.render("note.footer" + suffix, {}))
    return "\n\n".join(p for p in parts if p.strip())


def _check_defaults() -> None:
    # Both languages must define the same keys, and every path must have a label:
    # a missing Russian text would silently fall back to nothing.
    if set(_RU) != set(_EN):
        raise RuntimeError(f"ru/en message keys differ: {set(_RU) ^ set(_EN)}")
    if missing := [p for p in FIELD_PATHS if f"field.{p}" not in _RU]:
        raise RuntimeError(f"no field labels for {missing}")
    for language in LANGUAGES:
        for key, template in DEFAULT_TEMPLATES[language].items():
            check_override(key, template)


_check_defaults()
