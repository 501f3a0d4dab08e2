"""Customer directory adapters: where the policy learns who an INN belongs to.

`load_customer_file` reads the embedded YAML/CSV directory (layouts documented in
`redmine_sla_bridge.config.customers`) into an `InMemoryCustomerSource`, which satisfies
the domain's `CustomerSource` protocol.
"""

from redmine_sla_bridge.adapters.customers.file_source import (
    CustomerDirectoryError,
    InMemoryCustomerSource,
    load_customer_file,
    parse_customers_csv,
    parse_customers_yaml,
)

__all__ = [
    "CustomerDirectoryError",
    "InMemoryCustomerSource",
    "load_customer_file",
    "parse_customers_csv",
    "parse_customers_yaml",
]
