"""Apply a plan: the thin "doing" half of issue processing.

Order matters for what a failure can cost. Mail is recorded before Redmine is written,
on hold, so a crash after the write cannot lose it (its key makes the re-run that
follows record it no second time), and released only once Redmine took the update: a
refused update sends nothing. Effect keys are recorded after the write, so an update
Redmine never took is planned again rather than forgotten.
"""

from __future__ import annotations

import datetime as dt
import logging

from redmine_sla_bridge.domain.ports import NotManageable, RedmineRejected
from redmine_sla_bridge.domain.processing import IssueUpdate
from redmine_sla_bridge.service.bridge import Bridge
from redmine_sla_bridge.telemetry import metrics

log = logging.getLogger(__name__)

MAIL_HOLD = dt.timedelta(hours=6)
"""How long a notice waits for its update before it goes out anyway. Reached only when
the process died between applying an update and releasing its mail: the customer is
then told late rather than never. A Redmine outage longer than this would let a notice
out before its note; the retries (up to 10 min apart) make that unlikely."""


def execute(bridge: Bridge, update: IssueUpdate, now: dt.datetime) -> None:
    for warning in update.warnings:
        log.warning(warning, extra={"issue_id": update.issue_id})
    for key in update.reverted:
        metrics.FIELDS_REVERTED.labels(key).inc()
        log.warning("a field the bridge maintains was changed by someone else; put back",
                    extra={"issue_id": update.issue_id, "field": key})
    for kind in update.unsent:
        metrics.NOTICES_UNSENT.labels(kind).inc()
        log.warning("the %s notice of #%d has no address: the request came by email without "
                    "a sender address; flagged for staff", kind, update.issue_id,
                    extra={"issue_id": update.issue_id, "notice": kind,
                           "event": "notice_unsent"})
    notifier = bridge.notifier
    mails = update.mails if notifier is not None else ()
    for mail in mails:
        assert notifier is not None
        notifier.queue(mail.key, mail.to, mail.subject, mail.body, now,
                       issue_id=update.issue_id, hold=MAIL_HOLD)
    try:
        bridge.redmine.apply(update)
    except (RedmineRejected, NotManageable, LookupError) as exc:
        # Retrying cannot help (the event becomes a dead letter): the customer must not
        # be told about an update that will not exist.
        for mail in mails:
            assert notifier is not None
            notifier.cancel(mail.key, f"Redmine did not take the update: {exc}")
        raise
    for mail in mails:
        assert notifier is not None
        notifier.release(mail.key, now)
    for key in update.remember:
        bridge.store.remember(key, now)
    _count_outcome(update)


def _count_outcome(update: IssueUpdate) -> None:
    """Counted once Redmine took it: a written "met" or "breached" is the bridge's
    decision on the request, by an event or the sweep (a state is only written when it
    changes). The labels are the decision's tier and priority, as the fields show them."""
    state = update.fields.get("sla_state")
    if state not in ("met", "breached"):
        return
    policy = update.decision.policy if update.decision is not None else None
    tier = update.fields.get("tier") or (policy.tier if policy else None) or "-"
    priority = update.fields.get("sla_priority") or (policy.priority if policy else None) or "-"
    metrics.SLA_OUTCOMES.labels(state, tier, priority).inc()
