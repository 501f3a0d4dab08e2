"""Customer text made inert for Redmine's text formattings (`domain.markup`).

What the escaped text renders to in the real Redmine is checked in
tests/integration/test_inert_customer_text.py; here: that no character a construct of
Textile, Markdown, CommonMark or Redmine's own links needs is left in the note's source,
and that decoding the note gives back exactly the customer's text.
"""

from __future__ import annotations

import html
import re
import string

import pytest

from redmine_sla_bridge.domain.markup import (
    ELLIPSIS,
    QUOTE_LIMIT,
    TEXT_FORMATTINGS,
    Rendered,
    as_data,
    inert,
    quote,
    rendered,
)

FLOOD = " ".join(f'"l{i}":http://evil/{i} [m{i}](http://evil/{i})' for i in range(250))
FLOOD = (FLOOD * 2)[:20_000]

HOSTILE = [
    '"x":http://evil/a',
    "[x](http://evil/b)",
    "![](http://evil/i.png)",
    "!http://evil/i.png!",
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "{{include(Wiki)}}",
    "!{{include(Wiki)}}",
    "{{macro(0)}} {{toc}}",
    "[[Page]] [[proj:Page|text]]",
    '</notextile>"y":http://evil/n<notextile>',
    "<pre>x</pre> <code>y</code>",
    "`code` and `` ` `` and ```",
    "http://evil/bare www.evil.com ftp://evil",
    "a@evil.com mailto:a@evil.com",
    "#1 ##1 r1 commit:abc source:x attachment:x.png user:admin @admin [@admin] x,#1",
    "*bold* _em_ -del- +ins+ ^sup^ ~sub~ %{color:red}x% @code@ ==raw== ??cite??",
    "h1. head",
    "&lt;b&gt; &amp; &#35;1 & x",
    "**b** __u__ <http://evil/c> ~~s~~ | a | b |",
    "[a]: http://evil/ref [x][a] [^1]",
    "line one\nline two\r\n* item\n\n# heading\n    indented",
    "a\\*b \\ c",
]

# What a construct needs that the escaped text may still contain: "," and "/" (no
# construct is made of them alone) and "@" right after a letter or digit.
LEFT = frozenset(",/@")


def decoded(note: str) -> str:
    return html.unescape(note.replace("<wbr>", ""))


@pytest.mark.parametrize("formatting", TEXT_FORMATTINGS)
@pytest.mark.parametrize("value", HOSTILE)
def test_a_hostile_value_keeps_no_markup_and_reads_back_as_written(formatting, value):
    note = quote(value, formatting)
    bare = re.sub(r"&#\d+;", "", note.replace("<wbr>", ""))
    assert not set(bare) & (set(string.punctuation) - LEFT), note
    assert not re.search(r"(^|[^A-Za-z0-9])@", bare), note  # a mention or a user link
    assert not re.search(r"r\d", bare), note  # r123 links a changeset
    assert decoded(note) == as_data(value)


@pytest.mark.parametrize("formatting", TEXT_FORMATTINGS)
def test_the_note_source_has_no_link_macro_or_html_syntax(formatting):
    for value in HOSTILE:
        note = quote(value, formatting)
        for syntax in ("{{", "[[", "](", "://", '":', "<script", "<img", "<notextile", "!h"):
            assert syntax not in note, (value, note)
        assert "<" not in note.replace("<wbr>", ""), (value, note)


def test_textile_gets_plain_references_and_markdown_a_break_after_link_starts():
    assert inert("#1 a@b.ru [[P]]", "textile") == "&#35;1 a@b&#46;ru &#91;&#91;P&#93;&#93;"
    assert inert("#1 a@b.ru [[P]]", "markdown") == (
        "&#35;<wbr>1 a@<wbr>b&#46;ru &#91;<wbr>&#91;<wbr>P&#93;&#93;")
    assert inert("#1 a@b.ru [[P]]", "common_mark") == inert("#1 a@b.ru [[P]]", "markdown")
    assert inert("r12 R12", "textile") == "&#114;12 R12"
    assert inert("r12", "common_mark") == "&#114;<wbr>12"


def test_letters_digits_and_other_scripts_stay_as_they_are():
    text = "ООО «Ромашка» 7707083893 Version 7 build 456, a/b"
    for formatting in TEXT_FORMATTINGS:
        assert inert(text, formatting) == text


def test_an_address_keeps_its_at_sign_unless_it_could_be_a_mention_or_a_user_link():
    assert inert("ivan@", "textile") == "ivan@"
    assert inert("ivan@example.ru", "textile") == "ivan@example&#46;ru"
    for value in ("@admin", "x @admin", "ж@admin", "ivan_@admin", "ivan.@admin", "user@admin",
                  "USER@admin", "x,commit@abc"):
        assert "&#64;" in inert(value, "textile"), value


def test_notextile_cannot_be_closed_from_inside():
    note = quote("</notextile><a href='http://evil'>", "textile")
    assert note.startswith("&#60;/notextile&#62;&#60;a href&#61;&#39;http&#58;//evil")


def test_backticks_are_references_so_no_code_span_opens_or_closes():
    assert quote("``x``", "markdown") == "&#96;&#96;x&#96;&#96;"


def test_a_value_is_one_line_without_controls_or_bidi_overrides():
    assert as_data("a\nb\r\n\tc\x00d\u2028e") == "a b c d e"
    assert as_data("  padded   out  ") == "padded out"
    assert as_data("\u202eevil\u202c \u2066x\u2069") == "evil x"


def test_a_long_value_is_cut_with_an_ellipsis():
    assert as_data("x" * QUOTE_LIMIT) == "x" * QUOTE_LIMIT
    cut = as_data("x" * (QUOTE_LIMIT + 1))
    assert len(cut) == QUOTE_LIMIT and cut.endswith(ELLIPSIS)
    assert as_data("word " * 100, limit=12) == "word word w" + ELLIPSIS


@pytest.mark.parametrize("formatting", [*TEXT_FORMATTINGS, "plain"])
def test_twenty_kilobytes_of_links_become_one_short_value(formatting):
    note = quote(FLOOD, formatting)
    assert decoded(note) == as_data(FLOOD)
    assert len(as_data(FLOOD)) == QUOTE_LIMIT
    assert note.count("evil") <= QUOTE_LIMIT // len("http://evil/0")
    if formatting != "plain":
        assert "://" not in note


def test_the_plain_target_is_the_value_as_data_unescaped():
    assert quote('[x](http://evil) "a" <b>', "plain") == '[x](http://evil) "a" <b>'
    assert quote("a\nb", "plain") == "a b"


def test_rendered_builds_the_note_and_the_mail_from_one_builder():
    message = rendered(lambda target: f"INN «{quote('<1>', target)}»", "textile")
    assert message == Rendered(note="INN «&#60;1&#62;»", mail="INN «<1>»")


def test_an_unknown_formatting_is_refused():
    with pytest.raises(ValueError, match="text formatting"):
        inert("x", "html")  # type: ignore[arg-type]
