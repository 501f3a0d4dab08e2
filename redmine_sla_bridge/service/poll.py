"""Polling: the source that works on any Redmine 5/6/7 with no plugin.

Issues updated since a stored cursor are enqueued like webhook deliveries. Paging is
by key (`updated_on >= cursor`, oldest first), not by a growing offset: an issue that
changes while we page moves to the end of the order instead of shifting an unseen one
past the page boundary. Each (issue, updated_on) is one delivery id, so the overlap of
`>=` never enqueues the same version twice.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from redmine_sla_bridge.service.bridge import Bridge
from redmine_sla_bridge.service.inbox import enqueue_issue

CURSOR = "poll.updated_on"
PAGE = 100


@dataclass
class PollReport:
    seen: int = 0
    enqueued: int = 0
    cursor: str | None = None


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def poll(bridge: Bridge, now: dt.datetime | None = None) -> PollReport:
    now = now or bridge.clock()
    store = bridge.store
    cursor = store.get_cursor(CURSOR) or _iso(now - bridge.settings.initial_lookback)
    report = PollReport()
    same_second = 0  # issues already seen whose updated_on equals the cursor
    while True:
        page = bridge.redmine.updated_since(cursor, offset=same_second, limit=PAGE)
        for issue_id, updated in page:
            report.seen += 1
            if enqueue_issue(store, "poll", issue_id, now, delivery_id=f"{issue_id}@{updated}",
                             payload=json.dumps({"updated_on": updated})):
                report.enqueued += 1
        if not page:
            break
        last = page[-1][1]
        tail = sum(1 for _, updated in page if updated == last)
        same_second = same_second + tail if last == cursor else tail
        cursor = last
        if len(page) < PAGE:
            break
    store.set_cursor(CURSOR, cursor)
    report.cursor = cursor
    return report
