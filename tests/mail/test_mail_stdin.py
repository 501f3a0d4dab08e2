"""`mail --stdin` (an MTA pipe) while Redmine is down: EX_TEMPFAIL (75) and nothing
recorded, so the MTA keeps the message and retries; the retry files it once Redmine is
back. "Down" is a closed port in front of the shared Redmine (a forwarder opened
later), never the shared Redmine stopped."""

from __future__ import annotations

import os
import subprocess
import sys
from urllib.parse import urlsplit

import pytest
import yaml

from tests.mail import samples
from tests.mail.dovecot import IMAP_PASSWORD, free_port
from tests.mail.forwarder import Forwarder
from tests.mail.test_mail_imap import _config, _issues

pytestmark = pytest.mark.redmine


def test_stdin_with_redmine_down_exits_75_keeps_nothing_then_files_when_back(
        tmp_path, redmine, gateway, project, dovecot, requester, imap_env, provisioned):
    path = _config(tmp_path, redmine, project, dovecot, requester)
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    port = free_port()  # nothing listens here until the forwarder opens it
    document["redmine"]["url"] = f"http://127.0.0.1:{port}"
    document["redmine"]["timeout_seconds"] = 5
    document["redmine"]["retries"] = 0
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    env = {**os.environ, "TEST_IMAP_PASSWORD": IMAP_PASSWORD}
    raw = samples.outlook_issue_letter("down@romashka.example", samples.mid())

    def pipe() -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "redmine_sla_bridge", "mail", "--config",
                               str(path), "--stdin"], input=raw, env=env,
                              capture_output=True, timeout=300)

    down = pipe()
    assert down.returncode == 75, down.stderr.decode()[-2000:]
    assert b"Traceback" not in down.stderr
    assert _issues(gateway, project) == []
    target = urlsplit(redmine.url)
    with Forwarder(port, (target.hostname or "127.0.0.1", target.port or 80)):
        back = pipe()
        assert back.returncode == 0, back.stderr.decode()[-2000:]
        (issue,) = _issues(gateway, project)
        assert pipe().returncode == 0  # the MTA's repeat: done, nothing new
    assert [i["id"] for i in _issues(gateway, project)] == [issue["id"]]
    assert issue["subject"] == "Не работает VPN"
