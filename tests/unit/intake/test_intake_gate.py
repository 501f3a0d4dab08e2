"""The gate's decisions under the shipped regulations' demands (AR, ID, BA)."""

from __future__ import annotations

import datetime as dt

import pytest

from redmine_sla_bridge.domain.intake import (
    AnyOf,
    Contact,
    FlagCode,
    IntakeRequest,
    IntakeRules,
    MessageCatalog,
    Organization,
    ProductRule,
    ReasonCode,
    VersionLine,
    VersionPolicy,
    check,
    rejection_note,
)

TODAY = dt.date(2025, 3, 3)

AR_RULES = IntakeRules(  # AR-1, AR-2, AR-7
    required=("description", "version", "organization.inn"),
    any_of=(AnyOf(("contact.email", "contact.phone")),),
    products=(
        ProductRule("ИКС Стандарт", ("ИКС",), VersionPolicy(
            supported=">=6", lines=(VersionLine("6.*", dt.date(2024, 12, 31)),))),
        ProductRule("ИКС Lite"),
    ),
)
ID_RULES = IntakeRules(  # ID-2, ID-6, ID-7
    required=("description", "version"),
    first_request_only=("organization.name", "organization.inn"),
    any_of=(AnyOf(("contact.email", "contact.phone"), first_request_only=True),),
    products=(ProductRule("Ideco ICS", ("Ideco UTM",), VersionPolicy(current="15")),
              ProductRule("Ideco ICS 6", (), VersionPolicy(supported="==6.*"))),
)
BA_RULES = IntakeRules(  # BA-2
    required=("organization.name", "contact.name", "contact.position", "contact.phone",
              "contact.email", "description"),
)

GOOD_AR = IntakeRequest(
    description="Не работает VPN",
    contact=Contact(email="ivan@example.ru"),
    organization=Organization(inn="7707083893"),
    product="ИКС Стандарт",
    version="7.2 build 456",
)


def codes(decision) -> list[tuple[str, str]]:
    return [(str(r.code), r.field) for r in decision.reasons]


def test_accepts_a_complete_request_and_normalises_it() -> None:
    request = IntakeRequest(
        description="Вопрос по VPN",
        contact=Contact(email="Ivan@Example.RU", phone="8 (495) 662-87-34"),
        organization=Organization(inn=" 7707 083 893 "),
        product="  икс   стандарт ",
        version="v7.2 build 456",
        type="Ошибка",
        impact="п2",
    )
    decision = check(request, AR_RULES, request_date=TODAY)
    assert decision.accepted, decision.reasons
    assert decision.reasons == ()
    n = decision.normalized
    assert (n.contact.email, n.contact.phone) == ("Ivan@example.ru", "+7 495 662-87-34")
    assert n.organization.inn == "7707083893"
    assert n.product == "ИКС Стандарт"
    assert (n.version, n.version_normalized) == ("v7.2 build 456", "7.2+456")
    assert (n.type, n.impact) == ("error", "P2")
    assert rejection_note(decision, AR_RULES) == ""


def test_collects_every_problem() -> None:
    request = IntakeRequest(
        description="ИНН: 7707083894\nВерсия: 6.5\nТелефон: 123\nПродукт: ИКС\nПомогите",
        contact=Contact(email="bad@"),
    )
    decision = check(request, AR_RULES, request_date=TODAY)
    assert not decision.accepted
    assert codes(decision) == [
        ("invalid_inn", "organization.inn"),
        ("invalid_email", "contact.email"),
        ("invalid_phone", "contact.phone"),
        ("unsupported_version", "version"),
    ]
    assert decision.reasons[-1].rule == "end_of_support"
    assert decision.found_in_description == ("contact.phone", "organization.inn", "product",
                                             "version")


def test_empty_request_lists_all_missing_fields() -> None:
    decision = check(IntakeRequest(), BA_RULES, request_date=TODAY)
    assert codes(decision) == [
        ("missing_field", "description"), ("missing_field", "contact.name"),
        ("missing_field", "contact.email"), ("missing_field", "contact.phone"),
        ("missing_field", "contact.position"), ("missing_field", "organization.name"),
    ]


def test_any_of_group() -> None:
    no_contact = check(IntakeRequest(description="q", organization=Organization(inn="7707083893"),
                                     version="7.2"), AR_RULES, request_date=TODAY)
    assert codes(no_contact) == [("missing_field", "contact")]
    assert no_contact.reasons[0].params == {"rule": "any_of",
                                            "fields": "contact.email, contact.phone"}
    # one valid member is enough; the other, invalid, is only flagged
    phone_ok = IntakeRequest(description="q", version="7.2",
                             organization=Organization(inn="7707083893"),
                             contact=Contact(email="nope", phone="84956628734"))
    decision = check(phone_ok, AR_RULES, request_date=TODAY)
    assert decision.accepted
    assert [(str(f.code), f.field) for f in decision.flags] == [
        ("ignored_invalid_value", "contact.email")]
    assert decision.normalized.contact.email == "nope"  # kept as written


def test_first_request_only_fields_for_unknown_and_known_contacts() -> None:
    request = IntakeRequest(description="Не работает", product="Ideco UTM", version="15.7")
    first = check(request, ID_RULES, request_date=TODAY)
    assert codes(first) == [("missing_field", "organization.name"),
                            ("missing_field", "organization.inn"),
                            ("missing_field", "contact")]
    known = check(request, ID_RULES, request_date=TODAY, known_contact=True)
    assert known.accepted
    assert known.normalized.product == "Ideco ICS"


@pytest.mark.parametrize(
    ("product", "version", "expected"),
    [
        ("Ideco ICS", "15.7 сборка 35", []),
        ("Ideco ICS", "14.2", [("unsupported_version", "not_current")]),
        ("Ideco ICS 6", "6.5", []),
        ("Ideco ICS 6", "7.0", [("unsupported_version", "range")]),
        ("Ideco ICS", "15.8-beta", [("unsupported_version", "prerelease")]),
        ("Ideco ICS", "последняя", [("unknown_version", None)]),
        ("Ideco PBX", "15.7", [("unsupported_product", None)]),
    ],
)
def test_product_and_version(product: str, version: str, expected) -> None:
    request = IntakeRequest(description="q", product=product, version=version)
    decision = check(request, ID_RULES, request_date=TODAY, known_contact=True)
    assert [(str(r.code), r.rule) for r in decision.reasons] == expected


def test_unreadable_version_only_matters_when_demanded() -> None:
    request = IntakeRequest(description="q", contact=Contact(name="И", position="п",
                            phone="84956628734", email="a@b.ru"),
                            organization=Organization(name="ООО"), version="последняя")
    decision = check(request, BA_RULES, request_date=TODAY)
    assert decision.accepted
    assert [(str(f.code), f.params["code"]) for f in decision.flags] == [
        ("ignored_invalid_value", "unknown_version")]


def test_end_of_support_uses_the_request_date() -> None:
    request = GOOD_AR.with_value("version", "6.9")
    assert check(request, AR_RULES, request_date=dt.date(2024, 12, 31)).accepted
    late = check(request, AR_RULES, request_date=dt.datetime(2025, 1, 1, 9, 0))
    assert [r.params["end_of_support"] for r in late.reasons] == ["2024-12-31"]


def test_description_made_only_of_labels_asks_no_question() -> None:
    request = GOOD_AR.with_value("description", "ИНН: 7707083893\nВерсия: 7.2")
    decision = check(request, AR_RULES, request_date=TODAY)
    assert codes(decision) == [("missing_field", "description")]


def test_description_parsing_can_be_turned_off() -> None:
    rules = IntakeRules(required=("organization.inn",), parse_description=False)
    request = IntakeRequest(description="ИНН: 7707083893")
    decision = check(request, rules, request_date=TODAY)
    assert codes(decision) == [("missing_field", "organization.inn")]
    assert decision.found_in_description == ()


def test_demo_already_used() -> None:
    history = [(dt.date(2024, 9, 1), dt.date(2024, 9, 30))]
    refused = check(GOOD_AR, AR_RULES, request_date=TODAY, is_demo=True, demo_history=history)
    assert codes(refused) == [("demo_already_used", "")]
    assert refused.reasons[0].params["next_allowed"] == "2025-09-01"
    # the same history does not matter when the customer is not asking for a demo
    assert check(GOOD_AR, AR_RULES, request_date=TODAY, demo_history=history).accepted


def test_rudeness_is_a_flag_never_a_refusal() -> None:
    request = GOOD_AR.with_value("description", "Вы идиоты, опять всё сломали").with_value(
        "subject", "ЗАЕБАЛИ")
    decision = check(request, AR_RULES, request_date=TODAY)
    assert decision.accepted
    assert [(f.code, f.field, f.params["words"]) for f in decision.flags] == [
        (FlagCode.RUDENESS, "subject", "ЗАЕБАЛИ"),
        (FlagCode.RUDENESS, "description", "идиоты"),
    ]


def test_invalid_choice_for_demanded_type() -> None:
    rules = IntakeRules(required=("type", "impact"))
    decision = check(IntakeRequest(type="жалоба", impact="P9"), rules, request_date=TODAY)
    assert codes(decision) == [("invalid_choice", "type"), ("invalid_choice", "impact")]
    assert decision.reasons[0].params["allowed"] == "error, information, proposal"


def test_whitespace_is_not_a_value() -> None:
    rules = IntakeRules(required=("contact.name",))
    decision = check(IntakeRequest(contact=Contact(name="   ")), rules, request_date=TODAY)
    assert codes(decision) == [("missing_field", "contact.name")]


def test_messages_follow_the_configured_language() -> None:
    en = IntakeRules(required=("organization.inn",), messages=MessageCatalog("en"))
    ru = IntakeRules(required=("organization.inn",))
    request = IntakeRequest()
    assert check(request, en, request_date=TODAY).reasons[0].message == (
        "Missing: the organization's INN (taxpayer number).")
    assert check(request, ru, request_date=TODAY).reasons[0].message == (
        "Не указано: ИНН организации.")


def test_rules_refuse_inconsistent_policy() -> None:
    with pytest.raises(ValueError, match="unknown field path"):
        IntakeRules(required=("contact.mail",))
    with pytest.raises(ValueError, match="first-request-only"):
        IntakeRules(required=("version",), first_request_only=("version",))
    with pytest.raises(ValueError, match="used by both"):
        IntakeRules(products=(ProductRule("A"), ProductRule("B", ("a",))))
    with pytest.raises(ValueError, match="given to both"):
        IntakeRules(labels={"version": ("ИНН",), "organization.inn": ("ИНН",)})


def test_decision_serialises() -> None:
    decision = check(IntakeRequest(), AR_RULES, request_date=TODAY)
    doc = decision.to_dict()
    assert doc["accepted"] is False
    assert {r["code"] for r in doc["reasons"]} == {"missing_field"}
    assert ReasonCode.MISSING_FIELD == "missing_field"
