"""Customer notices by email (ID-10, BA-6) for requesters who are not Redmine users.

The service calls `Notifier.queue` after its Redmine update (a store write only); a
scheduled job calls `Notifier.deliver_due`, which sends through SMTP, retries with
backoff and gives up after `max_attempts`. Build one with `build_notifier(config, store)`:
a `NullNotifier` when the `notify` section is missing or disabled.
"""

from .addresses import InvalidAddress, mask_address, normalize_address
from .email import NoticeContent, Sender, build_message, issue_thread_id, notice_message_id
from .notifier import (
    CHANNEL,
    DeliveryReport,
    Notifier,
    NullNotifier,
    build_notifier,
)
from .smtp import SmtpFailure, SmtpSession, SmtpTransport

__all__ = [
    "CHANNEL",
    "DeliveryReport",
    "InvalidAddress",
    "NoticeContent",
    "Notifier",
    "NullNotifier",
    "Sender",
    "SmtpFailure",
    "SmtpSession",
    "SmtpTransport",
    "build_message",
    "build_notifier",
    "issue_thread_id",
    "mask_address",
    "normalize_address",
    "notice_message_id",
]
