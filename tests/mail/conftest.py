from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from tests.mail.dovecot import Dovecot


@pytest.fixture()
def dovecot():
    # Not under pytest's tmp_path: as root, Dovecot's unprivileged processes must reach it.
    root = Path(tempfile.mkdtemp(prefix="dovecot-"))
    server = Dovecot(root).start()
    yield server
    server.stop()
    shutil.rmtree(root, ignore_errors=True)
