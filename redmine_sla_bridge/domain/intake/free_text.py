"""Intake data in a customer's own words: what a support engineer finds in an email.

Most customers write a letter, not labelled lines («ИНН: …»): «версия 7.2», «ИНН
организации 7709034563», a name, a position and two phones in the signature. This module
reads such a text as an engineer would. It is pure (no I/O): the mailbox reader decodes
the message (`html_to_text` for an HTML-only body) and calls `read_free_text`.

How the gate should use it (not wired here; issue 17):

1. labelled lines first, as today (`description.parse_labelled_lines`,
   `description.fill_empty_fields`);
2. then `found = read_free_text(description, products=rules.products,
   sender_name=..., sender_email=...)` and `fill_empty_fields(req, found.as_labelled())`:
   the free text fills ONLY the fields the request (its fields and its labelled lines)
   leaves empty, exactly like the labelled lines; the gate then checks the values as
   usual (a found value is never trusted more than a typed one);
3. the findings of the fields actually filled (`found.first(path)`: value, as written,
   where: "text", "signature" or "sender", and the line) and `found.skipped` (what looked
   like data but was not taken, and why) go to the engineer's private note, so a wrong
   guess is seen and fixed by a person. The customer-facing refusal stays the gate's.

What is read (`read_free_text`), on the new part of the message only (`strip_quoted`:
the quoted history holds our own earlier replies, our phones and our signature):

- INN (`organization.inn`): 10 or 12 digits passing the checksum (`contacts.check_inn`)
  right after «ИНН», «INN», «TIN», «ИНН/КПП», «ИНН организации» (up to 40 characters of
  words between, not crossing a sentence end or another label such as КПП, ОГРН, р/с,
  тел.). KPP (9 digits), OGRN (13) and OGRNIP (15) never have an INN's length, and their
  labels stop the look-ahead. A number after «ИНН» that fails the checksum is skipped
  (rule `checksum`), not filled. A lone 10/12-digit number with no label (basis "lone") is
  taken only when no labelled candidate exists at all, it is the only such number, it is
  not inside a phone-like run or a longer number (accounts: 20 digits), no label of
  another number (КПП, р/с, №, договор, тел. …) stands before it on its line, and, for 10
  digits, it is not also a valid Russian phone number without its "8" (codes 3xx, 4xx,
  8xx, 9xx: rule `maybe_phone`). Two different lone numbers: none (rule `ambiguous`).
- product (`product`): a configured product's name, alias or line name (case, «ё»,
  quotes and dashes as `products.product_key` ignores them), the longest name first, as
  written ("Ideco ICS 6" keeps the line); the gate matches it to the product.
- version (`version`): after «версия/версии/версию», "version", "ver.", "v" (up to three
  words between: «версия продукта», «версии Ideco ICS»), right after a product's name
  («ИКС 7.2»: dotted only), or before a build («7.2 build 456», «7.2 (сборка 456)»). A
  build (« build 456», «, сборка 456», also on the next line) is joined: "7.2 build 456",
  which `versions.normalize_version` reads as 7.2+456. A bare dotted number is never a
  version (dates «12.03.2026», IPs «10.0.7.2», phone fragments), and a keyword followed by
  a date is not either. A build alone («сборка 456») names no release: skipped
  (`build_only`).
- phones (`contact.phone`): candidates by a tolerant expression (digits with spaces,
  brackets, dots, dashes; "+7", "8", extensions «доб. 12», "(доб.1263)", "ext 5"),
  checked and normalised by `contacts.check_phone`. A candidate is phone-like when it has
  a "+", separators, or 11 digits starting with 7/8, or a phone label («тел.», «моб.»,
  "phone") before it; a bare 10-digit run needs the label. A run after an INN/КПП/ОГРН/
  account label, or holding a date, is not a phone. Phone-like runs refused by the check
  are skipped (`format`).
- person (`contact.name`) and position (`contact.position`): from the signature: the
  closing line («С уважением, Иван Петров»), the line after «С уважением» / "--" /
  "Best regards", or a last paragraph that starts with a name and holds contact lines;
  a name is one to four capitalised words or initials whose Russian words are names,
  surnames or patronymics to pymorphy3 (or unknown to it). The position is the next line
  (or the part after a comma) when it reads like a job title («системный администратор»,
  «руководитель отдела …», «главный специалист», "IT manager"). Without a name in the
  signature: `sender_name`, when it looks like a person's name (basis "sender"); a
  one-word signature name yields to a longer sender name holding it.
- organization (`organization.name`): a legal form common in Russia (ООО, АО, ПАО, ЗАО,
  ОАО, НАО, АНО, ИП, ФГБУ, ФГУП, ФГБОУ ВО, ГБУ, ГКУ, ГУП, МУП, МБУ, МКУ, МАОУ, … or
  written out: «Общество с ограниченной ответственностью», «Акционерное общество»,
  «Индивидуальный предприниматель», «Федеральное государственное бюджетное учреждение …»)
  with its name in quotes (« » " „ “ ”, one level of nesting) or, for the abbreviations,
  one to four capitalised words; «ИП Иванов И.И.». The signature's wins over the text's.
- email (`contact.email`): `sender_email` when valid (basis "sender"), else an address
  in the signature, else in the text (`contacts.check_email`).

No library for the reply stripping or the HTML: `mail-parser-reply` 1.36 has no Russian
(it left «От:/Отправлено:/Кому:/Тема:» blocks and «написал(а):» histories in place),
`quotequail` 0.5.4 knows one Russian form («… написал(а):»), no Outlook Russian header,
and needs lxml, and `talon` has not been released since 2017. The standard library's
html.parser is enough for a mail body (BeautifulSoup would add a dependency and a parser
choice for the same line breaks).

Several findings of a field are all kept (`FoundData.every`); the first is the value:
the signature's before the text's for the contact and the organization, the text's in
order for the INN, the product and the version (a version after a keyword before one
after a product's name before one before a build).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Literal

from redmine_sla_bridge.domain.intake.contacts import check_email, check_inn, check_phone
from redmine_sla_bridge.domain.intake.description import LABELLED_PATHS, LabelledData
from redmine_sla_bridge.domain.intake.language import readings
from redmine_sla_bridge.domain.intake.products import ProductRule, match_product

Source = Literal["text", "signature", "sender"]

_MAX_TEXT = 200_000  # a longer body (logs pasted in) is read up to here
_MAX_SIGNATURE_LINES = 15
_MAX_FINDINGS = 20  # per field: more is a pasted list, not a letter
_MAX_SKIPPED = 50


@dataclass(frozen=True, slots=True)
class Finding:
    """One piece of data found: the field `path`, the `value` for the field (the normal
    form for INN, phone, email), the text `raw` as written, `source` (where: "text",
    "signature", "sender"), the 1-based `line` of the message's new part (None for the
    sender), and `basis` (how: "label", "lone", "keyword", "product", "build", "name",
    "closing", "signature", "legal_form", "found", "sender")."""

    path: str
    value: str
    raw: str
    source: Source
    line: int | None
    basis: str


@dataclass(frozen=True, slots=True)
class Skipped:
    """Something that looked like data of `path` but was not taken, and why (`rule`:
    "checksum", "zeros", "ambiguous", "maybe_phone", "build_only", "format")."""

    path: str
    raw: str
    rule: str
    source: Source
    line: int | None


@dataclass(frozen=True, slots=True)
class FoundData:
    """What `read_free_text` found: every finding, in `LABELLED_PATHS` order and, within
    a field, best first; and what it skipped."""

    findings: tuple[Finding, ...] = ()
    skipped: tuple[Skipped, ...] = ()

    @property
    def values(self) -> dict[str, str]:
        """Field path -> the value of its first finding."""
        out: dict[str, str] = {}
        for finding in self.findings:
            out.setdefault(finding.path, finding.value)
        return out

    def first(self, path: str) -> Finding | None:
        return next((f for f in self.findings if f.path == path), None)

    def every(self, path: str) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.path == path)

    def as_labelled(self) -> LabelledData:
        """The values in the shape `description.fill_empty_fields` takes."""
        return LabelledData(self.values, "")


# --- text clean-up ---------------------------------------------------------------------

_SPACES = re.compile(r"[\u00a0\u2007\u202f\u2009\u200a\t\f\v]")
_HTML_SPACES = re.compile(r"[\u00a0\u2007\u202f\u2009\u200a\f\v]")  # tabs kept: cells
_INVISIBLE = re.compile(r"[\u200b\u200c\u200d\u2060\ufeff\u00ad]")


def _clean(text: str) -> str:
    text = text[:_MAX_TEXT].replace("\r\n", "\n").replace("\r", "\n")
    return _SPACES.sub(" ", _INVISIBLE.sub("", text))


# --- quoted history and signature ---------------------------------------------------------

_QUOTE_LINE = re.compile(r"^\s*>")
_DASHES = r"[-_=*–—]{2,}"
_ORIGINAL = re.compile(
    rf"^\s*{_DASHES}\s*(?:Original\s+Message|Исходное\s+сообщение|Оригинальное\s+сообщение|"
    rf"Reply\s+Message|Ответное\s+сообщение)\s*{_DASHES}\s*$", re.I)
_FORWARD = re.compile(
    rf"^\s*(?:{_DASHES}\s*)?(?:Forwarded\s+message|Пересылаемое\s+сообщение|"
    r"Перенаправленное\s+сообщение|Переадресованное\s+сообщение|"
    r"Начало\s+переадресованного\s+сообщения|Begin\s+forwarded\s+message)"
    rf"\s*(?:{_DASHES}|:)?\s*$", re.I)
_HEADER = re.compile(
    r"^\s*[*_]*\s*(?P<key>От|From|Отправитель|Отправлено|Дата|Sent|Date|Кому|To|Копия|Cc|"
    r"Тема|Subject)\s*[*_]*\s*:", re.I)
_FROM_KEYS = {"от", "from", "отправитель"}
_FW_SUBJECT = re.compile(
    r"^\s*[*_]*\s*(?:Тема|Subject)\s*[*_]*\s*:\s*[*_]*\s*(?:FW|FWD|ПЕР|Пересл\w*|TR|WG)\s*:", re.I)
_ATTRIBUTION_VERB = re.compile(
    r"(?:написал|написала|написали|написал\s*\(а\)|пишет|писал|писала|wrote|schrieb)\s*:\s*$",
    re.I)
_ATTRIBUTION_ADDRESS = re.compile(r"<[^<>\s@]+@[^<>\s]+>\s*:\s*$")
_SEPARATOR_LINE = re.compile(r"^\s*[-_=*–—]{5,}\s*$")

_CLOSING_WORDS = (
    r"С\s+уважением(?:\s+и\s+наилучшими\s+пожеланиями)?|С\s+наилучшими\s+пожеланиями|"
    r"Всего\s+(?:доброго|хорошего)|Хорошего\s+дня|С\s+благодарностью|"
    r"Best\s+regards|Kind\s+regards|Warm\s+regards|Regards|Best\s+wishes|Sincerely(?:\s+yours)?|"
    r"Yours\s+sincerely|Thanks\s+and\s+regards|Cheers"
)
_CLOSING = re.compile(
    rf"^\s*(?:{_CLOSING_WORDS})(?:\s*[,.!]*\s*$|\s*[,.!]\s*(?P<rest>\S.*?)\s*$|"
    rf"\s+(?P<caprest>(?-i:[A-ZА-ЯЁ]).*?)\s*$)", re.I)
_DASH_MARKER = re.compile(r"^\s*--\s*$")
_MOBILE = re.compile(
    r"^\s*(?:Отправлено|Sent|Получено|Послано)\s+(?:с|из|from|via|со)\s+\S.{0,60}$"
    r"|^\s*(?:Get|Получить|Скачать)\s+Outlook\s+(?:for|для)\s+\S.{0,30}$", re.I)


def strip_quoted(text: str, *, strip_signature: bool = False) -> str:
    """The new part of a reply: without the quoted history and, with `strip_signature`,
    without the signature.

    Quoted history: "> " lines (wherever they are: a reply written between quoted lines
    keeps its own lines); and everything from the first of: "-----Original Message-----",
    «----- Исходное сообщение -----»; an Outlook header block («От: … / Отправлено: … /
    Кому: … / Тема: …», "From:/Sent:/To:/Subject:", a "Дата:" in place of «Отправлено:»,
    bold "*От:*" of a converted HTML body; the "____" line before it goes too); an
    attribution line not followed by "> " lines: Apple Mail «20 мая 2026 г., в 10:15,
    Иван <ivan@x.ru> написал(а):», Thunderbird «20.05.2026 10:15, Иван Петров пишет:»,
    "On … wrote:" (also wrapped on two lines), Gmail/Yandex/Mail.ru «ср, 20 мая 2026 г.
    в 10:15, Иван <ivan@x.ru>:», «Среда, 20 мая 2026, 10:15 +03:00 от Иван <…>:». An
    attribution followed by "> " lines is dropped alone (the reply may go on below).
    An attribution is a line ending in «написал(а):»/«пишет:»/"wrote:" that holds a digit
    or an address, or is followed by "> " lines; or one ending in "<address>:" that holds
    a digit.

    A forwarded message is NOT quoted history: the customer forwards it as the request
    («-------- Пересылаемое сообщение --------», "---------- Forwarded message ---------",
    «Начало переадресованного сообщения:», and an Original Message or Outlook header block
    whose subject starts with FW/Fwd/ПЕР/Пересл): it is kept with its header lines (the
    header block or attribution line right after a forward marker is the forwarded
    message's own).

    Signature (`strip_signature`): everything from the first line that is "--" / "-- ",
    a closing («С уважением», «С наилучшими пожеланиями», "Best regards", "Regards", …,
    alone or followed by ", Name" — «С уважением к вам, …» is prose), or a mobile footer
    («Отправлено с iPhone», "Sent from my iPhone", «Отправлено из мобильной Почты
    Mail.ru», "Get Outlook for Android").

    Line ends become "\\n", trailing spaces of lines and blank lines at both ends go.
    """
    lines = _clean(text).split("\n")
    kept: list[str] = []
    forward_header = 0  # lines still to come of a forwarded message's header
    for i, line in enumerate(lines):
        if _QUOTE_LINE.match(line):
            continue
        kind, wrapped = _history_start(lines, i)
        if kind == "forward" and _FORWARD.match(line):
            forward_header = 3
        elif forward_header and line.strip():
            forward_header -= 1
            if kind is not None:
                kind = "forward"  # the header block or attribution of the forwarded message
        if kind == "forward" or kind is None:
            kept.append(line)
            if kind == "forward" and not _FORWARD.match(line):
                forward_header = 0
            continue
        if wrapped and kept and kept[-1] == lines[i - 1]:
            kept.pop()
        if kind == "attribution":
            continue
        while kept and (not kept[-1].strip() or _SEPARATOR_LINE.match(kept[-1])):
            kept.pop()
        break
    if strip_signature:
        start = _signature_start(kept)
        if start is not None:
            kept = kept[:start]
    return "\n".join(line.rstrip() for line in kept).strip("\n")


def _history_start(lines: list[str], i: int) -> tuple[str | None, bool]:
    """("cut" | "attribution" | "forward" | None, whether the line before is the first
    half of a wrapped attribution)."""
    line = lines[i]
    if _FORWARD.match(line):
        return "forward", False
    if _ORIGINAL.match(line) or _is_header_block(lines, i):
        return ("forward" if _forward_ahead(lines, i) else "cut"), False
    quoted_next = _next_is_quote(lines, i)
    if _ATTRIBUTION_VERB.search(line) and len(line) <= 300:
        first_half = i > 0 and _is_first_half(lines[i - 1], line)
        has_detail = bool(re.search(r"\d|@", line)) or line.lstrip().lower().startswith("on ")
        if has_detail or first_half or quoted_next:
            return ("attribution" if quoted_next else "cut"), first_half
    if _ATTRIBUTION_ADDRESS.search(line) and re.search(r"\d", line) and len(line) <= 300:
        return ("attribution" if quoted_next else "cut"), False
    return None, False


def _is_first_half(previous: str, line: str) -> bool:
    previous = previous.strip()
    if not previous or previous[-1] in ".!?:" or _QUOTE_LINE.match(previous):
        return False
    starts = previous.lower().startswith("on ") or bool(re.match(r"\d", previous))
    return starts and not re.match(r"\s*(?:on\s|\d)", line, re.I) and len(previous) <= 200


def _next_is_quote(lines: list[str], i: int) -> bool:
    for line in lines[i + 1:i + 4]:
        if line.strip():
            return bool(_QUOTE_LINE.match(line))
    return False


def _is_header_block(lines: list[str], i: int) -> bool:
    match = _HEADER.match(lines[i])
    if match is None or match["key"].lower() not in _FROM_KEYS:
        return False
    others: set[str] = set()
    for line in lines[i + 1:i + 8]:
        if not line.strip():
            continue
        header = _HEADER.match(line)
        if header is None:
            break
        others.add(header["key"].lower())
    return len(others - _FROM_KEYS) >= 2


def _forward_ahead(lines: list[str], i: int) -> bool:
    return any(_FW_SUBJECT.match(line) for line in lines[i:i + 10])


def _signature_start(lines: Sequence[str]) -> int | None:
    for i, line in enumerate(lines):
        if len(line) > 120:
            continue
        if _DASH_MARKER.match(line) or _MOBILE.match(line) or _CLOSING.match(line):
            return i
    return None


# --- HTML -------------------------------------------------------------------------------

_BLOCK_TAGS = frozenset({
    "p", "div", "li", "tr", "table", "ul", "ol", "dl", "dt", "dd", "h1", "h2", "h3", "h4",
    "h5", "h6", "blockquote", "pre", "hr", "section", "article", "header", "footer",
    "address", "center", "form", "fieldset", "figure", "figcaption", "main", "nav", "aside",
})
_DROPPED_TAGS = frozenset({"style", "script", "head", "title", "template", "noscript", "svg"})
_CELL_TAGS = frozenset({"td", "th"})


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = [""]
        self.dropped = 0
        self.quote = 0
        self.pre = 0
        self.cell_open = False

    def _break(self, *, force: bool = False) -> None:
        if force or self.lines[-1].strip():
            self.lines.append("")
        self.cell_open = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROPPED_TAGS:
            self.dropped += 1
        elif tag == "br":
            self._break(force=True)
        elif tag in _CELL_TAGS:
            if self.cell_open and self.lines[-1].strip():
                self.lines[-1] = self.lines[-1].rstrip() + "\t"
            self.cell_open = True
        elif tag in _BLOCK_TAGS:
            self._break()
            if tag == "blockquote":
                self.quote += 1
            elif tag == "pre":
                self.pre += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self._break(force=True)
        elif tag in _BLOCK_TAGS:
            self._break()

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROPPED_TAGS:
            self.dropped = max(0, self.dropped - 1)
        elif tag in _BLOCK_TAGS:
            self._break()
            if tag == "blockquote":
                self.quote = max(0, self.quote - 1)
            elif tag == "pre":
                self.pre = max(0, self.pre - 1)

    def handle_data(self, data: str) -> None:
        if self.dropped:
            return
        if self.pre:
            parts = data.split("\n")
            for n, part in enumerate(parts):
                if n:
                    self._break(force=True)
                self._add(part)
            return
        text = re.sub(r"\s+", " ", data)
        if not self.lines[-1].strip() or self.lines[-1].endswith((" ", "\t")):
            text = text.lstrip()
        self._add(text)

    def _add(self, text: str) -> None:
        if not text:
            return
        if not self.lines[-1] and self.quote:
            self.lines[-1] = "> " * self.quote
        self.lines[-1] += text


def html_to_text(html: str) -> str:
    """The text of an HTML body, as a person sees it: line breaks at <br>, <p>, <div>,
    <li>, <tr> and other blocks; table cells separated by a tab (so a row «ИНН | 7707…»
    reads as a labelled line); <blockquote> lines quoted with "> " (so `strip_quoted`
    drops a quoted history); <style>, <script>, <head> dropped; entities decoded (&nbsp;
    as a space); runs of spaces collapsed outside <pre>; at most one blank line in a row.
    Never raises on any text (html.parser is lenient)."""
    parser = _TextParser()
    parser.feed(html[:_MAX_TEXT * 5])
    parser.close()
    out: list[str] = []
    for line in parser.lines:
        line = _HTML_SPACES.sub(" ", _INVISIBLE.sub("", line)).rstrip()
        if line.strip(" >") == "" and line.strip():
            line = ""
        if not line and (not out or not out[-1]):
            continue
        out.append(line)
    return "\n".join(out).strip("\n")


# --- reading ------------------------------------------------------------------------------


@dataclass(slots=True)
class _Reader:
    body: str
    signature: tuple[int, int]  # the signature's offsets [start, end) ((0, 0) when none)
    findings: dict[str, list[Finding]]
    skipped: list[Skipped]
    newlines: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.newlines = [m.start() for m in re.finditer("\n", self.body)]

    def where(self, offset: int) -> tuple[Source, int]:
        source: Source = "signature" if self.signature[0] <= offset < self.signature[1] \
            else "text"
        return source, bisect.bisect_left(self.newlines, offset) + 1

    def find(self, path: str, value: str, raw: str, offset: int, basis: str) -> None:
        found = self.findings.setdefault(path, [])
        if len(found) >= _MAX_FINDINGS or any(f.value == value for f in found):
            return
        source, line = self.where(offset)
        found.append(Finding(path, value, " ".join(raw.split()), source, line, basis))

    def skip(self, path: str, raw: str, rule: str, offset: int) -> None:
        if len(self.skipped) < _MAX_SKIPPED:
            source, line = self.where(offset)
            self.skipped.append(Skipped(path, " ".join(raw.split()), rule, source, line))


def read_free_text(
    text: str,
    *,
    products: Sequence[ProductRule],
    sender_name: str | None = None,
    sender_email: str | None = None,
) -> FoundData:
    """What an engineer finds in a customer's letter (see the module's docstring).

    `text` is the decoded plain-text body (the whole message: the quoted history is
    stripped here); `products` the served products; `sender_name`, `sender_email` the
    From header's display name and address. Never raises on any text."""
    body = strip_quoted(text)
    lines = body.split("\n")
    start = _signature_start(lines)
    if start is None:
        start = _trailing_block(lines)
    end = start
    if start is not None:
        # The signature ends at a forwarded message below it, or after 15 lines.
        end = next((i for i in range(start + 1, len(lines)) if _FORWARD.match(lines[i])
                    or _is_header_block(lines, i)), len(lines))
        end = min(end, start + _MAX_SIGNATURE_LINES)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)
    span = (0, 0) if start is None or end is None else (offsets[start], offsets[end])
    reader = _Reader(body, span, {}, [])

    phone_spans = _read_phones(reader)
    _read_inn(reader, phone_spans)
    _read_products_and_versions(reader, products)
    _read_organization(reader)
    _read_person(reader, lines[:end], start, offsets, sender_name)
    _read_email(reader, sender_email)

    ordered = [f for path in LABELLED_PATHS for f in _ranked(path, reader.findings.get(path, []))]
    return FoundData(tuple(ordered), tuple(reader.skipped))


_SIGNATURE_FIRST = frozenset({"contact.name", "contact.position", "contact.phone",
                              "contact.email", "organization.name"})
_SOURCE_RANK = {"sender": 0, "signature": 1, "text": 2}
_EMAIL_RANK = {"sender": 0, "signature": 1, "text": 2}


def _ranked(path: str, found: list[Finding]) -> list[Finding]:
    if path == "contact.email":
        return sorted(found, key=lambda f: _EMAIL_RANK[f.source])
    if path == "contact.name":
        return found  # _read_person orders them
    if path in _SIGNATURE_FIRST:
        return sorted(found, key=lambda f: _SOURCE_RANK[f.source])
    return found


# --- INN --------------------------------------------------------------------------------

_INN_LABEL = re.compile(r"(?<!\w)(?:ИНН|INN|TIN)(?!\w)", re.I)
_INN_AFTER = re.compile(r"(?P<gap>[^\d\n]{0,40}?)(?P<num>\d{12}|\d{10})(?!\d)")
_KPP_AFTER_INN = re.compile(r"^\s*(?:/|\\|и|and|,)?\s*КПП", re.I)
_OTHER_LABEL = (
    r"КПП|ОГРН\w*|БИК|ОКПО|ОКТМО|ОКАТО|ОКВЭД|СНИЛС|паспорт\w*|р\s*/\s*с|к\s*/\s*с|л\s*/\s*с|"
    r"сч[её]т\w*|тел\w*|моб\w*|сот\w*|факс|phone|tel|mob\w*|звон\w*|номер\w*|№|#|"
    r"договор\w*|контракт\w*|заявк\w*|лиценз\w*|ключ\w*|серийн\w*|серия|id|ticket"
)
_GAP_STOP = re.compile(rf"(?<!\w)(?:{_OTHER_LABEL})(?!\w)|\+|[.!?](?:\s|$)", re.I)
_LONE_NUMBER = re.compile(r"(?<![\w+/.,\-])(?P<num>\d{12}|\d{10})(?!\w)(?![.,\-]\d)")
_BEFORE_LONE = re.compile(rf"(?<!\w)(?:{_OTHER_LABEL}|ИНН|INN)(?!\w)", re.I)


def _read_inn(reader: _Reader, phone_spans: list[tuple[int, int]]) -> None:
    body = reader.body
    labelled = False
    for label in _INN_LABEL.finditer(body):
        after = _INN_AFTER.match(body, label.end())
        if after is None:
            continue
        gap = _KPP_AFTER_INN.sub("", after["gap"])
        if _GAP_STOP.search(gap):
            continue
        labelled = True
        raw = body[label.start():after.end("num")]
        checked = check_inn(after["num"])
        if checked.ok and checked.value:
            reader.find("organization.inn", checked.value, raw, label.start(), "label")
        else:
            reader.skip("organization.inn", raw, checked.rule or "format", label.start())
    if labelled:
        return
    lone: list[tuple[str, int]] = []
    for match in _LONE_NUMBER.finditer(body):
        start, end = match.span("num")
        if any(a <= start < b or a < end <= b for a, b in phone_spans):
            continue
        line_start = body.rfind("\n", max(0, start - 80), start) + 1
        if _BEFORE_LONE.search(body, max(line_start, start - 30), start):
            continue
        checked = check_inn(match["num"])
        if not (checked.ok and checked.value):
            continue
        if len(checked.value) == 10 and checked.value[0] in "3489" \
                and check_phone(checked.value).ok:
            reader.skip("organization.inn", match["num"], "maybe_phone", start)
            continue
        lone.append((checked.value, start))
    if len({value for value, _ in lone}) == 1:
        value, start = lone[0]
        reader.find("organization.inn", value, value, start, "lone")
    elif lone:
        for value, start in lone:
            reader.skip("organization.inn", value, "ambiguous", start)


# --- phones -----------------------------------------------------------------------------

_PHONE = re.compile(
    r"(?<![\w+])(?<!\d[.,/\-])"
    r"(?P<num>\+?\d(?:[ ().\-\u2010-\u2015]{0,3}\d){9,14})(?!\d)(?!\.\d)"
    r"(?P<ext>\s*[,;]?\s*\(?\s*(?:добавочный|доб|доп|внутренний|внутр|вн|ext|x|\#)\.?\s*"
    r"[:#№]?\s*\d{1,6}\s*\)?)?",
    re.I)
_PHONE_LABEL = re.compile(
    r"(?<!\w)(?:тел|телефон\w*|т|моб|мобильный|мобильного|сот|сотовый|раб|рабочий|phone|tel|"
    r"mob|mobile|cell|whatsapp|ватсап|viber|вайбер|telegram|телеграм|звоните|позвоните)(?!\w)", re.I)
_NOT_PHONE_LABEL = re.compile(
    r"(?<!\w)(?:ИНН|INN|КПП|ОГРН\w*|БИК|ОКПО|ОКТМО|СНИЛС|р\s*/\s*с|к\s*/\s*с|л\s*/\s*с|"
    r"сч[её]т\w*|договор\w*|контракт\w*|заявк\w*|лиценз\w*|серийн\w*)(?!\w)", re.I)
_DATE = re.compile(r"(?<!\d)\d{1,2}\.\d{1,2}\.\d{2,4}(?!\d)")


def _read_phones(reader: _Reader) -> list[tuple[int, int]]:
    """Find the phones; return the spans of every phone-like run (for the INN)."""
    body = reader.body
    spans: list[tuple[int, int]] = []
    pos = 0
    while match := _PHONE.search(body, pos):
        pos = match.end()
        num = match["num"]
        digits = re.sub(r"\D", "", num)
        line_start = body.rfind("\n", max(0, match.start() - 80), match.start()) + 1
        before = body[max(line_start, match.start() - 25):match.start()]
        if _NOT_PHONE_LABEL.search(before) or _DATE.search(num):
            continue
        separated = bool(re.search(r"[ ()\-\u2010-\u2015]", num))
        if re.fullmatch(r"[\d.]+", num):
            separated = False  # dotted runs are versions or IPs, not phones
        labelled = bool(_PHONE_LABEL.search(before))
        phone_like = (num.startswith("+") or separated or labelled
                      or (len(digits) == 11 and digits[0] in "78"))
        if not phone_like:
            continue
        spans.append(match.span())
        candidate = num + (match["ext"] or "")
        checked = check_phone(candidate)
        if not checked.ok:
            # Two numbers written one after the other: take the first 11 (or 10) digits.
            shorter = _first_number(num)
            if shorter is not None:
                checked = check_phone(shorter)
                if checked.ok:
                    pos = match.start() + len(shorter)
                    candidate = shorter
        if checked.ok and checked.value:
            reader.find("contact.phone", checked.value, candidate.strip(), match.start(), "found")
        else:
            reader.skip("contact.phone", candidate.strip(), checked.rule or "format",
                        match.start())
    return spans


def _first_number(num: str) -> str | None:
    if num.startswith("+"):
        return None
    want = 11 if num[0] in "78" else 10
    count = 0
    for i, ch in enumerate(num):
        if ch.isdigit():
            count += 1
            if count == want:
                rest = num[i + 1:]
                return num[:i + 1] if rest and not rest[0].isdigit() else None
    return None


# --- products and versions ------------------------------------------------------------------

_NAME_NOISE = re.compile(r"[\s\-\u2010-\u2015_«»\"'“”„]+")
_NAME_JOIN = r"[\s\-\u2010-\u2015_«»\"'“”„]+"

_REL = r"(?P<rel>\d{1,4}(?:\.\d{1,6}){0,4})"
_DOTTED_REL = r"(?P<rel>\d{1,4}(?:\.\d{1,6}){1,4})"
_SUF = (r"(?P<suf>[-_]?(?:rc|beta|alpha|бета|альфа|hotfix|hf|patch|sp|update|upd)"
        r"[-_.]?\d{0,3}(?!\w))?")
_BUILD_WORD = r"(?:build|bld|сборка|сборки|сборку|сборке|сб\.|билд)"
_BUILD = (rf"(?:[ \t,;.]*(?:\n[ \t]*){{0,2}}\(?\s*{_BUILD_WORD}\.?\s*[#№:]?\s*(?P<build>\d{{1,9}})"
          r"\s*\)?(?!\w)|(?P<dashbuild>-\d{1,9})(?![\w.]))?")
_REL_END = r"(?![\d:/])(?!\.\d)(?!\s*(?:г\.|гг|года?|год\b|%))"
_GAP_WORDS = r"(?:продукта|программы|ПО|ПК|прошивки|системы|сервера|клиента|платформы|" \
             r"дистрибутива|релиза|[A-ZА-ЯЁ][\w-]*)"
_KEYED = re.compile(
    rf"(?<!\w)(?:верси[яиюейё]|вер\.|ver\.?|version|v\.?(?=\s?\d))"
    rf"(?:\s+{_GAP_WORDS}){{0,3}}\s*[:№#\-–—=]?\s*(?:v\.?\s?)?(?<![\d.]){_REL}{_REL_END}{_SUF}{_BUILD}",
    re.I)
_BEFORE_BUILD = re.compile(
    rf"(?<![\w.]){_DOTTED_REL}{_REL_END}{_SUF}[ \t,]*\(?\s*{_BUILD_WORD}\.?\s*[#№:]?\s*"
    r"(?P<build>\d{1,9})\s*\)?(?!\w)(?P<dashbuild>)", re.I)
_AFTER_PRODUCT = re.compile(
    rf"\s*[,:\-–]?\s*(?P<v>v\.?\s?|верси[яи]\s+)?{_REL}{_REL_END}{_SUF}{_BUILD}",
    re.I)
_LONE_BUILD = re.compile(rf"(?<!\w){_BUILD_WORD}\.?\s*[#№:]?\s*\d{{1,9}}(?!\w)", re.I)


def _name_regex(name: str) -> str:
    words = [w for w in _NAME_NOISE.split(name) if w]
    parts = [re.sub("[её]", "[её]", re.escape(w), flags=re.I) for w in words]
    return _NAME_JOIN.join(parts)


def _product_pattern(products: Sequence[ProductRule]) -> re.Pattern[str] | None:
    names: set[str] = set()
    for rule in products:
        own = (rule.name, *rule.aliases)
        names.update(own)
        for line in rule.lines:
            names.update(line.names(own))
    regexes = sorted({_name_regex(n) for n in names if _NAME_NOISE.sub("", n)},
                     key=len, reverse=True)
    if not regexes:
        return None
    return re.compile(rf"(?<!\w)(?:{'|'.join(regexes)})(?!\w)(?![.,]\d)", re.I)


def _is_date(release: str) -> bool:
    parts = release.split(".")
    if len(parts) != 3 or len(parts[2]) not in (2, 4):
        return False
    day, month = int(parts[0]), int(parts[1])
    return 1 <= day <= 31 and 1 <= month <= 12 and len(parts[0]) <= 2 and len(parts[1]) <= 2


def _version_value(match: re.Match[str]) -> str | None:
    release = match["rel"]
    if _is_date(release):
        return None
    value = release + (match["suf"] or "")
    if match["build"]:
        value += f" build {match['build']}"
    elif match["dashbuild"]:
        value += match["dashbuild"]
    return value


def _read_products_and_versions(reader: _Reader, products: Sequence[ProductRule]) -> None:
    body = reader.body
    keyed: list[tuple[str, str, int]] = []
    used: list[tuple[int, int]] = []
    for match in _KEYED.finditer(body):
        if (value := _version_value(match)) is not None:
            keyed.append((value, match.group(0), match.start()))
            used.append(match.span())
    after_product: list[tuple[str, str, int]] = []
    pattern = _product_pattern(products)
    if pattern is not None:
        for match in pattern.finditer(body):
            if match_product(match.group(0), products) is None:
                continue
            reader.find("product", " ".join(match.group(0).split()), match.group(0),
                        match.start(), "found")
            version = _AFTER_PRODUCT.match(body, match.end())
            if version is not None and not (version["v"] or "." in version["rel"]
                                            or version["build"]):
                version = None  # «ИКС 3 сервера»: a bare number after a name is no version
            if version is not None and (value := _version_value(version)) is not None:
                after_product.append((value, body[match.start():version.end()], match.start()))
                used.append(version.span())
    built: list[tuple[str, str, int]] = []
    for match in _BEFORE_BUILD.finditer(body):
        if (value := _version_value(match)) is not None:
            built.append((value, match.group(0), match.start()))
            used.append(match.span())
    for basis, group in (("keyword", keyed), ("product", after_product), ("build", built)):
        for value, raw, offset in group:
            reader.find("version", value, raw, offset, basis)
    for match in _LONE_BUILD.finditer(body):
        if not any(a <= match.start() < b for a, b in used):
            reader.skip("version", match.group(0), "build_only", match.start())


# --- organization ------------------------------------------------------------------------

_ABBREVIATIONS = (
    "ООО", "ОАО", "ЗАО", "ПАО", "НАО", "АО", "АНО", "АОЗТ", "ТОО", "ОДО", "НКО", "НОУ",
    "ЧОУ", "ЧУ", "ЧОП", "ТСЖ", "СНТ", "КФХ", "СПК", "ФГУП", "ФГУ", "ФГБУ", "ФГАУ", "ФГКУ",
    "ФГБНУ", "ФГБУН", "ФГБУЗ", "ФГБОУ ВО", "ФГБОУ ДПО", "ФГБОУ", "ФГАОУ ВО", "ФГАОУ",
    "ФКУ", "ФБУ", "ФБУЗ", "ГБУЗ", "ГАУЗ", "ГБУ", "ГКУ", "ГАУ", "ГУП", "ГБОУ", "ГАОУ",
    "ГКОУ", "ГБПОУ", "ГАПОУ", "ОГБУ", "ОГАУ", "ОГКУ", "КГБУ", "КГАУ", "КГКУ", "МУП", "МУ",
    "МБУ", "МКУ", "МАУ", "МБОУ", "МАОУ", "МКОУ", "МБДОУ", "МАДОУ", "МБУК", "МБУДО",
)
_ABBR = "|".join(re.escape(a).replace(r"\ ", r"\s+")
                 for a in sorted(_ABBREVIATIONS, key=len, reverse=True))
_FULL_FORM = (
    r"Общество\s+с\s+ограниченной\s+ответственностью|"
    r"(?:Публичное|Непубличное|Закрытое|Открытое)\s+акционерное\s+общество|"
    r"Акционерное\s+общество|Автономная\s+некоммерческая\s+организация|"
    r"(?:Федеральное|Государственное|Муниципальное|Областное|Краевое|Городское)"
    r"(?:\s+[а-яё-]+){0,6}?\s+(?:учреждение|предприятие)(?:\s+[а-яё-]+){0,6}?"
)
_QUOTED = (
    r"(?:«(?:[^«»\n]|«[^«»\n]*»){1,150}[»\"”]|\"[^\"\n]{1,150}[\"»“”]|„[^„“”\n]{1,150}[“”\"]|"
    r"“[^“”\n]{1,150}[”\"])"
)
_CAP_WORDS = r"[A-ZА-ЯЁ0-9][\w&+.-]*(?:[ -][A-ZА-ЯЁ0-9][\w&+.-]*){0,3}"
_PERSON_TAIL = (r"[А-ЯЁ][а-яё]+(?:-[А-ЯЁ][а-яё]+)?"
                r"(?:\s+[А-ЯЁ]\.\s?[А-ЯЁ]\.|\s+[А-ЯЁ][а-яё]+\s+[А-ЯЁ][а-яё]+(?:вич|вна|ична|инична))?")
_ORGANIZATION = re.compile(
    rf"(?<![\w«\"])(?:(?:ИП|Индивидуальный\s+предприниматель)\s+(?:{_QUOTED}|{_PERSON_TAIL})"
    rf"|(?:{_ABBR})\s*(?:{_QUOTED})|(?:{_ABBR})\s+{_CAP_WORDS}"
    rf"|(?:{_FULL_FORM})\s*{_QUOTED})(?![\w])"
)


_BANK_BEFORE = re.compile(r"(?<!\w)(?:р\s*/\s*с|к\s*/\s*с|БИК|банк\w*|bank)(?!\w)", re.I)


def _read_organization(reader: _Reader) -> None:
    body = reader.body
    for match in _ORGANIZATION.finditer(body):
        line_start = body.rfind("\n", max(0, match.start() - 80), match.start()) + 1
        if _BANK_BEFORE.search(body, max(line_start, match.start() - 80), match.start()):
            continue  # «р/с … в ПАО Сбербанк»: the bank, not the customer
        raw = match.group(0).rstrip(".,")
        reader.find("organization.name", " ".join(raw.split()), raw, match.start(), "legal_form")


# --- person and position -------------------------------------------------------------------

_NAME_WORD = r"[A-ZА-ЯЁ][a-zа-яё]+(?:-[A-ZА-ЯЁ][a-zа-яё]+)?"
_INITIALS = r"[A-ZА-ЯЁ]\.(?:\s?[A-ZА-ЯЁ]\.)?"
_NAME_LINE = re.compile(rf"^(?:{_NAME_WORD}|{_INITIALS})(?:\s+(?:{_NAME_WORD}|{_INITIALS})){{0,3}}$")
_NOT_NAMES = frozenset({
    "спасибо", "здравствуйте", "добрый", "прошу", "заранее", "благодарю", "уважением",
    "best", "regards", "kind", "thanks", "thank", "sent", "support", "team", "department",
    "office", "hello", "dear", "cheers", "sincerely", "техподдержка", "поддержка", "отдел",
    "служба", "компания", "группа", "администратор", "инженер", "директор", "менеджер",
})
_TITLE_START = re.compile(
    r"^(?:(?:ведущий|главный|старший|младший|первый|заместитель|зам\.|и\.\s?о\.|врио|"
    r"генеральный|исполнительный|технический|коммерческий|финансовый|региональный|"
    r"системный|сетевой)\s+)*"
    r"(?:(?:администратор|сисадмин|инженер|руководител|начальник|директор|специалист|"
    r"менеджер|программист|разработчик|аналитик|бухгалтер|главбух|техник|оператор|"
    r"консультант|заведующ\w+|зав\.|эксперт|архитектор|координатор|помощник|секретарь|"
    r"юрист|экономист|советник|референт|методист|инспектор|ассистент|сотрудник|"
    r"преподаватель|лаборант|мастер|диспетчер|делопроизводитель|офис-менеджер|"
    r"head|chief|lead|senior|junior|principal|engineer|manager|administrator|sysadmin|"
    r"developer|specialist|director|analyst|consultant)[а-яёa-z]{0,3}(?!\w)"
    r"|(?:ит|it)-\w+|(?:ИТ|IT)\s+\w+|cto|cio|ceo|devops)(?!\w)",
    re.I)
_ABBR_START = re.compile(rf"^(?:{_ABBR}|ИП)(?:\s|«|\"|$)")


def _looks_like_name(text: str) -> bool:
    text = text.strip().rstrip(",.;")
    if not text or len(text) > 60 or not _NAME_LINE.match(text):
        return False
    words = [w for w in text.split() if not re.fullmatch(_INITIALS, w)]
    if not words or _ABBR_START.match(text) or _TITLE_START.match(text):
        return False
    for word in words:
        low = word.lower().replace("ё", "е")
        if low in _NOT_NAMES:
            return False
        if re.search("[а-я]", low):
            for part in low.split("-"):
                found = readings(part)
                if found and not any(r.proper or not r.known for r in found):
                    return False
    return True


def _looks_like_title(text: str) -> bool:
    text = text.strip()
    return (bool(text) and len(text) <= 120 and "@" not in text
            and not re.search(r"\d{4,}", text) and bool(_TITLE_START.match(text)))


def _title_part(text: str) -> str:
    """The title without an organization after it ("Инженер ООО «Ромашка»")."""
    match = _ORGANIZATION.search(text)
    if match is not None and match.start() > 0:
        text = text[:match.start()]
    return text.strip().rstrip(",.;|/–—-").strip()


def _trailing_block(lines: list[str]) -> int | None:
    """A signature without a marker: in the last paragraph, a line with a name followed
    (on it after a comma, or on the lines below, at most seven) by a title, an
    organization, a phone or an address, and nothing else but such short lines."""
    end = len(lines)
    while end and not lines[end - 1].strip():
        end -= 1
    start = end
    while start and lines[start - 1].strip():
        start -= 1
    for i in range(max(start, end - 8), end):
        head = lines[i].split(",", 1)
        if i == 0 or not _looks_like_name(head[0]):
            continue
        rest = [*head[1:], *lines[i + 1:end]]
        if rest and all(len(x) <= 120 for x in rest) and any(
                _looks_like_title(x) or _ORGANIZATION.search(x) or _PHONE.search(x) or "@" in x
                for x in rest):
            return i
    return None


def _read_person(reader: _Reader, lines: list[str], start: int | None, offsets: list[int],
                 sender_name: str | None) -> None:
    names: list[Finding] = []
    if start is not None:
        candidates: list[tuple[int, str, str]] = []  # (line index, text, basis)
        first = lines[start]
        closing = _CLOSING.match(first)
        if closing is not None and (closing["rest"] or closing["caprest"]):
            candidates.append((start, closing["rest"] or closing["caprest"], "closing"))
        candidates += [(i, lines[i], "signature")
                       for i in range(start + 1, min(len(lines), start + _MAX_SIGNATURE_LINES))
                       if lines[i].strip() and not _MOBILE.match(lines[i])]
        if _CLOSING.match(first) is None and not _DASH_MARKER.match(first) \
                and not _MOBILE.match(first):
            candidates.insert(0, (start, first, "signature"))  # a trailing block
        for n, (i, line, basis) in enumerate(candidates):
            name, _, tail = line.partition(",")
            if not _looks_like_name(name):
                continue
            name = name.strip().rstrip(".;")
            source, number = reader.where(offsets[i])
            names.append(Finding("contact.name", name, name, source, number, basis))
            title = tail.strip() if _looks_like_title(tail) else ""
            title_at = i
            if not title and n + 1 < len(candidates) and _looks_like_title(candidates[n + 1][1]):
                title_at, title = candidates[n + 1][0], candidates[n + 1][1]
            if title:
                position = _title_part(title)
                source, number = reader.where(offsets[title_at])
                reader.findings.setdefault("contact.position", []).append(
                    Finding("contact.position", position, " ".join(title.split()), source,
                            number, "signature"))
            break
    sender = _sender_person(sender_name)
    if sender is not None:
        finding = Finding("contact.name", sender, (sender_name or "").strip(), "sender", None,
                          "sender")
        if not names:
            names.append(finding)
        elif len(names[0].value.split()) == 1 and len(sender.split()) > 1 and \
                names[0].value.lower() in sender.lower().split():
            names.insert(0, finding)
        elif sender != names[0].value:
            names.append(finding)
    if names:
        reader.findings["contact.name"] = names


def _sender_person(sender_name: str | None) -> str | None:
    if not sender_name:
        return None
    name = re.sub(r"\([^)]*\)|\[[^]]*\]", " ", sender_name)
    name = " ".join(name.strip().strip("\"'«»").split())
    return name if _looks_like_name(name) else None


# --- email ------------------------------------------------------------------------------

_EMAIL = re.compile(r"(?<![\w.+'-])[\w.+'-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63})+")


def _read_email(reader: _Reader, sender_email: str | None) -> None:
    if sender_email:
        checked = check_email(sender_email)
        if checked.ok and checked.value:
            reader.findings.setdefault("contact.email", []).append(
                Finding("contact.email", checked.value, sender_email.strip(), "sender", None,
                        "sender"))
    for match in _EMAIL.finditer(reader.body):
        raw = match.group(0).rstrip(".-")
        checked = check_email(raw)
        if checked.ok and checked.value:
            reader.find("contact.email", checked.value, raw, match.start(), "found")
        else:
            reader.skip("contact.email", raw, checked.rule or "format", match.start())
