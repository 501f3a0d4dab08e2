"""`entitlements` in the YAML: AR-9, what each license, product or tier gives access to.

```yaml
entitlements:
  by_license:                 # an active license of this kind grants these
    premium: [личный кабинет, удалённая поддержка по SSH, доработки, обновления]
  by_product:                 # an active license for this product grants these
    ИКС Lite: [обновления]
  by_tier:                    # the request's tier grants these
    partner: [выделенный инженер]
```
"""

from __future__ import annotations

from pydantic import Field

from redmine_sla_bridge.config.base import StrictModel
from redmine_sla_bridge.config.types import Text
from redmine_sla_bridge.domain.policy.entitlements import Entitlements


class EntitlementsConfig(StrictModel):
    by_license: dict[Text, list[Text]] = Field(
        default_factory=dict, description="License kind -> what an active license of it grants.")
    by_product: dict[Text, list[Text]] = Field(
        default_factory=dict, description="Product -> what an active license covering it grants.")
    by_tier: dict[Text, list[Text]] = Field(
        default_factory=dict, description="Tier name -> what a request of that tier is granted.")

    def to_domain(self) -> Entitlements:
        def frozen(table: dict[str, list[str]]) -> dict[str, tuple[str, ...]]:
            return {key: tuple(values) for key, values in table.items()}

        return Entitlements(frozen(self.by_license), frozen(self.by_product), frozen(self.by_tier))
