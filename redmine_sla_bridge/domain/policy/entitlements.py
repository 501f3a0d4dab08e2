"""AR-9: what a customer may use under the support (personal cabinet, remote access,
custom features, updates...), named in the acknowledgement so that the engineer and
the customer read the same list.

Granted by the customer's active licenses (by kind, or by the product they cover) and
by the request's tier; listed in the order the config gives, each once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from redmine_sla_bridge.domain.policy.customer import Customer, product_key


@dataclass(frozen=True)
class Entitlements:
    by_license: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    by_product: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    by_tier: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def of(self, customer: Customer | None, tier: str | None, day: dt.date,
           product: str | None) -> tuple[str, ...]:
        granted: list[str] = list(self.by_tier.get(tier or "", ()))
        if customer is not None:
            for lic in customer.licenses_for(product):
                if not lic.is_active_on(day):
                    continue
                granted += self.by_license.get(lic.kind, ())
                if lic.product is not None:
                    granted += self._by_product_key().get(product_key(lic.product) or "", ())
        return tuple(dict.fromkeys(granted))

    def _by_product_key(self) -> dict[str, tuple[str, ...]]:
        return {product_key(name) or "": granted for name, granted in self.by_product.items()}
