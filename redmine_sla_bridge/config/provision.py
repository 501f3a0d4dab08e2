"""The `provision` section: what `provision` sets up besides the custom fields."""

from __future__ import annotations

from pydantic import Field, model_validator

from redmine_sla_bridge.config.base import StrictModel
from redmine_sla_bridge.config.types import Text

INSTANCE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$"


class ProvisionConfig(StrictModel):
    """What `provision` sets up besides the custom fields: who may see and change them
    (Redmine's field permissions per role, tracker and status, and the fields' visibility),
    and the saved queries engineers open first. Role names are Redmine's (Administration >
    Roles and permissions)."""

    instance: str | None = Field(
        default=None, pattern=INSTANCE_PATTERN,
        description="Only for a Redmine shared by several bridges that each keep their own "
        "fields: a name for this bridge's set, written into every field's marker "
        "([redmine-sla-bridge:<instance>:<key>] instead of [redmine-sla-bridge:<key>]). "
        "Bridges with the same instance (or none) share one field per key, so their "
        "`fields` names must agree, or each `provision` renames the fields back.",
    )
    permissions: bool = Field(
        default=True,
        description="Set who may change and see the bridge's fields (Administration > "
        "Workflow > Fields permissions; each field's Visible setting). Off: `provision` "
        "leaves both as they are.",
    )
    bridge_role: Text = Field(
        default="SLA bridge",
        description="The role of the bridge's own user in the support projects: the only "
        "role that may change what the bridge computes (tier, license status, SLA priority "
        "and state, deadlines, first response, intake key). `provision` creates it (with "
        "the permissions of docs/redmine.md, workflow copied from the first support role) "
        "when Redmine has no role of this name.",
    )
    customer_roles: list[Text] = Field(
        default_factory=lambda: ["Reporter"],
        description="Roles of requesters who log in to Redmine themselves. Like every role "
        "that is neither the bridge's nor a support role, they may fill the request's data "
        "(contact, organization, INN, product, version, contract, impact, request type) "
        "while the issue is in its tracker's default status, i.e. in the New issue form, "
        "and only read it afterwards. They never see `internal_fields`.",
    )
    support_roles: list[Text] = Field(
        default_factory=lambda: ["Manager", "Developer"], min_length=1,
        description="Roles of support engineers and leads: they may correct the request's "
        "data in any status, see the internal fields, and see the saved queries.",
    )
    internal_fields: list[Text] = Field(
        default_factory=list,
        description="More fields (by their `fields` key, e.g. sla_state, license_status) "
        "that customer_roles do not see. intake_key and sla_outcome are always internal.",
    )
    queries: bool = Field(
        default=True,
        description="Save public issue queries, visible to support_roles, in each project "
        "of scope.projects (with `projects: all`, one set for all projects): breached, "
        "at risk, awaiting a first response, resolution due today. Names follow `language`.",
    )

    @model_validator(mode="after")
    def _roles_distinct(self) -> ProvisionConfig:
        customers, support = set(self.customer_roles), set(self.support_roles)
        if self.bridge_role in customers | support:
            raise ValueError(f"bridge_role {self.bridge_role!r} is also listed under "
                             f"customer_roles or support_roles: the bridge needs a role of its own")
        both = sorted(customers & support)
        if both:
            raise ValueError(f"role(s) {', '.join(map(repr, both))} are both customer_roles and "
                             f"support_roles")
        return self
