"""Email addresses as values: one bare address in the form SMTP needs, or a reason why not.

Pure (no I/O), so that the config can check `notify.from_address` with the same rules
the notifier applies to a requester's address.
"""

from __future__ import annotations

import re

# RFC 5321 dot-atom local part. Quoted local parts ("a b"@x) are legal but are a
# typo far more often than a real mailbox, and many relays refuse them anyway.
_LOCAL_PART = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
# RFC 6531: an internationalized local part adds any non-ASCII letter or digit to atext
# (Russian customers do have mailboxes like иван@почта.рф). Symbols and controls beyond
# ASCII stay out: they are a paste accident, never a real mailbox.
_ATEXT_SYMBOLS = frozenset("!#$%&'*+/=?^_`{|}~-")
_DOMAIN_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_NOT_IN_BARE_ADDRESS = set(' \t\r\n<>,;:"()[]\\')


class InvalidAddress(ValueError):
    """The address cannot be delivered to. The message says why without repeating the
    whole address (it is a customer's personal data and ends up in logs)."""


def normalize_address(value: object) -> str:
    """Return `value` as one bare address in the ASCII form SMTP needs, or raise.

    A Cyrillic domain (`почта.рф`) is converted to its IDNA form (`xn--80a1acny.xn--p1ai`).
    A non-ASCII part before the @ (`иван@…`) is kept as it is: only SMTPUTF8 can carry
    it, and whether the relay offers that is known only when sending (`needs_smtputf8`).
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
    if len(local) > 64 or not _valid_local_part(local):
        raise InvalidAddress("the part before the @ is not a valid mailbox name")
    return f"{local}@{_ascii_domain(domain)}"


def needs_smtputf8(address: str) -> bool:
    """True for a normalized address with non-ASCII letters before the @."""
    return not address.isascii()


def _valid_local_part(local: str) -> bool:
    if local.isascii():
        return _LOCAL_PART.match(local) is not None
    atoms = local.split(".")
    return all(atom and all(ch.isalnum() or ch in _ATEXT_SYMBOLS for ch in atom)
               for atom in atoms)


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


__all__ = ["InvalidAddress", "domain_of", "mask_address", "needs_smtputf8", "normalize_address"]
