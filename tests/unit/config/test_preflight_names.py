"""The preflight's rules on a fake Redmine: what is checked where, and what cannot be."""

from __future__ import annotations

from typing import Any

import pytest

from redmine_sla_bridge.adapters.redmine.preflight import check_redmine_names
from redmine_sla_bridge.config.loader import load_config
from redmine_sla_bridge.domain.ports import RedmineRejected, RedmineUnavailable

CONFIG = """\
redmine: {url: http://redmine.local, api_key: k}
scope: {projects: %s, trackers: [Support]}
lifecycle:
  escalation:
    breached: {assign_to: Anna Lead}
calendars:
  office: {timezone: Europe/Moscow, week: {mon-fri: [["09:00", "18:00"]]}, holidays: RU}
policy:
  calendar: office
  tiers: [{name: everyone, when: {}}]
  priority: {mode: impact, default_impact: P3}
"""


class FakeRedmine:
    def __init__(self, *, projects: dict[str, Any], members: dict[int, list[str]] | None = None,
                 key_ok: bool = True) -> None:
        self.projects, self.members, self.key_ok = projects, members or {}, key_ok

    def current_user(self) -> dict[str, Any]:
        if not self.key_ok:
            raise RedmineUnavailable("Redmine rejected the API key (401)")
        return {"id": 1}

    def statuses(self) -> list[dict[str, Any]]:
        return [{"name": n} for n in ("New", "Feedback", "Resolved", "Closed", "Rejected")]

    def trackers(self) -> list[dict[str, Any]]:
        return [{"name": "Support"}, {"name": "Bug"}]

    def priorities(self) -> list[dict[str, Any]]:
        return [{"name": "Normal"}]

    def project(self, identifier: str) -> dict[str, Any]:
        project = self.projects.get(identifier)
        if isinstance(project, int):
            raise RedmineRejected(project, "refused")
        if project is None:
            raise RedmineRejected(404, "not found")
        return project

    def iter_paged(self, path: str, key: str, **_filters: Any):
        return iter([{"identifier": i} for i in self.projects])

    def memberships(self, project_id: int) -> list[dict[str, Any]]:
        if project_id not in self.members:
            raise RedmineRejected(403, "forbidden")
        return [{"user": {"name": n}} for n in self.members[project_id]]


def _config(tmp_path, projects: str):
    path = tmp_path / "bridge.yaml"
    path.write_text(CONFIG % projects, encoding="utf-8")
    return load_config(path, env={})


SUPPORT = {"id": 7, "trackers": [{"name": "Support"}]}


def test_with_projects_all_members_cannot_be_checked_and_are_not(tmp_path):
    assert check_redmine_names(_config(tmp_path, "all"), FakeRedmine(projects={})) == []


def test_members_are_checked_in_each_scoped_project(tmp_path):
    redmine = FakeRedmine(projects={"support": SUPPORT}, members={7: ["Boris"]})
    (problem,) = check_redmine_names(_config(tmp_path, "[support]"), redmine)
    assert problem.startswith("lifecycle.escalation.breached.assign_to: 'Anna Lead' is not a member of "
                              "project 'support'")
    assert problem.endswith("[members: Boris]")


def test_members_that_cannot_be_read_are_said_so(tmp_path):
    redmine = FakeRedmine(projects={"support": SUPPORT})
    (problem,) = check_redmine_names(_config(tmp_path, "[support]"), redmine)
    assert "cannot read the members of project 'support'" in problem and "403" in problem


def test_a_project_the_user_may_not_see(tmp_path):
    (problem,) = check_redmine_names(_config(tmp_path, "[secret]"), FakeRedmine(projects={"secret": 403}))
    assert problem == ("scope.projects[0]: project 'secret' exists, but the bridge's user may not see it: "
                       "give that user a role in it")


def test_a_wrong_key_is_an_error_not_a_list_of_problems(tmp_path):
    with pytest.raises(RedmineUnavailable):
        check_redmine_names(_config(tmp_path, "all"), FakeRedmine(projects={}, key_ok=False))
