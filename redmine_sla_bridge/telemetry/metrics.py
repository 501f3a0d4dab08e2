"""Prometheus metrics of the bridge (prometheus-client).

Under gunicorn every worker is its own process: `serve` sets PROMETHEUS_MULTIPROC_DIR
before any worker imports this module, so the counters are summed across workers at
scrape time (`/metrics` uses the multiprocess collector when that variable is set).
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

EVENTS_RECEIVED = Counter("bridge_events_received_total", "Events stored in the inbox.",
                          ["source"])
EVENTS_DUPLICATE = Counter("bridge_events_duplicate_total", "Deliveries dropped as repeats.",
                           ["source"])
EVENTS_PROCESSED = Counter("bridge_events_processed_total", "Events processed, by outcome.",
                           ["action"])
EVENTS_RETRIED = Counter("bridge_events_retried_total", "Events put back for a later retry.")
EVENTS_DEAD = Counter("bridge_events_dead_total", "Events given up on (dead letters).")
PROCESSING_SECONDS = Histogram(
    "bridge_event_processing_seconds", "Time to process one event, Redmine calls included.",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
INBOX_COMMIT_EVENTS = Histogram(
    "bridge_inbox_commit_events", "Events written per inbox commit (one fsync): concurrent "
    "webhooks share a commit.", buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256))
REDMINE_CALLS = Counter("bridge_redmine_calls_total", "Calls to Redmine's API.", ["method"])
REDMINE_ERRORS = Counter("bridge_redmine_errors_total", "Failed calls to Redmine.", ["kind"])
SLA_TRANSITIONS = Counter("bridge_sla_transitions_total",
                          "SLA states entered by time (sweep), by tier.", ["state", "tier"])
FIELDS_REVERTED = Counter("bridge_fields_reverted_total",
                          "Bridge-owned or protected fields someone else changed, put back.",
                          ["field"])
MAIL_MESSAGES = Counter(
    "bridge_mail_messages_total", "Support-mailbox messages handled, by outcome (filed, "
    "noted, duplicate, automatic, own, rate_limited, too_large, refused, unreadable).",
    ["outcome"])
MAIL_ATTACHMENTS_OVERSIZED = Counter(
    "bridge_mail_attachments_oversized_total",
    "Email attachments over Redmine's size limit, named in a note instead.")
NOTICES_UNSENT = Counter(
    "bridge_notices_unsent_total", "Notices not sent because an emailed request has no "
    "address to answer (Redmine's mail handler filed it as Anonymous); flagged for staff.",
    ["kind"])
INBOX_PENDING = Gauge("bridge_inbox_pending", "Events waiting in the inbox.",
                      multiprocess_mode="livemax")
# Tier, priority and state are the config's vocabularies (tiers, priority levels, the five
# SLA states) or "-": the label sets stay bounded, whatever Redmine's issues hold.
SLA_OUTCOMES = Counter(
    "bridge_sla_outcomes_total", "Requests whose SLA state the bridge set to met (every "
    "target met) or breached (a target missed), by tier and SLA priority.",
    ["outcome", "tier", "priority"])
# Set by the sweep, which only the leader runs: the most recent value of a live worker is
# the one a scrape reports, whichever worker answers it.
OPEN_REQUESTS = Gauge("bridge_open_requests", "Open requests by SLA state and tier, as the "
                      "last sweep saw them.", ["state", "tier"],
                      multiprocess_mode="livemostrecent")
_open_labels: set[tuple[str, str]] = set()


def set_open_requests(counts: dict[tuple[str, str], int]) -> None:
    """The open requests of one whole sweep, by (state, tier): a state that emptied since
    the last sweep is set to 0 rather than left at its old count."""
    for labels in _open_labels - set(counts):
        OPEN_REQUESTS.labels(*labels).set(0)
    for labels, count in counts.items():
        OPEN_REQUESTS.labels(*labels).set(count)
    _open_labels.update(counts)


def render() -> tuple[bytes, str]:
    """The exposition text for `/metrics`."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    from prometheus_client import REGISTRY

    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
