"""The request's priority, in one of three ways a regulation may define it.

* tier   - priority follows the customer's tier (AR-3: queue order follows the tier).
* impact - priority is the impact stated on the request (BA-5: P1 product down ...
           P4 enhancement wanted), with a default when the field is empty.
* matrix - a tier x impact table, for contracts where both matter.

Independently, a request can be of *high criticality* (RB-4: restoring critical services
or account access): it is handled out of turn and its targets may run on a 24x7 calendar.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import TypeVar

_K = TypeVar("_K")
_V = TypeVar("_V")


class PriorityMode(StrEnum):
    TIER = "tier"
    IMPACT = "impact"
    MATRIX = "matrix"


def _folded(values: Iterable[str]) -> frozenset[str]:
    return frozenset(v.strip().casefold() for v in values)


@dataclass(frozen=True, slots=True)
class HighCriticality:
    """RB-4: which requests are of high criticality.

    A request is when its impact is in `impacts` or its type (tracker / request-type
    field) is in `request_types`; compared without case. `priority`, if set, replaces the
    computed priority of such a request: "out of turn" means the top of the queue.
    """

    impacts: frozenset[str] = frozenset()
    request_types: frozenset[str] = frozenset()
    priority: str | None = None

    def matches(self, impact: str | None, request_type: str | None) -> bool:
        if impact is not None and impact.strip().casefold() in _folded(self.impacts):
            return True
        return request_type is not None and request_type.strip().casefold() in _folded(
            self.request_types
        )


@dataclass(frozen=True, slots=True)
class PriorityResult:
    """The priority of one request and why."""

    priority: str
    impact: str | None
    redmine_priority: str | None
    high_criticality: bool
    reason: str


def _frozen(mapping: Mapping[_K, _V]) -> Mapping[_K, _V]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True, slots=True)
class PriorityPolicy:
    """How the priority is chosen.

    `levels` are the regulation's priorities, highest first (e.g. P1..P4, or
    high/normal/low). `impacts` are the values the request's impact field may hold; they
    default to `levels` because regulations such as BA-5 name impacts by priority.
    `redmine` maps a level onto the name of a Redmine priority (P1 -> "Immediate"); a
    level left out leaves Redmine's own priority alone.
    """

    mode: PriorityMode
    levels: tuple[str, ...]
    impacts: tuple[str, ...] | None = None
    default_impact: str | None = None
    from_tier: Mapping[str, str] = field(default_factory=dict)
    matrix: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    redmine: Mapping[str, str] = field(default_factory=dict)
    high_criticality: HighCriticality = HighCriticality()

    def __post_init__(self) -> None:
        object.__setattr__(self, "from_tier", _frozen(self.from_tier))
        object.__setattr__(
            self, "matrix", _frozen({t: _frozen(row) for t, row in self.matrix.items()})
        )
        object.__setattr__(self, "redmine", _frozen(self.redmine))
        if not self.levels:
            raise ValueError("at least one priority level is needed")
        if self.default_impact is not None and self.default_impact not in self.impact_names:
            raise ValueError(
                f"default_impact {self.default_impact!r} is not one of {self.impact_names}"
            )
        if self.mode in (PriorityMode.IMPACT, PriorityMode.MATRIX) and self.default_impact is None:
            raise ValueError(
                f"priority mode {self.mode} needs a default_impact for requests without one"
            )
        used = list(self.from_tier.values()) + [
            p for row in self.matrix.values() for p in row.values()
        ]
        if self.high_criticality.priority is not None:
            used.append(self.high_criticality.priority)
        unknown = sorted({p for p in used if p not in self.levels})
        if unknown:
            raise ValueError(f"priorities {unknown} are not among the levels {list(self.levels)}")
        if self.mode is PriorityMode.IMPACT and not set(self.impact_names) <= set(self.levels):
            raise ValueError("in impact mode every impact must be a priority level")

    @property
    def impact_names(self) -> tuple[str, ...]:
        return self.levels if self.impacts is None else self.impacts

    def normalize_impact(self, impact: str | None) -> str | None:
        """The declared spelling of a stated impact ("p1 " -> "P1"), None if not declared."""
        if impact is None:
            return None
        wanted = impact.strip().casefold()
        return next((name for name in self.impact_names if name.casefold() == wanted), None)

    def resolve(
        self, tier: str, impact: str | None, request_type: str | None = None
    ) -> PriorityResult:
        """The priority for a request of this tier with this stated impact and type.

        Never fails on bad request data: an unrecognised or missing impact falls back to
        `default_impact` and the reason says so (the engineer fixes the field, the
        request still gets a deadline). A tier missing from `from_tier`/`matrix` is a
        config error that the config loader rejects up front.
        """
        stated = self.normalize_impact(impact)
        notes: list[str] = []
        if stated is None and self.default_impact is not None:
            if impact is not None and impact.strip():
                notes.append(
                    f"impact {impact!r} not recognised, default {self.default_impact} used"
                )
            elif self.mode is not PriorityMode.TIER:
                notes.append(f"no impact stated, default {self.default_impact} used")
            stated = self.default_impact

        if self.mode is PriorityMode.TIER:
            priority = self.from_tier[tier]
            how = f"priority {priority}: from tier {tier}"
        elif self.mode is PriorityMode.IMPACT:
            assert stated is not None  # default_impact is mandatory in this mode
            priority = stated
            how = f"priority {priority}: from impact {stated}"
        else:
            assert stated is not None
            priority = self.matrix[tier][stated]
            how = f"priority {priority}: matrix[{tier}][{stated}]"

        critical = self.high_criticality.matches(impact, request_type)
        if critical:
            notes.append("high criticality")
            if (
                self.high_criticality.priority is not None
                and self.high_criticality.priority != priority
            ):
                priority = self.high_criticality.priority
                how = f"priority {priority}: high criticality"
        reason = how + (f" ({'; '.join(notes)})" if notes else "")
        return PriorityResult(priority, stated, self.redmine.get(priority), critical, reason)
