"""`provision` against the real Redmine: creates every field, then has nothing to do."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from redmine_sla_bridge.adapters.redmine.admin_forms import AdminSession, CustomFieldForm
from redmine_sla_bridge.adapters.redmine.fields import LICENSE_STATUSES, SLA_STATES
from redmine_sla_bridge.entrypoints.cli import cli
from tests.conftest import base_document, unique, write_config

pytestmark = pytest.mark.redmine

FIELD_KEYS = (
    "tier", "license_status", "sla_priority", "sla_state", "first_response_due",
    "resolution_due", "first_response_at", "first_response_day", "contact_name",
    "contact_email", "contact_phone", "contact_position",
    "organization", "inn", "product", "product_version", "contract_number", "impact",
    "request_type", "intake_key", "sla_outcome", "next_check",
)


@pytest.fixture()
def field_names(redmine, gateway):
    """Unique names for one test's fields; the fields are deleted afterwards.

    Custom fields are global in Redmine: unique names keep each test independent, and
    deleting them matters too, because every field enabled for all projects rides along
    on every issue Redmine renders (hundreds of leftovers made it several times slower)."""
    made = []

    def make() -> dict[str, str]:
        prefix = unique("p")
        made.append(prefix)
        return {key: f"{prefix} {key}" for key in FIELD_KEYS}

    yield make
    admin = AdminSession(redmine.url, redmine.admin_login, redmine.admin_password)
    for field in gateway.custom_fields():
        if any(field["name"].startswith(prefix + " ") for prefix in made):
            admin.delete_custom_field(field["id"])


def _run(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def _document(redmine, names: dict[str, str], **sections) -> dict:
    """A config for these fields only. Their prefix is also their marker set: fields are
    found by marker before name, and a test must never find (and rename) another's.
    Permissions and queries have tests of their own."""
    prefix = names["tier"].split()[0]
    return base_document(redmine, fields=names, **sections, provision={
        "instance": prefix, "permissions": False, "queries": False})


def _created(output: str) -> int:
    return sum(output.count(f"create {kind} field") for kind in ("list", "string", "date"))


def test_provision_creates_every_field_then_has_nothing_to_do(
        redmine, redmine_env, gateway, tmp_path, field_names):
    names = field_names()
    document = _document(redmine, names)
    document["policy"]["tiers"] = [{"name": "gold", "when": {"partner": True}},
                                   {"name": "basic", "when": {}}]
    config = write_config(tmp_path / "bridge.yaml", document)

    first = _run("provision", "--config", str(config))
    assert first.exit_code == 0, first.output
    assert _created(first.output) == len(FIELD_KEYS)
    assert "verified" in first.output

    fields = {f["name"]: f for f in gateway.custom_fields()}
    support = next(t["id"] for t in gateway.trackers() if t["name"] == "Support")
    for _key, name in names.items():
        field = fields[name]
        assert field["customized_type"] == "issue"
        assert field["is_filter"] is True
        assert [t["id"] for t in field["trackers"]] == [support]
    values = lambda key: [v["value"] for v in fields[names[key]]["possible_values"]]  # noqa: E731
    assert values("tier") == ["gold", "basic"]
    assert values("license_status") == list(LICENSE_STATUSES)
    assert values("sla_state") == list(SLA_STATES)
    assert values("sla_priority") == ["P1", "P2", "P3", "P4"]
    assert fields[names["inn"]]["field_format"] == "string"

    second = _run("provision", "--config", str(config))
    assert second.exit_code == 0, second.output
    assert "nothing to do" in second.output


def test_provision_adds_a_new_tier_value_without_dropping_old_ones(
        redmine, redmine_env, gateway, tmp_path, field_names):
    names = field_names()
    document = _document(redmine, names)
    config = write_config(tmp_path / "bridge.yaml", document)
    assert _run("provision", "--config", str(config)).exit_code == 0

    document["policy"]["tiers"] = [{"name": "partner", "when": {"partner": True}},
                                   {"name": "standard", "when": {}}]
    write_config(config, document)
    result = _run("provision", "--config", str(config))
    assert result.exit_code == 0, result.output
    assert f"update field {names['tier']!r}: add values partner" in result.output
    tier = next(f for f in gateway.custom_fields() if f["name"] == names["tier"])
    assert [v["value"] for v in tier["possible_values"]] == ["standard", "partner"]


def test_provision_without_admin_login_lists_what_to_create_and_fails(
        redmine, redmine_env, tmp_path, field_names):
    names = field_names()
    config = write_config(tmp_path / "bridge.yaml", _document(redmine, names, admin=False))
    result = CliRunner().invoke(cli, ["provision", "--config", str(config)])
    assert result.exit_code == 1
    assert "redmine.admin is not configured" in result.output
    for name in names.values():
        assert f"Name: {name}" in result.output
    assert "Possible values (one per line): P1 | P2 | P3 | P4" in result.output


def test_provision_with_a_wrong_admin_password_fails_clearly(
        redmine, redmine_env, tmp_path, monkeypatch, field_names):
    monkeypatch.setenv("TEST_REDMINE_ADMIN_PASSWORD", "wrong")
    config = write_config(tmp_path / "bridge.yaml", _document(redmine, field_names()))
    result = CliRunner().invoke(cli, ["provision", "--config", str(config)])
    assert result.exit_code == 1
    assert "error:" in result.output


def test_provision_refuses_a_field_of_another_format(
        redmine, redmine_env, gateway, support_tracker, tmp_path, field_names):
    names = field_names()
    # An admin's own text field (no bridge marker) has the name the config gives the tier.
    names["tier"] = names["tier"] + " (text)"
    AdminSession(redmine.url, redmine.admin_login, redmine.admin_password).create_custom_field(
        CustomFieldForm(name=names["tier"], field_format="string", tracker_ids=(support_tracker,)))
    config = write_config(tmp_path / "bridge.yaml", _document(redmine, names))
    result = CliRunner().invoke(cli, ["provision", "--config", str(config)])
    assert result.exit_code == 1
    assert "rename one of them (config key fields.tier)" in result.output
    assert _created(result.output) == 0


def test_a_project_scoped_provision_keeps_shared_fields_in_other_projects(
        redmine, redmine_env, gateway, project, support_tracker, tmp_path):
    prefix = unique("e")  # fields of this test only: Redmine's custom fields are global
    names = {key: f"{prefix} {key}" for key in FIELD_KEYS}
    document = _document(redmine, names)
    path = write_config(tmp_path / "bridge.yaml", document)
    try:
        assert CliRunner().invoke(cli, ["provision", "--config", str(path)]).exit_code == 0
        other = gateway.create_project(unique("o-"), "Another team", tracker_ids=[support_tracker])

        document["scope"]["projects"] = [project["identifier"]]  # a team provisions its project
        write_config(path, document)
        assert CliRunner().invoke(cli, ["provision", "--config", str(path)]).exit_code == 0

        issue = gateway.create_issue(project_id=other["id"], tracker_id=support_tracker,
                                     subject="x")
        available = {f["name"] for f in gateway.issue(issue["id"], journals=False)["custom_fields"]}
        assert names["tier"] in available
    finally:
        # Every field on every issue costs Redmine time: leave none behind.
        admin = AdminSession(redmine.url, redmine.admin_login, redmine.admin_password)
        for field in gateway.custom_fields():
            if field["name"].startswith(prefix + " "):
                admin.delete_custom_field(field["id"])

