"""SLA reports: the outcome the bridge records on each issue, and its aggregation."""
