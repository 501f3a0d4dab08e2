"""Products served in several lines (ID-2): matching a request to a line, the version
policy of each line, and the refusal texts that name the served lines."""

from __future__ import annotations

import datetime as dt

import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from redmine_sla_bridge.domain.intake import (
    IntakeRequest,
    IntakeRules,
    MessageCatalog,
    ProductRule,
    VersionPolicy,
    check,
    check_override,
    rejection_note,
)
from redmine_sla_bridge.domain.intake.products import ProductLine
from redmine_sla_bridge.domain.intake.versions import common_version, describe_versions

DAY = dt.date(2026, 12, 1)
EOS = dt.date(2027, 12, 31)  # line 6's end of support in the tests that need one


def ics(*, end_of_support: dt.date | None = None, prereleases_6: bool = False) -> ProductRule:
    """ID-2 "Ideco ICS актуальной версии" and "Ideco ICS 6", as the ideco preset has them."""
    return ProductRule("Ideco ICS", ("Ideco UTM", "Ideco NGFW", "Айдеко ICS"), lines=(
        ProductLine.of("current", "Ideco ICS", current_version="20"),
        ProductLine.of("6", "Ideco ICS 6", versions="6", end_of_support=end_of_support,
                       allow_prereleases=prereleases_6,
                       aliases=("ICS 6", "ICS6", "Ideco ICS6", "UTM 6")),
    ))


def id2(language: str = "ru", **kwargs) -> IntakeRules:
    return IntakeRules(
        required=("product", "version"),
        products=(
            ics(**kwargs),
            ProductRule("Ideco PBX", ("IP-АТС Ideco PBX",), VersionPolicy(current="4")),
            ProductRule("Ideco Selecta", ("Selecta",), VersionPolicy(supported=">=2.0")),
            ProductRule("Ideco МагПро ГОСТ-VPN", ("МагПро",), VersionPolicy(supported=">=1.0")),
        ),
        messages=MessageCatalog(language),  # type: ignore[arg-type]
    )


def decide(product: str | None, version: str | None, rules: IntakeRules | None = None,
           day: dt.date = DAY):
    return check(IntakeRequest(product=product, version=version), rules or id2(),
                 request_date=day)


def outcome(decision) -> tuple[list[tuple[str, str | None]], str | None, str | None]:
    return ([(str(r.code), r.rule) for r in decision.reasons], decision.product_line,
            decision.normalized.product)


# --- which line a request is about ------------------------------------------------------

NOT_CURRENT = [("unsupported_version", "not_current")]

MATCHING = [
    # written product, version -> reasons, line, product as written into Redmine
    ("Ideco ICS", "20.3", [], "current", "Ideco ICS"),
    ("Ideco ICS", "20", [], "current", "Ideco ICS"),                  # the line's first
    ("Ideco ICS", "20.0.0", [], "current", "Ideco ICS"),
    ("Ideco ICS", "20.99.7 build 1234", [], "current", "Ideco ICS"),
    ("Ideco ICS", "19.99", NOT_CURRENT, None, "Ideco ICS"),           # just below
    ("Ideco ICS", "21.0", NOT_CURRENT, None, "Ideco ICS"),            # the next version
    ("Ideco ICS", "6.0", [], "6", "Ideco ICS"),                       # line 6's first
    ("Ideco ICS", "6.5", [], "6", "Ideco ICS"),
    ("Ideco ICS", "v6.5.1 (сборка 77)", [], "6", "Ideco ICS"),
    ("Ideco ICS", "6.99.99", [], "6", "Ideco ICS"),                   # line 6's last
    ("Ideco ICS", "5.9", NOT_CURRENT, None, "Ideco ICS"),             # just below line 6
    ("Ideco ICS", "7.0", NOT_CURRENT, None, "Ideco ICS"),             # just above it
    ("Ideco ICS", "15.2", NOT_CURRENT, None, "Ideco ICS"),            # between the lines
    ("Ideco ICS 6", "6.2", [], "6", "Ideco ICS"),
    ("ideco-ics 6", "6.2", [], "6", "Ideco ICS"),
    ("«Ideco ICS 6»", "6.2", [], "6", "Ideco ICS"),
    ("ICS 6", "6.2", [], "6", "Ideco ICS"),
    ("ICS6", "6.2", [], "6", "Ideco ICS"),
    ("UTM 6", "6.2", [], "6", "Ideco ICS"),
    ("Ideco UTM 6", "6.2", [], "6", "Ideco ICS"),                     # alias + line name
    ("Айдеко ICS 6", "6.2", [], "6", "Ideco ICS"),
    ("Ideco UTM", "20.1", [], "current", "Ideco ICS"),
    # The version decides when the name says otherwise.
    ("Ideco ICS 6", "20.3", [], "current", "Ideco ICS"),
    ("Ideco ICS 6", "19.5", NOT_CURRENT, None, "Ideco ICS"),
    # Without a readable version the name records the line.
    ("Ideco ICS 6", "последняя", [("unknown_version", None)], "6", "Ideco ICS"),
    ("Ideco ICS", "последняя", [("unknown_version", None)], None, "Ideco ICS"),
    ("Ideco ICS 6", None, [("missing_field", None)], "6", "Ideco ICS"),
    # A number the config does not know as a line is no product.
    ("Ideco ICS 7", "7.1", [("unsupported_product", None)], None, "Ideco ICS 7"),
    # The other ID-2 products keep one policy each (no line recorded).
    ("Ideco PBX", "4.2", [], None, "Ideco PBX"),
    ("IP-АТС Ideco PBX", "4", [], None, "Ideco PBX"),
    ("Ideco PBX", "3.9", NOT_CURRENT, None, "Ideco PBX"),
    ("Ideco PBX", "5.0", NOT_CURRENT, None, "Ideco PBX"),
    ("Ideco Selecta", "2.0", [], None, "Ideco Selecta"),
    ("Selecta", "1.9", [("unsupported_version", "range")], None, "Ideco Selecta"),
    ("Ideco МагПро ГОСТ-VPN", "1.0", [], None, "Ideco МагПро ГОСТ-VPN"),
    ("МагПро", "0.9", [("unsupported_version", "range")], None, "Ideco МагПро ГОСТ-VPN"),
]


@pytest.mark.parametrize(("product", "version", "reasons", "line", "written"), MATCHING,
                         ids=[f"{m[0]}+{m[1]}" for m in MATCHING])
def test_the_version_chooses_the_line(product, version, reasons, line, written) -> None:
    assert outcome(decide(product, version)) == (reasons, line, written)


def test_line_for_and_named_line() -> None:
    product = ics()
    assert product.line_for(Version("6.1")).name == "6"
    assert product.line_for(Version("20.4")).name == "current"
    assert product.line_for(Version("19.0")) is None
    assert product.named_line("Ideco UTM 6").name == "6"
    assert product.named_line("Ideco ICS") is None
    assert product.named_line("Kerio") is None
    # A single-policy product is one implicit line holding every version: its policy
    # judges them (so "not current" still says so).
    pbx = ProductRule("Ideco PBX", (), VersionPolicy(current="4"))
    implicit = pbx.line_for(Version("3.0"))
    assert (implicit.name, implicit.title, implicit.members) == ("", "Ideco PBX", None)
    assert pbx.served_lines == (implicit,) and pbx.named_line("Ideco PBX") is None


def test_the_decision_serialises_the_line() -> None:
    assert decide("Ideco ICS", "6.3").to_dict()["product_line"] == "6"
    assert decide("Ideco PBX", "4.1").to_dict()["product_line"] is None


# --- end of support and pre-releases, per line -------------------------------------------


@pytest.mark.parametrize(("day", "reasons"), [
    (dt.date(2027, 12, 30), []),
    (EOS, []),                                                        # its last day
    (dt.date(2028, 1, 1), [("unsupported_version", "end_of_support")]),
])
def test_a_line_is_served_through_its_end_of_support(day, reasons) -> None:
    decision = decide("Ideco ICS", "6.5", id2(end_of_support=EOS), day)
    assert outcome(decision) == (reasons, "6", "Ideco ICS")
    # The current line has no end: still served.
    assert decide("Ideco ICS", "20.1", id2(end_of_support=EOS), day).accepted


def test_prereleases_are_judged_by_their_line() -> None:
    prerelease = [("unsupported_version", "prerelease")]
    assert outcome(decide("Ideco ICS", "6.0rc1")) == (prerelease, "6", "Ideco ICS")
    assert outcome(decide("Ideco ICS", "20.1-beta")) == (prerelease, "current", "Ideco ICS")
    # a pre-release of a version no line holds is simply not current
    assert outcome(decide("Ideco ICS", "21.0rc1")) == (NOT_CURRENT, None, "Ideco ICS")
    # line 6 serving its pre-releases does not open the current line to them
    rules = id2(prereleases_6=True)
    assert decide("Ideco ICS", "6.9b2", rules).accepted
    assert outcome(decide("Ideco ICS", "20.2rc1", rules))[0] == prerelease


# --- the texts -----------------------------------------------------------------------


def test_not_current_names_the_served_lines() -> None:
    reason, = decide("Ideco ICS", "19.5").reasons
    assert reason.message == ("Версия 19.5 продукта «Ideco ICS» не поддерживается. "
                              "Поддерживаются: Ideco ICS (актуальная версия 20.x), "
                              "Ideco ICS 6 (версии 6.x).")
    assert dict(reason.params) == {
        "value": "19.5", "version": "19.5", "normalized": "19.5", "product": "Ideco ICS",
        "lines": "Ideco ICS (актуальная версия 20.x), Ideco ICS 6 (версии 6.x)",
        "rule": "not_current", "current": "20"}
    reason, = decide("Ideco ICS", "19.5", id2("en", end_of_support=EOS)).reasons
    assert reason.message == ('Version 19.5 of "Ideco ICS" is not supported. Supported: '
                              "Ideco ICS (current version 20.x), Ideco ICS 6 (versions 6.x, "
                              "until 2027-12-31).")


def test_lines_show_their_end_of_support_and_drop_once_it_passed() -> None:
    rules = id2(end_of_support=EOS)
    reason, = decide("Ideco ICS", "5.0", rules).reasons
    assert reason.message.endswith("Поддерживаются: Ideco ICS (актуальная версия 20.x), "
                                   "Ideco ICS 6 (версии 6.x, до 31.12.2027).")
    reason, = decide("Ideco ICS", "6.5", rules, dt.date(2028, 1, 1)).reasons
    assert reason.message == ("Поддержка «Ideco ICS 6» прекращена 31.12.2027 (указана версия "
                              "6.5). Поддерживаются: Ideco ICS (актуальная версия 20.x).")
    assert (reason.params["line"], reason.params["end_of_support"]) == ("Ideco ICS 6",
                                                                        "2027-12-31")
    reason, = decide("Ideco ICS", "6.5", id2("en", end_of_support=EOS),
                     dt.date(2028, 1, 1)).reasons
    assert reason.message == ('Support for "Ideco ICS 6" ended on 2027-12-31 (the request '
                              "names version 6.5). Supported: Ideco ICS (current version 20.x).")


def test_with_no_line_left_the_plain_wording_is_used() -> None:
    product = ProductRule("Old", (), lines=(
        ProductLine.of("5", "Old 5", versions="5", end_of_support=dt.date(2020, 1, 1)),))
    reason, = decide("Old", "5.1", IntakeRules(products=(product,))).reasons
    assert "lines" not in reason.params
    assert reason.message == "Поддержка версии 5.1 продукта «Old» прекращена 01.01.2020."


def test_a_version_outside_lines_without_a_current_one_is_out_of_range() -> None:
    product = ProductRule("КОМПАС-3D", (), lines=(
        ProductLine.of("22", "КОМПАС-3D v22", versions="22"),
        ProductLine.of("23", "КОМПАС-3D v23", versions=">=23,<24")))
    reason, = decide("КОМПАС-3D", "21.0", IntakeRules(products=(product,))).reasons
    assert (reason.rule, reason.message) == (
        "range", "Версия 21.0 продукта «КОМПАС-3D» не поддерживается. Поддерживаются: "
        "КОМПАС-3D v22 (версии 22.x), КОМПАС-3D v23 (версии 23.x).")
    assert "current" not in reason.params


def test_unsupported_product_lists_every_line_as_the_regulation_does() -> None:
    reason, = decide("Kerio Control", "9.4").reasons
    assert reason.params["supported"] == ("Ideco ICS, Ideco ICS 6, Ideco PBX, Ideco Selecta, "
                                          "Ideco МагПро ГОСТ-VPN")


def test_the_note_quotes_the_customers_version_not_the_lines() -> None:
    rules = id2(end_of_support=EOS)
    decision = decide("Ideco ICS", "19.5", rules)
    note = rejection_note(decision, rules)
    assert ("• Версия 19&#46;5 продукта «Ideco ICS» не поддерживается. Поддерживаются: "
            "Ideco ICS (актуальная версия 20.x), Ideco ICS 6 (версии 6.x, до 31.12.2027).") in note
    assert "• номер актуальной версии 20 (после обновления)" in note
    plain = rejection_note(decision, rules, "plain")
    assert "Версия 19.5 продукта «Ideco ICS»" in plain


def test_line_texts_can_be_overridden() -> None:
    check_override("reason.unsupported_version.not_current.lines", "$product: $lines")
    check_override("reason.unsupported_version.prerelease.lines", "$line: $version")
    check_override("line.versions.until", "$title ($versions) до $end_of_support")
    with pytest.raises(ValueError, match="unknown placeholder"):
        check_override("line.current", "$title $value")
    catalog = MessageCatalog("ru", {"line.current": "$title, версия $current",
                                    "reason.unsupported_version.not_current.lines":
                                        "«$product»: только $lines"})
    rules = IntakeRules(products=(ics(),), messages=catalog)
    reason, = decide("Ideco ICS", "19.5", rules).reasons
    assert reason.message == ("«Ideco ICS»: только Ideco ICS, версия 20.x, "
                              "Ideco ICS 6 (версии 6.x)")


# --- the rules themselves -------------------------------------------------------------


def test_a_product_rule_refuses_inconsistent_lines() -> None:
    current = ProductLine.of("current", "X", current_version="20")
    with pytest.raises(ValueError, match=r"both hold version 6\.5"):
        ProductRule("X", (), lines=(ProductLine.of("a", "X a", versions="6"),
                                    ProductLine.of("b", "X b", versions=">=6.5,<8")))
    with pytest.raises(ValueError, match="both hold version 20"):
        ProductRule("X", (), lines=(current, ProductLine.of("b", "X b", versions=">=15")))
    with pytest.raises(ValueError, match="one version policy or lines"):
        ProductRule("X", (), VersionPolicy(current="20"), lines=(current,))
    with pytest.raises(ValueError, match="only one line can be the current"):
        ProductRule("X", (), lines=(current, ProductLine.of("n", "X", current_version="21")))
    with pytest.raises(ValueError, match="distinct"):
        ProductRule("X", (), lines=(current, ProductLine.of("current", "X 6", versions="6")))
    with pytest.raises(ValueError, match="names both the product and line '6'"):
        ProductRule("X", ("Y",), lines=(ProductLine.of("6", "X 6", versions="6",
                                                      aliases=("y",)),))
    with pytest.raises(ValueError, match="either versions or current_version"):
        ProductLine.of("a", "X a")
    with pytest.raises(ValueError, match="used by both"):  # across products, as before
        IntakeRules(products=(ics(), ProductRule("ICS 6")))
    # adjacent lines do not overlap
    ProductRule("X", (), lines=(ProductLine.of("6", "X 6", versions=">=6,<7"),
                                ProductLine.of("7", "X 7", versions="7"), current))


@pytest.mark.parametrize(("a", "b", "common"), [
    ("==6.*", ">=6,<7", "6"),
    ("==6.*", "==7.*", None),
    (">=6,<7", ">=7", None),
    ("<7", "==7.*", None),            # 7.0rc1 is "==7.*" only
    ("<=7", ">=7", "7"),
    ("<7", "<5", "0"),
    ("~=7.2", "==7.9.*", "7.9.dev0"),  # pre-releases count: a line holds them too
    ("~=7.2", ">=8", None),
    (">6", "==6.*", "6.0.0.0.0.0.0.1"),
    ("==6.5", ">=6.5.0,<6.6", "6.5"),
    (">=6.4,<6.5", ">=6.4.9", "6.4.9"),
])
def test_common_version(a, b, common) -> None:
    found = common_version(SpecifierSet(a), SpecifierSet(b))
    assert (str(found) if found is not None else None) == common
    if found is not None:
        assert all(SpecifierSet(s).contains(found, prereleases=True) for s in (a, b))


@pytest.mark.parametrize(("text", "shown"), [
    ("6", "6.x"), ("6.*", "6.x"), ("==6.*", "6.x"), ("7.2", "7.2.x"), (">=6,<7", "6.x"),
    (">=6.0,<7", "6.x"), ("<7,>=6", "6.x"), (">=7.2,<7.3", "7.2.x"), (">=6,<8", ">=6,<8"),
    (">=2.0", ">=2.0"), ("~=7.2", "~=7.2"),
])
def test_describe_versions(text, shown) -> None:
    assert describe_versions(text) == shown
