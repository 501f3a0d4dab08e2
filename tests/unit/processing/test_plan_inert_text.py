"""Customer values in the bridge's notes are escaped for Redmine's formatting, and the
email of the same text carries them plain (issue 14, item 3)."""

from __future__ import annotations

import html

import pytest

from redmine_sla_bridge.domain.intake import IntakeRequest, IntakeRules, MessageCatalog, check
from redmine_sla_bridge.domain.intake.gate import flags_note, rejection_note
from redmine_sla_bridge.domain.intake.request import Contact, Organization
from redmine_sla_bridge.domain.markup import TEXT_FORMATTINGS, as_data
from redmine_sla_bridge.domain.processing import plan
from tests.unit.processing.builders import Journal, at, document, request, rules_of, snapshot

INN = '"inn":http://evil/inn'
EMAIL = "[mail](http://evil/m)@"
PRODUCT = "![](http://evil/i.png)"
VERSION = "{{include(Wiki)}} [[Page]] @admin"
PHONE = "<script>alert(1)</script>"
LONG = "x" * 300
INTAKE = {"required": ["organization.inn", "contact.email", "version", "organization.name"],
          "products": [{"name": "ИКС Стандарт"}]}


def hostile(created, **changes):
    return request(created, contact=Contact("Ivan", EMAIL, PHONE, None),
                   organization=Organization(LONG, INN), product=PRODUCT, version=VERSION,
                   description="Вы идиоты [x](http://evil/d)", **changes)


def decoded(note: str) -> str:
    return html.unescape(note.replace("<wbr>", ""))


@pytest.fixture(scope="module", params=TEXT_FORMATTINGS)
def formatting(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def rules(tmp_path_factory, formatting):
    doc = document(intake=INTAKE)
    doc["redmine"]["text_formatting"] = formatting
    return rules_of(tmp_path_factory.mktemp("rules"), doc)


def test_the_formatting_comes_from_the_config_and_defaults_to_textile(tmp_path, rules, formatting):
    assert rules.text_formatting == formatting
    assert rules_of(tmp_path, document()).text_formatting == "textile"


def test_a_refusal_note_escapes_the_values_and_its_mail_carries_them_plain(rules):
    update = plan(snapshot(Journal(at(2, 10)), req=hostile(at(2, 10))), rules, at(2, 10, 1))
    assert update.action == "rejected"
    assert sorted(update.detail.split(", ")) == [
        "invalid_email", "invalid_inn", "unknown_version", "unsupported_product"]
    refusal, flags = update.notes
    # no markup character of the customer's survives in the note's source...
    for syntax in ("http://", "](", "![", '":', "{{", "[[", "<script"):
        assert syntax not in refusal.text and syntax not in flags.text, syntax
    # ...and the note reads as the mail, which has the values as the customer wrote them
    (mail,) = update.mails
    assert decoded(refusal.text) == mail.body
    for value in (INN, PRODUCT, VERSION):
        assert value in mail.body
    assert mail.to == EMAIL


def test_a_long_value_is_shortened_in_the_note_and_in_the_mail(tmp_path, formatting):
    doc = document(intake={"required": ["organization.inn"]})
    doc["redmine"]["text_formatting"] = formatting
    rules = rules_of(tmp_path, doc)
    req = request(at(2, 10), organization=Organization(None, "1" * 20_000))
    update = plan(snapshot(Journal(at(2, 10)), req=req), rules, at(2, 10, 1))
    (mail,) = update.mails
    assert as_data("1" * 20_000) in mail.body and "1" * 201 not in mail.body
    assert len(update.notes[0].text) < 2_000


def test_the_flags_note_quotes_rude_words_and_ignored_values_escaped(rules):
    update = plan(snapshot(Journal(at(2, 10)), req=hostile(at(2, 10))), rules, at(2, 10, 1))
    flags = update.notes[-1]
    assert flags.private
    text = decoded(flags.text)
    assert "идиоты" in text  # the rude word, for the engineer
    assert as_data(PHONE) in text  # the unreadable phone nobody demanded
    assert "<script" not in flags.text


def test_the_gate_renders_one_text_per_target():
    rules = IntakeRules(required=("organization.inn",), messages=MessageCatalog("en"))
    decision = check(IntakeRequest(organization=Organization(inn="[1](http://evil)")), rules,
                     request_date=at(2, 10).date())
    plain = rejection_note(decision, rules, "plain")
    assert 'The INN "[1](http://evil)" is not valid' in plain
    for formatting in TEXT_FORMATTINGS:
        note = rejection_note(decision, rules, formatting)
        assert "](" not in note and decoded(note) == plain
    assert rejection_note(decision, rules) == rejection_note(decision, rules, "textile")
    # the API's reason keeps the value as given
    assert decision.reasons[0].message.startswith('The INN "[1](http://evil)"')
    assert flags_note(decision, rules) == ""


def test_an_overridden_template_gets_the_value_escaped_too():
    catalog = MessageCatalog("en", {"send.invalid_inn": "an INN other than $value"})
    rules = IntakeRules(required=("organization.inn",), messages=catalog)
    decision = check(IntakeRequest(organization=Organization(inn="#1 <b>")), rules,
                     request_date=at(2, 10).date())
    assert "• an INN other than &#35;1 &#60;b&#62;" in rejection_note(decision, rules)
    assert "• an INN other than #1 <b>" in rejection_note(decision, rules, "plain")
