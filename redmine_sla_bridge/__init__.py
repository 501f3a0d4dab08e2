"""redmine-sla-bridge: make an unmodified Redmine enforce a technical-support regulation."""

__version__ = "0.1.0"
