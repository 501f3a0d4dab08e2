"""How fast the bridge reads its mailbox: messages/s from the mailbox to an
acknowledged issue (read back from Redmine: its public acknowledgement note),
and the bridge's CPU per message (this process: the IMAP client, parsing, the gate with
its free-text reading, the REST calls; Dovecot and Redmine are other processes).

Half the messages are the issue's free-form Outlook letter (windows-1251, data only in
the text and the signature), half HTML-only web mail.

Needs the local Redmine (`redmine-sla-bridge dev-redmine start`), Dovecot (Debian's
dovecot-imapd) and a provisioned Redmine (run the test suite once). Not run by the tests.

    .venv/bin/python benchmarks/bench_mail.py --messages 100
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from redmine_sla_bridge.adapters.redmine.gateway import RedmineGateway
from redmine_sla_bridge.bootstrap import bootstrap, mail_reader, open_store
from redmine_sla_bridge.config.loader import load_config
from redmine_sla_bridge.devtools.local_redmine import LocalRedmine
from redmine_sla_bridge.telemetry import metrics
from tests.conftest import RedmineUnderTest, base_document, unique, write_config
from tests.mail import samples
from tests.mail.dovecot import IMAP_PASSWORD, IMAP_USER, Dovecot


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=100)
    args = parser.parse_args()
    local = LocalRedmine(port=int(os.environ.get("REDMINE_TEST_PORT", "3000")))
    redmine = RedmineUnderTest(local.url, local.start(log=lambda line: None))
    gateway = redmine.gateway()
    support = next(t["id"] for t in gateway.trackers() if t["name"] == "Support")
    project = gateway.create_project(unique("bench-"), "Mail bench", tracker_ids=[support])
    roles = {r["name"]: r["id"] for r in gateway.roles()}
    login = unique("cmail")
    user = gateway.create_user(login, "Customer", "Mail", f"{login}@bridge.test", "pw-" + login)
    gateway.add_member(project["id"], user["id"], [roles["Reporter"]])
    root = Path(tempfile.mkdtemp(prefix="bench-mail-"))
    root.chmod(0o755)  # Dovecot's unprivileged processes must reach it
    dovecot = Dovecot(root / "dovecot").start()
    try:
        os.environ["BENCH_KEY"], os.environ["BENCH_IMAP"] = redmine.api_key, IMAP_PASSWORD
        document = base_document(redmine, admin=False)
        document["redmine"]["api_key"] = "${BENCH_KEY}"
        document["polling"] = {"enabled": False}
        document["store"] = {"url": f"sqlite:///{root / 'bench.sqlite3'}"}
        document["mail"] = {"imap": {"host": "127.0.0.1", "port": dovecot.port,
                                     "security": "none", "username": IMAP_USER,
                                     "password": "${BENCH_IMAP}",
                                     "batch_size": 1000},
                            "project": project["identifier"], "requester_login": login,
                            "rate_limit": {"messages": 1000}}
        config = load_config(write_config(root / "bench.yaml", document))
        bridge = bootstrap(config, store=open_store(config), notifier=None,
                           gateway=RedmineGateway(redmine.url, redmine.api_key, keep_alive=False))
        reader = mail_reader(config, bridge)
        from imapclient import IMAPClient

        client = IMAPClient("127.0.0.1", port=dovecot.port, ssl=False)
        client.login(IMAP_USER, IMAP_PASSWORD)
        for i in range(args.messages):
            make = samples.outlook_issue_letter if i % 2 else samples.html_only
            client.append("INBOX", make(f"bench{i}@example.ru", samples.mid()))
        client.logout()
        calls0 = _calls()
        cpu0, wall0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        report = reader.run_once()
        for _ in range(5):  # what Redmine did not take is retried, as `mail` would
            if not report.failed:
                break
            again = reader.run_once()
            report.done += again.done
            report.failed = again.failed
            for outcome, count in again.outcomes.items():
                report.outcomes[outcome] = report.outcomes.get(outcome, 0) + count
        wall = time.perf_counter() - wall0
        cpu1 = resource.getrusage(resource.RUSAGE_SELF)
        cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
        calls = _calls() - calls0
        issues = list(gateway.iter_issues(project_id=project["id"], status_id="*"))
        # Acknowledged: the bridge's public note is on the issue (read after the clock).
        acknowledged = sum(1 for i in issues if any(
            j.get("notes") and not j.get("private_notes")
            for j in gateway.issue(i["id"])["journals"]))
        print(f"{args.messages} messages, {report.done} handled ({report.outcomes}), "
              f"{acknowledged} acknowledged issues in Redmine")
        print(f"mailbox -> acknowledged issue: {acknowledged / wall:.2f} messages/s "
              f"({wall:.1f} s wall)")
        print(f"bridge CPU: {1000 * cpu / max(report.done, 1):.1f} ms/message; "
              f"{calls / max(report.done, 1):.1f} Redmine calls/message; "
              f"CPU/wall {cpu / wall:.2f} (the rest is waiting for Redmine and Dovecot)")
    finally:
        dovecot.stop()
        shutil.rmtree(root, ignore_errors=True)


def _calls() -> float:
    return sum(sample.value for metric in metrics.REDMINE_CALLS.collect()
               for sample in metric.samples if sample.name.endswith("_total"))


if __name__ == "__main__":
    main()
