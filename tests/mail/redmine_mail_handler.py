"""Feeding emails to the real Redmine's own mail handler, as `rake redmine:email:read`
does (`MailHandler.safe_receive(raw, MailHandler.extract_options_from_env(ENV))`), for
several messages in one Rails boot (`rails runner`, a few seconds)."""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from pathlib import Path

from redmine_sla_bridge.devtools.local_redmine import REDMINE_ROOT

_SCRIPT = """
options = MailHandler.extract_options_from_env(ENV)
Dir.glob(File.join(ENV['MAIL_DIR'], '*.eml')).sort.each do |path|
  result = Mailer.with_synched_deliveries { MailHandler.safe_receive(File.binread(path), options) }
  puts "RECEIVED #{File.basename(path)} #{result.respond_to?(:id) && result.id ? result.id : 'none'}"
end
"""


def receive(messages: list[bytes], **options: str) -> list[int | None]:
    """The ids of the issues Redmine made of `messages` (None: refused), in order.
    `options` are the rake task's: project, tracker, unknown_user, allow_override,
    no_permission_check, …"""
    with tempfile.TemporaryDirectory(prefix="mailhandler-") as folder:
        for i, raw in enumerate(messages):
            (Path(folder) / f"{i:04d}.eml").write_bytes(raw)
        env = {**os.environ, "RAILS_ENV": "production", "MAIL_DIR": folder, **options}
        done = subprocess.run(["bin/rails", "runner", _SCRIPT], cwd=REDMINE_ROOT, env=env,
                              capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    found = dict(re.findall(r"^RECEIVED (\d+)\.eml (\S+)$", done.stdout, re.MULTILINE))
    assert len(found) == len(messages), done.stdout[-2000:]
    return [None if found[f"{i:04d}"] == "none" else int(found[f"{i:04d}"])
            for i in range(len(messages))]
