"""Checks and normal forms of the contact data: INN, email, phone.

Each `check_*` returns a `Checked`: the normal form when the value is valid, otherwise
the sub-rule it broke. None of them raises on any text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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

_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[^\W_](?:(?:[^\W_]|-){0,61}[^\W_])?"  # letters/digits of any script, inner hyphens
_TLD = r"(?:[^\W\d_]{2,63}|xn--[a-z0-9-]{1,59})"
_EMAIL = re.compile(rf"(?P<local>{_ATOM}(?:\.{_ATOM})*)@(?P<domain>(?:{_LABEL}\.)+{_TLD})")
_DISPLAY = re.compile(r"^[^<>]*<(?P<addr>[^<>]*)>\s*$")


def check_email(raw: str) -> Checked:
    """A single mailbox address: local@domain.tld.

    Accepted: dot-atom local parts (no quoted forms), domains of letters/digits of any
    script with inner hyphens (so "почта.рф" and punycode pass), a "mailto:" prefix and
    the display form "Иван Иванов <ivan@example.ru>". No DNS lookup. The domain is
    lower-cased; the local part is kept as written (it may be case-sensitive).
    """
    text = raw.strip()
    if len(text) > _MAX_INPUT:
        return _bad("format")
    if match := _DISPLAY.match(text):
        text = match["addr"].strip()
    if text.lower().startswith("mailto:"):
        text = text[len("mailto:"):]
    match = _EMAIL.fullmatch(text)
    if not match or len(match["local"]) > 64 or len(text) > 254:
        return _bad("format")
    return Checked(True, f"{match['local']}@{match['domain'].lower()}")


# --- phone -----------------------------------------------------------------------------

_EXTENSION = re.compile(
    r"\s*(?:доб|доп|вн|ext|extension|x)\.?\s*[:#]?\s*(?P<ext>[0-9]{1,6})\s*$", re.I
)
_PHONE_NOISE = re.compile(r"[\s()\-.\u00a0\u2010-\u2015]")


def check_phone(raw: str) -> Checked:
    """A phone number, normalised to E.164 ("+74956628734").

    Accepted:
    - international form: "+" and 8 to 15 digits, any spaces, dashes, dots, brackets
      ("+7 495 662 87 34", "+7 (495) 662-87-34", "+49 30 1234567"), and "00"/"810"
      international prefixes in place of "+";
    - Russian national form: 11 digits starting with 8 or 7 ("8 (495) 662-87-34",
      "84956628734"), or 10 digits starting with 3, 4, 8 or 9 (area/mobile code without
      the trunk prefix, "495 662-87-34"), all made "+7...";
    - an extension after the number ("доб. 123", "ext 123", "x123") is kept RFC 3966
      style: "+74956628734;ext=123";
    - several numbers separated by ",", ";" or "/": the first one is used.
    A "+7" number must have 10 digits after the 7, starting with 3-9 (Russia and
    Kazakhstan). Refused: letters, local numbers without an area code, anything else.
    """
    text = raw.strip()
    if len(text) > _MAX_INPUT:
        return _bad("format")
    text = re.split(r"[,;/]", text, maxsplit=1)[0]
    extension = None
    if match := _EXTENSION.search(text):
        extension = match["ext"]
        text = text[: match.start()]
    compact = _PHONE_NOISE.sub("", text)
    if not re.fullmatch(r"\+?[0-9]+", compact):
        return _bad("format")
    number = _e164(compact)
    if number is None:
        return _bad("format")
    return Checked(True, number + (f";ext={extension}" if extension else ""))


def _e164(compact: str) -> str | None:
    if compact.startswith("+"):
        digits = compact[1:]
    elif compact.startswith("810") and len(compact) > 11:
        digits = compact[3:]  # Russian international prefix "8-10"
    elif compact.startswith("00"):
        digits = compact[2:]
    elif len(compact) == 11 and compact[0] in "78":
        digits = "7" + compact[1:]
    elif len(compact) == 10 and compact[0] in "3489":
        digits = "7" + compact
    else:
        return None
    if not 8 <= len(digits) <= 15 or digits[0] == "0":
        return None
    if digits[0] == "7" and (len(digits) != 11 or digits[1] not in "3456789"):
        return None
    return "+" + digits
