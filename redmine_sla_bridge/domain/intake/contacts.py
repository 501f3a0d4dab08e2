"""Checks and normal forms of the contact data: INN, email, phone.

Each `check_*` returns a `Checked`: the normal form when the value is valid, otherwise
the sub-rule it broke. None of them raises on any text. The gate reports a refused value
as the customer wrote it (`Reason.params["value"]`); only an accepted one is replaced by
its normal form.

Email and phone are checked by libraries, not by our own expressions (issue 16):

- email: `email-validator` (syntax only, no DNS). The hand-written expression refused
  internationalized addresses: a Cyrillic local part (`иван@пример.рф`) and quoted local
  parts, and it knew nothing of IDNA rules (a punycode domain was kept undecoded, so the
  same mailbox had two spellings), of Unicode normalisation, or of the names reserved
  for no mail at all (`.test`, `.invalid`, `localhost`).
- phone: `phonenumbers` (Google's libphonenumber). The hand-written parser refused an
  extension in parentheses, «8 (495) 648-06-40 (доб. 1263)», as the regulations' own
  seeds write it, and it checked lengths with one rule for all countries ("8 to 15
  digits") and one for +7 (10 digits starting with 3-9): libphonenumber knows each
  country's lengths, which codes of the +7 plan exist, and the "8 10" and trunk-"8"
  dialling forms.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from stdnum.ru import inn as stdnum_inn

_MAX_INPUT = 320  # longer than any sane INN, address or number; refuse before regexes run


@dataclass(frozen=True, slots=True)
class Checked:
    """`value` is the normal form when `ok`; otherwise `rule` names what is wrong."""

    ok: bool
    value: str | None = None
    rule: str | None = None


def _bad(rule: str) -> Checked:
    return Checked(False, None, rule)


# --- INN -------------------------------------------------------------------------------

_INN_NOISE = re.compile(r"[\s\-.]")


def check_inn(raw: str) -> Checked:
    """An organization's (10 digits) or a person's (12 digits) INN with a valid checksum.

    Spaces, dashes and dots are dropped. "ИНН/КПП" written together
    ("7707083893/773601001") yields the INN part. All-zero numbers pass the checksum
    (python-stdnum accepts them) but are not real INNs: refused as rule `zeros`.
    Rules: `format` (not digits), `length`, `zeros`, `checksum`.
    """
    if len(raw) > _MAX_INPUT:
        return _bad("format")
    text = raw.split("/", 1)[0]
    digits = _INN_NOISE.sub("", text)
    if not digits or not re.fullmatch(r"[0-9]+", digits):  # ASCII only: isdigit() takes "٣"
        return _bad("format")
    if len(digits) not in (10, 12):
        return _bad("length")
    if digits.count("0") == len(digits):
        return _bad("zeros")
    if not stdnum_inn.is_valid(digits):
        return _bad("checksum")
    return Checked(True, digits)


# --- email -----------------------------------------------------------------------------

_DISPLAY = re.compile(r"^[^<>]*<(?P<addr>[^<>]*)>\s*$")


@functools.lru_cache(maxsize=4096)
def check_email(raw: str) -> Checked:
    """A single mailbox address, checked by `email-validator` (syntax only, no DNS).

    Accepted: any address RFC 5322/6531 allows with a dotted domain: Unicode local parts
    and domains ("иван@пример.рф"), quoted local parts ('"ivan petrov"@example.ru'),
    tags ("user+tag@example.com"); also a "mailto:" prefix and the display form
    "Иван Иванов <ivan@example.ru>" (the address inside the brackets is checked).
    Refused: everything email-validator refuses (a missing or doubled @, a domain with
    no dot, `..`, bad characters, domain literals "[1.2.3.4]", names reserved for no
    mail such as ".test" and "localhost", a local part over 64 or an address over 254
    characters), and a one-letter top-level domain, which none exists with.
    Normal form: email-validator's `normalized`: the domain lower-cased and in Unicode
    (punycode is decoded: "xn--80a1acny.xn--p1ai" -> "почта.рф"), the local part kept
    as written (it may be case-sensitive) apart from Unicode NFC and needless quotes
    ('"ivan"@x.ru' -> "ivan@x.ru").
    Rule: `format` (the only one: email-validator's messages are not rules of ours).

    Cached: every event of an issue runs the gate again on the same contact, and
    email-validator's checks were an eighth of a new request's planning.
    """
    text = raw.strip()
    if len(text) > _MAX_INPUT:
        return _bad("format")
    if match := _DISPLAY.match(text):
        text = match["addr"].strip()
    if text.lower().startswith("mailto:"):
        text = text[len("mailto:"):]
    try:
        address = validate_email(
            text,
            check_deliverability=False,  # syntax only: the gate does no I/O
            allow_smtputf8=True,  # Cyrillic local parts
            allow_quoted_local=True,
            allow_domain_literal=False,
            allow_display_name=False,  # peeled above: the library refuses a bare Cyrillic name
            strict=True,  # the 64-character limit of the local part
        )
    except EmailNotValidError:
        return _bad("format")
    if len(address.domain.rsplit(".", 1)[-1]) < 2:  # Unicode form: "р" is "xn--p1a"
        return _bad("format")
    return Checked(True, address.normalized)


# --- phone -----------------------------------------------------------------------------

_REGION = "RU"  # a number written without "+" or an international prefix is Russian
_EXTENSION_WORD = "доб. "  # the normal form's extension label (see `check_phone`)

# What may introduce an extension, longest first: «добавочный», «доб.», «доп.»,
# «внутренний», «внутр.», «вн.», "extension", "ext.", "x", "#", with an optional dot, an
# optional ":"/"#"/"№" and spaces before the digits.
_EXT_LABEL = r"(?:добавочный|доб|доп|внутренний|внутр|вн|extension|ext|x|\#)"
_EXT_TAIL = rf"{_EXT_LABEL}\.?\s*(?:[:#№]\s*)?"
# An extension at the end, in brackets or not, after spaces or a comma:
# "... доб. 1263", "...(доб.1263)", "..., ext 5", "... #12".
_EXTENSION = re.compile(
    rf"[\s,;]*(?:(?P<open>\()\s*)?{_EXT_TAIL}(?P<ext>[0-9]{{1,6}})\s*(?(open)\)|)$", re.I
)
# Several numbers in one field: "," ";" "/" ends the first, unless an extension follows.
_SEPARATOR = re.compile(rf"[,;/](?!\s*\(?\s*{_EXT_TAIL}[0-9])", re.I)
# What the number itself may hold once the extension is off: digits, a leading "+",
# spaces (also no-break), brackets, dots and dashes (also the typographic ones).
_NUMBER = re.compile(r"\+?[0-9\s().\-\u00a0\u2010-\u2015]+")


@functools.lru_cache(maxsize=4096)  # libphonenumber's parse is the gate's costliest check
def check_phone(raw: str) -> Checked:
    """A phone number, read by `phonenumbers` (libphonenumber) with Russia as the region.

    Accepted:
    - Russian forms: "+7", "8" or "7" before the code, or the 10 digits alone
      ("+7 (495) 662-87-34", "8 (495) 662-87-34", "7 495 6628734", "495 662 87 34"),
      mobile and city numbers, "8 800" numbers; grouped by spaces, dashes, brackets or
      dots in any way;
    - international numbers of any country with "+", "00" or the Russian "8 10" prefix
      ("+49 30 1234567", "0049 30 1234567", "8 10 49 30 1234567");
    - an extension after the number, in brackets or not: «доб. 1263», «доб 12»,
      «добавочный 12», «доп. 5», «вн. 12», «внутр. 12», "ext 5", "ext. 5", "x12", "#12";
    - a "tel:" prefix; several numbers separated by ",", ";" or "/": the first is used.

    Refused (rule `format`, the only one): letters anywhere else (a vanity number or a
    comment such as "звонить после обеда"), a number of the wrong length for its
    country (too few or too many digits), a local number without its area code
    ("662-87-34"), an unknown country code, and in the +7 plan (Russia, Kazakhstan) a
    code that does not exist ("+7 095 ..."). Other countries' numbers need only have a
    possible length: their number ranges change more often than a pinned library.

    Normal form, for a person reading the Redmine field and for dialling: the number in
    libphonenumber's international format (E.164 digits, grouped as the country does)
    and the extension after «доб.»: "+7 495 648-06-40 доб. 1263", "+7 916 123-45-67",
    "+49 30 1234567". The label is Russian because the bridge serves Russian
    regulations and the domain has no configured language; the normal form checks to
    itself, so a second pass leaves the field alone.
    """
    text = raw.strip()
    if len(text) > _MAX_INPUT:
        return _bad("format")
    if text[:4].lower() == "tel:":
        text = text[4:]
    text = _SEPARATOR.split(text, maxsplit=1)[0].strip()
    extension = None
    if match := _EXTENSION.search(text):
        extension = match["ext"]
        text = text[: match.start()].strip()
    if not _NUMBER.fullmatch(text):
        return _bad("format")  # letters, or a "+" inside the number
    if text.startswith("00"):
        text = "+" + text[2:]  # the international prefix of most countries
    try:
        number = phonenumbers.parse(text, _REGION)
    except phonenumbers.NumberParseException:
        return _bad("format")
    possible = phonenumbers.is_possible_number_with_reason(number)
    if possible != phonenumbers.ValidationResult.IS_POSSIBLE:
        return _bad("format")
    if number.country_code == 7 and not phonenumbers.is_valid_number(number):
        return _bad("format")
    formatted = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return Checked(True, formatted + (f" {_EXTENSION_WORD}{extension}" if extension else ""))
