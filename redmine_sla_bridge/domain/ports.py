"""What the core expects of the outside world, and the failures it may answer with.

The adapters raise these; the service layer decides on them (retry everything, retry
one issue, dead-letter). Defined here, at the bottom, so that both sides can name them
without the service importing an adapter.
"""

from __future__ import annotations


class RedmineError(Exception):
    pass


class RedmineUnavailable(RedmineError):
    """Redmine did not answer usefully; the same call may succeed later."""


class RedmineRejected(RedmineError):
    """Redmine refused the call (4xx); `status` and `detail` say why."""

    def __init__(self, status: int | None, detail: str) -> None:
        self.status = status
        self.detail = detail
        super().__init__(f"Redmine refused the call ({status}): {detail}")


class NotManageable(Exception):
    """The issue cannot be handled until an admin acts (e.g. fields not enabled)."""
