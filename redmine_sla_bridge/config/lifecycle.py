"""Config of what happens to a request over time (`lifecycle` in the YAML).

```yaml
lifecycle:
  sweep_interval_seconds: 30       # default: 30 with sweep.fast, 300 without
  escalation:                        # when the SLA clock gets worse
    at_risk: {private_note: true, add_watchers: [lead], raise_priority: High}
    breached: {private_note: true, assign_to: Anna Lead, raise_priority: Urgent}
    staff_calendar: office           # actions wait for its working time (default: at once)
    at_once_for: [P1]                # SLA priorities escalated at any hour
  development:                       # AR-8, ID-9: handed to the developers
    statuses: [In Progress]          # and/or
    assignees: [Development]         # a group or user the issue is assigned to
    expected_term: 10d
    calendar: moscow
  auto_close:                        # AR-6, ID-10, BA-8
    - name: ID-10
      from_statuses: [Feedback]
      idle_since: support_answer     # customer_message | support_answer | status_change
      after: 14d
      calendar: 24x7
      to_status: Closed
      even_if_customer_waits: false
      remind_at: 0.5                 # one reminder halfway through the idle period
  customer_reply:                    # what a requester's reply does
    - {from_statuses: [Feedback], to_status: In Progress}
    - {from_statuses: [Closed], to_status: New, within: 30d, calendar: 24x7}
  time_accounting:                   # BA-9
    minimum_minutes: 30
    activity: Support
  one_request_at_a_time: true        # ID-8: a contact's later requests wait their turn
  needs_decision:                    # ID-1, AR-7: the head of support decides
    assign_to: Head of support
    deciders: [Dmitry Khomutov]
    tiers: [none]
  extension:                         # BA-7 / BA-10: an agreed new resolution term
    reasons: [Not reproducible, Too little information]
```
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from redmine_sla_bridge.config.base import StrictModel
from redmine_sla_bridge.config.types import DurationText, Text, parse_duration
from redmine_sla_bridge.domain.lifecycle import rules


class EscalationAction(StrictModel):
    """Done once when an issue enters the state (all optional, combined in one update)."""

    private_note: bool = Field(default=True, description="Tell the staff in a private note.")
    add_watchers: list[Text] = Field(
        default_factory=list,
        description="Members of the issue's project to add as watchers, by name as Redmine shows it.")
    assign_to: Text | None = Field(
        default=None, description="Member (user or group name, as Redmine shows it) to assign to.")
    raise_priority: Text | None = Field(
        default=None, description="Redmine priority name to raise to (never lowers it)."
    )


class EscalationConfig(StrictModel):
    at_risk: EscalationAction | None = Field(default_factory=EscalationAction)
    breached: EscalationAction | None = Field(default_factory=EscalationAction)
    staff_calendar: Text | None = Field(
        default=None,
        description="Calendar of the staff's working time: outside it the SLA state is "
        "still written at once, but the escalation actions (note, watchers, assignee, "
        "priority) wait for the first pass inside it. Default: at once, at any hour.")
    at_once_for: list[Text] = Field(
        default_factory=list,
        description="SLA priorities (policy.priority levels, e.g. P1) escalated at once "
        "whatever the staff calendar says.")


class DevelopmentConfig(StrictModel):
    """AR-8/ID-9: when support hands an issue to development, the customer is told the
    approximate term in a public note (once per hand-over)."""

    statuses: list[Text] = Field(default_factory=list)
    assignees: list[Text] = Field(default_factory=list, description="Group or user names.")
    expected_term: DurationText = "10d"
    calendar: Text | None = Field(default=None, description="Default: the policy's calendar.")

    @model_validator(mode="after")
    def _something_to_match(self) -> DevelopmentConfig:
        if not self.statuses and not self.assignees:
            raise ValueError("name at least one of `statuses` or `assignees`")
        if parse_duration(self.expected_term) is None:
            raise ValueError("expected_term cannot be unlimited: the customer is told a date")
        return self


class AutoCloseRule(StrictModel):
    name: Text = Field(description="Shown in logs and notes, e.g. the rule ID AR-6.")
    from_statuses: list[Text] = Field(min_length=1)
    idle_since: Literal["customer_message", "support_answer", "status_change"]
    after: DurationText
    calendar: Text = Field(default="24x7", description="24x7: calendar time; else working time.")
    to_status: Text = "Closed"
    even_if_customer_waits: bool = Field(
        default=False,
        description="Close even when the last public word is the customer's unanswered one.",
    )
    remind_at: float | None = Field(
        default=None, gt=0, lt=1,
        description="Remind the customer once (public note + email) when this share of "
        "the idle period has passed on `calendar`, e.g. 0.5 = halfway: when the request "
        "closes and that a reply keeps it open. Default: no reminder.")

    @model_validator(mode="after")
    def _limited(self) -> AutoCloseRule:
        if parse_duration(self.after) is None:
            raise ValueError("`after` cannot be unlimited (leave the rule out instead)")
        return self

    def to_domain(self) -> rules.AutoClose:
        after = parse_duration(self.after)
        assert after is not None  # _limited refuses an unlimited `after`
        return rules.AutoClose(self.name, frozenset(self.from_statuses), self.idle_since,
                               after, self.calendar, self.to_status,
                               self.even_if_customer_waits)


class CustomerReplyRule(StrictModel):
    from_statuses: list[Text] = Field(min_length=1)
    to_status: Text
    within: DurationText | None = Field(
        default=None,
        description="Only within this long after the issue entered the status; later "
        "replies get a note asking for a new request. Default: always.",
    )
    calendar: Text = "24x7"

    def to_domain(self) -> rules.CustomerReply:
        within = parse_duration(self.within) if self.within else None
        return rules.CustomerReply(frozenset(self.from_statuses), self.to_status, within,
                                   self.calendar)


class TimeAccountingConfig(StrictModel):
    """BA-9: every public answer of support is accounted at least this long."""

    minimum_minutes: int = Field(default=30, ge=1, le=24 * 60)
    activity: Text = Field(description="Redmine time entry activity name, e.g. Support.")


class NeedsDecisionConfig(StrictModel):
    """ID-1 "на усмотрение руководителя", AR-7 off-topic: never refused automatically.
    The request gets SLA state "needs decision", is assigned to the lead with a private
    note, and the lead sets the lead-decision field to serve or refuse; the bridge then
    tells the customer once (the acknowledgement with its terms, or the refusal)."""

    assign_to: Text | None = Field(
        default=None, description="The lead (user or group name, as Redmine shows it) the "
        "request is assigned to while it waits. Default: not reassigned.")
    deciders: list[Text] = Field(
        default_factory=list,
        description="Users (names as Redmine shows them) whose serve/refuse the bridge "
        "applies; anyone else's is put back with a private note. Default: whoever Redmine "
        "lets edit the field (restrict it in Administration > Workflow > Fields permissions).")
    tiers: list[Text] = Field(
        default_factory=list,
        description="Tiers the lead decides at intake (ID-1: no subscription). An "
        "engineer may ask for a decision on any accepted request by setting the field to "
        "needed (AR-7 off-topic).")


class ExtensionConfig(StrictModel):
    """BA-7 / BA-10: the engineer records why the term cannot be met (the reason field,
    one of `reasons`) and the expected new term (YYYY-MM-DD HH:MM); the customer is told
    both once, and the resolution target becomes the agreed term (SLA state extended,
    breached only when that is missed)."""

    reasons: list[Text] = Field(min_length=1, description="The list field's values.")


InputField = Literal["contact_name", "contact_email", "contact_phone", "contact_position",
                     "organization", "inn", "product", "product_version", "request_type",
                     "impact", "contract_number"]

DEFAULT_PEOPLE_MAY_CHANGE: tuple[InputField, ...] = (
    "contact_name", "contact_email", "contact_phone", "contact_position", "product_version",
    "request_type", "impact", "contract_number")


class LifecycleConfig(StrictModel):
    sweep_interval_seconds: int | None = Field(
        default=None, ge=10, le=86400,
        description="How often the sweep writes the SLA states that change with time alone "
        "(at risk, breached), the escalations and auto-close. A change is written at most "
        "this interval plus one pass after its instant. Default: 30 s with the fast pass "
        "(`sweep.fast`, 2 page requests a pass), 300 s without it (every pass reads every "
        "open issue).")
    people_may_change: list[InputField] = Field(
        default_factory=lambda: list(DEFAULT_PEOPLE_MAY_CHANGE),
        description="Intake fields people may change once the request is taken in (the "
        "change recomputes, e.g. BA-5: the impact may change later). Every other intake "
        "field (by default the organization, the INN and the product, which decide the "
        "tier and the targets) is put back with a private note naming who changed it, as "
        "every SLA field is.")
    escalation: EscalationConfig = Field(default_factory=EscalationConfig)
    development: DevelopmentConfig | None = None
    auto_close: list[AutoCloseRule] = Field(default_factory=list)
    customer_reply: list[CustomerReplyRule] = Field(default_factory=list)
    time_accounting: TimeAccountingConfig | None = None
    one_request_at_a_time: bool = Field(
        default=False,
        description="ID-8: a contact's (by email) further open request is queued (SLA state "
        "queued, position in a private note, the customer told it waits its turn) and its "
        "clock starts when every earlier one is done.")
    needs_decision: NeedsDecisionConfig | None = None
    extension: ExtensionConfig | None = None
    flag_questions_from: int | None = Field(
        default=None, ge=2,
        description="BA-3 / ID-8 one problem (question) per request: a request whose "
        "description asks at least this many questions gets a private note for the "
        "engineer at acceptance, never a refusal. Default: no flag.")

    def auto_close_rules(self) -> tuple[rules.AutoClose, ...]:
        return tuple(r.to_domain() for r in self.auto_close)

    def reply_rules(self) -> tuple[rules.CustomerReply, ...]:
        return tuple(r.to_domain() for r in self.customer_reply)

    def close_reminders(self) -> tuple[tuple[rules.AutoClose, float], ...]:
        return tuple((r.to_domain(), r.remind_at) for r in self.auto_close if r.remind_at is not None)

    @model_validator(mode="after")
    def _reminders_tell_the_truth(self) -> LifecycleConfig:
        """The reminder says a reply keeps the request open: true when the reply restarts
        the idle time (customer_message), stops the close (a waiting customer is not
        closed over) or moves the issue out (a customer_reply rule)."""
        covered = {s for r in self.customer_reply for s in r.from_statuses}
        for rule in self.auto_close:
            if rule.remind_at is None or rule.idle_since == "customer_message":
                continue
            uncovered = sorted(set(rule.from_statuses) - covered)
            if rule.even_if_customer_waits and uncovered:
                raise ValueError(
                    f"auto_close {rule.name}: remind_at tells the customer a reply keeps the "
                    f"request open, but with even_if_customer_waits and no customer_reply "
                    f"rule for {', '.join(uncovered)} a reply would not stop the close")
        return self

    def referenced_calendars(self) -> frozenset[str]:
        names = {r.calendar for r in self.auto_close} | {r.calendar for r in self.customer_reply}
        if self.escalation.staff_calendar:
            names.add(self.escalation.staff_calendar)
        if self.development is not None and self.development.calendar:
            names.add(self.development.calendar)
        return frozenset(names)
