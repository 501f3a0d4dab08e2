"""Fixtures shared by the integration tests."""

from __future__ import annotations

import pytest

from tests.notify.notify_testing import SmtpServer, free_port


@pytest.fixture()
def smtp():
    """The customers' mail server (a real aiosmtpd on a free port) for the bridge's notices."""
    server = SmtpServer(free_port()).start()
    yield server
    server.stop()
