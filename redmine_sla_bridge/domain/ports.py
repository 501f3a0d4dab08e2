"""What the core expects of the outside world, and the failures it may answer with.

The adapters raise these; the service layer decides on them (retry everything, retry
one issue, dead-letter). Defined here, at the bottom, so that both sides can name them
without the service importing an adapter.
"""

from __future__ import annotations


class RedmineError(Exception):
    pass


class RedmineUnavailable(RedmineError):
    """Redmine did not answer usefully; the same call may succeed later.

    `status` is the HTTP status Redmine (or a proxy in front of it) answered with, e.g.
    500, 502 or 401; None when no answer came at all (connection refused or reset,
    timeout, DNS). With a status, Redmine may be fine and only this call failing (one
    broken issue); without one, nothing can reach it.
    """

    def __init__(self, message: str = "", *, status: int | None = None) -> None:
        self.status = status
        super().__init__(message)

    @property
    def unreachable(self) -> bool:
        """True when no HTTP answer came: every call would fail the same way now."""
        return self.status is None


class RedmineRejected(RedmineError):
    """Redmine refused the call (4xx); `status` and `detail` say why."""

    def __init__(self, status: int | None, detail: str) -> None:
        self.status = status
        self.detail = detail
        super().__init__(f"Redmine refused the call ({status}): {detail}")


class NotManageable(Exception):
    """The issue cannot be handled until an admin acts (e.g. fields not enabled)."""
