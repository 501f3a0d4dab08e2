from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from tests.conftest import unique
from tests.mail.dovecot import IMAP_PASSWORD, Dovecot
from tests.notify.notify_testing import SmtpServer, free_port


@pytest.fixture()
def dovecot():
    # Not under pytest's tmp_path: as root, Dovecot's unprivileged processes must reach it.
    root = Path(tempfile.mkdtemp(prefix="dovecot-"))
    server = Dovecot(root).start()
    yield server
    server.stop()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture()
def smtp():
    server = SmtpServer(free_port()).start()
    yield server
    server.stop()


@pytest.fixture()
def requester(gateway, project):
    roles = {r["name"]: r["id"] for r in gateway.roles()}
    login = unique("cmail")
    user = gateway.create_user(login, "Customer", "Mail", f"{login}@bridge.test", "pw-" + login)
    gateway.add_member(project["id"], user["id"], [roles["Reporter"]])
    return {"id": user["id"], "login": login}


@pytest.fixture()
def imap_env(monkeypatch, redmine_env):
    monkeypatch.setenv("TEST_IMAP_PASSWORD", IMAP_PASSWORD)
