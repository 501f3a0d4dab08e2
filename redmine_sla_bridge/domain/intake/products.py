"""Supported products (AR-2, ID-2) and how a written product name is matched to one."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from redmine_sla_bridge.domain.intake.versions import VersionPolicy

_NOISE = re.compile(r"[\s\-\u2010-\u2015_«»\"'“”„]+")


def product_key(name: str) -> str:
    """The form names are compared in: case-folded, "ё" read as "е", and quotes, dashes
    and runs of whitespace collapsed to one space, so "Контент-фильтр  ИКС",
    "контент фильтр икс" and "«Контент-фильтр ИКС»" are one product."""
    return _NOISE.sub(" ", name.casefold().replace("ё", "е")).strip()


@dataclass(frozen=True, slots=True)
class ProductRule:
    """A served product: its canonical `name`, other names it is written as, and which
    of its versions are served (None: any version)."""

    name: str
    aliases: tuple[str, ...] = ()
    versions: VersionPolicy | None = None

    def keys(self) -> tuple[str, ...]:
        return tuple(product_key(n) for n in (self.name, *self.aliases))


def match_product(written: str, products: Iterable[ProductRule]) -> ProductRule | None:
    """The product whose name or alias matches `written`, or None."""
    key = product_key(written)
    for product in products:
        if key in product.keys():  # noqa: SIM118 - ProductRule.keys() is a tuple, not a dict's keys
            return product
    return None
