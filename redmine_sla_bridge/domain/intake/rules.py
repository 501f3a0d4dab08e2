"""The intake policy of one regulation, as plain values (the config builds it)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from redmine_sla_bridge.domain.intake.description import DEFAULT_LABELS, LABELLED_PATHS
from redmine_sla_bridge.domain.intake.language import RudeLexicon
from redmine_sla_bridge.domain.intake.messages import MessageCatalog
from redmine_sla_bridge.domain.intake.products import ProductRule
from redmine_sla_bridge.domain.intake.request import FIELD_PATHS


@dataclass(frozen=True, slots=True)
class AnyOf:
    """At least one of `fields` must be given and valid (e.g. email or phone: AR-1's
    "contact data"). With `first_request_only`, known contacts need not (ID-6, ID-7)."""

    fields: tuple[str, ...]
    first_request_only: bool = False


@dataclass(frozen=True, slots=True)
class IntakeRules:
    """What a request must contain under one regulation.

    - `required`: field paths demanded on every request;
    - `first_request_only`: paths demanded only while the contact is unknown (ID-6);
    - `any_of`: groups of which one member suffices;
    - `products`: served products (empty: any product, no version policy);
    - `demo_once_per_days`: the demo rule's window (ID-4, see `demo`);
    - `parse_description`: read labelled lines ("ИНН: ...") from the description;
    - `read_free_text`: then fill the fields still empty from the free text («версия
      7.2», the signature; `free_text`), flagged for the engineer;
    - `labels`, `rudeness`, `messages`: the parser's labels, the rude word list, texts.
    """

    required: tuple[str, ...] = ()
    first_request_only: tuple[str, ...] = ()
    any_of: tuple[AnyOf, ...] = ()
    products: tuple[ProductRule, ...] = ()
    demo_once_per_days: int = 365
    parse_description: bool = True
    read_free_text: bool = True
    labels: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_LABELS),
                                                  hash=False)
    rudeness: RudeLexicon = field(default_factory=RudeLexicon)
    messages: MessageCatalog = field(default_factory=MessageCatalog, hash=False)

    def __post_init__(self) -> None:
        for path in (*self.required, *self.first_request_only,
                     *(p for group in self.any_of for p in group.fields)):
            if path not in FIELD_PATHS:
                raise ValueError(f"unknown field path {path!r}; known: {', '.join(FIELD_PATHS)}")
        if both := set(self.required) & set(self.first_request_only):
            raise ValueError(f"{sorted(both)} are both always and first-request-only required")
        owners: dict[str, str] = {}
        for path, names in self.labels.items():
            if path not in LABELLED_PATHS:
                raise ValueError(f"labels for unknown field path {path!r}")
            for name in names:
                key = " ".join(name.lower().split())
                if owners.setdefault(key, path) != path:
                    raise ValueError(f"label {name!r} is given to both {owners[key]!r} "
                                     f"and {path!r}")
        seen: dict[str, str] = {}
        for product in self.products:
            for key in product.keys():  # noqa: SIM118 - ProductRule.keys() is a tuple, not a dict's keys
                if seen.setdefault(key, product.name) != product.name:
                    raise ValueError(f"product name {key!r} is used by both "
                                     f"{seen[key]!r} and {product.name!r}")
        if self.demo_once_per_days < 1:
            raise ValueError("demo_once_per_days must be at least 1")
