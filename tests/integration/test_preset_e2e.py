"""Each shipped preset (config/presets/) walked end to end on the real Redmine.

For every regulation: the preset YAML itself (adapted only in where Redmine, the store and
the customer file are) is provisioned, requests are filed as issues with the intake
fields, backdated to a fixed moment so that every deadline is exact, and processed with
an injected "now": accepted and refused requests with their reason codes, tiers from the
sample directory, deadlines on the regulation's calendar, and the preset's lifecycle
rules (auto-close, reopen, development hand-over, escalation, accounted time).

The sample directories are dated around the reference day Tue 2026-12-01, so requests are
filed at Tue 2026-12-01 10:00 Moscow (RB: Sat 2026-11-28 03:00). December 2026 has no
public holiday before the 31st. Journals whose time matters - the engineers' and
customers' notes, the bridge's acknowledgement and closing notes - are moved to chosen
moments too (one `rails runner` call, ~3 s, per step of a test for all issues at once),
so nothing depends on the day the tests run.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from click.testing import CliRunner

from redmine_sla_bridge.entrypoints.cli import cli
from redmine_sla_bridge.service.process_issue import process_issue
from redmine_sla_bridge.service.sweep import sweep
from tests.conftest import write_config

pytestmark = pytest.mark.redmine

PRESETS_DIR = Path(__file__).resolve().parents[2] / "config" / "presets"
MSK = ZoneInfo("Europe/Moscow")
UNKNOWN_INN = "5001609130"  # valid checksum, in no directory


def msk(month: int, day: int, hour: int, minute: int = 0, year: int = 2026) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=MSK)


TUE = msk(12, 1, 10)  # an ordinary working Tuesday, 10:00 Moscow
INTAKE = msk(12, 1, 10, 1)  # the bridge sees the requests a minute later


# --- the preset as a test deployment ------------------------------------------------------


def preset_document(preset: str, redmine, project) -> dict:
    """The preset file, pointed at the local Redmine and the test project; every rule is
    the shipped one."""
    document = yaml.safe_load((PRESETS_DIR / f"{preset}.yaml").read_text("utf-8"))
    document["redmine"].update(
        url=redmine.url, api_key="${TEST_REDMINE_API_KEY}", keep_alive=False,
        admin={"login": "${TEST_REDMINE_ADMIN}", "password": "${TEST_REDMINE_ADMIN_PASSWORD}"})
    document["scope"]["projects"] = [project["identifier"]]
    document["polling"] = {"enabled": False}
    document["policy"]["customers"] = {"file": str(PRESETS_DIR / f"{preset}-customers.yaml")}
    return document


def provision(document: dict, path: Path) -> None:
    """`provision` for the preset's fields and values (adds its tiers and priorities to
    the shared fields, which other tests' projects keep using)."""
    write_config(path, document)
    result = CliRunner().invoke(cli, ["provision", "--config", str(path)])
    assert result.exit_code == 0, result.output


def ruby_time(moment: dt.datetime) -> str:
    utc = moment.astimezone(dt.UTC)
    return f"Time.utc({utc.year}, {utc.month}, {utc.day}, {utc.hour}, {utc.minute}, {utc.second})"


@dataclass
class Desk:
    """One preset's bridge on the test project, with the people who use it. Every helper
    costs one Redmine call: a call costs ~0.5 s on a Redmine with hundreds of fields."""

    rt: object
    gateway: object
    project: dict
    tracker: int
    people: dict
    local: object

    @property
    def fields(self):
        return self.rt.redmine.catalog.project_fields(self.project["identifier"])[1]

    def file(self, subject: str = "Запрос", description: str = "Не работает, помогите.",
             **values) -> int:
        """A request filed by the customer, with the intake fields that are not None."""
        values = {k: v for k, v in values.items() if v is not None}
        issue = self.people["customer"].gateway.create_issue(
            project_id=self.project["id"], tracker_id=self.tracker, subject=subject,
            description=description, custom_fields=self.fields.payload(values))
        return int(issue["id"])

    def backdate(self, issues: dict | None = None, journals: dict | None = None,
                 extra: str = "") -> str:
        """Move issues' creation and journals to chosen moments in ONE runner call."""
        script = []
        for issue_id, created in (issues or {}).items():
            script.append(f"Issue.where(id: {issue_id}).update_all(created_on: {ruby_time(created)}, "
                          f"start_date: Date.parse('{created.date().isoformat()}'))")
        for journal_id, moment in (journals or {}).items():
            script.append(f"Journal.where(id: {journal_id}).update_all(created_on: {ruby_time(moment)})")
        if extra:
            script.append(extra)
        return self.local.runner("; ".join(script))

    def issue(self, issue_id: int) -> dict:
        """The issue with its journals in the order they were written (Redmine lists them
        by time, so backdated ones would come last)."""
        issue = self.gateway.issue(issue_id, journals=True)
        issue["journals"].sort(key=lambda j: j["id"])
        return issue

    def journal_ids(self, issue_id: int) -> list[int]:
        return [j["id"] for j in self.issue(issue_id)["journals"]]

    def last_note(self, issue_id: int) -> dict:
        return [j for j in self.issue(issue_id)["journals"] if j.get("notes")][-1]

    def state(self, issue_id: int) -> dict:
        """The bridge's field values, plus Redmine's status and priority."""
        issue = self.gateway.issue(issue_id, journals=False)
        return {**self.fields.values_of(issue), "status": issue["status"]["name"],
                "priority": issue["priority"]["name"]}

    def intake(self, issues: dict[str, int], now: dt.datetime = INTAKE) -> dict:
        return {name: process_issue(self.rt, issue_id, now=now) for name, issue_id in issues.items()}

    def answer(self, issue_id: int, text: str | None = None, **changes) -> None:
        if text:
            changes["notes"] = text
        self.people["engineer"].gateway.update_issue(issue_id, **changes)

    def reply(self, issue_id: int, text: str) -> None:
        self.people["customer"].gateway.update_issue(issue_id, notes=text)

    def status(self, name: str) -> int:
        return self.rt.redmine.catalog.facts.status_ids[name]


@pytest.fixture()
def open_desk(make_runtime, redmine, redmine_env, gateway, project, support_tracker, people,
              local_redmine, tmp_path):
    def open_(preset: str) -> Desk:
        document = preset_document(preset, redmine, project)
        provision(document, tmp_path / f"{preset}-provision.yaml")
        document["store"] = {"url": f"sqlite:///{tmp_path / (preset + '.sqlite3')}"}
        # The fields its own `provision` made: Russian names, and values (tier display
        # names, SLA states) in the preset's language.
        rt = make_runtime(document, name=preset, english_fields=False)
        return Desk(rt, gateway, project, support_tracker, people, local_redmine)
    return open_


def group_setup(group: str, project_id: int) -> str:
    """Ruby: the development group as a Developer member of the project, and Redmine's
    "Issue assignment to groups" on (what the AR-8/ID-9/RB-5 presets ask of the admin).
    Prints the group's id."""
    return (f"Setting.issue_group_assignment = '1'; "
            f"g = Group.find_by(lastname: '{group}') || Group.create!(lastname: '{group}'); "
            f"Member.where(user_id: g.id, project_id: {project_id}).exists? || "
            f"Member.create!(principal: g, project_id: {project_id}, "
            f"role_ids: [Role.find_by(name: 'Developer').id]); puts \"group=#{{g.id}}\"")


def group_id(output: str) -> int:
    return int(next(line for line in output.splitlines() if line.startswith("group="))[6:])


def codes(outcome) -> list[str]:
    return sorted(outcome.detail.split(", "))


# --- AR: A-Real Consulting (ИКС) ----------------------------------------------------------

AR = {"contact_name": "Иван Петров", "contact_email": "ivan@example.ru", "product": "ИКС Стандарт",
      "product_version": "7.3"}


def test_a_real(open_desk):
    desk = open_desk("a-real")
    issues = {
        "premium": desk.file(**AR, inn="7702211326"),
        "trial": desk.file(**AR, inn="7704142893"),
        "partner_lite": desk.file(**{**AR, "product": "ИКС Lite"}, inn="7701232330"),
        "unknown": desk.file(**AR, inn=UNKNOWN_INN),
        "old_version": desk.file(**{**AR, "product_version": "6.5"}, inn="7702211326"),
        "no_contact": desk.file(**{**AR, "contact_name": None, "contact_email": None},
                                inn="7702211326"),
    }
    out = desk.backdate(dict.fromkeys(issues.values(), TUE),
                        extra=group_setup("Отдел разработки", desk.project["id"]))
    developers = group_id(out)
    outcomes = desk.intake(issues)

    # AR-3 tiers (priority = tier), AR-4 answer times in working hours, ИКС Lite unlimited.
    expected = {
        "premium": ("premium", "active", "P2", "Urgent", "2026-12-01 18:00"),
        "trial": ("trial", "trial", "P3", "High", "2026-12-03 16:00"),
        "partner_lite": ("partner", "none", "P1", "Immediate", None),
        "unknown": ("other", "none", "P5", "Low", None),
    }
    for name, (tier, license_status, priority, redmine_priority, due) in expected.items():
        assert outcomes[name].action == "accepted", (name, outcomes[name].detail)
        state = desk.state(issues[name])
        assert (state["tier"], state["license_status"], state["sla_priority"], state["priority"],
                state["first_response_due"], state["resolution_due"]) == (
            tier, license_status, priority, redmine_priority, due, None), name
    # AR-7 / AR-1 refusals.
    assert codes(outcomes["old_version"]) == ["unsupported_version"]
    assert codes(outcomes["no_contact"]) == ["missing_field", "missing_field"]
    assert desk.state(issues["old_version"])["status"] == "Rejected"

    # AR-6: support asks on Tuesday 12:00, the client answers at 15:00, support answers on
    # Thursday and waits for the client (Feedback).
    premium, trial = issues["premium"], issues["trial"]
    desk.answer(premium, "Уточните, пожалуйста, модель сервера.")
    desk.reply(premium, "Сервер HP DL380, ошибка после перезагрузки.")
    desk.answer(premium, "Обновите ИКС до 7.3.2 и сообщите результат.",
                status_id=desk.status("Feedback"))
    first, client, answer = desk.journal_ids(premium)[-3:]
    # AR-8: the trial request goes to the development group.
    desk.answer(trial, "Передаём вопрос в отдел разработки.", assigned_to_id=developers)
    handover = desk.journal_ids(trial)[-1]
    desk.backdate(journals={first: msk(12, 1, 12), client: msk(12, 1, 15),
                            answer: msk(12, 3, 12), handover: msk(12, 1, 14)})

    outcome = process_issue(desk.rt, trial, now=msk(12, 2, 11))
    assert "development term posted" in outcome.detail
    note = desk.last_note(trial)
    # 10 working days after Wed 2 Dec: Wed 16 Dec, closing time.
    assert note["private_notes"] is False
    assert "передан в отдел разработки" in note["notes"] and "16.12.2026 18:00" in note["notes"]
    assert process_issue(desk.rt, trial, now=msk(12, 2, 12)).action == "unchanged"  # once
    process_issue(desk.rt, premium, now=msk(12, 3, 12, 1))
    state = desk.state(premium)
    assert (state["first_response_at"], state["sla_state"]) == ("2026-12-01 12:00", "paused")

    # 14 days after the CLIENT's last message (Tue 1 Dec) end at 00:00 on Wed 16 Dec - two
    # days before 14 days after support's last answer would (ID-10).
    assert sweep(desk.rt, now=msk(12, 15, 23, 55)).closed == []
    assert sweep(desk.rt, now=msk(12, 16, 0, 5)).closed == [premium]
    closing = desk.last_note(premium)
    assert "от вас не было сообщений в течение 14 дней" in closing["notes"]
    assert "31.12.2026 00:00" in closing["notes"]  # the 14-day reopen window
    assert desk.state(trial)["status"] == "New"  # with development: not closed

    # Within the window the client's reply reopens the same request.
    desk.reply(premium, "Ошибка вернулась после обновления.")
    again = desk.journal_ids(premium)[-1]
    desk.backdate(journals={closing["id"]: msk(12, 16, 0, 5), again: msk(12, 29, 10)})
    assert process_issue(desk.rt, premium, now=msk(12, 29, 10, 1)).action == "reopened"
    reopened = desk.issue(premium)
    assert reopened["status"]["name"] == "New"
    assert "возобновлено" in reopened["journals"][-1]["notes"]


# --- ID: Ideco ------------------------------------------------------------------------------


def test_ideco(open_desk):
    desk = open_desk("ideco")
    email = f"volkov-{uuid.uuid4().hex[:8]}@example.ru"  # the known-contact lookup is global
    ideco = {"contact_name": "Сергей Волков", "contact_email": email,
             "organization": "ООО Екатеринбургские Сети", "product": "Ideco ICS",
             "product_version": "20.3"}
    issues = {
        "subscription": desk.file(**ideco, inn="6671470358"),
        # ID-6: organization data only on the first request - the same contact again.
        "known": desk.file(contact_email=email, product="Ideco ICS", product_version="20.3"),
        # Another person (ID-8 queues a user's second open request): his own email.
        "demo": desk.file(**{**ideco, "organization": "ООО Новый Пользователь",
                             "contact_email": "new-" + email}, inn="6673583519"),
        "second_demo": desk.file(**{**ideco, "organization": "ООО Повторный Демо"},
                                 inn="7714036196"),
        "not_current": desk.file(**{**ideco, "product_version": "19.5"}, inn="6671470358"),
        "no_contact": desk.file(organization="ООО Новая", product="Ideco ICS",
                                product_version="20.3"),
    }
    out = desk.backdate(dict.fromkeys(issues.values(), TUE),
                        extra=group_setup("ОРПО", desk.project["id"]))
    orpo = group_id(out)
    outcomes = desk.intake(issues)

    # ID-1 categories, ID-5 first response (4 working hours / 24 working hours).
    expected = {
        "subscription": ("subscription", "active", "P1", "High", "2026-12-01 14:00"),
        "demo": ("demo", "none", "P2", "Normal", "2026-12-03 16:00"),
    }
    for name, (tier, license_status, priority, redmine_priority, due) in expected.items():
        assert outcomes[name].action == "accepted", (name, outcomes[name].detail)
        state = desk.state(issues[name])
        assert (state["tier"], state["license_status"], state["sla_priority"], state["priority"],
                state["first_response_due"]) == (tier, license_status, priority,
                                                 redmine_priority, due), name
    # ID-6: the same contact again - organization data from his first request; ID-8: it
    # waits its turn behind that first request, with no deadline yet.
    assert outcomes["known"].action == "queued", outcomes["known"].detail
    known = desk.state(issues["known"])
    assert (known["tier"], known["inn"], known["first_response_due"]) == (
        "subscription", "6671470358", None)
    # ID-4 second demo within a year, ID-2 current version only, ID-7 no contact data.
    assert "demo_already_used" in codes(outcomes["second_demo"])
    assert codes(outcomes["not_current"]) == ["unsupported_version"]
    assert set(codes(outcomes["no_contact"])) == {"missing_field"}

    # ID-10: support answers Tuesday, the user writes Wednesday, support answers Thursday.
    sub, demo = issues["subscription"], issues["demo"]
    desk.answer(sub, "Пришлите, пожалуйста, логи.")
    desk.reply(sub, "Логи во вложении.")
    desk.answer(sub, "Исправлено в 20.4, обновитесь.", status_id=desk.status("Feedback"))
    first, user, answer = desk.journal_ids(sub)[-3:]
    # ID-9: the demo request goes to ОРПО.
    desk.answer(demo, "Передаём в ОРПО.", assigned_to_id=orpo)
    handover = desk.journal_ids(demo)[-1]
    desk.backdate(journals={first: msk(12, 1, 12), user: msk(12, 2, 9), answer: msk(12, 3, 12),
                            handover: msk(12, 2, 10)})

    assert "development term posted" in process_issue(desk.rt, demo, now=msk(12, 2, 11)).detail
    note = desk.last_note(demo)["notes"]
    assert "ОРПО" in note and "16.12.2026 18:00" in note and "d.homutov@ideco.ru" in note
    process_issue(desk.rt, sub, now=msk(12, 3, 12, 1))
    assert desk.state(sub)["first_response_at"] == "2026-12-01 12:00"

    # 14 days since support's LAST answer (Thu 3 Dec) end at 00:00 on Fri 18 Dec; 14 days
    # since the user's message (AR-6's rule) would have closed it a day earlier.
    assert sweep(desk.rt, now=msk(12, 17, 0, 5)).closed == []
    assert sweep(desk.rt, now=msk(12, 18, 0, 5)).closed == [sub]
    closing = desk.last_note(sub)
    assert "после нашего ответа прошло 14 дней" in closing["notes"]

    # "может продолжить решение обращения в любое время" (a year): the reply reopens it.
    desk.reply(sub, "После обновления проблема вернулась.")
    again = desk.journal_ids(sub)[-1]
    desk.backdate(journals={closing["id"]: msk(12, 18, 0, 5), again: msk(12, 28, 10)})
    assert process_issue(desk.rt, sub, now=msk(12, 28, 10, 1)).action == "reopened"
    assert desk.state(sub)["status"] == "New"


# --- AS: ASCON ------------------------------------------------------------------------------

AS = {"contact_name": "Дмитрий Лебедев", "contact_phone": "+7 812 703-39-34",
      "product": "КОМПАС-3D", "product_version": "24", "request_type": "error"}


def test_ascon(open_desk):
    desk = open_desk("ascon")
    issues = {
        "individual": desk.file(**AS, inn="7811471282"),
        "warranty": desk.file(**AS, inn="7813824663"),
        "basic": desk.file(**AS, inn="7717311411"),
        "withdrawn": desk.file(**{**AS, "product_version": "21"}, inn="7717311411"),
    }
    desk.backdate(dict.fromkeys(issues.values(), TUE))
    outcomes = desk.intake(issues)

    # AS-1 kinds, AS-4 the contract's own SLA, AS-3 warranty 8/40 h, AS-2 basic 16 h (10-18).
    expected = {
        "individual": ("individual", "P1", "High", "2026-12-01 14:00", "2026-12-02 18:00"),
        "warranty": ("warranty", "P2", "Normal", "2026-12-01 18:00", "2026-12-07 18:00"),
        "basic": ("basic", "P3", "Low", "2026-12-02 18:00", None),
    }
    for name, (tier, priority, redmine_priority, first, resolution) in expected.items():
        assert outcomes[name].action == "accepted", (name, outcomes[name].detail)
        state = desk.state(issues[name])
        assert (state["tier"], state["sla_priority"], state["priority"],
                state["first_response_due"], state["resolution_due"], state["sla_state"]) == (
            tier, priority, redmine_priority, first, resolution, "on track"), name
    assert codes(outcomes["withdrawn"]) == ["unsupported_version"]  # AS-6

    # Escalation: Tue 16:30 - the warranty answer (8 h, due 18:00) has 1.5 h of 8 left,
    # the contract's 4 h answer (due 14:00) is missed.
    individual, warranty, basic = issues["individual"], issues["warranty"], issues["basic"]
    assert sweep(desk.rt, now=msk(12, 1, 16, 30)).changed == {individual: "breached",
                                                               warranty: "at risk"}
    risk = desk.issue(warranty)
    assert risk["priority"]["name"] == "Urgent"
    assert risk["journals"][-1]["private_notes"] is True
    assert "SLA под угрозой" in risk["journals"][-1]["notes"]
    missed = desk.issue(individual)
    assert missed["priority"]["name"] == "Immediate"
    assert "SLA нарушен" in missed["journals"][-1]["notes"]
    # Wed 16:30: 14.5 of basic's 16 h are used; the warranty answer is missed.
    assert sweep(desk.rt, now=msk(12, 2, 16, 30)).changed == {warranty: "breached",
                                                               basic: "at risk"}
    assert desk.state(warranty)["priority"] == "Immediate"
    assert desk.state(basic)["priority"] == "Urgent"
    assert sweep(desk.rt, now=msk(12, 2, 16, 45)).changed == {}  # each step written once

    # The customer's answer in Feedback puts the request back to work.
    desk.answer(basic, "Пришлите файл модели.", status_id=desk.status("Feedback"))
    desk.reply(basic, "Файл во вложении.")
    assert process_issue(desk.rt, basic, now=msk(12, 2, 17)).action == "resumed"
    assert desk.state(basic)["status"] == "In Progress"


# --- BA: Barier -----------------------------------------------------------------------------

BA = {"contact_name": "Андрей Рудаков", "contact_position": "Начальник отдела ИТ",
      "contact_phone": "+7 473 202-24-64", "contact_email": "rudakov@example.ru",
      "organization": "ООО Черноземье-Телеком"}


def test_barier(open_desk):
    desk = open_desk("barier")
    issues = {
        "p1": desk.file(**BA, inn="3663348976", impact="P1"),
        "p2": desk.file(**BA, inn="3663348976", impact="P2"),
        "p4": desk.file(**{**BA, "organization": "МКУ Городской Архив"}, inn="3664373414",
                        impact="P4"),
        "incomplete": desk.file(**{**BA, "contact_position": None, "contact_phone": None},
                                impact="P3"),
    }
    desk.backdate(dict.fromkeys(issues.values(), TUE))
    outcomes = desk.intake(issues)

    # BA-5 priority by impact, BA-7 terms in working time (9-18), contract tier.
    expected = {
        "p1": ("contract", "active", "P1", "Immediate", "2026-12-01 14:00"),
        "p2": ("contract", "active", "P2", "Urgent", "2026-12-01 18:00"),
        "p4": ("no_contract", "expired", "P4", "Low", "2026-12-15 18:00"),
    }
    for name, (tier, license_status, priority, redmine_priority, due) in expected.items():
        assert outcomes[name].action == "accepted", (name, outcomes[name].detail)
        state = desk.state(issues[name])
        assert (state["tier"], state["license_status"], state["sla_priority"], state["priority"],
                state["first_response_due"], state["resolution_due"]) == (
            tier, license_status, priority, redmine_priority, due, due), name
    assert codes(outcomes["incomplete"]) == ["missing_field", "missing_field"]  # BA-2

    p1, p2 = issues["p1"], issues["p2"]
    engineer = desk.people["engineer"]
    # BA-9: two answers on p2 on 1 Dec; the engineer logged 45 min himself.
    desk.answer(p2, "Проверьте настройки индексации.")
    engineer.gateway.create_time_entry(issue_id=p2, spent_on="2026-12-01", hours=0.75,
                                       activity_id=desk.rt.redmine.catalog.activity_id("Development"))
    desk.answer(p2, "Индексы перестроены, отчёты формируются за 20 секунд.",
                status_id=desk.status("Resolved"))
    journals = desk.issue(p2)["journals"]
    ack, first, resolved = (j["id"] for j in journals[-3:])
    # BA-4/BA-6: the number, the priority and the deadline went to the customer at once.
    assert f"№{p2}" in journals[-3]["notes"] and "Приоритет: P2" in journals[-3]["notes"]
    assert "01.12.2026 18:00" in journals[-3]["notes"]
    # BA-8 disagreement on p1.
    desk.answer(p1, "Сервис перезапущен.", status_id=desk.status("Resolved"))
    desk.reply(p1, "Не согласен: после перезапуска ошибка осталась, журнал приложен.")
    p1_ack, p1_resolved, objection = desk.journal_ids(p1)[-3:]
    desk.backdate(journals={ack: INTAKE, p1_ack: INTAKE, first: msk(12, 1, 11),
                            resolved: msk(12, 1, 15), p1_resolved: msk(12, 1, 13),
                            objection: msk(12, 1, 16)})

    assert process_issue(desk.rt, p2, now=msk(12, 1, 15, 5)).action == "updated"
    entries = desk.gateway.time_entries(p2)
    assert sorted((e["user"]["id"], e["spent_on"], e["hours"]) for e in entries) == [
        (engineer.id, "2026-12-01", 0.25), (engineer.id, "2026-12-01", 0.75)]
    assert all(e["activity"]["name"] == "Development" for e in entries)
    assert desk.state(p2)["sla_state"] == "met"  # BA-6 at 10:01, BA-7 at 15:00 < 18:00
    assert process_issue(desk.rt, p2, now=msk(12, 1, 15, 10)).action == "unchanged"
    assert len(desk.gateway.time_entries(p2)) == 2  # accounted once

    assert process_issue(desk.rt, p1, now=msk(12, 1, 16, 5)).action == "resumed"
    assert desk.state(p1)["status"] == "In Progress"

    # BA-8: 24 calendar hours after entering Resolved (Tue 15:00) the request is closed.
    assert sweep(desk.rt, now=msk(12, 2, 14, 55)).closed == []
    assert sweep(desk.rt, now=msk(12, 2, 15, 5)).closed == [p2]
    closing = desk.last_note(p2)
    assert "за 24 часа подтверждения не поступило" in closing["notes"]
    assert "03.12.2026 18:00" in closing["notes"]  # one working day to object

    # An objection after the window: asked for a new request, the issue stays closed.
    desk.reply(p2, "Отчёты снова медленные.")
    late = desk.journal_ids(p2)[-1]
    desk.backdate(journals={closing["id"]: msk(12, 2, 15, 5), late: msk(12, 4, 10)})
    assert process_issue(desk.rt, p2, now=msk(12, 4, 10, 1)).detail == "reply after the reopen window"
    after = desk.issue(p2)
    assert after["status"]["name"] == "Closed"
    assert "создайте новое обращение" in after["journals"][-1]["notes"]


# --- RB: Rusbitech --------------------------------------------------------------------------

RB = {"contact_name": "Алексей Никитин", "contact_email": "nikitin@example.ru",
      "product": "ПТКА СКПС ВС РФ"}
SAT_NIGHT = msk(11, 28, 3)  # Saturday 03:00


def test_rusbitech(open_desk):
    desk = open_desk("rusbitech")
    issues = {
        "critical": desk.file(**RB, inn="7719526010", impact="P1"),
        "normal": desk.file(**RB, inn="7719526010", impact="P3"),
        "individual": desk.file(**RB, inn="7720815909", impact="P3"),
        "other_product": desk.file(**{**RB, "product": "Astra Linux"}, inn="7719526010"),
    }
    out = desk.backdate(dict.fromkeys(issues.values(), SAT_NIGHT),
                        extra=group_setup("Отдел разработки", desk.project["id"]))
    developers = group_id(out)
    outcomes = desk.intake(issues, now=msk(11, 28, 3, 1))

    # RB-3/RB-4 high criticality on 24x7; RB-2 10 working days (10-18) from Monday's
    # opening; the individual contract's 3 working days.
    expected = {
        "critical": ("critical", "Immediate", "2026-11-28 07:00"),
        "normal": ("normal", "Normal", "2026-12-14 18:00"),
        "individual": ("normal", "Normal", "2026-12-03 18:00"),
    }
    for name, (priority, redmine_priority, due) in expected.items():
        assert outcomes[name].action == "accepted", (name, outcomes[name].detail)
        state = desk.state(issues[name])
        assert (state["tier"], state["sla_priority"], state["priority"],
                state["first_response_due"], state["resolution_due"]) == (
            "contract", priority, redmine_priority, due, None), name
    assert codes(outcomes["other_product"]) == ["unsupported_product"]

    critical, normal, individual = issues["critical"], issues["normal"], issues["individual"]
    # RB-4: the critical request's clock runs on Saturday night.
    assert sweep(desk.rt, now=msk(11, 28, 6, 30)).changed == {critical: "at risk"}
    risk = desk.issue(critical)
    assert risk["priority"]["name"] == "Immediate"  # never lowered to High
    assert "SLA под угрозой" in risk["journals"][-1]["notes"]
    assert risk["journals"][-1]["private_notes"] is True
    assert sweep(desk.rt, now=msk(11, 28, 7, 1)).changed == {critical: "breached"}

    # RB-5 hand-over to development: the customer is told the expected term. (An
    # assignment only: a public note would be the first response, met on its clock.)
    desk.answer(individual, assigned_to_id=developers)
    assert "development term posted" in process_issue(desk.rt, individual,
                                                      now=msk(12, 1, 10)).detail
    # 10 working days after Tue 1 Dec: Tue 15 Dec, 18:00.
    assert "15.12.2026 18:00" in desk.last_note(individual)["notes"]

    # Normal requests: at risk late on the 10th working day, then breached.
    assert sweep(desk.rt, now=msk(12, 14, 17)).changed == {normal: "at risk",
                                                            individual: "breached"}
    assert desk.state(normal)["priority"] == "High"
    assert sweep(desk.rt, now=msk(12, 14, 18, 1)).changed == {normal: "breached"}
    assert desk.state(normal)["priority"] == "Urgent"
    assert desk.state(individual)["priority"] == "Urgent"


# --- provisioning a preset on a shared Redmine ------------------------------------------------

FIELD_KEYS = (
    "tier", "license_status", "sla_priority", "sla_state", "first_response_due",
    "resolution_due", "first_response_at", "contact_name", "contact_email", "contact_phone",
    "contact_position", "organization", "inn", "product", "product_version", "contract_number",
    "impact", "request_type",
)
