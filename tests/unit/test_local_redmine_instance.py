"""`dev-redmine start` with a Debian Redmine instance that does not exist stops at once
with what to do, instead of waiting two minutes for workers that cannot boot."""

from __future__ import annotations

import pytest

from redmine_sla_bridge.devtools import local_redmine
from redmine_sla_bridge.devtools.local_redmine import LocalRedmine, LocalRedmineError


@pytest.fixture
def redmine(tmp_path, monkeypatch):
    monkeypatch.setattr(local_redmine, "REDMINE_ROOT", tmp_path)
    monkeypatch.setattr(LocalRedmine, "install", lambda self, log=print: None)
    monkeypatch.delenv("X_DEBIAN_SITEID", raising=False)
    started = []
    monkeypatch.setattr(LocalRedmine, "answering", lambda self, timeout=2.0: True)
    monkeypatch.setattr(LocalRedmine, "api_key", lambda self: started.append(1) or "key")
    return LocalRedmine(port=3999, state_dir=tmp_path / "state", server="puma"), tmp_path, started


def test_an_instance_without_its_database_config_is_refused_at_once(redmine, monkeypatch):
    dev, _, started = redmine
    monkeypatch.setenv("REDMINE_INSTANCE", "cpu19")
    with pytest.raises(LocalRedmineError, match=r"REDMINE_INSTANCE='cpu19'.*instances/cpu19"
                                                r"/config/database.yml is missing"):
        dev.start(log=lambda _: None)
    assert not started


def test_an_instance_made_as_documented_and_the_default_start(redmine, monkeypatch):
    dev, root, started = redmine
    monkeypatch.setenv("REDMINE_INSTANCE", "cpu19")
    (root / "instances" / "cpu19" / "config").mkdir(parents=True)
    (root / "instances" / "cpu19" / "config" / "database.yml").write_text("production: {}\n")
    assert dev.start(log=lambda _: None) == "key"
    monkeypatch.delenv("REDMINE_INSTANCE")
    assert dev.start(log=lambda _: None) == "key"
    assert len(started) == 2
