"""Checking `store.url` when the config is loaded, not when the store is first opened.

A URL SQLAlchemy cannot parse, a database the store does not support or a driver that
is not installed used to pass `check-config` and then fail `sync` or `serve` with a
traceback. Messages never repeat the URL: it usually carries a password.
"""

from __future__ import annotations

BACKENDS = ("sqlite", "postgresql")

_EXAMPLES = ("sqlite:///bridge.sqlite3 (a file next to the config) or "
             "postgresql+psycopg://user:password@host/database")


def check_store_url(value: str) -> str:
    """`value` trimmed, or a ValueError saying what to write instead."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    text = value.strip()
    try:
        url = make_url(text)
    except (ArgumentError, ValueError, TypeError):
        raise ValueError(f"not a database URL; write {_EXAMPLES}") from None
    # From the text: URL.get_backend_name() loads the dialect, and fails for unknown ones.
    backend, _, driver = url.drivername.partition("+")
    if backend not in BACKENDS:
        raise ValueError(f"the store cannot use a {backend!r} database; write {_EXAMPLES}")
    try:
        dialect = url.get_dialect()
        driver = driver or url.get_driver_name()
    except NoSuchModuleError:
        raise ValueError(f"unknown {backend} driver {driver!r}; write {_EXAMPLES}") from None
    if getattr(dialect, "is_async", False):
        raise ValueError(f"the {driver!r} driver is asynchronous and the store is not; "
                         f"write {_EXAMPLES}")
    try:
        dialect.import_dbapi()
    except ImportError:
        hint = (" (pip install 'redmine-sla-bridge[postgres]' installs psycopg)"
                if backend == "postgresql" else "")
        raise ValueError(f"the {backend} driver {driver!r} is not installed{hint}; install it, "
                         f"or write {_EXAMPLES}") from None
    return text


__all__ = ["BACKENDS", "check_store_url"]
