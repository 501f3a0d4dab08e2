"""A request as customers write it (the data in the letter's signature) on the real
Redmine: the INN found in the text names the customer whose tier and demo periods
(ID-4) decide, whether or not the gate had to judge the request a second time."""

from __future__ import annotations

import datetime as dt
import html

import pytest

from redmine_sla_bridge.service.process_issue import process_issue
from tests.conftest import base_document

pytestmark = pytest.mark.redmine

PREMIUM = "7707083893"  # a licensed customer, no demo periods
SECOND_DEMO = "7714036196"  # in its second demo period within a year


def letter(inn: str) -> str:
    return ("Добрый день!\r\n\r\nПосле обновления до версии 4.2.1 VPN-клиент перестаёт "
            "подключаться через 5-10 минут.\r\n\r\n--\r\nС уважением,\r\nИван Петров\r\n"
            f"инженер, ООО \"Ромашка\"\r\nИНН {inn}\r\nтел. +7 (495) 123-45-67\r\n"
            "ivan.petrov@romashka.ru\r\n")


@pytest.fixture
def rt(make_runtime, redmine, tmp_path):
    today = dt.date.today()  # the issues are created now; the periods leave weeks of margin
    (tmp_path / "customers.yaml").write_text(
        "customers:\n"
        f'  - inn: "{PREMIUM}"\n'
        "    name: Ромашка\n"
        "    licenses:\n"
        f"      - {{kind: premium, product: '*', starts: {today - dt.timedelta(days=60)}, "
        f"expires: {today + dt.timedelta(days=300)}}}\n"
        f'  - inn: "{SECOND_DEMO}"\n'
        "    name: Лютик\n"
        "    demos:\n"
        f"      - {{starts: {today - dt.timedelta(days=120)}, "
        f"ends: {today - dt.timedelta(days=100)}}}\n"
        f"      - {{starts: {today - dt.timedelta(days=20)}, "
        f"ends: {today + dt.timedelta(days=20)}}}\n",
        encoding="utf-8")
    document = base_document(redmine, language="ru")
    document["polling"] = {"enabled": False}
    document["policy"]["customers"] = {"file": "customers.yaml"}
    document["policy"]["tiers"] = [{"name": "premium", "when": {"license_active": ["premium"]}},
                                   {"name": "demo", "when": {"in_demo": {"once_per_days": 365}}},
                                   {"name": "standard", "when": {}}]
    return make_runtime(document)


def file_letter(rt, gateway, project, tracker, inn: str) -> int:
    return gateway.create_issue(project_id=project["id"], tracker_id=tracker,
                                subject="VPN отваливается после обновления",
                                description=letter(inn))["id"]


def test_the_signature_names_the_customer_and_the_engineers_see_what_was_read(
        rt, gateway, project, support_tracker):
    issue_id = file_letter(rt, gateway, project, support_tracker, PREMIUM)
    _ = rt.redmine.catalog.facts  # read once per process (statuses, trackers, ...), as serve does
    before = dict(rt.redmine.gateway.calls.by_method)
    outcome = process_issue(rt, issue_id)
    spent = {m: n - before.get(m, 0) for m, n in rt.redmine.gateway.calls.by_method.items()}
    assert outcome.action == "accepted", outcome.detail
    values = rt.redmine.load(issue_id).values
    assert (values["inn"], values["tier"]) == (PREMIUM, "premium")
    assert (values["contact_phone"], values["contact_email"]) == (
        "+7 495 123-45-67", "ivan.petrov@romashka.ru")
    # One GET, then the fields with the public acknowledgement, then the private note:
    # Redmine keeps one note per journal.
    assert {m: n for m, n in spent.items() if n} == {"GET": 1, "PUT": 2}
    journals = [j for j in gateway.issue(issue_id)["journals"] if j.get("notes")]
    ack, flags = journals[-2:]
    assert not ack["private_notes"] and f"№{issue_id}" in ack["notes"]
    assert flags["private_notes"]
    assert f"«{PREMIUM}» прочитано из свободного текста (подпись, строка 9)" in flags["notes"]
    # The customer's text is inert data in the note (entities), shown as written.
    assert "«+7 495 123-45-67» прочитано" in html.unescape(flags["notes"])


def test_a_second_demo_named_only_in_the_signature_is_refused(rt, gateway, project,
                                                             support_tracker):
    outcome = process_issue(rt, file_letter(rt, gateway, project, support_tracker, SECOND_DEMO))
    assert outcome.action == "rejected"
    assert [r.code for r in outcome.decision.intake.reasons] == ["demo_already_used"]
