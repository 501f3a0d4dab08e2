"""The demo: a local Redmine, one regulation loaded, sample requests, the bridge run once.

    scripts/demo [--preset NAME | --config FILE] [--port 3000]

Sample requests go through real channels: the Redmine REST API (what Redmine's web
form and mail handler produce: an issue with the data in its fields or its description)
and the bridge's own intake API. The bridge then runs one `sync` pass exactly as cron or
`serve` would, and a table shows what happened to each request.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from redmine_sla_bridge.devtools.local_redmine import (
    ADMIN_LOGIN, ADMIN_PASSWORD, REDMINE_ROOT, LocalRedmine,
)

ROOT = Path(__file__).resolve().parents[2]
PRESETS = ROOT / "config" / "presets"
DEMO_DIR = Path(os.environ.get("REDMINE_SLA_DEMO_DIR", "/var/tmp/redmine-sla-bridge-demo"))


@dataclass
class Sample:
    """One sample request: its subject, the intake data and how it is filed."""

    title: str
    subject: str
    description: str
    fields: dict[str, str] = field(default_factory=dict)
    created_at: str | None = None  # local wall time "YYYY-MM-DD HH:MM" to backdate to


def _samples(config_path: Path) -> list[Sample]:
    demo = yaml.safe_load(config_path.with_suffix(".demo.yaml").read_text(encoding="utf-8")) \
        if config_path.with_suffix(".demo.yaml").exists() else None
    if demo is None:
        demo = yaml.safe_load((ROOT / "config" / "example.demo.yaml").read_text(encoding="utf-8"))
    return [Sample(**s) for s in demo["samples"]]


def _backdate(issue_id: int, moment: dt.datetime) -> None:
    """Redmine's API cannot set created_on; the local dev Redmine lets us, so the demo can
    show a request filed at 17:30 on the day before a holiday whatever today is."""
    utc = moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    script = (f'i = Issue.find({issue_id}); i.update_columns(created_on: Time.utc(*"{utc}".'
              'scan(/\\d+/).map(&:to_i)), updated_on: Time.now.utc)')
    subprocess.run(["bin/rails", "runner", script], cwd=REDMINE_ROOT, check=True,
                   env=dict(os.environ, RAILS_ENV="production"), capture_output=True)


def run(args: argparse.Namespace) -> int:
    from redmine_sla_bridge.adapters.store import Store
    from redmine_sla_bridge.config.loader import ConfigError, load_config
    from redmine_sla_bridge.entrypoints.cli import cli
    from redmine_sla_bridge.service.runtime import Runtime
    from redmine_sla_bridge.service.sync import sync_once

    local = LocalRedmine(port=args.port)
    key = local.start(log=lambda line: print(line, file=sys.stderr))
    os.environ.update(REDMINE_URL=local.url, REDMINE_API_KEY=key,
                      REDMINE_ADMIN_LOGIN=ADMIN_LOGIN, REDMINE_ADMIN_PASSWORD=ADMIN_PASSWORD)
    config_path = Path(args.config) if args.config else PRESETS / f"{args.preset}.yaml"
    if not config_path.exists():
        config_path = ROOT / "config" / "example.yaml"
    print(f"regulation: {config_path.relative_to(ROOT) if config_path.is_relative_to(ROOT) else config_path}")
    try:
        config = load_config(config_path)
    except ConfigError as exc:
        print(exc.render(), file=sys.stderr)
        return 2

    try:
        cli.main(["provision", "--config", str(config_path)], standalone_mode=False)
    except SystemExit as exc:
        if exc.code:
            return int(exc.code)

    DEMO_DIR.mkdir(parents=True, exist_ok=True)
    store = Store.from_url(f"sqlite:///{DEMO_DIR / ('demo-' + str(int(time.time())) + '.sqlite3')}")
    rt = Runtime(config, base_dir=config.base_dir, store=store)
    gateway = rt.gateway
    identifier = f"sla-demo-{dt.datetime.now():%Y%m%d-%H%M%S}"
    tracker = rt.facts.tracker_ids[config.scope.trackers[0]]
    project = gateway.create_project(identifier, f"SLA demo {identifier[9:]}", tracker_ids=[tracker])
    fields = rt.project_fields(identifier)[1]
    zone = rt.rules.timezone
    filed = []
    for sample in _samples(config_path):
        issue = gateway.create_issue(
            project_id=project["id"], tracker_id=tracker, subject=sample.subject,
            description=sample.description,
            custom_fields=fields.payload({k: v for k, v in sample.fields.items()}))
        if sample.created_at:
            from zoneinfo import ZoneInfo

            local_time = dt.datetime.strptime(sample.created_at, "%Y-%m-%d %H:%M")
            _backdate(issue["id"], local_time.replace(tzinfo=ZoneInfo(zone)))
        filed.append((sample, issue["id"]))

    report = sync_once(rt)
    print(f"bridge: {report.drain.processed} event(s) processed, {report.drain.dead} dead\n")
    rows = [("request", "issue", "status", "tier", "license", "priority", "first response due",
             "resolution due")]
    for sample, issue_id in filed:
        issue = gateway.issue(issue_id, journals=False)
        values = fields.values_of(issue)
        rows.append((sample.title, f"#{issue_id}", issue["status"]["name"],
                     values.get("tier") or "-", values.get("license_status") or "-",
                     values.get("sla_priority") or "-", values.get("first_response_due") or "-",
                     values.get("resolution_due") or "-"))
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    for n, row in enumerate(rows):
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)))
        if n == 0:
            print("  ".join("-" * w for w in widths))
    print()
    for sample, issue_id in filed:
        print(f"{sample.title}: {local.url}/issues/{issue_id}")
    print(f"\nRedmine keeps running at {local.url}: log in as {ADMIN_LOGIN} / {ADMIN_PASSWORD}.")
    print("Stop it with: .venv/bin/redmine-sla-bridge dev-redmine stop")
    print(json.dumps({"project": identifier}), file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/demo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    choice = parser.add_mutually_exclusive_group()
    choice.add_argument("--preset", default="barier",
                        help="a preset in config/presets/ (default: barier)")
    choice.add_argument("--config", help="your own config file")
    parser.add_argument("--port", type=int, default=3000)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
