"""Closed lists of the request document: request type (AS-5) and impact (BA-5)."""

from __future__ import annotations

import re

REQUEST_TYPES: tuple[str, ...] = ("error", "information", "proposal")
IMPACTS: tuple[str, ...] = ("P1", "P2", "P3", "P4")

_TYPE_WORDS: dict[str, str] = {
    **dict.fromkeys(("error", "bug", "ошибка", "баг", "сбой", "неисправность"), "error"),
    **dict.fromkeys(
        ("information", "info", "information request", "question", "информация",
         "запрос информации", "информационный запрос", "вопрос", "консультация"),
        "information",
    ),
    **dict.fromkeys(
        ("proposal", "suggestion", "enhancement", "feature request", "предложение",
         "пожелание", "доработка"),
        "proposal",
    ),
}
_IMPACT = re.compile(r"^\s*(?:p|п|priority|приоритет)?\s*[-_ ]?\s*(?P<n>[1-4])(?![0-9])", re.I)


def normalize_type(raw: str) -> str | None:
    """"Ошибка", "Bug", "error" -> "error" (also information, proposal); None if unknown."""
    return _TYPE_WORDS.get(" ".join(raw.casefold().replace("ё", "е").split()).strip(" ."))


def normalize_impact(raw: str) -> str | None:
    """"P1", "p1", "П1" (Cyrillic), "1", "P1 - не работает" -> "P1"; None if unknown."""
    match = _IMPACT.match(raw)
    return f"P{match['n']}" if match else None
