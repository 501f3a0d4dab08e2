"""Property tests: nothing in the intake gate raises on arbitrary text."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from redmine_sla_bridge.domain.intake import (
    DEFAULT_LABELS,
    AnyOf,
    Contact,
    IntakeRequest,
    IntakeRequestError,
    IntakeRules,
    Organization,
    ProductRule,
    VersionPolicy,
    check,
    check_email,
    check_inn,
    check_phone,
    find_rude_words,
    normalize_version,
    parse_labelled_lines,
    rejection_note,
)
from tests.hang_guard import finishes

# Text biased towards what the parsers look for: digits, dots, labels, separators.
pieces = st.sampled_from(
    ["7", "2", ".", " ", "-", ":", "build", "сборка", "(", ")", "v", "rc", "beta", "hotfix",
     "+", "\r\n", "\n", "ИНН", "Версия", "•", "—", "**", ">", "@", "x"]
)
texty = st.one_of(st.text(), st.lists(pieces, max_size=30).map("".join))
optional = st.none() | texty


@given(texty)
@settings(max_examples=300)
def test_version_normaliser_never_raises(text: str) -> None:
    result = normalize_version(text)
    assert result is None or str(result.version) == result.text


@given(texty)
@settings(max_examples=300)
def test_labelled_parser_never_raises(text: str) -> None:
    data = parse_labelled_lines(text, DEFAULT_LABELS)
    assert set(data.values) <= set(DEFAULT_LABELS)


@given(texty)
def test_contact_checks_and_rudeness_never_raise(text: str) -> None:
    for checker in (check_inn, check_email, check_phone):
        result = checker(text)
        assert result.ok == (result.value is not None)
    find_rude_words(text)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.sampled_from(["contact", "name", "inn", "organization", "version",
                                       "created_at", "x"]), children, max_size=4),
    max_leaves=10,
)


@given(st.dictionaries(st.sampled_from(["created_at", "subject", "contact", "organization",
                                        "version", "product", "zzz"]), json_values) | json_values)
def test_from_dict_fails_only_with_its_own_error(doc) -> None:
    try:
        IntakeRequest.from_dict(doc)
    except IntakeRequestError as exc:
        assert exc.errors


RULES = IntakeRules(
    required=("description", "version", "organization.inn", "type", "impact"),
    first_request_only=("organization.name",),
    any_of=(AnyOf(("contact.email", "contact.phone")),),
    products=(ProductRule("ИКС Стандарт", ("ИКС",), VersionPolicy(supported=">=6", current="7")),),
)


@given(
    description=optional, subject=optional, email=optional, phone=optional, inn=optional,
    product=st.none() | st.sampled_from(["ИКС", "икс стандарт", "other"]) | texty,
    version=optional, type_=optional, impact=optional, known=st.booleans(),
    demo=st.booleans(),
)
@settings(max_examples=200)
def test_gate_never_raises(description, subject, email, phone, inn, product, version, type_,
                           impact, known, demo) -> None:
    request = IntakeRequest(
        subject=subject, description=description, contact=Contact(email=email, phone=phone),
        organization=Organization(inn=inn), product=product, version=version, type=type_,
        impact=impact,
    )
    decision = check(request, RULES, request_date=dt.date(2025, 1, 1), known_contact=known,
                     is_demo=demo, demo_history=[(dt.date(2024, 6, 1), dt.date(2024, 6, 30))])
    assert decision.accepted == (not decision.reasons)
    assert all(r.message for r in decision.reasons)
    rejection_note(decision, RULES)


@pytest.mark.parametrize(
    "text",
    [
        "*" * 999,  # a ruler line in an email: cubic backtracking took minutes once
        " " * 998 + "x",
        "\t" * 999,
        "ИНН" + " " * 990 + "x",
        ("- *" * 300 + "\n") * 50,
        "*" * 200_000,  # longer than any labelled line: skipped
    ],
)
def test_parser_never_hangs_on_pathological_lines(text: str) -> None:
    # A ruler or a run of blanks is no label: nothing is read, the text stays free text.
    parsed = finishes(parse_labelled_lines, text)
    assert parsed.values == {}
    assert parsed.free_text == text.strip()


@pytest.mark.parametrize("text, words", [("f" * 50_000, 0), ("пизд" * 20_000, 1),
                                         ("fuck " * 20_000, 1), ("а" * 100_000, 0)])
def test_rudeness_never_hangs_on_long_words(text: str, words: int) -> None:
    # A run of one word is found once (or not at all for innocent letters).
    assert len(finishes(find_rude_words, text)) == words
