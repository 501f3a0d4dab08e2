"""The demo: a local Redmine, one regulation loaded, sample requests, the bridge run once.

    scripts/demo [--preset NAME | --config FILE] [--port 3000]

Sample requests go through real channels: most through Redmine's REST API, which is
what Redmine's own web form produces (an issue with the data in its fields), and those
marked `channel: api` through the bridge's intake API (`POST /api/v1/requests`, the
"request from the product's web interface" channel). The bridge then runs one `sync`
pass exactly as cron or `serve` would, and a table shows what happened to each request.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from redmine_sla_bridge.devtools.local_redmine import (
    ADMIN_LOGIN,
    ADMIN_PASSWORD,
    LocalRedmine,
    LocalRedmineError,
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
    channel: str = "redmine"  # "redmine" (REST, like the web form) or "api" (intake API)

    def document(self) -> dict:
        """The intake API request for this sample (the same data the fields carry)."""
        f = self.fields
        contact = {k: f[key] for k, key in (("name", "contact_name"), ("email", "contact_email"),
                                             ("phone", "contact_phone"),
                                             ("position", "contact_position")) if key in f}
        organization = {k: f[key] for k, key in (("name", "organization"), ("inn", "inn"))
                        if key in f}
        out = {"subject": self.subject, "description": self.description, "contact": contact,
               "organization": organization}
        for key, field_key in (("product", "product"), ("version", "product_version"),
                               ("impact", "impact"), ("type", "request_type"),
                               ("contract_number", "contract_number")):
            if field_key in f:
                out[key] = f[field_key]
        return out


def _samples(config_path: Path) -> list[Sample]:
    demo = yaml.safe_load(config_path.with_suffix(".demo.yaml").read_text(encoding="utf-8")) \
        if config_path.with_suffix(".demo.yaml").exists() else None
    if demo is None:
        demo = yaml.safe_load((ROOT / "config" / "example.demo.yaml").read_text(encoding="utf-8"))
    return [Sample(**s) for s in demo["samples"]]


def _backdate(local: LocalRedmine, issue_id: int, moment: dt.datetime) -> None:
    """Redmine's API cannot set created_on; the local dev Redmine lets us, so the demo can
    show a request filed at 17:30 on the day before a holiday whatever today is."""
    utc = moment.astimezone(dt.UTC)
    local.runner(f"Issue.where(id: {issue_id}).update_all(created_on: Time.utc({utc.year}, "
                 f"{utc.month}, {utc.day}, {utc.hour}, {utc.minute}), "
                 f"start_date: Date.new({moment.year}, {moment.month}, {moment.day}))")


def run(args: argparse.Namespace) -> int:
    from zoneinfo import ZoneInfo

    from pydantic import SecretStr

    from redmine_sla_bridge.adapters.redmine.gateway import RedmineGateway
    from redmine_sla_bridge.adapters.redmine.issues import RedmineIssues
    from redmine_sla_bridge.adapters.store import Store
    from redmine_sla_bridge.bootstrap import bootstrap
    from redmine_sla_bridge.config.loader import ConfigError, load_config
    from redmine_sla_bridge.config.model import IntakeApiConfig
    from redmine_sla_bridge.entrypoints.cli import cli
    from redmine_sla_bridge.entrypoints.web.app import create_app
    from redmine_sla_bridge.service.sync import sync_once

    local = LocalRedmine(port=args.port)
    key = local.start(log=lambda line: print(line, file=sys.stderr))
    os.environ.update(REDMINE_URL=local.url, REDMINE_API_KEY=key,
                      REDMINE_ADMIN_LOGIN=ADMIN_LOGIN, REDMINE_ADMIN_PASSWORD=ADMIN_PASSWORD)
    config_path = Path(args.config) if args.config else PRESETS / f"{args.preset}.yaml"
    if not config_path.exists():
        known = ", ".join(sorted(p.stem for p in PRESETS.glob("*.yaml")
                                 if not p.stem.endswith(("-customers", ".demo"))))
        print(f"error: no such config {config_path} (presets: {known})", file=sys.stderr)
        return 2
    shown = config_path.relative_to(ROOT) if config_path.is_relative_to(ROOT) else config_path
    print(f"regulation: {shown}   (another: scripts/demo --preset NAME, or --config FILE)")
    try:
        config = load_config(config_path)
    except ConfigError as exc:
        print(exc.render(), file=sys.stderr)
        return 2

    try:
        # The table is the demo's output; the bridge's own log says only what goes wrong.
        cli.main(["--log-format", "text", "--log-level", "WARNING", "provision", "--config",
                  str(config_path)], standalone_mode=False)
    except SystemExit as exc:
        if exc.code:
            return int(exc.code)

    DEMO_DIR.mkdir(parents=True, exist_ok=True)
    identifier = f"sla-demo-{dt.datetime.now():%Y%m%d-%H%M%S}"
    # The demo's own project, store and intake API token on top of the chosen config.
    config = config.model_copy(update={
        "scope": config.scope.model_copy(update={"projects": [identifier]}),
        "intake_api": IntakeApiConfig(token=SecretStr("demo-token"), project=identifier,
                                      tracker=config.scope.trackers[0]),
    })
    config._base_dir = config_path.parent.resolve()
    store = Store.from_url(f"sqlite:///{DEMO_DIR / (identifier + '.sqlite3')}")
    gateway = RedmineGateway.from_config(config.redmine)
    tracker = next(t["id"] for t in gateway.trackers() if t["name"] == config.scope.trackers[0])
    project = gateway.create_project(identifier, f"SLA demo {identifier[9:]}", tracker_ids=[tracker])
    rt = bootstrap(config, store=store, gateway=gateway, notifier=None)
    assert isinstance(rt.redmine, RedmineIssues)  # what bootstrap builds for a gateway
    fields = rt.redmine.catalog.project_fields(identifier)[1]
    api = create_app(rt).test_client()
    filed = []
    for sample in _samples(config_path):
        if sample.channel == "api":
            answer = api.post("/api/v1/requests", json=sample.document(),
                              headers={"Authorization": "Bearer demo-token"})
            reply = answer.json
            assert reply is not None  # the intake API answers JSON
            if answer.status_code != 201:
                print(f"{sample.title}: intake API answered {answer.status_code} "
                      f"{[r['code'] for r in reply.get('reasons', [])]}")
                continue
            filed.append((sample, reply["issue_id"]))
            continue
        issue = gateway.create_issue(
            project_id=project["id"], tracker_id=tracker, subject=sample.subject,
            description=sample.description,
            custom_fields=fields.payload(dict(sample.fields)))
        if sample.created_at:
            local_time = dt.datetime.strptime(sample.created_at, "%Y-%m-%d %H:%M")
            _backdate(local, issue["id"], local_time.replace(tzinfo=ZoneInfo(rt.rules.timezone)))
        filed.append((sample, issue["id"]))

    report = sync_once(rt)
    print(f"bridge: {report.drain.processed} event(s) processed, {report.drain.dead} dead\n")
    rows = [("request", "channel", "issue", "status", "tier", "license", "priority",
             "first response due", "resolution due")]
    for sample, issue_id in filed:
        issue = gateway.issue(issue_id, journals=False)
        values = fields.values_of(issue)
        rows.append((sample.title, sample.channel, f"#{issue_id}", issue["status"]["name"],
                     values.get("tier") or "-", values.get("license_status") or "-",
                     values.get("sla_priority") or "-", values.get("first_response_due") or "-",
                     values.get("resolution_due") or "-"))
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    for n, row in enumerate(rows):
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))
        if n == 0:
            print("  ".join("-" * w for w in widths))
    print()
    for sample, issue_id in filed:
        print(f"{sample.title}: {local.url}/issues/{issue_id}")
    print(f"\nRedmine keeps running at {local.url}: log in as {ADMIN_LOGIN} / {ADMIN_PASSWORD}.")
    print("Stop it with: .venv/bin/redmine-sla-bridge dev-redmine stop")
    return 0


def main(argv: list[str] | None = None) -> int:
    from redmine_sla_bridge.adapters.redmine.gateway import RedmineError

    try:
        return _main(argv)
    except (RedmineError, LocalRedmineError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _main(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/demo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    choice = parser.add_mutually_exclusive_group()
    choice.add_argument("--preset", default="a-real",
                        help="a preset in config/presets/ (default: a-real)")
    choice.add_argument("--config", help="your own config file")
    parser.add_argument("--port", type=int, default=3000)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
