"""The functional core of issue processing: a snapshot of an issue in, a plan out.

`plan` decides what an event changes, `plan_time_step` and `plan_auto_close` what the
passing of time does (the sweep); each returns an `IssueUpdate`, a value that a thin
executor applies. Nothing here does I/O, so every lifecycle rule is unit-tested in
microseconds and the real-Redmine tests check only the translation to Redmine.
"""

from redmine_sla_bridge.domain.processing.plan import (
    effect_keys,
    plan,
    plan_auto_close,
    plan_time_step,
)
from redmine_sla_bridge.domain.processing.rules import (
    DevelopmentRule,
    EscalationAction,
    ProcessingRules,
    TimeAccounting,
)
from redmine_sla_bridge.domain.processing.snapshot import (
    IssueSnapshot,
    ListedIssue,
    LoggedTime,
    Member,
)
from redmine_sla_bridge.domain.processing.update import (
    ContactLookup,
    ContactRequestsLookup,
    IssueUpdate,
    Mail,
    NewTimeEntry,
    Note,
    TimeEntriesLookup,
)

__all__ = [
    "ContactLookup", "ContactRequestsLookup", "DevelopmentRule", "EscalationAction",
    "IssueSnapshot", "IssueUpdate",
    "ListedIssue", "LoggedTime", "Mail", "Member", "NewTimeEntry", "Note", "ProcessingRules",
    "TimeAccounting", "TimeEntriesLookup", "effect_keys", "plan", "plan_auto_close",
    "plan_time_step",
]
