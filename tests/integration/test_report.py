"""`report` on the real Redmine (issue 18): a dataset of requests with known outcomes
(injected clock, journal times moved to chosen moments) - accepted, refused, paused,
breached, met, reopened, auto-closed, a contract customer - and every figure of the
JSON report checked against what the dataset was built to give; csv and table agree;
--what-if under the same config gives the recorded figures and under a stricter target
the additional breaches, writing nothing; --rebuild fills outcomes once."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import time
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from redmine_sla_bridge.adapters.redmine.gateway import RedmineGateway
from redmine_sla_bridge.config.model import DEFAULT_FIELD_NAMES
from redmine_sla_bridge.entrypoints.cli import cli
from redmine_sla_bridge.service.process_issue import process_issue
from redmine_sla_bridge.service.sweep import sweep
from tests.conftest import Person, base_document, unique, write_config

pytestmark = [pytest.mark.redmine, pytest.mark.slow]

MSK = ZoneInfo("Europe/Moscow")
ALPHA, BETA = "7707083893", "7736050003"  # Beta holds a contract with its own terms (AS-4)
NOW = dt.datetime(2026, 3, 12, 11, 45, tzinfo=MSK)
SLOW = 60.0
CUSTOMERS = f"""customers:
  - inn: "{ALPHA}"
    name: Alpha
  - inn: "{BETA}"
    name: Beta
    licenses:
      - kind: contract
        starts: 2026-01-01
        expires: 2026-12-31
        sla: {{reference: "SLA-7", first_response: 1h, resolution: 8h}}
"""


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=MSK)


def _document(redmine, project, first_response="2h"):
    document = base_document(redmine)
    document["scope"]["projects"] = [project["identifier"]]
    document["polling"] = {"enabled": False}
    document["redmine"]["timeout_seconds"] = SLOW  # the shared Redmine is busy at times
    document["intake"] = {"required": ["organization.inn"]}
    document["policy"]["customers"] = {"file": "customers.yaml"}
    document["policy"]["tiers"] = [{"name": "individual", "when": {"has_contract": True}},
                                   {"name": "standard", "when": {}}]
    document["policy"]["targets"] = [{"when": {}, "first_response": first_response,
                                      "resolution": "16h"}]
    document["lifecycle"] = {"auto_close": [{
        "name": "AR-6", "from_statuses": ["Feedback"], "idle_since": "support_answer",
        "after": "24h", "calendar": "24x7", "to_status": "Closed"}]}
    return document


def _ruby_time(moment: dt.datetime) -> str:
    utc = moment.astimezone(dt.UTC)
    return f"Time.utc({utc.year}, {utc.month}, {utc.day}, {utc.hour}, {utc.minute}, {utc.second})"


def _gateway(redmine, login=None) -> RedmineGateway:
    return RedmineGateway(redmine.url, redmine.api_key, keep_alive=False, impersonate=login,
                          timeout=SLOW)


class Dataset:
    """Builds the requests, then moves every creation and journal to its moment in one
    Rails runner call (see tests.conftest.rewrite_times; one call per issue is slow)."""

    def __init__(self, rt, redmine, project, tracker, people, local):
        self.rt, self.project, self.tracker = rt, project, tracker
        self.gateway = _gateway(redmine)
        self.customer = _gateway(redmine, people["customer"].login)
        self.engineer = _gateway(redmine, people["engineer"].login)
        self.local = local
        self.fields = _setup(rt.redmine.catalog.project_fields, project["identifier"])[1]
        self.status = rt.redmine.catalog.facts.status_ids
        self.moments: dict[int, dt.datetime] = {}  # journal id -> moment
        self.created: dict[int, dt.datetime] = {}

    def new(self, subject, created, inn=ALPHA, org="Alpha") -> int:
        values = {"organization": org, **({"inn": inn} if inn else {})}
        issue = _setup(self.customer.create_issue,
                       project_id=self.project["id"], tracker_id=self.tracker, subject=subject,
                       description="Something broke", custom_fields=self.fields.payload(values))
        self.created[issue["id"]] = created
        return issue["id"]

    def act(self, issue_id, moment, *, notes=None, status=None, **changes):
        if notes:
            changes["notes"] = notes
        if status:
            changes["status_id"] = self.status[status]
        _setup(self.engineer.update_issue, issue_id, **changes)
        self.at_moment(issue_id, moment)

    def at_moment(self, issue_id, moment):
        """The issue's last journal happened at `moment`."""
        self.moments[_setup(self.gateway.issue, issue_id)["journals"][-1]["id"]] = moment

    def move(self):
        """Moves what was done since the last move."""
        script = [f"Issue.where(id: {i}).update_all(created_on: {_ruby_time(m)}, "
                  f"start_date: Date.parse('{m.date().isoformat()}'))"
                  for i, m in self.created.items()]
        script += [f"Journal.where(id: {j}).update_all(created_on: {_ruby_time(m)})"
                   for j, m in self.moments.items()]
        self.local.runner("; ".join(script))
        self.created, self.moments = {}, {}


def _setup(call, *args, **kwargs):
    """A setup call, tried again after a 500 (Redmine on SQLite gives up a lock wait when
    other engineers' tests write at the same time)."""
    from redmine_sla_bridge.domain.ports import RedmineUnavailable

    for attempt in range(4):
        try:
            return call(*args, **kwargs)
        except RedmineUnavailable as exc:
            if attempt == 3 or "ServerError" not in str(exc):
                raise
            time.sleep(2)
    raise AssertionError("unreachable")


@pytest.fixture()
def project(redmine, support_tracker):
    """The tests' project fixture with a patient client (see SLOW)."""
    identifier = unique("t-")
    return _setup(_gateway(redmine).create_project, identifier, f"Test {identifier}",
                  tracker_ids=[support_tracker])


@pytest.fixture()
def people(redmine, project):
    """A customer (Reporter) and an engineer (Developer), as tests.conftest makes them."""
    gateway = _gateway(redmine)
    roles = {r["name"]: r["id"] for r in _setup(gateway.roles)}
    out = {}
    for key, role in (("customer", "Reporter"), ("engineer", "Developer")):
        login = unique(key[:4])
        user = _setup(gateway.create_user, login, key.capitalize(), login,
                      f"{login}@example.ru", "password-" + login)
        _setup(gateway.add_member, project["id"], user["id"], [roles[role]])
        out[key] = Person(user["id"], login, _gateway(redmine, login))
    return out


@pytest.fixture()
def dataset(make_runtime, redmine, project, support_tracker, people, local_redmine,
            tmp_path):
    (tmp_path / "customers.yaml").write_text(CUSTOMERS, encoding="utf-8")
    rt = make_runtime(_document(redmine, project), gateway=_gateway(redmine))
    d = Dataset(rt, redmine, project, support_tracker, people, local_redmine)
    ids = {}
    # A: answered in 70 min (target 2 h), resolved after 240 min.
    ids["A"] = a = d.new("A met", at(3, 10))
    d.act(a, at(3, 11, 10), notes="Looking")
    d.act(a, at(3, 14), status="Resolved")
    # B: answered after 180 min (breached by 60) by its assignee; resolved after 600 min.
    ids["B"] = b = d.new("B late answer", at(3, 10))
    d.act(b, at(3, 10, 0), assigned_to_id=people["engineer"].id)
    d.act(b, at(3, 13), notes="Sorry for the wait")
    d.act(b, at(4, 11), status="Resolved")
    # C: answered in 30 min asking the customer (Feedback pauses 120 min), resolved at 15:00.
    ids["C"] = c = d.new("C paused", at(4, 10))
    d.act(c, at(4, 10, 30), notes="Which version?", status="Feedback")
    d.act(c, at(4, 12, 30), status="In Progress")
    d.act(c, at(4, 15), status="Resolved")
    # D: no INN: refused.
    ids["D"] = d.new("D refused", at(5, 9, 30), inn=None)
    # E: answered in 20 min, resolved, reopened, resolved again at 13:00.
    ids["E"] = e = d.new("E reopened", at(5, 10))
    d.act(e, at(5, 10, 20), notes="Fixed")
    d.act(e, at(5, 11), status="Resolved")
    d.act(e, at(5, 12), status="In Progress")
    d.act(e, at(5, 13), status="Resolved")
    # F: answered in 30 min into Feedback, never answered: auto-closed a day later.
    ids["F"] = f = d.new("F auto-closed", at(10, 10))
    d.move()
    # F is taken in at once (the others when the bridge first sees them, at NOW): its
    # acknowledgement precedes the answer, as the auto-close rule expects.
    assert _setup(process_issue, rt, f, now=at(10, 10, 1)).action == "accepted"
    d.at_moment(f, at(10, 10, 1))
    d.act(f, at(10, 10, 30), notes="Please check", status="Feedback")
    # G: the contract customer (first response 1 h): answered after 90 min, resolved at 16:00.
    ids["G"] = g = d.new("G contract", at(11, 10), inn=BETA, org="Beta")
    d.act(g, at(11, 11, 30), notes="On it")
    d.act(g, at(11, 16), status="Resolved")
    # H: not answered yet: 105 of 120 minutes used at the report's "now".
    ids["H"] = d.new("H waiting", at(12, 10))
    # I: received after the period.
    ids["I"] = d.new("I later", at(16, 10))
    d.move()
    assert f in _setup(sweep, rt, now=at(11, 11)).closed
    d.at_moment(f, at(11, 11))
    d.move()
    for issue_id in ids.values():
        _setup(process_issue, rt, issue_id, now=NOW)
    return rt, ids, tmp_path


def _cli(*args):
    """The command as a user runs it; run again when the busy shared Redmine answered 500
    (exit 1, "error: Redmine"): every run is read-only or idempotent."""
    for _ in range(3):
        result = CliRunner().invoke(cli, ["report", *args])
        if result.exit_code != 1 or "error: Redmine" not in result.output:
            break
        time.sleep(2)
    return result


def _run(tmp_path, *args) -> str:
    result = _cli("--config", str(tmp_path / "bridge.yaml"), "--from", "2026-03-02",
                  "--to", "2026-03-15", "--now", "2026-03-12T11:45:00+0300", *args)
    assert result.exit_code == 0, result.output
    return result.stdout


def _target(met, breached, open_, at_risk, median, p90):
    return {"met": met, "breached": breached, "open": open_, "at_risk": at_risk,
            "median_minutes": median, "p90_minutes": p90}


EMPTY = _target(0, 0, 0, 0, None, None)


def _summary(received=0, accepted=0, refused=0, by_code=None, auto_closed=0, reopened=0,
             fr=EMPTY, res=EMPTY, paused=0):
    return {"received": received, "accepted": accepted, "refused": refused,
            "refused_by_code": by_code or {}, "queued": 0, "auto_closed": auto_closed,
            "reopened": reopened, "first_response": fr, "resolution": res,
            "paused_minutes": paused}


# First response minutes A 70, B 180, C 30, E 20, F 30, G 90; H open at risk.
# Resolution minutes A 240, B 600, C 180 (120 paused), E 180, F 30 (570 paused), G 360.
OVERALL = _summary(8, 7, 1, {"missing_field": 1}, auto_closed=1, reopened=1,
                   fr=_target(4, 2, 1, 1, 30, 180), res=_target(6, 0, 1, 0, 180, 600), paused=690)


def _expected_breaches(redmine, ids, engineer_name):
    def breach(key, subject, customer, tier, due, assignee, overdue):
        return {"issue": ids[key], "url": f"{redmine.url}/issues/{ids[key]}", "subject": subject,
                "customer": customer, "tier": tier, "priority": "P3", "product": None,
                "target": "first_response", "due": due.isoformat(), "assignee": assignee,
                "overdue_minutes": overdue}
    return [breach("B", "B late answer", ALPHA, "standard", at(3, 12), engineer_name, 60),
            breach("G", "G contract", BETA, "individual", at(11, 11), None, 30)]


def _journal_count(gateway, ids) -> int:
    return sum(len(_setup(gateway.issue, i)["journals"]) for i in ids.values())


def test_every_figure_of_the_report_is_the_datasets(dataset, redmine):
    _, ids, tmp_path = dataset
    gateway = _gateway(redmine)
    report = json.loads(_run(tmp_path, "--format", "json"))
    engineer = _setup(gateway.issue, ids["B"], journals=False)["assigned_to"]["name"]

    assert report["schema"] == "redmine-sla-bridge/report/1"
    assert report["period"] == {"from": "2026-03-02", "to": "2026-03-15",
                                "time_zone": "Europe/Moscow"}
    assert report["missing_outcomes"] == 0
    assert report["overall"] == OVERALL
    alpha_fr, alpha_res = _target(4, 1, 1, 1, 30, 180), _target(5, 0, 1, 0, 180, 600)
    assert report["by_customer"] == [
        {"key": "-", "label": "-", "summary": _summary(1, 0, 1, {"missing_field": 1})},
        {"key": ALPHA, "label": "Alpha", "summary": _summary(
            6, 6, auto_closed=1, reopened=1, fr=alpha_fr, res=alpha_res, paused=690)},
        {"key": BETA, "label": "Beta", "summary": _summary(
            1, 1, fr=_target(0, 1, 0, 0, 90, 90), res=_target(1, 0, 0, 0, 360, 360))},
    ]
    assert [(g["key"], g["summary"]["received"]) for g in report["by_tier"]] == [
        ("-", 1), ("individual", 1), ("standard", 6)]
    assert [(g["key"], g["summary"]["accepted"]) for g in report["by_priority"]] == [
        ("-", 0), ("P3", 7)]
    assert [g["key"] for g in report["by_product"]] == ["-"]
    assert report["by_week"] == [
        {"key": "2026-W10", "label": "2026-03-02", "summary": _summary(
            5, 4, 1, {"missing_field": 1}, reopened=1, fr=_target(3, 1, 0, 0, 30, 180),
            res=_target(4, 0, 0, 0, 180, 600), paused=120)},
        {"key": "2026-W11", "label": "2026-03-09", "summary": _summary(
            3, 3, auto_closed=1, fr=_target(1, 1, 1, 1, 30, 90),
            res=_target(2, 0, 1, 0, 30, 360), paused=570)},
    ]
    breaches = _expected_breaches(redmine, ids, engineer)
    assert report["breaches"] == breaches
    assert sorted((t["issue"], t["minutes"], t["target_minutes"])
                  for t in report["first_response_times"]) == sorted([
        (ids["A"], 70, 120), (ids["B"], 180, 120), (ids["C"], 30, 120), (ids["E"], 20, 120),
        (ids["F"], 30, 120), (ids["G"], 90, 60)])
    assert report["contracts"] == [{
        "customer": BETA, "label": "Beta", "contract": "SLA-7",
        "terms": {"first_response": "1h", "resolution": "8h"},
        "summary": _summary(1, 1, fr=_target(0, 1, 0, 0, 90, 90),
                            res=_target(1, 0, 0, 0, 360, 360)),
        "breaches": [breaches[1]]}]
    # Issue lists only: one page for the period's issues, no journal read. A process
    # reads Redmine's names once besides (statuses, trackers, ...): a report of an
    # empty period costs the same, one page and those.
    assert report["cost"]["issues"] == 8 and report["cost"]["journal_reads"] == 0
    result = _cli("--config", str(tmp_path / "bridge.yaml"), "--from", "2025-03-02",
                  "--to", "2025-03-15", "--format", "json")
    empty = json.loads(result.stdout)["cost"]
    assert empty["issues"] == 0 and report["cost"]["api_calls"] == empty["api_calls"]

    rows = list(csv.reader(io.StringIO(_run(tmp_path, "--format", "csv"))))
    header = rows[0]
    overall = dict(zip(header, rows[1], strict=True))
    assert overall["section"] == "overall"
    for column in ("received", "accepted", "refused", "queued", "auto_closed", "reopened",
                   "paused_minutes"):
        assert int(overall[column]) == report["overall"][column]
    for prefix, target in (("fr_", "first_response"), ("res_", "resolution")):
        for column, value in report["overall"][target].items():
            assert overall[prefix + column] == ("" if value is None else str(value))
    assert overall["refused_by_code"] == "missing_field=1"
    breach_start = rows.index([]) + 1
    csv_breaches = [dict(zip(rows[breach_start], r, strict=True)) for r in rows[breach_start + 1:]
                    if r and r[0] == "breach"]
    assert [(int(b["issue"]), b["target"], int(b["overdue_minutes"])) for b in csv_breaches] == [
        (b["issue"], b["target"], b["overdue_minutes"]) for b in breaches]
    assert rows[-1][0].startswith("# Cost: 8 issues")

    table = _run(tmp_path).splitlines()
    cells = table[table.index("Overall") + 3].split()
    assert cells == ["8", "7", "1", "0", "1", "1", "4/2/1/1", "0:30", "3:00", "6/0/1/0", "3:00",
                     "10:00", "11:30"]
    assert any(line.startswith(f"#{ids['B']} ") and "1:00" in line for line in table)
    assert table[-1].startswith("Cost: 8 issues")


def test_what_if_same_config_is_the_record_and_a_stricter_target_adds_breaches(
        dataset, redmine, project):
    _, ids, tmp_path = dataset
    gateway = _gateway(redmine)
    before = _journal_count(gateway, ids)
    same = json.loads(_run(tmp_path, "--format", "json", "--what-if", str(tmp_path / "bridge.yaml")))
    other = same["what_if"]["report"]
    for key in ("overall", "by_customer", "by_tier", "by_priority", "by_product", "by_week",
                "breaches", "first_response_times", "contracts"):
        assert other[key] == same[key], key
    assert same["what_if"]["additional_breaches"] == []
    assert other["cost"]["journal_reads"] == 8

    strict = _document(redmine, project, first_response="1h")
    strict["fields"] = dict(DEFAULT_FIELD_NAMES["en"])
    strict["store"] = {"url": f"sqlite:///{tmp_path / 'strict.sqlite3'}"}
    write_config(tmp_path / "strict.yaml", strict)
    result = json.loads(_run(tmp_path, "--format", "json", "--what-if", str(tmp_path / "strict.yaml")))
    assert result["overall"] == OVERALL  # the recorded side is unchanged
    added = [(b["issue"], b["target"], b["overdue_minutes"])
             for b in result["what_if"]["additional_breaches"]]
    assert added == [(ids["A"], "first_response", 10), (ids["H"], "first_response", 45)]
    assert result["what_if"]["resolved_breaches"] == []
    assert result["what_if"]["report"]["overall"]["first_response"] == _target(3, 4, 0, 0, 30, 180)
    table = _run(tmp_path, "--what-if", str(tmp_path / "strict.yaml"))
    assert "Additional breaches under the what-if config" in table
    assert _journal_count(gateway, ids) == before


def test_rebuild_fills_outcomes_of_older_issues_once(dataset, redmine, local_redmine):
    rt, ids, tmp_path = dataset
    gateway = _gateway(redmine)
    outcome_field = rt.redmine._field_map().id("sla_outcome")
    older = [ids["A"], ids["D"], ids["F"], ids["H"]]
    # As an installation before this version left them: no value, no journal about it.
    local_redmine.runner(f"CustomValue.where(customized_type: 'Issue', customized_id: {older}, "
                         f"custom_field_id: {outcome_field}).delete_all")
    missing = json.loads(_run(tmp_path, "--format", "json"))
    assert missing["missing_outcomes"] == 4 and missing["overall"] != OVERALL

    before = _journal_count(gateway, ids)
    result = _cli("--config", str(tmp_path / "bridge.yaml"), "--from", "2026-03-02",
                  "--to", "2026-03-15", "--now", "2026-03-12T11:45:00+0300", "--rebuild",
                  "--format", "json")
    assert result.exit_code == 0, result.output
    assert "4 outcome(s) written" in result.stderr
    rebuilt = json.loads(result.stdout)
    assert rebuilt["overall"] == OVERALL and rebuilt["missing_outcomes"] == 0
    assert _journal_count(gateway, ids) == before + 4
    authors = {_setup(gateway.issue, i)["journals"][-1]["user"]["id"] for i in older}
    assert authors == {rt.redmine.catalog.facts.bridge_user_id}

    again = _cli("--config", str(tmp_path / "bridge.yaml"), "--from", "2026-03-02",
                 "--to", "2026-03-15", "--rebuild")
    assert again.exit_code == 0, again.output
    assert "0 outcome(s) written, 0 journal read(s)" in again.stderr
    assert _journal_count(gateway, ids) == before + 4
