"""Supported products (AR-2, ID-2), their lines, and how a written product name is
matched to one.

A product is served either under one version policy (`ProductRule.versions`: the
implicit line, which holds every version and judges it) or in several lines
(`ProductRule.lines`), each with its own policy: ID-2 serves "Ideco ICS" in its current
version and its line 6 ("Ideco ICS 6"). With lines, the version chooses the line
(`ProductRule.line_for`): the line whose versions hold it. A name of the product
followed by a line's name ("Ideco ICS 6", "Ideco UTM 6"), the line's title and its
aliases name the product too (`match_product`) and, with no version to judge, the line
(`ProductRule.named_line`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from packaging.version import Version

from redmine_sla_bridge.domain.intake.versions import (
    VersionLine,
    VersionPolicy,
    common_version,
    parse_version_line,
)

_NOISE = re.compile(r"[\s\-\u2010-\u2015_«»\"'“”„]+")


def product_key(name: str) -> str:
    """The form names are compared in: case-folded, "ё" read as "е", and quotes, dashes
    and runs of whitespace collapsed to one space, so "Контент-фильтр  ИКС",
    "контент фильтр икс" and "«Контент-фильтр ИКС»" are one product."""
    return _NOISE.sub(" ", name.casefold().replace("ё", "е")).strip()


@dataclass(frozen=True, slots=True)
class ProductLine:
    """One served line of a product, with its own version policy.

    - `name`: the line's name in the config ("current", "6"); "" for the implicit line
      of a product configured without lines;
    - `title`: how the customer sees it ("Ideco ICS 6");
    - `members`: which versions belong to the line, written like a `VersionLine.text`
      ("6", "7.2", ">=6,<7"); None: every version (the implicit line);
    - `policy`: which of them are served (None: all);
    - `aliases`: more product names that name this line ("ICS 6").

    `ProductLine.of` builds an explicit line from the config's terms.
    """

    name: str
    title: str
    members: str | None = None
    policy: VersionPolicy | None = None
    aliases: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.members is not None:
            parse_version_line(self.members)

    @classmethod
    def of(cls, name: str, title: str, *, versions: str | None = None,
           current_version: str | None = None, end_of_support: dt.date | None = None,
           allow_prereleases: bool = False, aliases: Iterable[str] = ()) -> ProductLine:
        """A line holding `versions` (a line or a specifier set), or, with
        `current_version`, the current version only (ID-2 "актуальной версии"); served
        through `end_of_support` (inclusive) when given. Exactly one of the two."""
        if (versions is None) == (current_version is None):
            raise ValueError(f"line {name!r}: give either versions or current_version")
        members = current_version if current_version is not None else versions
        assert members is not None
        parse_version_line(members)
        # The line's own versions need no `supported` range: `contains` already chose them.
        policy = VersionPolicy(
            allow_prereleases=allow_prereleases,
            lines=(VersionLine(members, end_of_support),) if end_of_support else (),
            current=current_version,
        )
        return cls(name, title, members, policy, tuple(aliases))

    @property
    def is_current(self) -> bool:
        """The line of the current version only (ID-2)."""
        return self.policy is not None and self.policy.current is not None

    @property
    def end_of_support(self) -> dt.date | None:
        """The last day the whole line is served (an explicit line's own date)."""
        if self.members is None or self.policy is None:
            return None
        return next((line.end_of_support for line in self.policy.lines
                     if line.text == self.members), None)

    def names(self, product_names: Iterable[str]) -> tuple[str, ...]:
        """The names that name this line: each of `product_names` (the product's name and
        aliases) followed by the line's name ("Ideco UTM 6"), its title, its aliases."""
        derived = (f"{n} {self.name}" for n in product_names) if self.name else ()
        return tuple(dict.fromkeys((*derived, self.title, *self.aliases)))

    def contains(self, version: Version) -> bool:
        """`version` belongs to this line (pre-releases included: the policy judges them)."""
        return self.members is None or parse_version_line(self.members).contains(
            version, prereleases=True)

    def served_on(self, day: dt.date) -> bool:
        """The line's support has not ended on `day`."""
        end = self.end_of_support
        return end is None or day <= end


@dataclass(frozen=True, slots=True)
class ProductRule:
    """A served product: its canonical `name`, other names it is written as, and which
    of its versions are served: one policy for every version (`versions`; None: any
    version), or several `lines`, each with its own policy (not both)."""

    name: str
    aliases: tuple[str, ...] = ()
    versions: VersionPolicy | None = None
    lines: tuple[ProductLine, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.lines and self.versions is not None:
            raise ValueError(f"product {self.name!r}: give either one version policy or "
                             f"lines, not both")
        names = [line.name for line in self.lines]
        if "" in names or len(set(names)) != len(names):
            raise ValueError(f"product {self.name!r}: line names must be distinct and "
                             f"not empty: {names}")
        if sum(line.is_current for line in self.lines) > 1:
            raise ValueError(f"product {self.name!r}: only one line can be the current one")
        for i, line in enumerate(self.lines):
            if line.members is None:
                raise ValueError(f"product {self.name!r}: line {line.name!r} names no versions")
            for other in self.lines[:i]:
                assert other.members is not None
                if (both := lines_overlap(other.members, line.members)) is not None:
                    raise ValueError(f"product {self.name!r}: lines {other.name!r} and "
                                     f"{line.name!r} both hold version {both}")
        owners: dict[str, str] = {}
        for key, owner in self._named():
            if owners.setdefault(key, owner) != owner:
                raise ValueError(f"product {self.name!r}: the name {key!r} names both "
                                 f"{_owner(owners[key])} and {_owner(owner)}")

    def _named(self) -> list[tuple[str, str]]:
        # (key, "" for the product itself or the line's name); the product's names first.
        own = [product_key(n) for n in (self.name, *self.aliases)]
        named = [(k, "") for k in own]
        for line in self.lines:
            # A title that is the product's own name (the current line's) names the product.
            title = product_key(line.title)
            keys = dict.fromkeys(product_key(n) for n in line.names((self.name, *self.aliases)))
            named += [(k, line.name) for k in keys if k != title or title not in own]
        return named

    def keys(self) -> tuple[str, ...]:
        """Every name that names this product (its lines' names included), in `product_key`
        form."""
        return tuple(dict.fromkeys(key for key, _ in self._named()))

    @property
    def served_lines(self) -> tuple[ProductLine, ...]:
        """The configured lines, or the one implicit line of a single-policy product."""
        return self.lines or (ProductLine("", self.name, None, self.versions),)

    @property
    def has_version_policy(self) -> bool:
        return self.versions is not None or bool(self.lines)

    @property
    def current_line(self) -> ProductLine | None:
        return next((line for line in self.lines if line.is_current), None)

    def line_for(self, version: Version) -> ProductLine | None:
        """The line `version` belongs to: the implicit line for a single-policy product
        (it holds every version; its policy judges them), else the one configured line
        whose versions hold it, or None (no line serves it)."""
        return next((line for line in self.served_lines if line.contains(version)), None)

    def named_line(self, written: str) -> ProductLine | None:
        """The configured line `written` names ("Ideco ICS 6"), or None when it names
        the product only (or another product)."""
        key = product_key(written)
        name = next((owner for k, owner in self._named() if k == key), "")
        return next((line for line in self.lines if line.name == name), None) if name else None

    def titles(self) -> tuple[str, ...]:
        """How the regulation lists the product: the title of each line."""
        return tuple(dict.fromkeys(line.title for line in self.served_lines))


def lines_overlap(a: str, b: str) -> Version | None:
    """A version two lines (`VersionLine.text` forms) both hold, or None."""
    return common_version(parse_version_line(a), parse_version_line(b))


def _owner(line: str) -> str:
    return f"line {line!r}" if line else "the product"


def match_product(written: str, products: Iterable[ProductRule]) -> ProductRule | None:
    """The product whose name, alias or line name matches `written`, or None."""
    key = product_key(written)
    for product in products:
        if key in product.keys():  # noqa: SIM118 - ProductRule.keys() is a tuple, not a dict's keys
            return product
    return None
