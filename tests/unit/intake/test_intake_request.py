"""The request document: round trip and structured errors on wrong JSON types."""

from __future__ import annotations

import datetime as dt

import pytest

from redmine_sla_bridge.domain.intake import (
    Contact,
    IntakeRequest,
    IntakeRequestError,
    Organization,
)

FULL = {
    "created_at": "2024-05-06T10:15:00+03:00",
    "subject": "VPN",
    "description": "Не работает VPN",
    "contact": {"name": "Иванов И.И.", "email": "i@x.ru", "phone": "+74956628734",
                "position": "админ"},
    "organization": {"name": "ООО Ромашка", "inn": "7707083893"},
    "product": "ИКС Стандарт",
    "version": "7.2 build 456",
    "type": "error",
    "impact": "P2",
    "contract_number": "42",
}


def test_round_trip() -> None:
    request = IntakeRequest.from_dict(FULL)
    assert request.contact == Contact("Иванов И.И.", "i@x.ru", "+74956628734", "админ")
    assert request.organization == Organization("ООО Ромашка", "7707083893")
    assert request.created_at == dt.datetime(2024, 5, 6, 10, 15,
                                             tzinfo=dt.timezone(dt.timedelta(hours=3)))
    assert request.to_dict() == FULL
    assert IntakeRequest.from_dict(request.to_dict()) == request


def test_everything_is_optional_and_blank_means_absent() -> None:
    request = IntakeRequest.from_dict({"subject": "  ", "contact": None, "version": " 7.2 "})
    assert request == IntakeRequest(version="7.2")
    assert request.to_dict() == {"version": "7.2"}
    assert IntakeRequest.from_dict({}) == IntakeRequest()


def test_every_structural_error_is_reported() -> None:
    with pytest.raises(IntakeRequestError) as caught:
        IntakeRequest.from_dict({
            "created_at": "yesterday",
            "subject": 5,
            "organization": {"inn": 7707083893, "kpp": "1"},
            "contact": ["x"],
            "version": True,
            "organisation": {},
        })
    got = {(e.field, e.code) for e in caught.value.errors}
    assert got == {
        ("created_at", "invalid_datetime"),
        ("subject", "not_a_string"),
        ("organization.inn", "not_a_string"),
        ("organization.kpp", "unknown_field"),
        ("contact", "not_an_object"),
        ("version", "not_a_string"),
        ("organisation", "unknown_field"),
    }
    inn_error = next(e for e in caught.value.errors if e.field == "organization.inn")
    assert "leading zeros" in inn_error.message
    assert caught.value.to_dict()["errors"][0].keys() == {"field", "code", "message"}


@pytest.mark.parametrize("doc", [None, [], "x", 5, True])
def test_not_an_object(doc) -> None:
    with pytest.raises(IntakeRequestError) as caught:
        IntakeRequest.from_dict(doc)
    assert caught.value.errors[0].code == "not_an_object"


def test_unknown_keys_can_be_allowed() -> None:
    assert IntakeRequest.from_dict({"x": 1, "contact": {"y": 2}},
                                   allow_unknown_keys=True) == IntakeRequest()


def test_get_and_with_value_by_path() -> None:
    request = IntakeRequest().with_value("organization.inn", "7707083893")
    assert request.get("organization.inn") == "7707083893"
    assert request.with_value("product", "X").get("product") == "X"
