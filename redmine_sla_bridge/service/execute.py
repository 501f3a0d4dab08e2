"""Apply a plan: the thin "doing" half of issue processing.

Order matters for what a crash can cost. Mail is queued before Redmine is written, so
a crash after the write cannot lose it (its key makes the re-run that follows queue it
no second time); effect keys are recorded after the write, so an update Redmine never
took is planned again rather than forgotten.
"""

from __future__ import annotations

import datetime as dt
import logging

from redmine_sla_bridge.domain.processing import IssueUpdate
from redmine_sla_bridge.service.bridge import Bridge

log = logging.getLogger(__name__)


def execute(bridge: Bridge, update: IssueUpdate, now: dt.datetime) -> None:
    for warning in update.warnings:
        log.warning(warning, extra={"issue_id": update.issue_id})
    notifier = bridge.notifier
    if notifier is not None:
        for mail in update.mails:
            notifier.queue(mail.key, mail.to, mail.subject, mail.body, now, issue_id=update.issue_id)
    bridge.redmine.apply(update)
    for key in update.remember:
        bridge.store.remember(key, now)
