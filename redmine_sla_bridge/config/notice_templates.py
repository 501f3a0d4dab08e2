"""Checking `notices.templates`: known keys, and only the placeholders each key is given.

`NoticeTexts.get` substitutes with `safe_substitute`, so a misspelt `$nubmer` would reach
the customer's mail as written. The table below is what the code passes for each key
(`texts.get(key, name=...)` in `domain/notices.py`, `domain/processing/`, `service/`);
`tests/unit/config/test_notice_templates.py` reads those calls and fails when the two
drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from string import Template

from redmine_sla_bridge.config.base import ConfigValueError

_NONE: frozenset[str] = frozenset()

PLACEHOLDERS: Mapping[str, frozenset[str]] = {
    "registration_number": frozenset({"issue_id"}),
    "ack.subject": frozenset({"number"}),
    "ack.header": frozenset({"number"}),
    "ack.priority": frozenset({"priority"}),
    "ack.tier": frozenset({"tier"}),
    "ack.deadline.first_response": frozenset({"due"}),
    "ack.deadline.resolution": frozenset({"due"}),
    "ack.unlimited.first_response": _NONE,
    "ack.unlimited.resolution": _NONE,
    "ack.timezone": frozenset({"timezone"}),
    "ack.entitlements": frozenset({"entitlements"}),
    "rejected.subject": frozenset({"number"}),
    "closed.subject": frozenset({"number"}),
    "closed.note": frozenset({"number", "idle", "reopen_until"}),
    "closed.note.no_window": frozenset({"number", "idle"}),
    "closed.note.new_request": frozenset({"number", "idle"}),
    "closed.note.comment": frozenset({"number", "idle", "reopen_until"}),
    "closed.note.no_window.comment": frozenset({"number", "idle"}),
    "fields.reverted": frozenset({"changes"}),
    "fields.reset": frozenset({"changes"}),
    "fields.change": frozenset({"field", "who", "old", "new"}),
    "idle.customer_message": frozenset({"after"}),
    "idle.support_answer": frozenset({"after"}),
    "idle.status_change": frozenset({"after"}),
    "reopened.note": frozenset({"number"}),
    "reminder.subject": frozenset({"number"}),
    "reminder.note": frozenset({"number", "close_at"}),
    "reminder.note.comment": frozenset({"number", "close_at"}),
    "reply.too_late": frozenset({"number"}),
    "development.note": frozenset({"due"}),
    "escalation.at_risk": frozenset({"targets", "share"}),
    "escalation.breached": frozenset({"targets", "share"}),
    "escalation.target.first_response": frozenset({"due"}),
    "escalation.target.resolution": frozenset({"due"}),
    "queued.subject": frozenset({"number"}),
    "queued.note": frozenset({"number", "ahead"}),
    "queued.position": frozenset({"position", "ahead"}),
    "decision.note": frozenset({"why", "field", "serve", "refuse"}),
    "decision.why.tier": frozenset({"tier"}),
    "decision.why.asked": frozenset({"who"}),
    "decision.not_allowed": frozenset({"value", "who", "deciders", "needed"}),
    "decision.refused.subject": frozenset({"number"}),
    "decision.refused.note": frozenset({"number"}),
    "several.questions": frozenset({"count"}),
    "extension.subject": frozenset({"number"}),
    "extension.note": frozenset({"number", "reason", "due"}),
}
"""Per notice key: the names `NoticeTexts.get` is called with."""


def _names(names: frozenset[str]) -> str:
    return ", ".join(f"${name}" for name in sorted(names)) or "none"


def check_notice_templates(templates: Mapping[str, Mapping[str, str]]) -> None:
    """Raise ConfigValueError (at the language or the key) for an unknown key, a broken
    template or a placeholder that key is never given."""
    from redmine_sla_bridge.domain.notices import DEFAULTS

    for language, overrides in templates.items():
        unknown = sorted(set(overrides) - set(DEFAULTS[language]))
        if unknown:
            raise ConfigValueError(
                f"unknown template keys for {language}: {', '.join(unknown)} (known: see "
                "redmine_sla_bridge.domain.notices.DEFAULTS)", at=(language, unknown[0]))
        for key, text in overrides.items():
            template = Template(text)
            allowed = PLACEHOLDERS.get(key, _NONE)
            if not template.is_valid():
                raise ConfigValueError(
                    f"invalid template: a $ must start a placeholder ({_names(allowed)}); "
                    "write a literal $ as $$", at=(language, key))
            used = set(template.get_identifiers())
            if used - allowed:
                raise ConfigValueError(
                    f"unknown placeholder(s) {_names(frozenset(used - allowed))}: this text is "
                    f"given {_names(allowed)}, and anything else would reach the customer as "
                    "written", at=(language, key))


__all__ = ["PLACEHOLDERS", "check_notice_templates"]
