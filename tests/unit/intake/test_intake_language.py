"""Rude words (AR-7, ID-7) are found for a human, from a configurable list."""

from __future__ import annotations

import pytest

from redmine_sla_bridge.domain.intake import RudeLexicon, find_rude_words


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Вы идиоты, нахуй такую поддержку", ("идиоты", "нахуй")),
        ("ЗАЕБАЛИ уже", ("ЗАЕБАЛИ",)),
        ("Ёбаный сервис", ("Ёбаный",)),
        ("сука, опять", ("сука",)),
        ("what the fucking shit", ("fucking", "shit")),
        ("xyй", ("xyй",)),  # Latin look-alikes
        ("идиот идиот", ("идиот",)),  # each word once
    ],
)
def test_finds_rude_words(text: str, words: tuple[str, ...]) -> None:
    assert find_rude_words(text) == words


@pytest.mark.parametrize(
    "text",
    [
        "хлеб, застраховать, себестоимость, учебник, небо, требование",
        "Бляхер Козлов Сукачёв",
        "система тупит, хуже некуда, рубеж",
        "Спасибо, всё работает!",
        "",
        None,
    ],
)
def test_innocent_text(text: str | None) -> None:
    assert find_rude_words(text) == ()


def test_config_extends_or_replaces_the_list() -> None:
    extended = RudeLexicon.build(stems=["хам"], patterns=[r"\bнеучи?\b"])
    assert find_rude_words("Хамы и неучи, идиоты", extended) == ("Хамы", "неучи", "идиоты")
    only_mine = RudeLexicon.build(use_defaults=False, stems=["хам"])
    assert find_rude_words("Хамы и идиоты", only_mine) == ("Хамы",)
    assert find_rude_words("идиоты", RudeLexicon.build(use_defaults=False)) == ()


def test_bad_regex_is_refused() -> None:
    with pytest.raises(ValueError, match="regular expression"):
        RudeLexicon.build(patterns=["("])
