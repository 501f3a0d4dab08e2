"""The config of a bridge whose Redmine is a closed port (nothing here reaches it) on a
fresh SQLite store: what the web-layer unit tests build their app from."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def offline_document(store: Path, redmine_key: str = "k" * 40, **sections: Any) -> dict[str, Any]:
    """`sections` are added as they are (webhooks, intake_api, ...); the Redmine key may
    be a ${VAR} reference, as a real config has it."""
    return {
        "language": "en",
        "redmine": {"url": "http://127.0.0.1:9", "api_key": redmine_key,
                    "retries": 0, "timeout_seconds": 2},
        "store": {"url": f"sqlite:///{store}"},
        "polling": {"enabled": False},
        **sections,
        "calendars": {"office": {"timezone": "Europe/Moscow",
                                 "week": {"mon-fri": [["09:00", "18:00"]]}, "holidays": "RU"}},
        "policy": {"calendar": "office", "tiers": [{"name": "standard", "when": {}}],
                   "priority": {"mode": "impact", "default_impact": "P3"}},
    }
