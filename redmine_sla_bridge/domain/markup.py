"""Customer text inside the bridge's own notes: shown as written, never interpreted.

A refusal note quotes what the customer sent (an INN, an email, a product name). Redmine
renders a note through its text formatting and then through its own link and macro
parsers, so a quoted value could otherwise carry live links, images, HTML, `{{macros}}`,
`[[wiki links]]`, `#123` issue links or `@login` mentions into a note signed by the
support team. `quote` makes one value safe for one target:

- every target: the value becomes one line (line breaks and other control characters
  turn into spaces, bidi overrides are dropped: they could reorder the words around the
  value) and is cut with an ellipsis after `QUOTE_LIMIT` characters, so one value cannot
  flood a note or an email;
- ``plain`` (the email body, `text/plain`): nothing more;
- ``textile``, ``markdown``, ``common_mark``: ASCII punctuation becomes a numeric
  character reference (``&#35;`` for ``#``), and so does an ``r`` before a digit
  (``r123`` links a changeset).

Why character references, checked against Redmine 5.0.4's renderers:

- every markup construct of the three formattings, and every Redmine link, macro and
  mention, needs a literal ASCII punctuation character (or ``r`` + digit); all three
  parsers keep a reference as text, never as markup;
- RedCloth (textile) and redcarpet (markdown) copy references to the HTML unchanged, so
  Redmine's link and macro parsers, which run on that HTML, and its mention scanner,
  which runs on the source, see no ``#``, ``@``, ``[[`` or ``{{`` either;
- CommonMark decodes references, so Redmine's parsers would see the characters again:
  after each character that starts a Redmine link (``# @ : [ {`` and ``r`` + digit)
  goes a ``<wbr>``, an empty element Redmine's sanitizer keeps, which splits the text so
  that neither Redmine's links nor CommonMark's own e-mail autolinks match. Redcarpet
  drops raw HTML, so markdown gets the same text and the two Markdown settings are
  interchangeable here;
- ``<notextile>`` was not used: Redmine's macros, wiki links and issue links still run
  inside it, and it HTML-escapes its content once more (``&lt;`` shows as ``&lt;``).

Some characters stay as they are, where no construct can use them (the remaining ones
are all encoded, so these cannot be completed into one): ``,`` and ``/``, and ``@``
right after a letter or digit (an address keeps its look; a mention, an e-mail autolink
or a Redmine user link needs another character before the ``@`` or a ``.`` after it).
"""

from __future__ import annotations

import string
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, get_args

TextFormatting = Literal["textile", "markdown", "common_mark"]
"""Redmine's Setting.text_formatting values that the bridge writes for."""

TEXT_FORMATTINGS: tuple[TextFormatting, ...] = get_args(TextFormatting)

Target = Literal["textile", "markdown", "common_mark", "plain"]
"""Where a message goes: a note in one of the formattings, or a plain-text email."""

QUOTE_LIMIT = 200
"""Characters of one quoted value, the ellipsis included."""

ELLIPSIS = "…"

_PUNCTUATION = frozenset(string.punctuation)
_QUIET = frozenset(",/")
_DIGITS = frozenset(string.digits)
_ALNUM = frozenset(string.ascii_letters) | _DIGITS
# Redmine's link prefixes: "user@login" after a space links the user.
_LINK_PREFIXES = frozenset({"attachment", "document", "version", "forum", "news", "message",
                            "project", "commit", "source", "export", "user"})
_LINK_STARTS = frozenset("#@:[{")
_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                           "\u2066\u2067\u2068\u2069")
_BREAKS = frozenset({"Cc", "Zl", "Zp"})


@dataclass(frozen=True, slots=True)
class Rendered:
    """One message in both forms: `note` in Redmine's formatting, `mail` as plain text,
    worded alike."""

    note: str
    mail: str


def rendered(build: Callable[[Target], str], formatting: TextFormatting) -> Rendered:
    """Build a message for the note and for the email from one builder."""
    return Rendered(note=build(formatting), mail=build("plain"))


def quote(value: str, target: Target, limit: int = QUOTE_LIMIT) -> str:
    """`value` as data for `target`: one line, at most `limit` characters, and for a
    note inert in that formatting."""
    text = as_data(value, limit)
    return text if target == "plain" else inert(text, target)


def as_data(value: str, limit: int = QUOTE_LIMIT) -> str:
    """One line without control characters, cut to `limit` characters with an ellipsis."""
    kept = []
    for char in value:
        if char in _BIDI_CONTROLS:
            continue
        kept.append(" " if unicodedata.category(char) in _BREAKS else char)
    text = " ".join("".join(kept).split())
    if len(text) > limit:
        text = text[:max(limit - len(ELLIPSIS), 0)].rstrip() + ELLIPSIS
    return text


def inert(text: str, formatting: TextFormatting) -> str:
    """`text` escaped so that Redmine shows it literally in `formatting` (see the module
    docstring for what each choice defends against)."""
    if formatting not in TEXT_FORMATTINGS:
        raise ValueError(f"unknown text formatting {formatting!r}; use one of {TEXT_FORMATTINGS}")
    split_links = formatting != "textile"
    out: list[str] = []
    for i, char in enumerate(text):
        before_digit = text[i + 1:i + 2] in _DIGITS
        if char == "r" and before_digit:
            out.append("&#114;")
        elif char in _PUNCTUATION and char not in _QUIET and not _plain_at(text, i):
            out.append(f"&#{ord(char)};")
        else:
            out.append(char)
        if split_links and (char in _LINK_STARTS or (char == "r" and before_digit)):
            out.append("<wbr>")
    return "".join(out)



def _plain_at(text: str, i: int) -> bool:
    """An "@" right after a letter or digit (not after a Redmine link prefix)."""
    if text[i] != "@" or i == 0 or text[i - 1] not in _ALNUM:
        return False
    start = i
    while start > 0 and text[start - 1] in _ALNUM:
        start -= 1
    return text[start:i].lower() not in _LINK_PREFIXES
