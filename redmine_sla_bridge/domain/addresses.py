"""Email addresses as values: one bare address in the form SMTP needs, or a reason why not.

Pure (no I/O), so that the config can check `notify.from_address` with the same rules
the notifier applies to a requester's address.
"""

from __future__ import annotations

import re

# RFC 5321 dot-atom local part. Quoted local parts ("a b"@x) are legal but are a
# typo far more often than a real mailbox, and many relays refuse them anyway.
_LOCAL_PART = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_DOMAIN_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_NOT_IN_BARE_ADDRESS = set(' \t\r\n<>,;:"()[]\\')


class InvalidAddress(ValueError):
    """The address cannot be delivered to. The message says why without repeating the
    whole address (it is a customer's personal data and ends up in logs)."""


def normalize_address(value: object) -> str:
    """Return `value` as one bare address in the ASCII form SMTP needs, or raise.

    A Cyrillic domain (`почта.рф`) is converted to its IDNA form (`xn--80a1acny.xn--p1ai`).
    A non-ASCII part before the @ is refused: it needs SMTPUTF8, which few relays offer.
    """
    if not isinstance(value, str):
        raise InvalidAddress(f"expected an email address, got {type(value).__name__}")
    address = value.strip()
    if not address:
        raise InvalidAddress("the email address is empty")
    if any(ch in _NOT_IN_BARE_ADDRESS for ch in address):
        raise InvalidAddress(
            "it is not one bare email address (no spaces, names, brackets or lists; "
            "expected e.g. name@example.ru)")
    if address.count("@") != 1:
        raise InvalidAddress("it must contain exactly one @")
    local, domain = address.split("@")
    if not local or not domain:
        raise InvalidAddress("it has nothing before or after the @")
    if not local.isascii():
        raise InvalidAddress(
            "non-Latin letters before the @ are not supported (they need SMTPUTF8)")
    if len(local) > 64 or not _LOCAL_PART.match(local):
        raise InvalidAddress("the part before the @ is not a valid mailbox name")
    return f"{local}@{_ascii_domain(domain)}"


def _ascii_domain(domain: str) -> str:
    try:
        # The stdlib codec is IDNA 2003, which covers Cyrillic domains like .рф.
        ascii_domain = domain.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise InvalidAddress(f"{domain!r} is not a valid domain name") from None
    labels = ascii_domain.split(".")
    if (len(labels) < 2 or len(ascii_domain) > 253
            or not all(_DOMAIN_LABEL.match(label) for label in labels)
            or labels[-1].isdigit()):
        raise InvalidAddress(f"{domain!r} is not a valid domain name")
    return ascii_domain


def domain_of(address: str) -> str:
    """The part after the @ of an already normalized address."""
    return address.rpartition("@")[2]


def mask_address(address: str) -> str:
    """`ivan.petrov@example.ru` -> `i***@example.ru`: enough to tell recipients apart in
    logs without writing a customer's personal data into them."""
    local, at, domain = address.strip().rpartition("@")
    if not at:
        return "***"
    return f"{local[:1]}***@{domain}"


__all__ = ["InvalidAddress", "domain_of", "mask_address", "normalize_address"]
