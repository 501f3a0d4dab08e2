"""The composition root: the one place that turns a loaded config into a running bridge.

The CLI, every `serve` worker, the demo, the benchmarks and the fault tests build the
bridge here, so they all run the same objects. Errors are raised (`BootstrapError`, a
message for the admin), never turned into an exit: only the command line decides how a
process ends.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from redmine_sla_bridge.adapters.customers import CustomerDirectoryError, load_customer_file
from redmine_sla_bridge.adapters.notify import build_notifier
from redmine_sla_bridge.adapters.redmine.catalog import RedmineCatalog, Scope
from redmine_sla_bridge.adapters.redmine.fields import specs_for_config
from redmine_sla_bridge.adapters.redmine.gateway import RedmineGateway
from redmine_sla_bridge.adapters.redmine.issues import RedmineIssues
from redmine_sla_bridge.adapters.store import Store
from redmine_sla_bridge.config.calendars import build_schedules
from redmine_sla_bridge.config.loader import ConfigError, load_config
from redmine_sla_bridge.config.model import BridgeConfig
from redmine_sla_bridge.config.types import parse_duration
from redmine_sla_bridge.domain.lifecycle.clock import ClockRules, SlaState
from redmine_sla_bridge.domain.notices import NoticeTexts
from redmine_sla_bridge.domain.policy import CustomerSource
from redmine_sla_bridge.domain.processing import (
    DevelopmentRule,
    EscalationAction,
    ProcessingRules,
    TimeAccounting,
)
from redmine_sla_bridge.domain.processing.rules import CloseReminder, NeedsDecision
from redmine_sla_bridge.domain.request_decision import Rules
from redmine_sla_bridge.service.bridge import Bridge, Clock, utcnow
from redmine_sla_bridge.service.mail_intake import MailSettings
from redmine_sla_bridge.service.ports import Notifier, StorePort
from redmine_sla_bridge.service.settings import IntakeApiSettings, Settings

if TYPE_CHECKING:
    from redmine_sla_bridge.adapters.mail import MailReader

__all__ = ["BootstrapError", "Bridge", "bootstrap", "decision_rules", "load", "processing_rules"]

log = logging.getLogger("redmine_sla_bridge")


class BootstrapError(Exception):
    """The bridge cannot be built as configured; the message says what to fix."""


class _NoCustomers:
    def get(self, inn: str) -> None:
        return None


def load(path: str | Path) -> BridgeConfig:
    """Load and validate a config file (raises `ConfigError`, which renders every error)."""
    return load_config(path)


def config_warnings(config: BridgeConfig, today: dt.date | None = None) -> list[str]:
    return config.warnings(today or dt.date.today())


def customers_of(config: BridgeConfig, override: Path | None = None) -> CustomerSource:
    path = override
    if path is None and config.policy.customers is not None:
        path = config.policy.customers.path(config.base_dir)
    if path is None:
        return _NoCustomers()
    try:
        return load_customer_file(path, config.policy.known_license_kinds())
    except (CustomerDirectoryError, OSError) as exc:
        raise BootstrapError(f"policy.customers: {exc}") from exc


def decision_rules(config: BridgeConfig, customers: Path | None = None) -> Rules:
    """The pure decision inputs of a config: what `simulate` needs, no Redmine."""
    schedules = build_schedules(config.calendars, config.policy.calendar)
    return Rules(
        intake=config.intake.to_domain(config.language),
        policy=config.policy.to_domain(),
        customers=customers_of(config, customers),
        schedules=schedules,
        timezone=schedules[config.policy.calendar].zone.key,
    )


def processing_rules(config: BridgeConfig, customers: Path | None = None) -> ProcessingRules:
    lifecycle, statuses = config.lifecycle, config.statuses
    escalation: dict[SlaState, EscalationAction] = {}
    for state, action in ((SlaState.AT_RISK, lifecycle.escalation.at_risk),
                          (SlaState.BREACHED, lifecycle.escalation.breached)):
        if action is not None:
            escalation[state] = EscalationAction(
                private_note=action.private_note, add_watchers=tuple(action.add_watchers),
                assign_to=action.assign_to, raise_priority=action.raise_priority)
    development = None
    if lifecycle.development is not None:
        dev = lifecycle.development
        term = parse_duration(dev.expected_term)
        assert term is not None  # the config refuses an unlimited term
        development = DevelopmentRule(frozenset(dev.statuses), frozenset(dev.assignees), term,
                                      dev.calendar or config.policy.calendar)
    accounting = lifecycle.time_accounting
    at_once = lifecycle.escalation.at_once_for
    unknown = sorted(set(at_once) - set(config.policy.priority.levels))
    if unknown:
        raise BootstrapError(f"lifecycle.escalation.at_once_for: unknown SLA priority "
                             f"{', '.join(map(repr, unknown))} (levels: "
                             f"{', '.join(config.policy.priority.levels)})")
    lead = lifecycle.needs_decision
    unknown_tiers = sorted(set(lead.tiers) - set(config.policy.tier_names())) if lead else []
    if unknown_tiers:
        raise BootstrapError(f"lifecycle.needs_decision.tiers: unknown tier "
                             f"{', '.join(map(repr, unknown_tiers))} (tiers: "
                             f"{', '.join(config.policy.tier_names())})")
    specs = specs_for_config(config)
    return ProcessingRules(
        decision=decision_rules(config, customers),
        clock=ClockRules(pause_statuses=frozenset(statuses.paused),
                         done_statuses=frozenset(statuses.done),
                         at_risk_share=config.sla.at_risk_share),
        texts=NoticeTexts(config.language, config.notices.templates.get(config.language, {}),
                          labels={s.key: dict(s.labels) for s in specs if s.labels}),
        rejected_status=statuses.rejected,
        reopened_status=statuses.reopened,
        escalation=escalation,
        staff_calendar=lifecycle.escalation.staff_calendar,
        escalate_at_once_for=frozenset(at_once),
        development=development,
        auto_close=lifecycle.auto_close_rules(),
        reminders=tuple(CloseReminder(rule, share) for rule, share in lifecycle.close_reminders()),
        replies=lifecycle.reply_rules(),
        time_accounting=(TimeAccounting(accounting.minimum_minutes, accounting.activity)
                         if accounting is not None else None),
        one_request_at_a_time=lifecycle.one_request_at_a_time,
        needs_decision=(NeedsDecision(lead.assign_to, frozenset(lead.deciders), frozenset(lead.tiers))
                        if lead is not None else None),
        extension_reasons=tuple(lifecycle.extension.reasons) if lifecycle.extension else (),
        flag_questions_from=lifecycle.flag_questions_from,
        entitlements=config.entitlements.to_domain(),
        people_may_change=frozenset(lifecycle.people_may_change),
        field_names={spec.key: spec.name for spec in specs},
        text_formatting=config.redmine.text_formatting,
    )


FAST_SWEEP_INTERVAL_S = 30
"""A state change is written at most the interval plus one fast pass after its instant
(about 32 s at 100,000 open issues, docs/PERFORMANCE.md): within a minute."""
FULL_SWEEP_INTERVAL_S = 300
"""Without the fast pass every pass reads every open issue (a page request per 100)."""


def sweep_interval(config: BridgeConfig) -> int:
    configured = config.lifecycle.sweep_interval_seconds
    if configured is not None:
        return configured
    return FAST_SWEEP_INTERVAL_S if config.sweep.fast else FULL_SWEEP_INTERVAL_S


def settings_of(config: BridgeConfig) -> Settings:
    def secret(value: Any) -> str | None:
        return value.get_secret_value() if value is not None else None

    api = config.intake_api
    return Settings(
        language=config.language,
        polling_enabled=config.polling.enabled,
        poll_interval_seconds=config.polling.interval_seconds,
        initial_lookback=config.polling.initial_lookback,
        sweep_interval_seconds=sweep_interval(config),
        sweep_fast=config.sweep.fast,
        reconcile_cron=config.sweep.reconcile_cron,
        webhook_secret=secret(config.webhooks.secret),
        webhook_token=secret(config.webhooks.token),
        max_body_bytes=config.webhooks.max_body_bytes,
        intake_api=(IntakeApiSettings(api.token.get_secret_value(), api.project, api.tracker)
                    if api is not None else None),
        store_url=config.store.url,
    )


def open_store(config: BridgeConfig) -> Store:
    try:
        return Store.from_url(config.store.url, base_dir=config.base_dir,
                              synchronous=config.store.sqlite_synchronous)
    except OSError as exc:
        raise BootstrapError(f"store.url: {exc}") from exc


def redmine_issues(config: BridgeConfig, gateway: RedmineGateway | None = None) -> RedmineIssues:
    gateway = gateway or RedmineGateway.from_config(config.redmine)
    projects = None if config.scope.projects == "all" else tuple(config.scope.projects)
    scope = Scope(trackers=tuple(config.scope.trackers), projects=projects)
    return RedmineIssues(gateway, RedmineCatalog(gateway, specs_for_config(config), scope,
                                                 requester=requester_gateway(config)))


_DEFAULT: Any = object()


def bootstrap(config: BridgeConfig, *, gateway: RedmineGateway | None = None,
              store: StorePort | None = None, notifier: Notifier | None = _DEFAULT,
              clock: Clock = utcnow, customers: Path | None = None) -> Bridge:
    """The bridge of a loaded config. `store` defaults to the config's; `notifier` to
    the config's email (pass None for none); the others are for tests and tools."""
    rules = processing_rules(config, customers)
    if store is None:
        store = open_store(config)
    if notifier is _DEFAULT:
        if not isinstance(store, Store):
            raise BootstrapError("email notices need the bridge's own store; pass `notifier`")
        notifier = build_notifier(config.notify, store)
    return Bridge(settings=settings_of(config), rules=rules,
                  redmine=redmine_issues(config, gateway), store=store, notifier=notifier,
                  clock=clock)


def report_source(bridge: Bridge) -> Callable[[dt.date, dt.date, str | None, str | None],
                                               Mapping[str, Any]]:
    """The report's json document of a period, for `/dashboard`, computed by
    `service.report` over `bridge`."""
    from redmine_sla_bridge.service.report import build_report

    def source(period_from: dt.date, period_to: dt.date, project: str | None,
               customer: str | None) -> Mapping[str, Any]:
        report = build_report(bridge, period_from, period_to, project=project, customer=customer)
        return dict(report.as_dict())

    return source


def bootstrap_file(path: str | Path, **kwargs: Any) -> Bridge:
    """Load, warn once, build: raises `ConfigError` or `BootstrapError`."""
    config = load(path)
    for warning in config_warnings(config):
        log.warning(warning)
    return bootstrap(config, **kwargs)


def requester_gateway(config: BridgeConfig) -> RedmineGateway | None:
    """The gateway acting as the customer-mail user (`mail.requester_login`): its own
    API key when configured, else the bridge's key with X-Redmine-Switch-User."""
    mail = config.mail
    if mail is None:
        return None
    redmine = config.redmine
    key = (mail.requester_api_key or redmine.api_key).get_secret_value()
    return RedmineGateway(redmine.url, key, timeout=redmine.timeout_seconds,
                          retries=redmine.retries, keep_alive=redmine.keep_alive,
                          verify_tls=redmine.verify_tls,
                          impersonate=None if mail.requester_api_key else mail.requester_login)


def mail_settings(config: BridgeConfig) -> MailSettings:
    mail = config.mail
    if mail is None:
        raise BootstrapError("mail: the section is missing (the support mailbox is not set up)")
    api = config.intake_api
    project = mail.project or (api.project if api is not None else None)
    if project is None:
        raise BootstrapError("mail.project: required when intake_api is not configured")
    tracker = mail.tracker or (api.tracker if api is not None else "Support")
    own = set(mail.own_addresses)
    domains: set[str] = set()
    if config.notify.from_address:
        own.add(config.notify.from_address.lower())
        domains.add(config.notify.from_address.rsplit("@", 1)[1].lower())
    return MailSettings(project=project, tracker=tracker, own_addresses=frozenset(own),
                        own_domains=frozenset(domains), max_message_bytes=mail.max_message_bytes,
                        attachment_max_bytes=mail.attachment_max_bytes,
                        rate_messages=mail.rate_limit.messages,
                        rate_window=dt.timedelta(seconds=mail.rate_limit.per_seconds))


def mail_reader(config: BridgeConfig, bridge: Bridge, *,
                gateway: RedmineGateway | None = None) -> MailReader:
    """The support-mailbox reader of `bridge` (`redmine-sla-bridge mail`)."""
    from redmine_sla_bridge.adapters.mail import MailReader, NoThreads, ThreadingNotifier
    from redmine_sla_bridge.adapters.notify import Notifier as EmailNotifier
    from redmine_sla_bridge.adapters.notify import Sender
    from redmine_sla_bridge.adapters.redmine.issues import MailIssueWriter
    from redmine_sla_bridge.service.mail_intake import MailPorts, handle_mail

    settings = mail_settings(config)
    assert config.mail is not None
    requester = requester_gateway(config)
    assert requester is not None
    threads: Any = NoThreads()
    notifier = bridge.notifier
    if isinstance(notifier, EmailNotifier) and isinstance(bridge.store, Store):
        assert config.notify.from_address is not None
        threading = ThreadingNotifier(notifier, bridge.store, Sender(
            config.notify.from_address, config.notify.from_name, config.notify.reply_to))
        threads, bridge = threading, dataclasses.replace(bridge, notifier=threading)
    writer = MailIssueWriter(gateway or RedmineGateway.from_config(config.redmine), requester)
    ports = MailPorts(issues=writer, threads=threads)
    mailing = bridge

    def handle(mail: Any) -> str:
        return str(handle_mail(mailing, ports, settings, mail).outcome)

    return MailReader(handle, bridge.store, bridge.clock, imap=config.mail.imap,
                      max_message_bytes=config.mail.max_message_bytes)


__all__ += [
    "ConfigError",
    "bootstrap_file",
    "config_warnings",
    "customers_of",
    "mail_reader",
    "mail_settings",
    "open_store",
    "redmine_issues",
    "report_source",
    "requester_gateway",
    "settings_of",
]
