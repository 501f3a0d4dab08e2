"""Why a request is refused (reasons) and what a human should look at (flags).

Codes are stable: the API, Redmine notes and metrics key on them. Reason codes:

- ``missing_field``: a demanded field is empty. ``field`` is its path; for an "any of"
  group (e.g. email or phone) ``field`` is the group's common parent ("contact") and
  ``params["fields"]`` lists the alternatives (comma-separated), ``params["rule"]`` is
  ``any_of``.
- ``invalid_inn``: the INN is not 10/12 digits, fails its checksum, or is all zeros
  (``params["rule"]``: ``format`` | ``length`` | ``checksum`` | ``zeros``).
- ``invalid_email``: not an address of the form local@domain.tld.
- ``invalid_phone``: not a phone number libphonenumber can read (see `contacts`).
- ``invalid_choice``: ``type``/``impact`` holds a value outside its list
  (``params["allowed"]``).
- ``unsupported_product``: the product is not in the regulation's list (AR-2, ID-2).
- ``unsupported_version``: the version is not served; ``params["rule"]`` says why:
  ``range`` (outside the supported specifier set), ``prerelease`` (beta/RC not allowed),
  ``end_of_support`` (its line's support ended before the request date, AR-7, AS-6),
  ``not_current`` (the product is served in its current version only, ID-2).
- ``unknown_version``: the version text cannot be read as a version at all.
- ``demo_already_used``: a demo period started less than a year ago (ID-4).

Flag codes (never a refusal, for a human to judge):

- ``rudeness``: rude or obscene words (AR-7, ID-7); ``params["words"]`` lists them.
- ``ignored_invalid_value``: an optional field holds an invalid value; it was kept as
  written and not used (``params["code"]`` is the reason code it would have had).
- ``from_free_text``: a field no field or labelled line gave was read from the free
  text (``params["value"]`` as written, ``params["where"]``: text or signature, and the
  line); an engineer should check it.
- ``no_sender_address``: not raised by the gate but by the plan, for a request that came
  by email with no address to answer (Redmine's mail handler filed it as Anonymous).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any


class ReasonCode(StrEnum):
    """Stable machine-readable refusal codes (see the module docstring)."""

    MISSING_FIELD = "missing_field"
    INVALID_INN = "invalid_inn"
    INVALID_EMAIL = "invalid_email"
    INVALID_PHONE = "invalid_phone"
    INVALID_CHOICE = "invalid_choice"
    UNSUPPORTED_PRODUCT = "unsupported_product"
    UNSUPPORTED_VERSION = "unsupported_version"
    UNKNOWN_VERSION = "unknown_version"
    DEMO_ALREADY_USED = "demo_already_used"


class FlagCode(StrEnum):
    """Stable codes of flags: things a human should look at; never a refusal."""

    RUDENESS = "rudeness"
    IGNORED_INVALID_VALUE = "ignored_invalid_value"
    FROM_FREE_TEXT = "from_free_text"
    NO_SENDER_ADDRESS = "no_sender_address"


def _frozen(params: Mapping[str, str] | None) -> Mapping[str, str]:
    return MappingProxyType(dict(params or {}))


@dataclass(frozen=True, slots=True)
class Reason:
    """One problem that keeps a request out of work.

    `params` holds the raw values the message was made from (dates in ISO form), so a
    caller can re-render or localise without parsing `message`.
    """

    code: ReasonCode
    field: str
    message: str
    # `dataclasses.field`: the bare name is this class's own `field` attribute here.
    params: Mapping[str, str] = dataclasses.field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", _frozen(self.params))

    @property
    def rule(self) -> str | None:
        """The sub-rule (e.g. `end_of_support`), when the code has several."""
        return self.params.get("rule")

    def to_dict(self) -> dict[str, Any]:
        return {"code": str(self.code), "field": self.field, "message": self.message,
                "params": dict(self.params)}


@dataclass(frozen=True, slots=True)
class Flag:
    """Something a human should look at (e.g. rude words); never a reason to refuse."""

    code: FlagCode
    field: str
    message: str
    # `dataclasses.field`: the bare name is this class's own `field` attribute here.
    params: Mapping[str, str] = dataclasses.field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", _frozen(self.params))

    def to_dict(self) -> dict[str, Any]:
        return {"code": str(self.code), "field": self.field, "message": self.message,
                "params": dict(self.params)}
