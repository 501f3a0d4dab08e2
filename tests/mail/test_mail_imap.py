"""The support mailbox end to end: a private Dovecot, the real Redmine, a real SMTP server."""

from __future__ import annotations

import datetime as dt
import html as html_lib
import os
import signal
import subprocess
import sys
import time

import pytest
from imapclient import IMAPClient

from redmine_sla_bridge.bootstrap import bootstrap, mail_reader, open_store
from redmine_sla_bridge.config.loader import load_config
from redmine_sla_bridge.domain.lifecycle.history import Role
from redmine_sla_bridge.domain.ports import RedmineUnavailable
from tests.conftest import base_document, write_config
from tests.mail import samples
from tests.mail.dovecot import IMAP_PASSWORD, IMAP_USER

pytestmark = pytest.mark.redmine


def _config(tmp_path, redmine, project, dovecot, requester, smtp=None, **mail):
    document = base_document(redmine)
    document["polling"] = {"enabled": False}
    document["store"] = {"url": f"sqlite:///{tmp_path / 'bridge.sqlite3'}"}
    document["mail"] = {
        "imap": {"host": "127.0.0.1", "port": dovecot.port, "security": "none",
                 "username": IMAP_USER, "password": "${TEST_IMAP_PASSWORD}",
                 "poll_interval_seconds": 1, "lease_seconds": 5},
        "project": project["identifier"], "requester_login": requester["login"], **mail}
    if smtp is not None:
        document["notify"] = {"enabled": True, "from_address": "support@bridge.test",
                              "from_name": "Support",
                              "smtp": {"host": "127.0.0.1", "port": smtp.port,
                                       "security": "none"}}
    return write_config(tmp_path / "bridge.yaml", document)


def _imap(dovecot) -> IMAPClient:
    client = IMAPClient("127.0.0.1", port=dovecot.port, ssl=False)
    client.login(IMAP_USER, IMAP_PASSWORD)
    return client


def _append(dovecot, *messages: bytes) -> None:
    client = _imap(dovecot)
    for raw in messages:
        client.append("INBOX", raw)
    client.logout()


def _count(dovecot, folder: str) -> int:
    client = _imap(dovecot)
    if not client.folder_exists(folder):
        return 0
    n = client.select_folder(folder, readonly=True)[b"EXISTS"]
    client.logout()
    return n


def _issues(gateway, project) -> list[dict]:
    return list(gateway.iter_issues(project_id=project["id"], status_id="*"))


def _total(gateway, project) -> int:
    try:
        return int(gateway._get("/issues.json", project_id=project["id"], status_id="*",
                                limit=1)["total_count"])
    except RedmineUnavailable:  # the shared Redmine busy with the reader: ask again
        return 0


def _runtime(path, redmine):
    config = load_config(path)
    store = open_store(config)
    bridge = bootstrap(config, store=store, gateway=redmine.gateway())
    return config, bridge


def test_mailbox_files_requests_threads_acks_and_notes_replies(
        tmp_path, redmine, gateway, project, dovecot, requester, smtp, imap_env, provisioned):
    path = _config(tmp_path, redmine, project, dovecot, requester, smtp,
                   attachment_max_bytes=64 * 1024)
    config, bridge = _runtime(path, redmine)
    reader = mail_reader(config, bridge, gateway=redmine.gateway())
    ivan, maria, web = "ivan@example.ru", "maria@example.ru", "web@example.ru"
    ids = {name: samples.mid() for name in ("outlook", "tb", "html", "auto", "bounce")}
    _append(dovecot,
            samples.outlook_cp1251(ivan, ids["outlook"]),
            samples.thunderbird_utf8(maria, ids["tb"], attachment=b"x" * (100 * 1024),
                                     attachment_name="huge.bin"),
            samples.html_only(web, ids["html"]),
            samples.auto_reply(ivan, ids["auto"]),
            samples.bounce(ids["bounce"]))
    report = reader.run_once()
    assert report.failed == 0, report
    assert report.outcomes == {"filed": 3, "automatic": 2}
    assert _count(dovecot, "INBOX") == 0 and _count(dovecot, "INBOX.Processed") == 5

    issues = {i["subject"]: i for i in _issues(gateway, project)}
    assert set(issues) == {"Не работает VPN", "Сервер не стартует", "Личный кабинет"}
    outlook = gateway.issue(issues["Не работает VPN"]["id"])
    assert "Не работает VPN после обновления" in outlook["description"]
    contacts = {f["name"]: f.get("value") for f in outlook["custom_fields"]}
    assert contacts["Contact email"] == ivan and contacts["Contact name"] == "Иван Петров"
    html = gateway.issue(issues["Личный кабинет"]["id"])
    assert "Не открывается личный кабинет" in html["description"]
    assert "p{}" not in html["description"]
    big = gateway._get(f"/issues/{issues['Сервер не стартует']['id']}.json",
                       include="attachments,journals")["issue"]
    names = [a["filename"] for a in big["attachments"]]
    assert any(n.endswith((".headers.txt", ".eml")) for n in names)
    assert "huge.bin" not in names
    # Named, not dropped; the sender's file name is quoted as data (numeric references),
    # so it is read back as the issue page shows it.
    assert any("huge.bin" in html_lib.unescape(j.get("notes") or "") for j in big["journals"])

    # The acknowledgement, read back from the SMTP server: threaded under the request.
    bridge.notifier.deliver_due(dt.datetime.now(dt.UTC))
    acks = [r for r in smtp.received if ivan in r.rcpt_tos]
    assert len(acks) == 1
    ack = acks[0].message
    assert ack["In-Reply-To"] == ids["outlook"]
    assert ids["outlook"] in ack["References"]
    number = str(outlook["id"])
    assert number in acks[0].decoded_header("Subject")

    # The customer answers the acknowledgement: a note on that issue, the requester's.
    reply_id = samples.mid()
    _append(dovecot, samples.reply(ivan, reply_id, ack["Message-ID"],
                                   acks[0].decoded_header("Subject")))
    second = reader.run_once()
    assert second.outcomes == {"noted": 1}, second
    issue = gateway._get(f"/issues/{outlook['id']}.json", include="journals,attachments")["issue"]
    notes = [j for j in issue["journals"] if j.get("notes")]
    last = notes[-1]
    assert last["user"]["id"] == requester["id"]
    assert last["notes"].startswith("Спасибо, после перезагрузки заработало.")
    assert "> Ваше обращение" not in last["notes"] and "Иван" not in last["notes"].split("\n")[-1]
    assert any(a["filename"].endswith(".eml") for a in issue["attachments"])
    snapshot = bridge.redmine.load(outlook["id"])
    assert snapshot is not None
    assert snapshot.history.notes[-1].role is Role.REQUESTER

    # The same mailbox read again (messages put back): nothing new.
    before = len(_issues(gateway, project))
    _append(dovecot, samples.outlook_cp1251(ivan, ids["outlook"]),
            samples.reply(ivan, reply_id, ack["Message-ID"], "Re"))
    assert reader.run_once().outcomes == {"duplicate": 2}
    assert len(_issues(gateway, project)) == before
    issue = gateway.issue(outlook["id"])
    assert len([j for j in issue["journals"] if j.get("notes")]) == len(notes)
    bridge.store.close()


@pytest.mark.parametrize("n", [50, pytest.param(500, marks=pytest.mark.slow)])
def test_kill_mid_mailbox_then_restart_gives_one_effect_each(
        tmp_path, redmine, gateway, project, dovecot, requester, smtp, imap_env, provisioned, n):
    path = _config(tmp_path, redmine, project, dovecot, requester, smtp,
                   rate_limit={"messages": 100})
    ids = [samples.mid() for _ in range(n)]
    senders = [f"user{i}@example.ru" for i in range(n)]
    _append(dovecot, *(samples.html_only(senders[i], ids[i]) for i in range(n)))
    env = {**os.environ, "TEST_IMAP_PASSWORD": IMAP_PASSWORD}
    # The long-running reader, as deployed (passes of batch_size until a signal): `--once`
    # would stop by itself after one batch, before a kill could land in the middle.
    proc = subprocess.Popen([sys.executable, "-m", "redmine_sla_bridge", "mail", "--config",
                             str(path)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    kill_at = max(5, n // 3)
    deadline = time.monotonic() + 60 + 3 * n
    while (proc.poll() is None and time.monotonic() < deadline
           and _total(gateway, project) < kill_at):
        time.sleep(0.2)
    assert proc.poll() is None, "the reader stopped by itself: the kill would prove nothing"
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    filed_at_kill = len(_issues(gateway, project))
    inbox_at_kill, processed_at_kill = _count(dovecot, "INBOX"), _count(dovecot, "INBOX.Processed")
    print(f"\n{n} messages; killed with {filed_at_kill} issues filed, {processed_at_kill} "
          f"messages moved, {inbox_at_kill} in the inbox")
    assert 0 < filed_at_kill < n and inbox_at_kill > 0, "the kill did not land mid-mailbox"
    assert inbox_at_kill + processed_at_kill == n

    # The restart, later than every lease the killed reader held.
    config = load_config(path)
    store = open_store(config)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10)
    bridge = bootstrap(config, store=store, gateway=redmine.gateway(), clock=lambda: later)
    reader = mail_reader(config, bridge, gateway=redmine.gateway())
    outcomes: dict[str, int] = {}
    for _ in range(n // config.mail.imap.batch_size + 5):
        if _count(dovecot, "INBOX") == 0:
            break
        for outcome, count in reader.run_once().outcomes.items():
            outcomes[outcome] = outcomes.get(outcome, 0) + count
    print(f"restart: {outcomes}")
    assert _count(dovecot, "INBOX") == 0
    assert _count(dovecot, "INBOX.Processed") == n
    assert sum(outcomes.values()) == inbox_at_kill
    assert set(outcomes) <= {"filed", "duplicate"}, outcomes

    # Every message: exactly one issue, none lost, none twice.
    issues = _issues(gateway, project)
    emails = sorted(next(f.get("value") for f in i["custom_fields"] if f["name"] == "Contact email")
                    for i in issues)
    assert emails == sorted(senders)
    # One effect each: one acknowledgement note and one kept .eml per issue.
    notes = emls = 0
    for issue in issues:
        full = gateway._get(f"/issues/{issue['id']}.json", include="journals,attachments")["issue"]
        noted = [j for j in full["journals"] if j.get("notes")]
        kept = [a for a in full["attachments"] if a["filename"].endswith(".eml")]
        assert len(noted) == 1 and len(kept) == 1, (issue["id"], noted, kept)
        notes, emls = notes + len(noted), emls + len(kept)

    # One acknowledgement email each, read back from the SMTP server, on time: at the
    # restart's clock, not after the hold a notice waits for an update that never came.
    while bridge.notifier is not None and bridge.notifier.deliver_due(later).total:
        pass
    acks = sorted(r for received in smtp.received for r in received.rcpt_tos)
    print(f"effects: {len(issues)} issues, {notes} notes, {emls} .eml, {len(acks)} acks")
    assert acks == sorted(senders)
    store.close()


def test_stdin_exit_codes(tmp_path, redmine, gateway, project, dovecot, requester, imap_env,
                          provisioned):
    path = _config(tmp_path, redmine, project, dovecot, requester)
    env = {**os.environ, "TEST_IMAP_PASSWORD": IMAP_PASSWORD}

    def pipe(raw: bytes, config=path) -> int:
        return subprocess.run([sys.executable, "-m", "redmine_sla_bridge", "mail", "--config",
                               str(config), "--stdin"], input=raw, env=env,
                              capture_output=True, timeout=120).returncode

    raw = samples.html_only("pipe@example.ru", samples.mid())
    assert pipe(raw) == 0
    assert pipe(raw) == 0  # a repeat by the MTA: done, nothing new
    assert len(_issues(gateway, project)) == 1
    assert pipe(b"") == 65
    broken = tmp_path / "broken.yaml"
    broken.write_text("redmine: {url: nope}\n")
    assert pipe(raw, broken) == 75
