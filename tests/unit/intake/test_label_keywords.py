"""Issue 17, point 4: the labels the bridge asks for never collide with Redmine's mail
handler keywords, in any Redmine language.

Redmine 5 (app/models/mail_handler.rb, `extract_keyword!`) reads a line
"<keyword>: <value>" of an incoming email as its own attribute and deletes it from the
description when `allow_override` permits. The keywords of an issue are, for each of
the attributes below, `attr.humanize` ("Fixed version") and the `field_<attr>`
translation of the sender's language and of the default language; and the name of each
custom field of the issue. The translations are read from the installed Redmine's
locale files (Debian's `redmine` package, which the integration tests use too)."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
import yaml

from redmine_sla_bridge.config.model import DEFAULT_FIELD_NAMES
from redmine_sla_bridge.domain.intake import CANONICAL_LABELS, parse_labelled_lines
from redmine_sla_bridge.domain.intake.description import DEFAULT_LABELS, LABELLED_PATHS

LOCALES = Path("/usr/share/redmine/config/locales")
# mail_handler.rb: issue_attributes_from_keywords and target_project.
KEYWORD_ATTRIBUTES = ("project", "tracker", "status", "priority", "category", "assigned_to",
                      "fixed_version", "start_date", "due_date", "estimated_hours",
                      "done_ratio", "is_private", "parent_issue")


def _fold(text: str) -> str:
    return " ".join(text.casefold().split())


def _humanize(name: str) -> str:  # Rails' String#humanize, as far as it matters here
    text = name.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def redmine_keywords() -> dict[str, set[str]]:
    if not LOCALES.is_dir():
        pytest.skip(f"{LOCALES} is missing: install Debian's redmine package")
    return _keywords()


@functools.cache
def _keywords() -> dict[str, set[str]]:
    """keyword (case-folded) -> where it comes from ("ru:field_fixed_version", …)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    found: dict[str, set[str]] = {}
    for attr in KEYWORD_ATTRIBUTES:
        found.setdefault(_fold(_humanize(attr)), set()).add(f"humanize:{attr}")
    files = sorted(LOCALES.glob("*.yml"))
    assert len(files) > 40, "Redmine 5 ships 49 locales"
    for path in files:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
        (locale, texts), = document.items()
        for attr in KEYWORD_ATTRIBUTES:
            value = texts.get(f"field_{attr}")
            if isinstance(value, str) and value.strip():
                found.setdefault(_fold(value), set()).add(f"{locale}:field_{attr}")
    for language, names in DEFAULT_FIELD_NAMES.items():
        for key, name in names.items():
            found.setdefault(_fold(_humanize(name)), set()).add(f"custom field {key} ({language})")
    return found


def test_the_locale_files_hold_the_keywords_that_ate_the_issues_version_line():
    keywords = redmine_keywords()
    assert "ru:field_fixed_version" in keywords[_fold("Версия")]
    assert "ru:field_priority" in keywords[_fold("Приоритет")]
    assert "custom field product_version (ru)" in keywords[_fold("Версия продукта")]


@pytest.mark.parametrize("language", sorted(CANONICAL_LABELS))
def test_no_canonical_label_is_a_mail_handler_keyword(language):
    keywords = redmine_keywords()
    clashes = {label: sorted(keywords[_fold(label)])
               for label in CANONICAL_LABELS[language].values() if _fold(label) in keywords}
    assert clashes == {}


def test_every_field_has_a_canonical_label_the_parser_reads_and_old_labels_still_read():
    for language, labels in CANONICAL_LABELS.items():
        assert set(labels) == set(LABELLED_PATHS) - {"subject"}, language
        for path, label in labels.items():
            assert label in DEFAULT_LABELS[path]
            assert parse_labelled_lines(f"{label}: x1").values == {path: "x1"}
    assert parse_labelled_lines("Версия: 7.3\nИНН: 7709034563\nПриоритет: P2").values == {
        "version": "7.3", "organization.inn": "7709034563", "impact": "P2"}
