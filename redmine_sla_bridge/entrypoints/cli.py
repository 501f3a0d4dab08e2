"""`redmine-sla-bridge` command line."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from redmine_sla_bridge.config.loader import ConfigError, load_config

CONFIG_OPTION = click.option(
    "--config", "config_path", required=True, type=click.Path(dir_okay=False),
    envvar="REDMINE_SLA_BRIDGE_CONFIG", help="The bridge's YAML config file.",
)


def _load(path: str, *, require_secrets: bool = True):
    """The loaded config, or every problem printed and exit 2. `require_secrets=False`
    for commands that use no secret (offline check-config, simulate)."""
    try:
        return load_config(path, require_secrets=require_secrets)
    except ConfigError as exc:
        click.echo(exc.render(), err=True)
        sys.exit(2)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--log-format", type=click.Choice(["json", "text"]), default="json",
              show_default=True, envvar="REDMINE_SLA_BRIDGE_LOG_FORMAT")
@click.option("--log-level", default="INFO", show_default=True, envvar="REDMINE_SLA_BRIDGE_LOG_LEVEL")
def cli(log_format: str, log_level: str) -> None:
    """Make an unmodified Redmine enforce a technical-support regulation."""
    from redmine_sla_bridge.telemetry.logs import configure

    configure(log_level.upper(), log_format)


@cli.command("check-config")
@click.argument("config_file", type=click.Path(dir_okay=False))
@click.option("--online", is_flag=True,
              help="Then connect to Redmine with the config's API key and check every Redmine "
              "name the config uses (statuses, trackers, projects, priorities, activity, members).")
def check_config(config_file: str, online: bool) -> None:
    """Validate a config file: prints OK and warnings, or every error (exit 2).

    Offline it needs no secret: an unset ${VAR} in a secret field is only a warning.
    With --online, Redmine names the config uses that Redmine lacks are errors (exit 2);
    a Redmine that cannot be reached exits 1.
    """
    from redmine_sla_bridge.bootstrap import BootstrapError, config_warnings, customers_of
    from redmine_sla_bridge.config.loader import ConfigIssue, load_info, redact

    config = _load(config_file, require_secrets=online)
    try:
        customers_of(config)
    except BootstrapError as exc:
        click.echo(redact(config, f"{config_file}: {exc}"), err=True)
        sys.exit(2)
    info = load_info(config)
    for unresolved in info.unresolved_secrets:
        click.echo(f"warning: {unresolved}", err=True)
    for warning in config_warnings(config):
        click.echo(f"warning: {redact(config, warning)}", err=True)
    if not online:
        click.echo(f"OK: {config_file}")
        return
    from redmine_sla_bridge.adapters.redmine.gateway import RedmineError, RedmineGateway
    from redmine_sla_bridge.adapters.redmine.preflight import name_problems
    from redmine_sla_bridge.config.yaml_source import dotted

    try:
        problems = name_problems(config, RedmineGateway.from_config(config.redmine))
    except RedmineError as exc:
        click.echo(redact(config, f"error: cannot check the config's names against Redmine at "
                                  f"{config.redmine.url}: {exc}"), err=True)
        sys.exit(1)
    if problems:
        click.echo(f"{config_file}: {len(problems)} problem(s) with the Redmine at "
                   f"{redact(config, config.redmine.url)}:", err=True)
        issues = [ConfigIssue(dotted(p.path), p.message, info.line_of(p.path)) for p in problems]
        for issue in sorted(issues, key=lambda i: i.line or 0):
            click.echo(redact(config, f"  - {issue}"), err=True)
        sys.exit(2)
    click.echo(f"OK: {config_file} (every Redmine name it uses exists at "
               f"{redact(config, config.redmine.url)})")


@cli.command()
def schema() -> None:
    """Print the JSON Schema of the config (for editors' YAML validation)."""
    from redmine_sla_bridge.config.model import BridgeConfig

    click.echo(json.dumps(BridgeConfig.model_json_schema(), indent=2, ensure_ascii=False))


@cli.command()
@CONFIG_OPTION
@click.option("--dry-run", is_flag=True, help="Only show what would change.")
def provision(config_path: str, dry_run: bool) -> None:
    """Set up Redmine for the bridge (idempotent): its custom fields, who may see and
    change them, its role and the support projects' saved queries.

    Needs `redmine.admin` (an administrator's login) because Redmine's REST API can create
    none of these. Without it, prints what to set by hand and exits 1.
    """
    from redmine_sla_bridge.adapters.redmine import provisioning as prov
    from redmine_sla_bridge.adapters.redmine.admin_forms import AdminFormError, AdminSession
    from redmine_sla_bridge.adapters.redmine.gateway import RedmineError, RedmineGateway

    config = _load(config_path)
    admin = config.redmine.admin
    reader = RedmineGateway.from_config(config.redmine, as_admin=admin is not None)
    session = None
    if admin is not None:
        session = AdminSession(config.redmine.url, admin.login.get_secret_value(),
                               admin.password.get_secret_value(),
                               verify_tls=config.redmine.verify_tls)
    try:
        provisioner = prov.Provisioner(config, reader, session)
        current = provisioner.plan()
        if admin is None:
            known = provisioner.existing_fields() is not None
            steps = provisioner.manual_steps(current)
    except (AdminFormError, prov.ProvisionError, RedmineError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    if admin is None:
        if current.role or current.fields or not known:
            click.echo(
                "error: redmine.admin is not configured, and Redmine's REST API cannot create "
                "custom fields, roles, field permissions or queries. Either set redmine.admin "
                "(login and password of a Redmine administrator, e.g. from "
                "${REDMINE_ADMIN_LOGIN} / ${REDMINE_ADMIN_PASSWORD}) and run again, or set "
                "these by hand:", err=True)
            if not known:
                click.echo("(the API key cannot list custom fields, so this is the full list; "
                           "skip what exists)", err=True)
            click.echo(steps, err=True)
            sys.exit(1)
        if steps:
            # Without the admin forms neither can be read (nor, for a non-admin key, the
            # queries visible to the support roles only): what cannot be compared is shown.
            click.echo("the custom fields are in place; field permissions and saved queries "
                       "can only be read with redmine.admin, so check them by hand:")
            click.echo(steps)
            return
    if current.empty:
        click.echo(f"nothing to do: {provisioner.summary()} are in place")
        return
    if dry_run:
        click.echo("\n".join(current.describe()))
        return
    assert session is not None  # made above whenever redmine.admin is set
    try:
        count = provisioner.apply(log=lambda line: click.echo(line))
        remaining = provisioner.verify()
    except (AdminFormError, RedmineError, prov.ProvisionError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    if remaining:
        click.echo("error: Redmine did not take these changes: " + "; ".join(remaining), err=True)
        sys.exit(1)
    click.echo(f"done: {count} change(s) applied and verified")


def _bridge(config_path: str, config=None):
    """Build the bridge from `config` (loaded from `config_path` when not given); on a
    bad config print every error and exit 2."""
    import logging

    from redmine_sla_bridge.bootstrap import BootstrapError, bootstrap, config_warnings

    config = _load(config_path) if config is None else config
    for warning in config_warnings(config):
        logging.getLogger("redmine_sla_bridge").warning(warning)
    try:
        return bootstrap(config)
    except BootstrapError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)


@cli.command()
@CONFIG_OPTION
@click.option("--once", is_flag=True, required=True,
              help="Run one full pass and exit (for cron and tests).")
def sync(config_path: str, once: bool) -> None:
    """Poll Redmine, process every pending event, and exit."""
    import logging

    from redmine_sla_bridge.bootstrap import BootstrapError, bootstrap, config_warnings
    from redmine_sla_bridge.config.loader import redact
    from redmine_sla_bridge.domain.ports import RedmineError
    from redmine_sla_bridge.service.sync import sync_once

    config = _load(config_path)
    for warning in config_warnings(config):
        logging.getLogger("redmine_sla_bridge").warning(redact(config, warning))
    try:
        rt = bootstrap(config)
    except BootstrapError as exc:
        click.echo(redact(config, f"error: {exc}"), err=True)
        sys.exit(2)
    try:
        report = sync_once(rt)
    except RedmineError as exc:
        click.echo(redact(config, f"error: Redmine: {exc} (events are kept; run again later)"),
                   err=True)
        sys.exit(1)
    if report.poll is not None:
        click.echo(f"polled: {report.poll.seen} issue(s) seen, {report.poll.enqueued} new event(s)")
    drained = report.drain
    click.echo(f"processed: {drained.processed}, retried: {drained.retried}, dead: {drained.dead}")
    for outcome in drained.outcomes:
        if outcome.action != "unchanged":
            click.echo(f"  #{outcome.issue_id}: {outcome.action} {outcome.detail}")
    if report.sweep is not None:
        click.echo(f"swept: {report.sweep.seen} open issue(s), {len(report.sweep.changed)} state "
                   f"change(s), {len(report.sweep.closed)} auto-closed")
        for issue_id, state in report.sweep.changed.items():
            click.echo(f"  #{issue_id}: {state}")
        for issue_id in report.sweep.closed:
            click.echo(f"  #{issue_id}: closed")
    if drained.redmine_down:
        click.echo("warning: Redmine was unavailable; pending events are kept for retry", err=True)
        sys.exit(1)


@cli.command()
@CONFIG_OPTION
@click.option("--bind", default="127.0.0.1:8080", show_default=True, help="host:port to listen on.")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
@click.option("--dev", is_flag=True, help="Flask's development server, one process (tests, local use).")
def serve(config_path: str, bind: str, workers: int, dev: bool) -> None:
    """Receive webhooks and intake requests, and run the scheduled jobs."""
    if not dev:
        from redmine_sla_bridge.entrypoints.metrics_setup import prepare_multiprocess_metrics

        prepare_multiprocess_metrics()
    from redmine_sla_bridge.bootstrap import config_warnings
    from redmine_sla_bridge.entrypoints.serve import preflight

    # Loaded, checked and warned about once, here; the workers inherit the result. What
    # would make every worker fail at boot ends `serve` here, once, with the reason.
    config = _load(config_path)
    for warning in config_warnings(config):
        click.echo(f"warning: {warning}", err=True)
    report = preflight(config)
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    if report.problems:
        for problem in report.problems:
            click.echo(f"error: {problem}", err=True)
        sys.exit(report.exit_status)
    if dev:
        from redmine_sla_bridge.entrypoints.serve import build_worker_app

        host, _, port = bind.rpartition(":")
        build_worker_app(config).run(host=host or "127.0.0.1", port=int(port), threaded=True)
        return
    from redmine_sla_bridge.entrypoints.serve import serve as run_gunicorn

    run_gunicorn(config, bind=bind, workers=workers)


@cli.command()
@CONFIG_OPTION
@click.option("--customers", type=click.Path(dir_okay=False, exists=True),
              help="Use this customer directory instead of the config's.")
@click.option("--request", "request_file", required=True, type=click.File("rb"),
              help="Request document (JSON), or - for standard input.")
@click.option("--known-contact", is_flag=True,
              help="ID-6: the contact has written before (an earlier request without "
                   "organization data); first-request data is then not demanded.")
@click.option("--earlier-request", "earlier_file", type=click.File("rb"),
              help="ID-6: the contact's previous request document (JSON); its organization "
                   "name and INN fill what this request leaves out, as the pipeline does.")
@click.option("--open-requests", type=click.IntRange(min=0), default=0, show_default=True,
              help="ID-8: how many earlier requests of the contact are open and worked "
                   "(with lifecycle.one_request_at_a_time the request is then queued).")
def simulate(config_path: str, customers: str | None, request_file, known_contact: bool,
             earlier_file, open_requests: int) -> None:
    """Run the whole decision on a request without Redmine; print one JSON object."""
    import datetime as dt

    from redmine_sla_bridge.bootstrap import BootstrapError, processing_rules
    from redmine_sla_bridge.config.loader import redact
    from redmine_sla_bridge.domain.intake.request import (
        IntakeRequest,
        IntakeRequestError,
        Organization,
    )
    from redmine_sla_bridge.domain.processing.plan import explain_lifecycle
    from redmine_sla_bridge.domain.request_decision import decide_with_earlier_requests

    config = _load(config_path, require_secrets=False)  # decides offline: no secret is used
    try:
        processing = processing_rules(config, Path(customers) if customers else None)
    except BootstrapError as exc:
        click.echo(redact(config, f"error: {exc}"), err=True)
        sys.exit(2)
    rules = processing.decision
    documents = [("request", request_file)] + ([("earlier request", earlier_file)]
                                               if earlier_file is not None else [])
    parsed: list[IntakeRequest] = []
    for what, file in documents:
        try:
            parsed.append(IntakeRequest.from_dict(json.loads(file.read())))
        except ValueError as exc:
            detail = exc.to_dict() if isinstance(exc, IntakeRequestError) else {"error": str(exc)}
            click.echo(json.dumps({"error": f"the {what} is not a valid request document",
                                   **detail}, ensure_ascii=False), err=True)
            sys.exit(2)
    request = parsed[0]
    if request.created_at is not None and request.created_at.tzinfo is None:
        click.echo("error: created_at needs a UTC offset, e.g. 2026-03-02T10:00:00+03:00", err=True)
        sys.exit(2)
    # ID-6 as the pipeline sees it: the contact's earlier requests, newest first.
    earlier: tuple[Organization, ...] = ()
    if len(parsed) > 1:
        earlier = (parsed[1].organization,)
    elif known_contact:
        earlier = (Organization(),)
    repeat = decide_with_earlier_requests(request, rules, received_at=dt.datetime.now(dt.UTC),
                                          earlier=earlier)
    out = repeat.decision.to_dict()
    out["assumed"] = {
        "contact": ("wrote before (--earlier-request)" if len(parsed) > 1 else
                    "wrote before (--known-contact)" if known_contact else
                    "first request (neither --known-contact nor --earlier-request)"),
        "known_contact": repeat.known_contact,
        "reused": dict(repeat.reused),
        "note": repeat.note,
    }
    out["lifecycle"] = {"open_requests": open_requests,
                        **explain_lifecycle(repeat.decision, processing, open_requests)}
    click.echo(json.dumps(out, ensure_ascii=False, indent=2))


@cli.command()
@CONFIG_OPTION
@click.option("--from", "period_from", required=True, type=click.DateTime(["%Y-%m-%d"]),
              help="First day of the period (requests received on it count), YYYY-MM-DD.")
@click.option("--to", "period_to", required=True, type=click.DateTime(["%Y-%m-%d"]),
              help="Last day of the period, inclusive.")
@click.option("--project", help="Only this project (identifier).")
@click.option("--customer", help="Only this customer (INN).")
@click.option("--format", "output_format", type=click.Choice(["table", "csv", "json", "html"]),
              default="table", show_default=True)
@click.option("--out", "out_file", type=click.Path(dir_okay=False), help="Write here instead of stdout.")
@click.option("--rebuild", is_flag=True,
              help="First fill the SLA outcome field of the period's issues decided before "
              "it was recorded, from their journals (idempotent).")
@click.option("--what-if", "what_if", type=click.Path(dir_okay=False, exists=True),
              help="Also recompute the period from the journals under this other config and "
              "show both side by side (writes nothing to Redmine).")
@click.option("--now", "now_text", type=click.DateTime(["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M%z"]),
              help="Report as at this moment (with its UTC offset; default: now).")
def report(config_path: str, period_from, period_to, project: str | None, customer: str | None,
           output_format: str, out_file: str | None, rebuild: bool, what_if: str | None,
           now_text) -> None:
    """SLA report for the requests received in a period: overall, by customer, tier,
    priority, product and week, the breaches, and each contract customer against its
    own terms (docs/reports.md). Reads issue lists only (about one call per 100 issues)."""

    from redmine_sla_bridge.bootstrap import BootstrapError, bootstrap, processing_rules
    from redmine_sla_bridge.config.loader import redact
    from redmine_sla_bridge.domain.ports import RedmineError
    from redmine_sla_bridge.domain.reporting.report import what_if_section
    from redmine_sla_bridge.entrypoints.report_formats import to_csv, to_table
    from redmine_sla_bridge.service.report import build_report, build_what_if
    from redmine_sla_bridge.service.report import rebuild as rebuild_outcomes

    start, end = period_from.date(), period_to.date()
    if end < start:
        click.echo(f"error: --to {end} is before --from {start}", err=True)
        sys.exit(2)
    html = None
    if output_format == "html":
        from redmine_sla_bridge.entrypoints import report_html
        html = report_html.render
    config = _load(config_path)
    other_rules = None
    if what_if is not None:
        other = _load(what_if, require_secrets=False)
        try:
            other_rules = processing_rules(other)
        except BootstrapError as exc:
            click.echo(redact(other, f"error: {what_if}: {exc}"), err=True)
            sys.exit(2)
    try:
        bridge = bootstrap(config, notifier=None)
    except BootstrapError as exc:
        click.echo(redact(config, f"error: {exc}"), err=True)
        sys.exit(2)
    now = now_text or bridge.clock()
    try:
        if rebuild:
            with _progress("rebuild") as progress:
                done = rebuild_outcomes(bridge, start, end, project=project, progress=progress,
                                        now=now)
            click.echo(f"rebuild: {done.seen} issue(s), {done.written} outcome(s) written, "
                       f"{done.journal_reads} journal read(s), {done.api_calls} API call(s)"
                       + (f"; {done.unprovisioned} without the SLA outcome field (run "
                          "`provision`)" if done.unprovisioned else ""), err=True)
        with _progress("report") as progress:
            recorded = build_report(bridge, start, end, project=project, customer=customer,
                                    progress=progress, now=now)
        document = recorded.as_dict()
        if other_rules is not None:
            with _progress("what-if") as progress:
                other_report = build_what_if(bridge, other_rules, start, end, project=project,
                                             customer=customer, progress=progress, now=now)
            document["what_if"] = what_if_section(recorded, other_report, what_if or "")
    except RedmineError as exc:
        click.echo(redact(config, f"error: Redmine: {exc}"), err=True)
        sys.exit(1)
    if output_format == "json":
        text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    elif output_format == "csv":
        text = to_csv(document)
    elif html is not None:
        text = html(document)
    else:
        text = to_table(document)
    if out_file:
        Path(out_file).write_text(text, encoding="utf-8")
        from redmine_sla_bridge.entrypoints.report_formats import cost_line

        click.echo(f"{out_file}: {cost_line(document)}", err=True)
    else:
        click.echo(text, nl=False)


def _progress(label: str):
    """A progress bar on a terminal (click's own), nothing otherwise."""
    import contextlib

    @contextlib.contextmanager
    def bar():
        if not sys.stderr.isatty():
            yield None
            return
        shown = None
        try:
            def step(done: int, total: int) -> None:
                nonlocal shown
                if shown is None:
                    shown = click.progressbar(length=max(total, 1), label=label, file=sys.stderr)
                    shown.__enter__()
                shown.update(1)
            yield step
        finally:
            if shown is not None:
                shown.__exit__(None, None, None)

    return bar()


@cli.command("dead-letters")
@CONFIG_OPTION
@click.option("--requeue", "requeue_id", type=int, help="Put this dead event back in the inbox.")
@click.option("--requeue-all", is_flag=True, help="Put every dead event back (after a fix).")
def dead_letters(config_path: str, requeue_id: int | None, requeue_all: bool) -> None:
    """List events that could not be processed, with the reason; or requeue them."""
    import datetime as dt

    from redmine_sla_bridge.bootstrap import BootstrapError, open_store

    config = _load(config_path)
    try:
        store = open_store(config)
    except BootstrapError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    if requeue_all:
        now = dt.datetime.now(dt.UTC)
        count = 0
        while letters := store.dead_letters(limit=500):
            count += sum(store.requeue_dead(letter.id, now) for letter in letters)
        click.echo(f"requeued {count} event(s)")
        return
    if requeue_id is not None:
        if not store.requeue_dead(requeue_id, dt.datetime.now(dt.UTC)):
            click.echo(f"error: no dead event {requeue_id}", err=True)
            sys.exit(1)
        click.echo(f"requeued event {requeue_id}")
        return
    letters = store.dead_letters()
    if not letters:
        click.echo("no dead letters")
    for letter in letters:
        click.echo(f"{letter.id}\tissue #{letter.issue_id}\t{letter.source}\t{letter.reason}")


@cli.command()
@CONFIG_OPTION
@click.option("--once", is_flag=True, help="One pass over the IMAP folder, then exit.")
@click.option("--stdin", "from_stdin", is_flag=True,
              help="Read one RFC 5322 message from stdin (an MTA pipe); exit 0 done, 75 try "
              "again later, 65 unreadable (sendmail's codes).")
@click.option("--max-passes", type=click.IntRange(1), default=None,
              help="Stop after this many passes (default: until SIGTERM).")
def mail(config_path: str, once: bool, from_stdin: bool, max_passes: int | None) -> None:
    """Read the support mailbox: new emails become requests, replies become notes."""
    import signal
    import threading

    from redmine_sla_bridge.adapters.mail import EX_TEMPFAIL
    from redmine_sla_bridge.bootstrap import BootstrapError, mail_reader

    raw = sys.stdin.buffer.read() if from_stdin else b""
    try:
        config = _load(config_path)
        if config.mail is None:
            click.echo("error: the config has no `mail` section", err=True)
            sys.exit(2)
        if not from_stdin and config.mail.imap is None:
            click.echo("error: mail.imap: required unless --stdin", err=True)
            sys.exit(2)
        reader = mail_reader(config, _bridge(config_path, config))
    except BootstrapError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EX_TEMPFAIL if from_stdin else 2)
    except SystemExit:
        # A config the admin must fix: the MTA keeps the message and retries meanwhile.
        sys.exit(EX_TEMPFAIL if from_stdin else 2)
    if from_stdin:
        sys.exit(reader.read_stdin(raw))
    if once:
        report = reader.run_once()
        click.echo(json.dumps({"done": report.done, "left": report.failed,
                               "outcomes": report.outcomes,
                               "lease_held_elsewhere": report.lease_held_elsewhere}))
        sys.exit(1 if report.failed or report.lease_held_elsewhere else 0)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    reader.run(stop, max_passes=max_passes)


@cli.group("dev-redmine")
@click.option("--port", type=int, default=lambda: int(os.environ.get("REDMINE_DEV_PORT", 3000)),
              show_default="3000 or $REDMINE_DEV_PORT")
@click.option("--server", type=click.Choice(["puma", "webrick"]), default=None,
              help="App server for `start` [default: $REDMINE_DEV_SERVER, else puma if "
              "Debian's package is installable, else webrick]")
@click.pass_context
def dev_redmine(ctx: click.Context, port: int, server: str | None) -> None:
    """A local Redmine 5 (Debian packages) for the demo and the tests. Needs root."""
    from redmine_sla_bridge.devtools.local_redmine import LocalRedmine

    ctx.obj = LocalRedmine(port=port, server=server)


def _dev_error(fn):
    import functools

    from redmine_sla_bridge.devtools.local_redmine import LocalRedmineError

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except LocalRedmineError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)

    return wrapper


@dev_redmine.command("start")
@click.pass_obj
@_dev_error
def dev_start(local) -> None:
    """Install if missing, start if not running, enable REST; print URL and admin login."""
    local.start(log=lambda line: click.echo(line, err=True))
    click.echo(f"Redmine is up at {local.url} (log in as admin / admin)")


@dev_redmine.command("stop")
@click.pass_obj
def dev_stop(local) -> None:
    """Stop the local Redmine started by `start`."""
    click.echo("stopped" if local.stop() else "not running (no pid file)")


@dev_redmine.command("status")
@click.pass_obj
def dev_status(local) -> None:
    """Print whether the local Redmine is installed and answering (JSON)."""
    click.echo(local.status_json())


@dev_redmine.command("api-key")
@click.pass_obj
@_dev_error
def dev_api_key(local) -> None:
    """Print the admin's API key (enables the REST API on first use)."""
    click.echo(local.api_key())


def main() -> None:
    cli(prog_name="redmine-sla-bridge")


if __name__ == "__main__":
    main()
