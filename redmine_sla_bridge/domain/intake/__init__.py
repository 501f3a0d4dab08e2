"""The intake gate: pure checks that a support request contains what the regulation
demands (AR-1, AR-2, AR-7, ID-2, ID-4, ID-6, ID-7, BA-2, AS-5, BA-5).

No I/O, no clock: callers pass the request date and what they know about the customer.
Reason and flag codes are documented in `reasons`.
"""

from redmine_sla_bridge.domain.intake.choices import IMPACTS, REQUEST_TYPES
from redmine_sla_bridge.domain.intake.contacts import Checked, check_email, check_inn, check_phone
from redmine_sla_bridge.domain.intake.demo import DemoPeriod, DemoRefusal, check_demo
from redmine_sla_bridge.domain.intake.description import (
    CANONICAL_LABELS,
    DEFAULT_LABELS,
    LABELLED_PATHS,
    LabelledData,
    fill_empty_fields,
    parse_labelled_lines,
)
from redmine_sla_bridge.domain.intake.gate import IntakeDecision, check, rejection_note
from redmine_sla_bridge.domain.intake.language import DEFAULT_PATTERNS, RudeLexicon, find_rude_words
from redmine_sla_bridge.domain.intake.messages import (
    LANGUAGES,
    PLACEHOLDERS,
    Language,
    MessageCatalog,
    check_override,
    render_rejection_note,
)
from redmine_sla_bridge.domain.intake.products import ProductRule, match_product, product_key
from redmine_sla_bridge.domain.intake.reasons import Flag, FlagCode, Reason, ReasonCode
from redmine_sla_bridge.domain.intake.request import (
    FIELD_PATHS,
    Contact,
    FieldError,
    IntakeRequest,
    IntakeRequestError,
    Organization,
)
from redmine_sla_bridge.domain.intake.rules import AnyOf, IntakeRules
from redmine_sla_bridge.domain.intake.versions import (
    NormalizedVersion,
    VersionLine,
    VersionPolicy,
    judge_version,
    normalize_version,
    parse_specifiers,
    parse_version_line,
)

__all__ = [
    "CANONICAL_LABELS", "DEFAULT_LABELS", "DEFAULT_PATTERNS", "FIELD_PATHS", "IMPACTS", "LABELLED_PATHS",
    "LANGUAGES", "PLACEHOLDERS", "REQUEST_TYPES",
    "AnyOf", "Checked", "Contact", "DemoPeriod", "DemoRefusal", "FieldError", "Flag",
    "FlagCode", "IntakeDecision", "IntakeRequest", "IntakeRequestError", "IntakeRules",
    "LabelledData", "Language", "MessageCatalog", "NormalizedVersion", "Organization",
    "ProductRule", "Reason", "ReasonCode", "RudeLexicon", "VersionLine", "VersionPolicy",
    "check", "check_demo", "check_email", "check_inn", "check_override", "check_phone",
    "fill_empty_fields", "find_rude_words", "judge_version", "match_product",
    "normalize_version", "parse_labelled_lines", "parse_specifiers", "parse_version_line",
    "product_key", "rejection_note", "render_rejection_note",
]
