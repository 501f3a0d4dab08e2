"""List values as Redmine shows them: one label table, read back in any language."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from redmine_sla_bridge.adapters.redmine import saved_queries as sq
from redmine_sla_bridge.adapters.redmine.fields import CONFIG_VALUED, FieldMap, field_specs
from redmine_sla_bridge.adapters.redmine.provisioning import offered_stale, relabel, stale_labels
from redmine_sla_bridge.config.model import DEFAULT_FIELD_NAMES
from redmine_sla_bridge.config.policy import PolicyConfig
from redmine_sla_bridge.domain.lifecycle.clock import SlaState
from redmine_sla_bridge.domain.notices import NoticeTexts, acknowledgement
from redmine_sla_bridge.domain.policy import LicenseStatus
from redmine_sla_bridge.domain.processing.field_values import LANGUAGES, VALUE_LABELS

TIER_LABELS = {"premium": {"ru": "Премиум", "en": "Premium"},
               "other": {"ru": "Прочие", "en": "other"}}


def specs(language: str = "ru", tier_labels=TIER_LABELS):
    return {s.key: s for s in field_specs(SimpleNamespace(**DEFAULT_FIELD_NAMES[language]),
                                          tiers=("premium", "other"), priorities=("P1", "P2"),
                                          language=language, tier_labels=tier_labels,
                                          lead_decision=True)}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_value_of_every_list_field_has_a_label_in_every_language(language):
    lists = [s for s in specs(language).values() if s.field_format == "list"]
    assert {s.key for s in lists} - CONFIG_VALUED == set(VALUE_LABELS)
    for spec in lists:
        if spec.key in CONFIG_VALUED:
            continue
        values = [value for value, _ in spec.labels]
        missing = [v for v in values
                   if set(VALUE_LABELS[spec.key].get(v, {})) != set(LANGUAGES)]
        assert not missing, f"{spec.key}: add {missing} to field_values.VALUE_LABELS"
    # The enums the fields carry are covered whole, whatever order they are offered in.
    assert set(VALUE_LABELS["sla_state"]) == {s.value for s in SlaState}
    assert set(VALUE_LABELS["license_status"]) == {s.value for s in LicenseStatus}


def test_labels_are_told_apart_in_and_across_languages():
    for key, table in VALUE_LABELS.items():
        owner: dict[str, str] = {}
        for value, labels in table.items():
            for spelling in {value, *labels.values()}:
                assert owner.setdefault(spelling, value) == value, (key, spelling)
        # English labels are the domain's values: an English installation never migrates.
        assert all(labels["en"] == value for value, labels in table.items()), key


def test_the_field_map_writes_the_config_language_and_reads_any():
    ru = specs("ru")
    fields = FieldMap({key: n for n, key in enumerate(ru, 1)}, ru.values())
    sla, tier, lic = fields.id("sla_state"), fields.id("tier"), fields.id("license_status")
    written = fields.payload({"sla_state": "at risk", "tier": "premium", "license_status": "none",
                              "sla_priority": "P1", "resolution_due": None})
    assert {p["id"]: p["value"] for p in written} == {
        sla: "под угрозой", tier: "Премиум", lic: "нет лицензии", fields.id("sla_priority"): "P1",
        fields.id("resolution_due"): ""}
    for shown in ("под угрозой", "at risk"):
        issue = {"custom_fields": [{"id": sla, "value": shown}, {"id": tier, "value": "Premium"},
                                   {"id": lic, "value": "none"}]}
        assert fields.values_of(issue) == {"sla_state": "at risk", "tier": "premium",
                                           "license_status": "none"}
    assert fields.label("request_type", "error") == fields.label("request_type", "ошибка") == "ошибка"
    # A value the bridge does not know is read as it is (an admin's own value).
    assert fields.domain_value("sla_state", "queued") == "queued"
    assert fields.domain_value("sla_state", "") is None


def test_switching_the_language_renames_known_values_and_keeps_the_rest():
    spec = specs("ru")["sla_state"]
    renamed_values, renames = relabel(spec, ("on track", "at risk", "custom", "breached", "нарушено"))
    assert renamed_values == ("в срок", "под угрозой", "custom", "нарушено")
    assert renames == (("on track", "в срок"), ("at risk", "под угрозой"), ("breached", "нарушено"))
    assert relabel(spec, renamed_values) == (renamed_values, ())
    assert stale_labels(spec) == {"on track": "в срок", "at risk": "под угрозой",
                                  "breached": "нарушено", "paused": "на паузе", "met": "выполнено",
                                  "queued": "в очереди", "needs decision": "ждёт решения руководителя",
                                  "extended": "срок продлён"}
    # Only a field still offering an old label is searched for issues to rewrite.
    offered = {"possible_values": [{"value": v} for v in ("в срок", "breached", "custom")]}
    assert offered_stale(spec, offered) == ("breached",)
    assert offered_stale(spec, {"possible_values": [{"value": "в срок"}]}) == ()
    back = specs("en")["sla_state"]
    assert relabel(back, renamed_values)[0] == ("on track", "at risk", "custom", "breached")
    # English shows "Premium": the key itself is then a spelling to migrate.
    assert stale_labels(specs("en")["tier"]) == {"premium": "Premium", "Премиум": "Premium",
                                                 "Прочие": "other"}


def test_tier_display_names_come_from_the_config_and_default_to_the_key():
    policy = PolicyConfig.model_validate({
        "calendar": "office", "priority": {"mode": "impact", "default_impact": "P3"},
        "tiers": [{"name": "premium", "display_name": {"ru": "Премиум"}, "when": {"partner": True}},
                  {"name": "premium", "display_name": "Premium", "when": {"license_active": ["premium"]}},
                  {"name": "other", "when": {}}]})
    # Rules of one tier share the first display name given per language.
    assert policy.tier_labels() == {"premium": {"ru": "Премиум", "en": "Premium"},
                                    "other": {"ru": "other", "en": "other"}}
    with pytest.raises(ValueError, match="premium and other are both shown as 'other'"):
        PolicyConfig.model_validate({
            "calendar": "office", "priority": {"mode": "impact", "default_impact": "P3"},
            "tiers": [{"name": "premium", "display_name": "other", "when": {"partner": True}},
                      {"name": "other", "when": {}}]})


def test_the_acknowledgement_names_the_tier_as_the_field_shows_it():
    texts = NoticeTexts("ru", labels={"tier": {"premium": "Премиум"}})
    note = acknowledgement(texts, issue_id=7, priority="P1", tier="premium", deadlines={},
                           timezone="Europe/Moscow")
    assert "Уровень обслуживания: Премиум." in note
    assert "premium" not in note


def test_saved_queries_filter_on_the_label_of_the_config_language():
    ids = {k: n for n, k in enumerate(("sla_priority", "sla_state", "first_response_due",
                                       "resolution_due", "tier", "first_response_at",
                                       "first_response_day"), 1)}
    for language, breached in (("ru", "нарушено"), ("en", "breached")):
        found = {q.name: q for q in sq.definitions(language, ids, (1,), (3,), 5)}
        query = found[sq.NAMES[language]["breached"]]
        assert query.filters["cf_2"] == ("=", (breached,))
