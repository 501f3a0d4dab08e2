"""Checking a contact's email address before anything is sent to it.

A requester types the address into a form or it comes from an email header, so it can
be anything. An address that cannot be delivered to is reported once, with the reason,
instead of being retried for hours against the SMTP server.

The rules live in `domain.addresses` so that the config checks its sender addresses
the same way; this module keeps the names the notifier and its callers import.
"""

from __future__ import annotations

from redmine_sla_bridge.domain.addresses import (
    InvalidAddress,
    domain_of,
    mask_address,
    needs_smtputf8,
    normalize_address,
)

__all__ = ["InvalidAddress", "domain_of", "mask_address", "needs_smtputf8", "normalize_address"]
