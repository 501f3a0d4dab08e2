"""The five shipped presets (config/presets/) end to end through the CLI.

`check-config` must pass on each, and `simulate` must show each regulation's decisions:
tiers, license statuses, priorities and exact deadlines on the regulation's calendar,
and the refusals of the intake gate. No Redmine is needed (simulate runs without it);
every request carries a fixed `created_at`, so nothing depends on today's date.

Calendar facts the expected deadlines rest on (official RU production calendar 2026):
Tue 2026-11-03 is a pre-holiday short day (09:00-17:00 on a 9-18 calendar), Wed
2026-11-04 a public holiday; Wed 2026-12-30 is the last working day of 2026 (31 Dec is a
moved day off, 1-8 Jan holidays, 9-10 Jan a weekend), so work resumes Mon 2027-01-11.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from stdnum.ru import inn as inn_checker

from redmine_sla_bridge.adapters.redmine.intake_fields import PATH_TO_FIELD
from redmine_sla_bridge.entrypoints.cli import cli

PRESETS_DIR = Path(__file__).resolve().parents[2] / "config" / "presets"
PRESETS = ("a-real", "ideco", "ascon", "barier", "rusbitech")
RULE_IDS = {
    "a-real": [f"AR-{n}" for n in range(1, 10)],
    "ideco": [f"ID-{n}" for n in range(1, 11)],
    "ascon": [f"AS-{n}" for n in range(1, 7)],
    "barier": [f"BA-{n}" for n in range(1, 11)],
    "rusbitech": [f"RB-{n}" for n in range(1, 6)],
}

TUE = "2026-12-01T10:00:00+03:00"          # an ordinary Tuesday, 10:00 Moscow
SAT_NIGHT = "2026-11-28T03:00:00+03:00"    # Saturday 03:00
BEFORE_NY = "2026-12-30T17:30:00+03:00"    # 17:30 on the last working day of 2026
SHORT_DAY = "2026-11-03T10:00:00+03:00"    # Tue, short day before the 4 Nov holiday
UNKNOWN_INN = "5001609130"                 # valid checksum, in no directory

# A complete request per preset (everything its intake demands), minus INN and time.
BASE: dict[str, dict] = {
    "a-real": {"contact": {"name": "Иван Петров", "email": "ivan@example.ru"},
               "product": "ИКС Стандарт", "version": "7.3"},
    "ideco": {"contact": {"name": "Сергей Волков", "email": "volkov@example.ru"},
              "organization": {"name": "ООО Пример"}, "product": "Ideco ICS",
              "version": "20.3"},
    "ascon": {"contact": {"name": "Дмитрий Лебедев", "phone": "+7 812 703-39-34"},
              "product": "КОМПАС-3D", "version": "24"},
    "barier": {"contact": {"name": "Андрей Рудаков", "position": "Инженер",
                           "phone": "+7 473 202-24-64", "email": "rudakov@example.ru"},
               "organization": {"name": "ООО Пример"}},
    "rusbitech": {"contact": {"name": "Алексей Никитин", "email": "nikitin@example.ru"},
                  "product": "ПТКА СКПС ВС РФ"},
}


@pytest.fixture(autouse=True)
def _env(monkeypatch):
    monkeypatch.setenv("REDMINE_API_KEY", "test-key")
    monkeypatch.setenv("REDMINE_URL", "http://127.0.0.1:3999")
    monkeypatch.setenv("REDMINE_ADMIN_LOGIN", "admin")
    monkeypatch.setenv("REDMINE_ADMIN_PASSWORD", "admin")
    monkeypatch.setenv("REDMINE_WEBHOOK_SECRET", "")
    monkeypatch.setenv("BRIDGE_WEBHOOK_TOKEN", "")


def config_of(preset: str) -> Path:
    return PRESETS_DIR / f"{preset}.yaml"


def request(preset: str, inn: str | None, created_at: str = TUE, **changes) -> dict:
    """The preset's complete request for `inn` at `created_at`, with `changes` applied
    (a value None removes the key; `contact`/`organization` replace the whole group)."""
    doc = json.loads(json.dumps(BASE[preset]))
    doc.update(created_at=created_at, subject="Вопрос", description="Опишите, пожалуйста.")
    if inn is not None:
        doc.setdefault("organization", {})["inn"] = inn
    for key, value in changes.items():
        if value is None:
            doc.pop(key, None)
        else:
            doc[key] = value
    return doc


def simulate(preset: str, document: dict, tmp_path: Path) -> dict:
    path = tmp_path / "request.json"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["simulate", "--config", str(config_of(preset)), "--request", str(path)],
        catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def codes(decision: dict) -> list[tuple[str, str]]:
    return [(r["code"], r["field"]) for r in decision["reasons"]]


# --- the files themselves ---------------------------------------------------------------


@pytest.mark.parametrize("preset", PRESETS)
def test_check_config_passes(preset):
    result = CliRunner().invoke(cli, ["check-config", str(config_of(preset))],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert f"OK: {config_of(preset)}" in result.stdout


@pytest.mark.parametrize("preset", PRESETS)
def test_every_rule_id_is_named_and_every_block_is_commented(preset):
    text = config_of(preset).read_text(encoding="utf-8")
    missing = [rule for rule in RULE_IDS[preset] if not re.search(rf"\b{rule}\b", text)]
    assert not missing, f"{preset}.yaml never names {missing}"
    lines = text.splitlines()
    for number, line in enumerate(lines):
        if re.match(r"^[a-z_]+:", line):  # a top-level block
            above = next(prev for prev in reversed(lines[:number]) if prev.strip())
            assert above.startswith("#"), f"{preset}.yaml: block {line!r} has no comment"


@pytest.mark.parametrize("preset", PRESETS)
def test_customer_directory_inns_are_valid(preset):
    directory = yaml.safe_load((PRESETS_DIR / f"{preset}-customers.yaml").read_text("utf-8"))
    inns = [c["inn"] for c in directory["customers"]]
    assert inns and all(isinstance(i, str) and inn_checker.is_valid(i) for i in inns), inns
    assert UNKNOWN_INN not in inns


def _demo_request(sample: dict) -> dict:
    paths = {field: path for path, field in PATH_TO_FIELD.items()}
    local = sample.get("created_at", "2026-12-01 10:00")
    doc: dict = {"subject": sample["subject"], "description": sample["description"],
                 "created_at": local.replace(" ", "T") + ":00+03:00"}
    for key, value in sample["fields"].items():
        head, _, tail = paths[key].partition(".")
        if tail:
            doc.setdefault(head, {})[tail] = value
        else:
            doc[head] = value
    return doc


@pytest.mark.parametrize("preset", PRESETS)
def test_demo_samples(preset, tmp_path):
    """Order: complete, no contact data, bad INN, (unsupported) version, P1 at 17:30
    before the New Year holidays."""
    demo = yaml.safe_load((PRESETS_DIR / f"{preset}.demo.yaml").read_text("utf-8"))
    samples = demo["samples"]
    assert len(samples) >= 5
    for sample in samples:
        assert set(sample["fields"]) <= set(PATH_TO_FIELD.values()), sample["title"]
    complete, no_contact, bad_inn, version, outage = (
        simulate(preset, _demo_request(s), tmp_path) for s in samples[:5])
    assert complete["accepted"], complete
    assert not no_contact["accepted"]
    assert {c for c, _ in codes(no_contact)} == {"missing_field"}
    assert not inn_checker.is_valid(samples[2]["fields"]["inn"])
    if preset == "barier":  # BA-2 does not demand an INN: flagged, not refused
        assert bad_inn["accepted"]
        assert [f["code"] for f in bad_inn["flags"]] == ["ignored_invalid_value"]
    else:
        assert codes(bad_inn) == [("invalid_inn", "organization.inn")]
    if preset in ("barier", "rusbitech"):  # no version rule in BA/RB
        assert version["accepted"]
    else:
        assert codes(version) == [("unsupported_version", "version")]
    assert samples[4]["created_at"] == "2026-12-30 17:30"
    assert outage["accepted"] and outage["deadlines"]["first_response"]


# --- AR: tiers (AR-3), answer times (AR-4), ИКС Lite, unknown INN, expiry (AR-5) --------

AR_CASES = [
    # id, inn, product, created_at, tier, license_status, priority, first_response due
    ("tier1-partner", "7701232330", None, TUE, "partner", "none", "P1", "2026-12-01T14:00+03:00"),
    ("tier2-premium", "7702211326", None, TUE, "premium", "active", "P2", "2026-12-01T18:00+03:00"),
    ("tier2-support-module", "7703507291", "ИКС ФСТЭК", TUE, "premium", "active", "P2",
     "2026-12-01T18:00+03:00"),
    ("tier2-premium-expiring", "7709044265", None, TUE, "premium", "expiring", "P2",
     "2026-12-01T18:00+03:00"),
    # 24 working hours from Tue 10:00 on 09-18: 8 h Tue, 9 h Wed, 7 h Thu -> Thu 16:00
    ("tier3-trial", "7704142893", None, TUE, "trial", "trial", "P3", "2026-12-03T16:00+03:00"),
    ("tier4-update-license", "7705859845", None, TUE, "updates", "active", "P4",
     "2026-12-03T16:00+03:00"),
    ("tier4-bought-this-year", "7706679997", None, TUE, "updates", "none", "P4",
     "2026-12-03T16:00+03:00"),
    ("tier5-premium-expired", "7708185873", None, TUE, "other", "expired", "P5", None),
    ("tier5-unknown-inn", UNKNOWN_INN, None, TUE, "other", "none", "P5", None),
    ("lite-user-not-limited", "7710069521", "ИКС Lite", TUE, "other", "none", "P5", None),
    ("lite-beats-partner", "7701232330", "ИКС Lite", TUE, "partner", "none", "P1", None),
    # AR-5: the premium year ends 2026-12-14 inclusive; the next day tier 5, expired
    ("premium-last-day", "7709044265", None, "2026-12-14T10:00:00+03:00", "premium",
     "expiring", "P2", "2026-12-14T18:00+03:00"),
    ("premium-day-after", "7709044265", None, "2026-12-15T10:00:00+03:00", "other",
     "expired", "P5", None),
    # 30 min on Wed 30 Dec, 3.5 h from Mon 11 Jan 09:00
    ("partner-before-new-year", "7701232330", None, BEFORE_NY, "partner", "none", "P1",
     "2027-01-11T12:30+03:00"),
]


@pytest.mark.parametrize("case", AR_CASES, ids=[c[0] for c in AR_CASES])
def test_a_real_tiers_and_answer_times(case, tmp_path):
    _, inn, product, created_at, tier, status, priority, first_response = case
    changes = {"product": product} if product else {}
    decision = simulate("a-real", request("a-real", inn, created_at, **changes), tmp_path)
    assert decision["accepted"], decision["reasons"]
    assert (decision["tier"], decision["license_status"], decision["priority"]) == (
        tier, status, priority)
    assert decision["deadlines"] == {"acknowledgement": None, "first_response": first_response,
                                     "resolution": None}
    if product == "ИКС Lite":
        assert any("product exception ИКС Lite" in line for line in decision["explanation"])


# --- ID: categories (ID-1), first response (ID-5), demo once a year (ID-4) --------------

ID_CASES = [
    ("partner", "6670389288", TUE, "partner", "none", "2026-12-01T14:00+03:00"),
    ("subscription", "6671470358", TUE, "subscription", "active", "2026-12-01T14:00+03:00"),
    ("subscription-expiring", "7715155799", TUE, "subscription", "expiring",
     "2026-12-01T14:00+03:00"),
    # ID-3: the subscription ended 2026-12-20 (inclusive); Mon 21 Dec it is expired
    ("subscription-day-after", "7715155799", "2026-12-21T10:00:00+03:00", "none", "expired",
     None),
    ("subscription-expired", "6672191893", TUE, "none", "expired", None),
    ("demo", "6673583519", TUE, "demo", "none", "2026-12-03T16:00+03:00"),
    ("unknown-inn", UNKNOWN_INN, TUE, "none", "none", None),
    ("partner-before-new-year", "6670389288", BEFORE_NY, "partner", "none",
     "2027-01-11T12:30+03:00"),
]


@pytest.mark.parametrize("case", ID_CASES, ids=[c[0] for c in ID_CASES])
def test_ideco_categories_and_first_response(case, tmp_path):
    _, inn, created_at, tier, status, first_response = case
    decision = simulate("ideco", request("ideco", inn, created_at), tmp_path)
    assert decision["accepted"], decision["reasons"]
    assert (decision["tier"], decision["license_status"]) == (tier, status)
    assert decision["deadlines"] == {"acknowledgement": None, "first_response": first_response,
                                     "resolution": None}


def test_ideco_only_one_demo_period_a_year(tmp_path):
    """ID-4: the March 2026 demo is honoured; the December one (less than 365 days after
    the March start) is refused, and a refused request carries no tier, priority or
    deadline (issue 16: the refusal and a "demo" tier must never be shown together)."""
    march = simulate("ideco", request("ideco", "7714036196", "2026-03-10T10:00:00+03:00"),
                     tmp_path)
    assert (march["tier"], march["deadlines"]["first_response"]) == (
        "demo", "2026-03-12T16:00+03:00")
    december = simulate("ideco", request("ideco", "7714036196"), tmp_path)
    assert not december["accepted"]
    assert [r["code"] for r in december["reasons"]] == ["demo_already_used"]
    assert (december["tier"], december["priority"]) == (None, None)
    assert set(december["deadlines"].values()) == {None}


@pytest.mark.parametrize("where", ["inn/kpp", "description"])
def test_ideco_demo_rule_judges_the_customer_of_the_normalized_inn(tmp_path, where):
    """ID-4 looked at the customer of the INN as typed: written as ИНН/КПП, or only in
    the description, the second demo slipped through as a "demo" tier."""
    document = request("ideco", "7714036196/771401001")
    if where == "description":
        document["organization"].pop("inn")
        document["description"] = "Не работает VPN.\nИНН: 7714036196"
    december = simulate("ideco", document, tmp_path)
    assert [r["code"] for r in december["reasons"]] == ["demo_already_used"]
    assert december["tier"] is None


def test_ideco_second_demo_within_a_year_is_refused(tmp_path):
    decision = simulate("ideco", request("ideco", "7714036196"), tmp_path)
    assert ("demo_already_used", "") in codes(decision)


def test_ideco_first_request_needs_contact_and_organization(tmp_path):
    decision = simulate("ideco", request("ideco", "6671470358", contact={},
                                         organization={"inn": "6671470358"}), tmp_path)
    assert not decision["accepted"]
    assert codes(decision) == [("missing_field", "contact.name"),
                               ("missing_field", "organization.name"),
                               ("missing_field", "contact")]


# --- AS: three kinds (AS-1), basic 16 h (AS-2), warranty 8/40 h (AS-3), contracts (AS-4) -

AS_CASES = [
    # id, inn, (product, version), created_at, tier, status, priority,
    # (acknowledgement, first response, resolution)
    ("individual-contract", "7811471282", None, TUE, "individual", "active", "P1",
     ("2026-12-01T11:00+03:00", "2026-12-01T14:00+03:00", "2026-12-02T18:00+03:00")),
    # only first_response 2h on 24x7 is in the contract; resolution: the tier rule (40 h)
    ("individual-partial-contract", "7812656230", ("ЛОЦМАН:PLM", "2024"), TUE, "individual", "active",
     "P1", (None, "2026-12-01T12:00+03:00", "2026-12-07T18:00+03:00")),
    # 8 h on 10-18 = the rest of Tue; 40 h = five working days Tue..Mon
    ("warranty-product-bought", "7813824663", None, TUE, "warranty", "active", "P2",
     (None, "2026-12-01T18:00+03:00", "2026-12-07T18:00+03:00")),
    ("warranty-update-pack", "7716752928", None, TUE, "warranty", "active", "P2",
     (None, "2026-12-01T18:00+03:00", "2026-12-07T18:00+03:00")),
    ("basic", "7717311411", None, TUE, "basic", "active", "P3",
     (None, "2026-12-02T18:00+03:00", None)),
    ("basic-contract-expired", "7718874079", ("ВЕРТИКАЛЬ", "2024"), TUE, "basic", "expired", "P3",
     (None, "2026-12-02T18:00+03:00", None)),
    ("basic-unknown-inn", UNKNOWN_INN, None, TUE, "basic", "none", "P3",
     (None, "2026-12-02T18:00+03:00", None)),
    # the 2026 contract ended 31 Dec: in January the customer is basic again (AS-4 terms gone)
    ("contract-after-expiry", "7811471282", None, "2027-01-11T10:00:00+03:00", "basic",
     "active", "P3", (None, "2027-01-12T18:00+03:00", None)),
    # 30 min on Wed 30 Dec, then from Mon 11 Jan 10:00 (AS-2 hours)
    ("contract-before-new-year", "7811471282", None, BEFORE_NY, "individual", "active", "P1",
     ("2027-01-11T10:30+03:00", "2027-01-11T13:30+03:00", "2027-01-12T17:30+03:00")),
]


@pytest.mark.parametrize("case", AS_CASES, ids=[c[0] for c in AS_CASES])
def test_ascon_kinds_of_support(case, tmp_path):
    _, inn, product, created_at, tier, status, priority, due = case
    changes = {"product": product[0], "version": product[1]} if product else {}
    decision = simulate("ascon", request("ascon", inn, created_at, **changes), tmp_path)
    assert decision["accepted"], decision["reasons"]
    assert (decision["tier"], decision["license_status"], decision["priority"]) == (
        tier, status, priority)
    assert decision["deadlines"] == dict(zip(
        ("acknowledgement", "first_response", "resolution"), due, strict=True))
    if case[0] == "individual-contract":
        assert any("contract ИТП-2026/017 (AS-4)" in line for line in decision["explanation"])


# --- BA: priorities (BA-5), 3 h processing (BA-6), resolution terms (BA-7) ---------------

BA_CASES = [
    # id, created_at, impact, acknowledgement, resolution (= first response, BA-7)
    ("P1-4h", TUE, "P1", "2026-12-01T13:00+03:00", "2026-12-01T14:00+03:00"),
    ("P2-8h", TUE, "P2", "2026-12-01T13:00+03:00", "2026-12-01T18:00+03:00"),
    # 5 / 10 working days: the close of the 5th / 10th working day after Tue 1 Dec
    ("P3-5d", TUE, "P3", "2026-12-01T13:00+03:00", "2026-12-08T18:00+03:00"),
    ("P4-10d", TUE, "P4", "2026-12-01T13:00+03:00", "2026-12-15T18:00+03:00"),
    ("no-impact-is-P3", TUE, None, "2026-12-01T13:00+03:00", "2026-12-08T18:00+03:00"),
    # Tue 3 Nov closes at 17:00 (short day), Wed 4 Nov is a holiday
    ("P1-short-day", SHORT_DAY, "P1", "2026-11-03T13:00+03:00", "2026-11-03T14:00+03:00"),
    ("P2-across-holiday", SHORT_DAY, "P2", "2026-11-03T13:00+03:00", "2026-11-05T10:00+03:00"),
    ("P3-across-holiday", SHORT_DAY, "P3", "2026-11-03T13:00+03:00", "2026-11-11T18:00+03:00"),
    ("P4-across-holiday", SHORT_DAY, "P4", "2026-11-03T13:00+03:00", "2026-11-18T18:00+03:00"),
    # Saturday night: the clock starts Mon 30 Nov 09:00
    ("P3-saturday-night", SAT_NIGHT, "P3", "2026-11-30T12:00+03:00", "2026-12-07T18:00+03:00"),
    # 30 min on Wed 30 Dec, the rest from Mon 11 Jan 09:00
    ("P1-before-new-year", BEFORE_NY, "P1", "2027-01-11T11:30+03:00", "2027-01-11T12:30+03:00"),
]


@pytest.mark.parametrize("case", BA_CASES, ids=[c[0] for c in BA_CASES])
def test_barier_priorities_and_deadlines(case, tmp_path):
    _name, created_at, impact, acknowledgement, resolution = case
    decision = simulate("barier", request("barier", "3662579177", created_at, impact=impact),
                        tmp_path)
    assert decision["accepted"], decision["reasons"]
    assert decision["tier"] == "contract"
    assert decision["priority"] == (impact or "P3")
    assert decision["deadlines"] == {"acknowledgement": acknowledgement,
                                     "first_response": resolution, "resolution": resolution}


@pytest.mark.parametrize("inn, tier, status", [
    ("3662579177", "contract", "expiring"),
    ("3663348976", "contract", "active"),
    ("3664373414", "no_contract", "expired"),
    (UNKNOWN_INN, "no_contract", "none"),
    (None, "no_contract", "none"),
])
def test_barier_contract_tier_does_not_change_terms(inn, tier, status, tmp_path):
    decision = simulate("barier", request("barier", inn, impact="P2"), tmp_path)
    assert decision["accepted"], decision["reasons"]
    assert (decision["tier"], decision["license_status"]) == (tier, status)
    assert decision["deadlines"]["resolution"] == "2026-12-01T18:00+03:00"


def test_barier_demands_all_six_items(tmp_path):
    decision = simulate("barier", request("barier", None, contact={"name": "Иван"},
                                          organization={}), tmp_path)
    assert codes(decision) == [("missing_field", "contact.email"),
                               ("missing_field", "contact.phone"),
                               ("missing_field", "contact.position"),
                               ("missing_field", "organization.name")]


# --- RB: 10 working days (RB-2), high criticality on 24x7 (RB-3/RB-4), RB-5 --------------

RB_CASES = [
    # id, inn, created_at, impact, tier, status, priority, first response due
    ("normal-10-working-days", "7719526010", TUE, "P3", "contract", "active", "normal",
     "2026-12-15T18:00+03:00"),
    ("no-impact-normal", "7719526010", TUE, None, "contract", "active", "normal",
     "2026-12-15T18:00+03:00"),
    # wall clock: Saturday 03:00 + 4 h
    ("critical-saturday-night", "7719526010", SAT_NIGHT, "P1", "contract", "active",
     "critical", "2026-11-28T07:00+03:00"),
    # working days: the clock starts Mon 30 Nov 10:00; 10th working day after it
    ("normal-saturday-night", "7719526010", SAT_NIGHT, "P3", "contract", "active", "normal",
     "2026-12-14T18:00+03:00"),
    ("critical-before-new-year", "7719526010", BEFORE_NY, "P1", "contract", "expiring",
     "critical", "2026-12-30T21:30+03:00"),
    # individual terms ("отдельно оговариваемых"): 3 working days in the contract's sla
    ("individual-terms", "7720815909", TUE, "P3", "contract", "expiring", "normal",
     "2026-12-04T18:00+03:00"),
    ("contract-expired", "7721830160", TUE, "P3", "no_contract", "expired", "normal",
     "2026-12-15T18:00+03:00"),
    ("unknown-inn", UNKNOWN_INN, TUE, "P2", "no_contract", "none", "normal",
     "2026-12-15T18:00+03:00"),
]


@pytest.mark.parametrize("case", RB_CASES, ids=[c[0] for c in RB_CASES])
def test_rusbitech_processing_and_high_criticality(case, tmp_path):
    _, inn, created_at, impact, tier, status, priority, first_response = case
    decision = simulate("rusbitech", request("rusbitech", inn, created_at, impact=impact),
                        tmp_path)
    assert decision["accepted"], decision["reasons"]
    assert (decision["tier"], decision["license_status"], decision["priority"]) == (
        tier, status, priority)
    # RB-5: no resolution time is guaranteed; RB sets no acknowledgement time
    assert decision["deadlines"] == {"acknowledgement": None, "first_response": first_response,
                                     "resolution": None}
    if priority == "critical":
        assert any("on 24x7" in line for line in decision["explanation"])


# --- refusals of the intake gate --------------------------------------------------------

REJECTIONS = [
    # id, preset, changes, expected (code, field, rule) triples
    ("a-real-no-contact", "a-real", {"contact": {}},
     [("missing_field", "contact.name", None), ("missing_field", "contact", "any_of")]),
    ("a-real-bad-inn", "a-real", {"organization": {"inn": "7702211327"}},
     [("invalid_inn", "organization.inn", "checksum")]),
    ("a-real-no-version", "a-real", {"version": None}, [("missing_field", "version", None)]),
    ("a-real-version-line-ended", "a-real", {"version": "6.5"},
     [("unsupported_version", "version", "end_of_support")]),
    ("a-real-version-out-of-range", "a-real", {"version": "5.2"},
     [("unsupported_version", "version", "range")]),
    ("a-real-other-vendor", "a-real", {"product": "Kerio Control"},
     [("unsupported_product", "product", None)]),
    ("ideco-not-current", "ideco", {"version": "19.5"},
     [("unsupported_version", "version", "not_current")]),
    ("ideco-bad-inn", "ideco", {"organization": {"name": "ООО", "inn": "6671470359"}},
     [("invalid_inn", "organization.inn", "checksum")]),
    ("ascon-withdrawn", "ascon", {"version": "21"},
     [("unsupported_version", "version", "end_of_support")]),
    ("ascon-bad-inn", "ascon", {"organization": {"inn": "7813824664"}},
     [("invalid_inn", "organization.inn", "checksum")]),
    ("ascon-no-contact", "ascon", {"contact": {"name": "Дмитрий"}},
     [("missing_field", "contact", "any_of")]),
    ("rusbitech-bad-inn", "rusbitech", {"organization": {"inn": "7719526011"}},
     [("invalid_inn", "organization.inn", "checksum")]),
    ("rusbitech-other-product", "rusbitech", {"product": "Astra Linux"},
     [("unsupported_product", "product", None)]),
    ("rusbitech-no-contact", "rusbitech", {"contact": {}},
     [("missing_field", "contact.name", None), ("missing_field", "contact", "any_of")]),
]


@pytest.mark.parametrize("case", REJECTIONS, ids=[c[0] for c in REJECTIONS])
def test_rejections(case, tmp_path):
    _, preset, changes, expected = case
    inn = {"a-real": "7702211326", "ideco": "6671470358", "ascon": "7717311411",
           "rusbitech": "7719526010"}[preset]
    decision = simulate(preset, request(preset, inn, **changes), tmp_path)
    assert not decision["accepted"]
    assert [(r["code"], r["field"], r["params"].get("rule")) for r in decision["reasons"]] \
        == expected


def test_barier_bad_inn_is_only_flagged(tmp_path):
    decision = simulate("barier", request("barier", "3663348977"), tmp_path)
    assert decision["accepted"]
    assert [(f["code"], f["field"]) for f in decision["flags"]] == [
        ("ignored_invalid_value", "organization.inn")]
    assert decision["tier"] == "no_contract"


# --- lifecycle blocks (AR-6/AR-8, ID-9/ID-10, BA-7/BA-8/BA-9, escalation) ---------------

# Redmine's default data: what a lifecycle block may name without an admin creating it.
DEFAULT_STATUSES = {"New", "In Progress", "Resolved", "Feedback", "Closed", "Rejected"}
DEFAULT_PRIORITIES = ("Low", "Normal", "High", "Urgent", "Immediate")  # lowest first
DEFAULT_ACTIVITIES = {"Design", "Development"}

LIFECYCLE = {
    # preset: (auto-close rules as (name, statuses, idle since, after, calendar),
    #          development assignees and term, time accounting, at-risk / breached priority)
    "a-real": ([("AR-6", {"Feedback", "Resolved"}, "customer_message", "14d", "24x7")],
               (["Отдел разработки"], "10d"), None, ("High", "Urgent")),
    "ideco": ([("ID-10", {"Feedback", "Resolved"}, "support_answer", "14d", "24x7")],
              (["ОРПО"], "10d"), None, ("Urgent", "Immediate")),
    "ascon": ([], None, None, ("Urgent", "Immediate")),
    "barier": ([("BA-8", {"Resolved"}, "status_change", "24h", "24x7")], None,
               (30, "Development"), ("High", "Urgent")),
    "rusbitech": ([], (["Отдел разработки"], "10d"), None, ("High", "Urgent")),
}
# Rules a preset now automates: no "NOT YET AUTOMATED - <rule>" block may remain for them.
AUTOMATED = {"a-real": ["AR-6", "AR-8"], "ideco": ["ID-10"], "barier": ["BA-8", "BA-9"],
             "ascon": [], "rusbitech": []}


def _config(preset: str):
    from redmine_sla_bridge.config.loader import load_config

    return load_config(config_of(preset))


@pytest.mark.parametrize("preset", PRESETS)
def test_lifecycle_block_loads_with_the_chosen_rules(preset):
    lifecycle = _config(preset).lifecycle
    auto_close, development, accounting, (at_risk, breached) = LIFECYCLE[preset]
    assert [(r.name, set(r.from_statuses), r.idle_since, r.after, r.calendar)
            for r in lifecycle.auto_close] == auto_close
    assert all(r.to_status == "Closed" and not r.even_if_customer_waits
               for r in lifecycle.auto_close)
    if development is None:
        assert lifecycle.development is None
    else:
        assert (lifecycle.development.assignees, lifecycle.development.expected_term) == development
        assert lifecycle.development.statuses == []  # a group, never the support's In Progress
    if accounting is None:
        assert lifecycle.time_accounting is None
    else:
        assert (lifecycle.time_accounting.minimum_minutes,
                lifecycle.time_accounting.activity) == accounting
    escalation = lifecycle.escalation
    assert (escalation.at_risk.raise_priority, escalation.breached.raise_priority) == (at_risk, breached)
    assert escalation.at_risk.private_note and escalation.breached.private_note
    # A reply in Feedback always resumes the work (the clock paused there restarts).
    assert any("Feedback" in r.from_statuses and r.to_status == "In Progress"
               for r in lifecycle.customer_reply)


@pytest.mark.parametrize("preset", PRESETS)
def test_lifecycle_names_only_what_a_default_redmine_has(preset):
    config = _config(preset)
    lifecycle = config.lifecycle
    statuses = {s for r in lifecycle.auto_close for s in (*r.from_statuses, r.to_status)}
    statuses |= {s for r in lifecycle.customer_reply for s in (*r.from_statuses, r.to_status)}
    assert statuses <= DEFAULT_STATUSES, statuses - DEFAULT_STATUSES
    assert set(config.policy.priority.redmine.values()) <= set(DEFAULT_PRIORITIES)
    for action in (lifecycle.escalation.at_risk, lifecycle.escalation.breached):
        assert action.raise_priority in DEFAULT_PRIORITIES
    if lifecycle.time_accounting is not None:
        assert lifecycle.time_accounting.activity in DEFAULT_ACTIVITIES
    # Escalation raises: the at-risk priority is never above the breached one.
    order = DEFAULT_PRIORITIES.index
    assert order(lifecycle.escalation.at_risk.raise_priority) <= order(
        lifecycle.escalation.breached.raise_priority)


@pytest.mark.parametrize("preset", PRESETS)
def test_automated_rules_are_no_longer_marked_not_automated(preset):
    text = config_of(preset).read_text(encoding="utf-8")
    pending = re.findall(r"NOT YET AUTOMATED - ([A-Z]{2}-\d+)", text)
    assert not set(pending) & set(AUTOMATED[preset]), pending
    assert "lifecycle:" in text


def test_reopen_windows_are_the_chosen_ones():
    """ID-10 "at any time" bounded by a year; AR-6 two weeks; BA-8 one working day."""
    windows = {preset: [(r.within, r.calendar) for r in _config(preset).lifecycle.customer_reply
                        if "Closed" in r.from_statuses]
               for preset in PRESETS}
    assert windows == {"a-real": [("14d", "24x7")], "ideco": [("365d", "24x7")],
                       "barier": [("1d", "moscow")], "ascon": [], "rusbitech": []}


# --- issue 16: calendar years, default license terms, contract precedence, ID-6 ---------


def simulate_args(preset: str, document: dict, tmp_path: Path, *args: str,
                  customers: str | None = None) -> dict:
    """`simulate` with extra options; `customers` = a customer directory (YAML text)."""
    path = tmp_path / "request.json"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    options = ["simulate", "--config", str(config_of(preset)), "--request", str(path), *args]
    if customers is not None:
        directory = tmp_path / "customers.yaml"
        directory.write_text(customers, encoding="utf-8")
        options += ["--customers", str(directory)]
    result = CliRunner().invoke(cli, options, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _directory(inn: str, *licenses: str) -> str:
    lines = [f"      - {lic}" for lic in licenses]
    return "\n".join(["customers:", f'  - inn: "{inn}"', "    name: ООО Тест", "    licenses:",
                      *lines]) + "\n"


TEST_INN = "7701991000"  # invented, valid checksum, in no preset directory


# AR-3 tier 4 "с момента покупки ИКС прошло менее 1 года": a calendar year. The year
# 2023-03-01..2024-02-29 has 366 days (365 would stop on 2024-02-28); a purchase of
# 2024-02-29 counts while the day is before 2025-02-28 (= 2024-02-29 + 1 year, art. 192).
# 24 working hours on 09-18 from 10:00: 8 h that day, 9 h the next, 7 h the one after.
AR_YEAR_CASES = [
    ("bought-2023-03-01-on-2024-02-29", "2023-03-01", "2024-02-29T10:00:00+03:00", "updates",
     "P4", "2024-03-04T16:00+03:00"),
    ("bought-2023-03-01-on-2024-03-01", "2023-03-01", "2024-03-01T10:00:00+03:00", "other",
     "P5", None),
    ("bought-2024-02-29-on-2025-02-27", "2024-02-29", "2025-02-27T10:00:00+03:00", "updates",
     "P4", "2025-03-03T16:00+03:00"),
    ("bought-2024-02-29-on-2025-02-28", "2024-02-29", "2025-02-28T10:00:00+03:00", "other",
     "P5", None),
]


@pytest.mark.parametrize("case", AR_YEAR_CASES, ids=[c[0] for c in AR_YEAR_CASES])
def test_a_real_less_than_a_year_since_purchase_is_a_calendar_year(case, tmp_path):
    _, bought, created_at, tier, priority, first_response = case
    customers = _directory(TEST_INN, f'{{kind: perpetual, product: "ИКС Стандарт", '
                                     f"starts: {bought}}}")
    decision = simulate_args("a-real", request("a-real", TEST_INN, created_at), tmp_path,
                             customers=customers)
    assert decision["accepted"], decision["reasons"]
    assert (decision["tier"], decision["priority"]) == (tier, priority)
    assert decision["deadlines"]["first_response"] == first_response
    if tier == "updates":
        assert "purchased_within: 1 year, kinds [perpetual]" in decision["why"]["tier"]


# AS-1 warranty "в течение одного года после приобретения": the same calendar year.
# Warranty (AS-3) on 10-18: 8 h = the rest of Thu; 40 h = Thu, Fri, Mon, Tue, Wed.
# Basic (AS-2): 16 h = Fri 10-18 and Mon 10-18.
AS_YEAR_CASES = [
    ("warranty-on-2024-02-29", "2024-02-29T10:00:00+03:00", "warranty", "P2",
     ("2024-02-29T18:00+03:00", "2024-03-06T18:00+03:00")),
    ("basic-on-2024-03-01", "2024-03-01T10:00:00+03:00", "basic", "P3",
     ("2024-03-04T18:00+03:00", None)),
]


@pytest.mark.parametrize("case", AS_YEAR_CASES, ids=[c[0] for c in AS_YEAR_CASES])
def test_ascon_warranty_year_is_a_calendar_year(case, tmp_path):
    _, created_at, tier, priority, (first_response, resolution) = case
    customers = _directory(TEST_INN, '{kind: perpetual, product: "КОМПАС-3D", starts: 2023-03-01}')
    decision = simulate_args("ascon", request("ascon", TEST_INN, created_at), tmp_path,
                             customers=customers)
    assert decision["accepted"], decision["reasons"]
    assert (decision["tier"], decision["priority"]) == (tier, priority)
    assert (decision["deadlines"]["first_response"], decision["deadlines"]["resolution"]) == (
        first_response, resolution)


# AR-5 / ID-3: the preset directories list a premium license and a subscription with a
# start date only; the default term (one calendar year) ends them.
DEFAULT_TERM_CASES = [
    # a-real 7702211326: premium from 2026-03-01, so through 2027-02-28 (a Sunday);
    # Fri 26 Feb is within 30 days of the end; 8 working hours from 10:00 = 18:00
    ("a-real-premium-last-week", "a-real", "7702211326", "2027-02-26T10:00:00+03:00",
     "premium", "expiring", "2027-02-26T18:00+03:00"),
    # Mon 1 Mar 2027: the year is over; ИКС was bought in 2024, so tier 5, not limited
    ("a-real-premium-after-a-year", "a-real", "7702211326", "2027-03-01T10:00:00+03:00",
     "other", "expired", None),
    # ideco 6671470358: subscription from 2026-04-01, so through 2027-03-31 (4 h: 14:00)
    ("ideco-subscription-last-day", "ideco", "6671470358", "2027-03-31T10:00:00+03:00",
     "subscription", "expiring", "2027-03-31T14:00+03:00"),
    ("ideco-subscription-after-a-year", "ideco", "6671470358", "2027-04-01T10:00:00+03:00",
     "none", "expired", None),
]


@pytest.mark.parametrize("case", DEFAULT_TERM_CASES, ids=[c[0] for c in DEFAULT_TERM_CASES])
def test_a_license_without_an_end_date_ends_after_a_year(case, tmp_path):
    _, preset, inn, created_at, tier, status, first_response = case
    decision = simulate(preset, request(preset, inn, created_at), tmp_path)
    assert decision["accepted"], decision["reasons"]
    assert (decision["tier"], decision["license_status"]) == (tier, status)
    assert decision["deadlines"]["first_response"] == first_response
    assert "(default term 1 year)" in decision["why"]["license_status"]


def test_a_subscription_bought_on_29_february_runs_to_27_february(tmp_path):
    """ID-3 default year from 2024-02-29: 2024-02-29 + 1 year = 2025-02-28 (art. 192), the
    subscription's last day is the day before."""
    customers = _directory(TEST_INN, '{kind: subscription, product: "*", starts: 2024-02-29}')
    last = simulate_args("ideco", request("ideco", TEST_INN, "2025-02-27T10:00:00+03:00"),
                         tmp_path, customers=customers)
    after = simulate_args("ideco", request("ideco", TEST_INN, "2025-02-28T10:00:00+03:00"),
                          tmp_path, customers=customers)
    assert (last["tier"], last["license_status"]) == ("subscription", "expiring")
    assert (after["tier"], after["license_status"]) == ("none", "expired")


def test_expires_never_overrides_the_default_term(tmp_path):
    customers = _directory(TEST_INN, '{kind: premium, product: "ИКС Стандарт", '
                                     "starts: 2020-03-01, expires: never}")
    decision = simulate_args("a-real", request("a-real", TEST_INN), tmp_path, customers=customers)
    assert (decision["tier"], decision["license_status"]) == ("premium", "active")


# RB-3: "Время реакции ... только рабочее время (за исключением ... обращениям с высоким
# уровнем критичности)" - also for a customer whose contract fixes its own processing
# term (7720815909: 3 working days). High criticality: 4 wall-clock hours (the preset's
# figure); a normal request of that customer: the contract's 3 working days.
RB_CONTRACT_CASES = [
    ("contract-critical-tuesday", "7720815909", TUE, "P1", "critical",
     "2026-12-01T14:00+03:00", "24x7"),
    ("contract-critical-saturday-night", "7720815909", SAT_NIGHT, "P1", "critical",
     "2026-11-28T07:00+03:00", "24x7"),
    ("no-individual-terms-critical", "7719526010", TUE, "P1", "critical",
     "2026-12-01T14:00+03:00", "24x7"),
    # Tue 1 Dec + 3 working days: the close of Fri 4 Dec (10-18)
    ("contract-normal", "7720815909", TUE, "P3", "normal", "2026-12-04T18:00+03:00", "moscow"),
]


@pytest.mark.parametrize("case", RB_CONTRACT_CASES, ids=[c[0] for c in RB_CONTRACT_CASES])
def test_rusbitech_high_criticality_with_and_without_a_contract(case, tmp_path):
    _, inn, created_at, impact, priority, first_response, calendar = case
    decision = simulate("rusbitech", request("rusbitech", inn, created_at, impact=impact),
                        tmp_path)
    assert decision["accepted"], decision["reasons"]
    assert decision["priority"] == priority
    assert decision["deadlines"]["first_response"] == first_response
    why = decision["why"]["first_response"]
    assert (why["calendar"], why["deadline"]) == (calendar, first_response)
    if inn == "7720815909":
        if priority == "critical":
            assert why["rule"].startswith("targets[0] 'RB-3/RB-4 high criticality")
            assert "over contract ДС-2025/44 (AS-4) 3d" in why["rule"]
        else:
            assert why["rule"] == "contract ДС-2025/44 (AS-4)"
    # RB-5: the contract names no resolution, the regulation's "not limited" stays
    assert decision["why"]["resolution"]["rule"].startswith("targets[2] 'RB-5")


def test_ascon_contract_naming_only_first_response_keeps_the_rules_resolution(tmp_path):
    """AS-4: 7812656230's contract fixes a 2-hour 24x7 first answer only; the resolution
    is the tier rule's 40 working hours on the ascon calendar (Tue..Mon)."""
    decision = simulate("ascon", request("ascon", "7812656230", product="ЛОЦМАН:PLM",
                                         version="2024"), tmp_path)
    why = decision["why"]
    assert why["first_response"] == {
        "rule": "contract SLA-24x7-005 (AS-4)", "duration": "2h", "calendar": "24x7",
        "calendar_from": "the contract's calendar", "deadline": "2026-12-01T12:00+03:00"}
    assert why["resolution"] == {
        "rule": "targets[0] 'AS-4 contract without its own term: warranty terms' "
                "{tier in [individual]}",
        "duration": "40h", "calendar": "ascon", "calendar_from": "policy.calendar",
        "deadline": "2026-12-07T18:00+03:00"}
    assert why["tier"].startswith("tier individual: tiers[0]")
    assert why["priority"] == "priority P1: from tier individual"


def test_simulate_explains_tier_status_and_priority(tmp_path):
    decision = simulate("a-real", request("a-real", "7709044265"), tmp_path)
    assert decision["why"]["tier"] == (
        "tier premium: tiers[1] 'AR-3 tier 2: premium update license or the «Техподдержка» "
        "module' license_active: [premium, support_module]")
    assert decision["why"]["license_status"] == (
        "expiring: premium for ИКС Стандарт 2025-12-15..2026-12-14; covered until 2026-12-14, "
        "within 30 days of 2026-12-01")
    assert decision["why"]["priority"] == "priority P2: from tier premium"
    # the old keys stay
    assert {"accepted", "reasons", "flags", "tier", "license_status", "priority", "deadlines",
            "explanation"} <= set(decision)


# ID-6: organization data only on the first request. `simulate` decides a first request
# unless told the contact wrote before.
ID6_NO_ORGANIZATION = {"contact": {"name": "Сергей Волков", "email": "volkov@example.ru"},
                       "organization": None}


def test_simulate_assumes_a_first_request_by_default(tmp_path):
    decision = simulate_args("ideco", request("ideco", None, **ID6_NO_ORGANIZATION), tmp_path)
    assert not decision["accepted"]
    assert codes(decision) == [("missing_field", "organization.name"),
                               ("missing_field", "organization.inn")]
    assert decision["assumed"]["known_contact"] is False
    assert decision["assumed"]["contact"].startswith("first request")


def test_simulate_known_contact_does_not_demand_organization_data(tmp_path):
    decision = simulate_args("ideco", request("ideco", None, **ID6_NO_ORGANIZATION), tmp_path,
                             "--known-contact")
    assert decision["accepted"], decision["reasons"]
    # no INN known: an unknown customer, ID-1 "без действующей подписки"
    assert (decision["tier"], decision["deadlines"]["first_response"]) == ("none", None)
    assert decision["assumed"] == {
        "contact": "wrote before (--known-contact)", "known_contact": True, "reused": {},
        "note": "the contact has written before (ID-6): first-request data not demanded; "
                "reused from the earlier request: nothing (no organization data known)"}


def test_simulate_reuses_the_earlier_requests_organization(tmp_path):
    earlier = tmp_path / "earlier.json"
    earlier.write_text(json.dumps(request("ideco", "6671470358", "2026-11-02T10:00:00+03:00",
                                          organization={"name": "ООО Екатеринбургские Сети",
                                                        "inn": "6671470358"}),
                                  ensure_ascii=False), encoding="utf-8")
    decision = simulate_args("ideco", request("ideco", None, **ID6_NO_ORGANIZATION), tmp_path,
                             "--earlier-request", str(earlier))
    assert decision["accepted"], decision["reasons"]
    # the subscription found by the earlier request's INN: 4 working hours, Tue 14:00
    assert (decision["tier"], decision["deadlines"]["first_response"]) == (
        "subscription", "2026-12-01T14:00+03:00")
    assert decision["assumed"]["reused"] == {"organization.name": "ООО Екатеринбургские Сети",
                                             "organization.inn": "6671470358"}
    assert decision["assumed"]["known_contact"] is True


def test_the_requests_own_inn_wins_over_the_earlier_one(tmp_path):
    earlier = tmp_path / "earlier.json"
    earlier.write_text(json.dumps({"organization": {"name": "ООО Старое", "inn": "6672191893"}},
                                  ensure_ascii=False), encoding="utf-8")
    decision = simulate_args("ideco", request("ideco", None, organization={"inn": "7715155799"},
                                              contact=ID6_NO_ORGANIZATION["contact"]),
                             tmp_path, "--earlier-request", str(earlier))
    assert decision["accepted"], decision["reasons"]
    assert decision["assumed"]["reused"] == {"organization.name": "ООО Старое"}
    assert (decision["tier"], decision["license_status"]) == ("subscription", "expiring")


def test_without_an_email_the_earlier_request_cannot_be_found(tmp_path):
    """The pipeline looks earlier requests up by the contact's email (ID-6)."""
    earlier = tmp_path / "earlier.json"
    earlier.write_text(json.dumps({"organization": {"name": "ООО", "inn": "6671470358"}}),
                       encoding="utf-8")
    decision = simulate_args("ideco", request("ideco", None, organization=None,
                                              contact={"name": "Сергей Волков",
                                                       "phone": "+7 343 123-45-67"}),
                             tmp_path, "--earlier-request", str(earlier))
    assert not decision["accepted"]
    assert codes(decision) == [("missing_field", "organization.name"),
                               ("missing_field", "organization.inn")]
    assert decision["assumed"]["known_contact"] is False
    assert "no contact email" in decision["assumed"]["note"]


def test_a_bad_earlier_request_is_refused(tmp_path):
    path, earlier = tmp_path / "request.json", tmp_path / "earlier.json"
    path.write_text(json.dumps(request("ideco", "6671470358")), encoding="utf-8")
    earlier.write_text(json.dumps({"organization": {"inn": 6671470358}}), encoding="utf-8")
    result = CliRunner().invoke(cli, ["simulate", "--config", str(config_of("ideco")),
                                      "--request", str(path), "--earlier-request", str(earlier)])
    assert result.exit_code == 2
    assert "the earlier request is not a valid request document" in result.stderr
