"""The intake gate: does a request contain what the regulation demands?

`check` collects EVERY problem (the customer should fix them in one reply, not one per
round trip). It is pure: the caller passes the request date, whether the contact is
already known, and the customer's demo history.

Order of work:
1. texts are trimmed (whitespace-only = not given); labelled lines of the description
   fill empty fields (`description`), then what the free text says (`free_text`: «версия
   7.2», an INN near «ИНН», the signature's name and phones) fills the fields still
   empty, each such value flagged `from_free_text` for the engineer to check;
2. INN, email, phone, type and impact are checked and normalised wherever given;
3. demanded fields (`required`, plus `first_request_only` for an unknown contact) must
   be present and valid; the description counts only with its labelled lines removed
   (a body that is nothing but "ИНН: ..." asks no question);
4. "any of" groups need one present and valid member;
5. an invalid value in a field nobody demands is not a refusal: it is kept as written
   and flagged `ignored_invalid_value` for the engineer;
6. product (AR-2, ID-2), version (unknown / policy: AR-7, AS-6, ID-2), demo (ID-4);
7. rude words (AR-7, ID-7) only ever raise a flag.

A version is judged only when it matters: an unreadable version is `unknown_version`
when the version is demanded or the product has a version policy, otherwise a flag.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from redmine_sla_bridge.domain.intake.choices import (
    IMPACTS,
    REQUEST_TYPES,
    normalize_impact,
    normalize_type,
)
from redmine_sla_bridge.domain.intake.contacts import (
    Checked,
    check_email,
    check_inn,
    check_phone,
)
from redmine_sla_bridge.domain.intake.demo import DemoPeriod, check_demo
from redmine_sla_bridge.domain.intake.description import fill_empty_fields, parse_labelled_lines
from redmine_sla_bridge.domain.intake.free_text import Finding, read_free_text
from redmine_sla_bridge.domain.intake.language import find_rude_words
from redmine_sla_bridge.domain.intake.messages import (
    MessageCatalog,
    free_text_place,
    render_rejection_note,
)
from redmine_sla_bridge.domain.intake.products import ProductLine, ProductRule, match_product
from redmine_sla_bridge.domain.intake.reasons import Flag, FlagCode, Reason, ReasonCode
from redmine_sla_bridge.domain.intake.request import (
    FIELD_PATHS,
    TEXT_FIELD_PATHS,
    IntakeRequest,
)
from redmine_sla_bridge.domain.intake.rules import AnyOf, IntakeRules
from redmine_sla_bridge.domain.intake.versions import (
    describe_versions,
    judge_version,
    normalize_version,
)
from redmine_sla_bridge.domain.markup import Target


@dataclass(frozen=True, slots=True)
class IntakeDecision:
    """The gate's answer.

    - `accepted`: no reasons;
    - `reasons`: every problem, in field order, then product, version, demo;
    - `normalized`: the request with labelled values filled in, INN compacted, email
      domain lower-cased, phone as E.164, product under its canonical name, type/impact
      in their list form and `version_normalized` next to the raw `version`;
    - `flags`: for a human (rude words, ignored invalid values);
    - `found_in_description`: the fields filled from labelled lines (the caller copies
      them into Redmine custom fields so the engineer sees them);
    - `found_in_free_text`: the findings that filled fields no field or labelled line
      gave (value as written, where, which line); each is also a `from_free_text` flag;
    - `product_line`: the name of the configured line of the product the request is
      about ("current", "6" under ID-2), chosen by the version (or, without a readable
      version, named by the product text: "Ideco ICS 6"); None for a product without
      lines or when no line serves the version.
    """

    accepted: bool
    reasons: tuple[Reason, ...]
    normalized: IntakeRequest
    flags: tuple[Flag, ...] = ()
    found_in_description: tuple[str, ...] = ()
    product_line: str | None = None
    found_in_free_text: tuple[Finding, ...] = ()

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(str(r.code) for r in self.reasons)

    def to_dict(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "reasons": [r.to_dict() for r in self.reasons],
            "flags": [f.to_dict() for f in self.flags],
            "found_in_description": list(self.found_in_description),
            "found_in_free_text": [
                {"field": f.path, "value": f.value, "raw": f.raw, "source": f.source,
                 "line": f.line} for f in self.found_in_free_text],
            "normalized": self.normalized.to_dict(),
            "product_line": self.product_line,
        }


def _choice(normalize: Callable[[str], str | None]) -> Callable[[str], Checked]:
    def checker(value: str) -> Checked:
        result = normalize(value)
        return Checked(True, result) if result else Checked(False, None, None)

    return checker


_CHECKERS: Mapping[str, tuple[Callable[[str], Checked], ReasonCode, Mapping[str, str]]] = {
    "contact.email": (check_email, ReasonCode.INVALID_EMAIL, {}),
    "contact.phone": (check_phone, ReasonCode.INVALID_PHONE, {}),
    "organization.inn": (check_inn, ReasonCode.INVALID_INN, {}),
    "type": (_choice(normalize_type), ReasonCode.INVALID_CHOICE,
             {"allowed": ", ".join(REQUEST_TYPES)}),
    "impact": (_choice(normalize_impact), ReasonCode.INVALID_CHOICE,
               {"allowed": ", ".join(IMPACTS)}),
}


class _Collector:
    """Builds reasons and flags with their messages in the configured language."""

    def __init__(self, rules: IntakeRules) -> None:
        self.catalog = rules.messages
        self.reasons: list[Reason] = []
        self.flags: list[Flag] = []

    # A param given as None is left out (e.g. a rule the checker did not name).
    def reason(self, code: ReasonCode, field: str, /, **params: str | None) -> Reason:
        given = {k: v for k, v in params.items() if v is not None}
        return Reason(code, field, self.catalog.reason_message(code, field, given), given)

    def add(self, reason: Reason) -> None:
        if reason not in self.reasons:
            self.reasons.append(reason)

    def flag(self, code: FlagCode, field: str, /, **params: str | None) -> None:
        given = {k: v for k, v in params.items() if v is not None}
        self.flags.append(Flag(code, field, self.catalog.flag_message(code, field, given),
                               given))


def check(
    request: IntakeRequest,
    rules: IntakeRules,
    *,
    request_date: dt.date,
    known_contact: bool = False,
    is_demo: bool = False,
    demo_history: Iterable[DemoPeriod] = (),
    demo_started: dt.date | None = None,
) -> IntakeDecision:
    """Judge `request` under `rules`.

    - `request_date`: the day the request was made, in the regulation's time zone (the
      caller knows the zone; the gate does not read `created_at` or the clock); it is
      compared with end-of-support dates and the demo history;
    - `known_contact`: the contact has written before, so `first_request_only` fields
      and groups are not demanded (ID-6);
    - `is_demo`: the customer asks to be served as a demo user; then `demo_history`
      (past demo periods, (start, end) dates) is checked (ID-4, see `demo`) as of
      `demo_started` (the start of the period in use; default: the request date).
    """
    if isinstance(request_date, dt.datetime):
        request_date = request_date.date()
    out = _Collector(rules)
    req = dataclasses.replace(_trimmed(request), version_normalized=None)

    found: tuple[str, ...] = ()
    free: tuple[Finding, ...] = ()
    question = req.description or ""
    if rules.parse_description and req.description:
        labelled = parse_labelled_lines(req.description, rules.labels)
        req, found = fill_empty_fields(req, labelled)
        question = labelled.free_text
        if rules.read_free_text:
            # After the labelled lines: a value the customer labelled always wins.
            reading = read_free_text(req.description or "", products=rules.products)
            req, from_text = fill_empty_fields(req, reading.as_labelled())
            free = tuple(f for p in from_text if (f := reading.first(p)) is not None)
            for finding in free:
                out.flag(FlagCode.FROM_FREE_TEXT, finding.path, value=finding.value,
                         where=free_text_place(rules.messages.language, finding.source,
                                               finding.line))

    invalid: dict[str, Reason] = {}
    for path, (checker, code, extra) in _CHECKERS.items():
        value = req.get(path)
        if value is None:
            continue
        assert isinstance(value, str)  # _CHECKERS names text fields only
        result = checker(value)
        if result.ok:
            req = req.with_value(path, result.value)
        else:
            invalid[path] = out.reason(code, path, value=value, rule=result.rule, **extra)

    demanded = set(rules.required)
    if not known_contact:
        demanded |= set(rules.first_request_only)
    for path in FIELD_PATHS:
        if path not in demanded:
            continue
        present = bool(question.strip()) if path == "description" else req.get(path) is not None
        if not present:
            out.add(out.reason(ReasonCode.MISSING_FIELD, path))
        elif path in invalid:
            out.add(invalid[path])

    for group in rules.any_of:
        if group.first_request_only and known_contact:
            continue
        _check_any_of(group, req, invalid, out)

    for path, reason in invalid.items():
        if reason not in out.reasons:
            out.flag(FlagCode.IGNORED_INVALID_VALUE, path, value=reason.params.get("value"),
                     code=str(reason.code), rule=reason.params.get("rule"))

    product = _check_product(req, rules, out)
    named = product.named_line(req.product) if product is not None and req.product else None
    if product is not None:
        req = req.with_value("product", product.name)
    req, line = _check_version(req, product, named, "version" in demanded, request_date, out)

    if is_demo:
        refusal = check_demo(demo_history, demo_started or request_date,
                             min_days=rules.demo_once_per_days)
        if refusal is not None:
            out.add(out.reason(
                ReasonCode.DEMO_ALREADY_USED, "",
                previous_start=refusal.previous_start.isoformat(),
                previous_end=refusal.previous_end.isoformat(),
                next_allowed=refusal.next_allowed.isoformat(),
            ))

    for path, text in (("subject", req.subject), ("description", req.description)):
        if words := find_rude_words(text, rules.rudeness):
            out.flag(FlagCode.RUDENESS, path, words=", ".join(words))

    return IntakeDecision(
        accepted=not out.reasons,
        reasons=tuple(out.reasons),
        normalized=req,
        flags=tuple(out.flags),
        found_in_description=found,
        product_line=line.name if line is not None and line.name else None,
        found_in_free_text=free,
    )


def rejection_note(decision: IntakeDecision, rules: IntakeRules, target: Target = "textile",
                   *, by_comment: bool = False) -> str:
    """The customer-facing note for a refused request ("" when it was accepted), for a
    Redmine note in the `target` text formatting or, with "plain", for its email;
    `by_comment` when the requester answers in Redmine rather than by email."""
    if decision.accepted:
        return ""
    return render_rejection_note(decision.reasons, rules.messages, target, by_comment=by_comment)


def flags_note(decision: IntakeDecision, rules: IntakeRules, target: Target = "textile") -> str:
    """The engineer's note listing the flags, one bullet each ("" when there are none)."""
    return "\n".join(f"* {rules.messages.flag_text(f, target)}" for f in decision.flags)


def no_sender_address_note(rules: IntakeRules, target: Target = "textile") -> str:
    """The staff's note for an emailed request nobody can be told about: Redmine's mail
    handler kept no sender address and the request names none."""
    return rules.messages.flag_message(str(FlagCode.NO_SENDER_ADDRESS), "contact.email", {},
                                       target)


def _trimmed(request: IntakeRequest) -> IntakeRequest:
    # Callers may build requests directly (not via from_dict): "  " must mean "not given".
    for path in TEXT_FIELD_PATHS:
        value = request.get(path)
        if isinstance(value, str) and (not value or value != value.strip()):
            request = request.with_value(path, value.strip() or None)
    return request


def _check_any_of(group: AnyOf, req: IntakeRequest, invalid: Mapping[str, Reason],
                  out: _Collector) -> None:
    if any(req.get(p) is not None and p not in invalid for p in group.fields):
        return
    bad = [invalid[p] for p in group.fields if p in invalid]
    if bad:
        for reason in bad:
            out.add(reason)
        return
    parents = {p.rpartition(".")[0] for p in group.fields}
    field = parents.pop() if len(parents) == 1 else group.fields[0]
    out.add(out.reason(ReasonCode.MISSING_FIELD, field, rule="any_of",
                       fields=", ".join(group.fields)))


def _check_product(req: IntakeRequest, rules: IntakeRules, out: _Collector) -> ProductRule | None:
    if req.product is None or not rules.products:
        return None
    product = match_product(req.product, rules.products)
    if product is None:
        # As the regulation lists them: a product served in several lines once per line.
        supported = dict.fromkeys(t for p in rules.products for t in p.titles())
        out.add(out.reason(ReasonCode.UNSUPPORTED_PRODUCT, "product", value=req.product,
                           supported=", ".join(supported)))
    return product


def _check_version(req: IntakeRequest, product: ProductRule | None, named: ProductLine | None,
                   demanded: bool, on: dt.date, out: _Collector
                   ) -> tuple[IntakeRequest, ProductLine | None]:
    """Judge the version; returns the request with `version_normalized` and the line of
    the product it is about (chosen by the version; the `named` one without a version)."""
    if req.version is None:
        return req, named
    parsed = normalize_version(req.version)
    if parsed is None:
        if demanded or (product is not None and product.has_version_policy):
            out.add(out.reason(ReasonCode.UNKNOWN_VERSION, "version", value=req.version))
        else:
            out.flag(FlagCode.IGNORED_INVALID_VALUE, "version", value=req.version,
                     code=str(ReasonCode.UNKNOWN_VERSION))
        return req, named
    req = dataclasses.replace(req, version_normalized=parsed.text)
    if product is None or not product.has_version_policy:
        return req, None
    # Lines of a product served in several: the ones still served on the request date.
    lines = _lines_text(product, on, out.catalog) if product.lines else None
    common = {"value": req.version, "version": req.version, "normalized": parsed.text,
              "product": product.name, "lines": lines}
    line = product.line_for(parsed.version)
    if line is None:
        # No line holds the version (ID-2 "Ideco ICS" 19.5): not the current version
        # when the product has a current line, else outside every served range.
        current = product.current_line
        out.add(out.reason(
            ReasonCode.UNSUPPORTED_VERSION, "version", **common,
            rule="not_current" if current is not None else "range",
            current=current.policy.current if current is not None and current.policy else None,
        ))
        return req, None
    policy = line.policy
    if policy is None:
        return req, line
    for verdict in judge_version(parsed.version, policy, on):
        extra = {"supported": policy.supported, "current": policy.current,
                 "line": line.title if product.lines else None}
        if verdict.rule == "end_of_support":
            extra["end_of_support"] = verdict.detail
        out.add(out.reason(ReasonCode.UNSUPPORTED_VERSION, "version", **common,
                           rule=verdict.rule, **extra))
    return req, line


def _lines_text(product: ProductRule, on: dt.date, catalog: MessageCatalog) -> str | None:
    """"Ideco ICS (актуальная версия 20.x), Ideco ICS 6 (версии 6.x)": the lines served on
    `on`, in the catalog's language; None when none is left."""
    texts = []
    for line in product.lines:
        if not line.served_on(on) or line.members is None:
            continue
        kind = "line.current" if line.is_current else "line.versions"
        end = line.end_of_support
        texts.append(catalog.render(
            kind + (".until" if end is not None else ""),
            {"title": line.title, "versions": describe_versions(line.members),
             "current": describe_versions(line.members),
             **({"end_of_support": end.isoformat()} if end is not None else {})},
        ))
    return ", ".join(texts) or None
