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

from redmine_sla_bridge.adapters.redmine.gateway import RedmineGateway
from redmine_sla_bridge.bootstrap import bootstrap, mail_reader, open_store
from redmine_sla_bridge.config.loader import load_config
from redmine_sla_bridge.domain.lifecycle.history import Role
from redmine_sla_bridge.domain.ports import RedmineUnavailable
from tests.conftest import base_document, write_config
from tests.fault.http_faults import DROP_ANSWER, FORWARD, FaultProxy
from tests.mail import samples
from tests.mail.dovecot import IMAP_PASSWORD, IMAP_USER

pytestmark = pytest.mark.redmine


def _config(tmp_path, redmine, project, dovecot, requester, smtp=None, redmine_url=None,
            lifecycle=None, **mail):
    document = base_document(redmine)
    if lifecycle is not None:
        document["lifecycle"] = lifecycle
    if redmine_url is not None:  # a fault proxy in front of Redmine
        document["redmine"].update(url=redmine_url, retries=0)
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
    # Requests filed before, for the replies among the n messages to land on.
    seeds = [(f"seed{k}@example.ru", samples.mid()) for k in range(max(5, n // 10))]
    _append(dovecot, *(samples.html_only(sender, mid) for sender, mid in seeds))
    config, bridge = _runtime(path, redmine)
    assert mail_reader(config, bridge, gateway=redmine.gateway()).run_once().outcomes == {
        "filed": len(seeds)}
    bridge.store.close()
    # Every tenth message a reply to one of them (a note), the rest new requests.
    mailbox: list[tuple[str, str, bytes]] = []  # (kind, sender, raw)
    for i in range(n):
        if i % 10 == 5:
            sender, filed = seeds[(i // 10) % len(seeds)]
            mailbox.append(("reply", sender, samples.reply(sender, samples.mid(), filed,
                                                           "Личный кабинет")))
        else:
            mailbox.append(("new", f"user{i}@example.ru",
                            samples.html_only(f"user{i}@example.ru", samples.mid())))
    _append(dovecot, *(raw for _, _, raw in mailbox))
    env = {**os.environ, "TEST_IMAP_PASSWORD": IMAP_PASSWORD}
    # The long-running reader, as deployed (passes of batch_size until a signal): `--once`
    # would stop by itself after one batch, before a kill could land in the middle.
    proc = subprocess.Popen([sys.executable, "-m", "redmine_sla_bridge", "mail", "--config",
                             str(path)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    kill_at = len(seeds) + max(5, n // 3)
    deadline = time.monotonic() + 60 + 3 * n
    while (proc.poll() is None and time.monotonic() < deadline
           and _count(dovecot, "INBOX.Processed") < kill_at):
        time.sleep(0.2)
    assert proc.poll() is None, "the reader stopped by itself: the kill would prove nothing"
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    filed_at_kill = len(_issues(gateway, project)) - len(seeds)
    inbox_at_kill = _count(dovecot, "INBOX")
    moved_at_kill = _count(dovecot, "INBOX.Processed") - len(seeds)
    print(f"\n{n} messages ({sum(k == 'reply' for k, _, _ in mailbox)} replies); killed with "
          f"{moved_at_kill} moved, {inbox_at_kill} in the inbox, {filed_at_kill} new issues")
    assert 0 < moved_at_kill < n and inbox_at_kill > 0, "the kill did not land mid-mailbox"
    assert inbox_at_kill + moved_at_kill == n

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
    assert _count(dovecot, "INBOX.Processed") == len(seeds) + n
    assert sum(outcomes.values()) == inbox_at_kill
    assert set(outcomes) <= {"filed", "noted", "duplicate"}, outcomes

    # Every message: exactly one effect, none lost, none twice. A new request is one
    # issue with its acknowledgement and its .eml; a reply is one requester note with
    # its .eml, on the issue it answers.
    issues = {next(f.get("value") for f in i["custom_fields"] if f["name"] == "Contact email"): i
              for i in _issues(gateway, project)}
    new = sorted(sender for kind, sender, _ in mailbox if kind == "new")
    assert len(issues) == len(seeds) + len(new)
    assert sorted(issues) == sorted([s for s, _ in seeds] + new)
    replies = {s: sum(1 for k, sender, _ in mailbox if k == "reply" and sender == s)
               for s, _ in seeds}
    effects = {"ack": 0, "reply": 0, "eml": 0}
    for sender, issue in issues.items():
        full = gateway._get(f"/issues/{issue['id']}.json", include="journals,attachments")["issue"]
        notes = [j for j in full["journals"] if j.get("notes")]
        theirs = [j for j in notes if j["user"]["id"] == requester["id"]]
        ours = [j for j in notes if j["user"]["id"] != requester["id"] and not j["private_notes"]]
        kept = [a for a in full["attachments"] if a["filename"].endswith(".eml")]
        expected = replies.get(sender, 0)
        assert (len(ours), len(theirs), len(kept)) == (1, expected, 1 + expected), (
            issue["id"], sender, notes, kept)
        effects["ack"] += len(ours)
        effects["reply"] += len(theirs)
        effects["eml"] += len(kept)

    # One acknowledgement email each, read back from the SMTP server, on time: at the
    # restart's clock, not after the hold a notice waits for an update it was not told of.
    while bridge.notifier is not None and bridge.notifier.deliver_due(later).total:
        pass
    acks = sorted(r for received in smtp.received for r in received.rcpt_tos)
    print(f"effects: {len(issues)} issues, {effects['ack']} acknowledgement notes, "
          f"{effects['reply']} reply notes, {effects['eml']} .eml, {len(acks)} emails")
    assert acks == sorted(issues)
    store.close()


def test_an_acknowledgement_whose_answer_was_lost_is_mailed_at_the_next_pass_once(
        tmp_path, redmine, gateway, project, dovecot, requester, smtp, imap_env, provisioned):
    # Redmine takes the acknowledgement's PUT, its answer never comes back: the email
    # queued on hold for that note must go at the retry, not when the hold ends (hours).
    def rule(method: str, path: str, seen: int) -> str | int:
        return DROP_ANSWER if method == "PUT" and path.startswith("/issues/") and seen == 0 \
            else FORWARD

    with FaultProxy(redmine.url, rule) as proxy:
        path = _config(tmp_path, redmine, project, dovecot, requester, smtp,
                       redmine_url=proxy.url)
        config = load_config(path)
        store = open_store(config)
        bridge = bootstrap(config, store=store, gateway=RedmineGateway(
            proxy.url, redmine.api_key, keep_alive=False, retries=0, timeout=60))
        reader = mail_reader(config, bridge)
        _append(dovecot, samples.html_only("lost@example.ru", samples.mid()))
        first = reader.run_once()
        assert (first.done, first.failed) == (0, 1), first
        assert [a for m, _, a in proxy.log if m == "PUT"] == [DROP_ANSWER]
        bridge.notifier.deliver_due(bridge.clock())
        assert smtp.received == []  # not yet: the note's fate was unknown
        second = reader.run_once()
    assert second.outcomes == {"filed": 1}, second
    (issue,) = _issues(gateway, project)
    full = gateway._get(f"/issues/{issue['id']}.json", include="journals,attachments")["issue"]
    assert len([j for j in full["journals"] if j.get("notes")]) == 1
    assert len([a for a in full["attachments"] if a["filename"].endswith(".eml")]) == 1
    bridge.notifier.deliver_due(bridge.clock())
    bridge.notifier.deliver_due(bridge.clock())
    assert [r.rcpt_tos for r in smtp.received] == [["lost@example.ru"]]
    assert _count(dovecot, "INBOX") == 0 and _count(dovecot, "INBOX.Processed") == 1
    store.close()


def test_a_reply_whose_note_answer_was_lost_still_resumes_the_issue(
        tmp_path, redmine, gateway, project, dovecot, requester, people, imap_env, provisioned):
    # Redmine takes the reply's note (and its .eml marker), its answer never comes back:
    # the next pass finds the marker and must still resume the issue from Feedback.
    armed = {"on": False}

    def rule(method: str, path: str, seen: int) -> str | int:
        if armed["on"] and method == "PUT" and path.startswith("/issues/"):
            armed["on"] = False
            return DROP_ANSWER
        return FORWARD

    with FaultProxy(redmine.url, rule) as proxy:
        path = _config(tmp_path, redmine, project, dovecot, requester, redmine_url=proxy.url,
                       lifecycle={"customer_reply": [{"from_statuses": ["Feedback"],
                                                      "to_status": "In Progress"}]})
        config = load_config(path)
        store = open_store(config)
        bridge = bootstrap(config, store=store, notifier=None, gateway=RedmineGateway(
            proxy.url, redmine.api_key, keep_alive=False, retries=0, timeout=60))
        reader = mail_reader(config, bridge)
        request = samples.mid()
        _append(dovecot, samples.html_only("resume@example.ru", request))
        assert reader.run_once().outcomes == {"filed": 1}
        (issue,) = _issues(gateway, project)
        feedback = bridge.redmine.catalog.facts.status_ids["Feedback"]
        people["engineer"].gateway.update_issue(issue["id"], notes="Пришлите логи.",
                                                status_id=feedback)
        _append(dovecot, samples.reply("resume@example.ru", samples.mid(), request, "Re"))
        armed["on"] = True
        first = reader.run_once()
        assert (first.done, first.failed) == (0, 1), first
        assert [a for m, _, a in proxy.log if m == "PUT"][-1] == DROP_ANSWER
        assert gateway.issue(issue["id"])["status"]["name"] == "Feedback"  # noted, not resumed
        second = reader.run_once()
    assert second.outcomes == {"noted": 1}, second
    full = gateway._get(f"/issues/{issue['id']}.json", include="journals,attachments")["issue"]
    assert full["status"]["name"] == "In Progress"
    assert len([j for j in full["journals"] if j["user"]["id"] == requester["id"]]) == 1
    assert len([a for a in full["attachments"] if a["filename"].endswith(".eml")]) == 2
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
