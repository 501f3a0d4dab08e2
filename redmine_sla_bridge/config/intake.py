"""The `intake` config section: what a request must contain (the intake gate's policy).

Example (the AR regulation, with an "Ideco" product to show the version options)::

    intake:
      required: [description, version, organization.inn]          # AR-1
      first_request_only: [organization.name]                     # ID-6
      any_of:
        - fields: [contact.email, contact.phone]                  # "contact data"
          first_request_only: false
      products:                                                   # AR-2 / ID-2
        - name: "ИКС Стандарт"
          aliases: ["ИКС", "ICS Standard"]
          supported_versions: ">=6.0"     # PEP 440 specifier set
          allow_prereleases: false        # default: betas/RCs are refused
          version_lines:                  # AR-7, AS-6: support of a line ended
            "6.*": {end_of_support: 2024-12-31}
        - name: "Ideco ICS"
          current_version: "15"           # ID-2: "current version only" (line 15.*)
      demo_once_per_days: 365             # ID-4
      parse_description: true             # read "ИНН: ..." lines of email bodies
      labels:                             # added to the shipped labels
        organization.inn: ["ИНН заказчика"]
      replace_default_labels: false
      rudeness:                           # AR-7, ID-7: a flag, never a refusal
        use_default_patterns: true
        stems: ["хам"]                    # words starting with these
        patterns: ['\\bнеучи?\\b']         # regexes over lower-cased text
        lemmas: ["неуч"]                  # any inflected form: "неучи", "неучей"
      messages:                           # override any text, per language
        ru:
          note.footer: "Ответьте на письмо — мы проверим обращение снова."

Quote versions, version lines and INNs: unquoted, YAML reads 7.10 as 7.1.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, ValidationInfo, field_validator, model_validator

from redmine_sla_bridge.config.base import ConfigValueError, StrictModel
from redmine_sla_bridge.config.types import Date, Text, VersionText
from redmine_sla_bridge.domain.intake import (
    DEFAULT_LABELS,
    FIELD_PATHS,
    LABELLED_PATHS,
    PLACEHOLDERS,
    AnyOf,
    IntakeRules,
    Language,
    MessageCatalog,
    ProductRule,
    RudeLexicon,
    VersionLine,
    VersionPolicy,
    check_override,
    parse_specifiers,
    parse_version_line,
    product_key,
)


def _field_path(value: str) -> str:
    if value not in FIELD_PATHS:
        raise ValueError(f"unknown field path {value!r}; known: {', '.join(FIELD_PATHS)}")
    return value


def _labelled_path(value: str) -> str:
    if value not in LABELLED_PATHS:
        raise ValueError(
            f"no labels for {value!r}; labelled fields: {', '.join(LABELLED_PATHS)}"
        )
    return value


FieldPath = Annotated[Text, AfterValidator(_field_path)]
LabelledPath = Annotated[Text, AfterValidator(_labelled_path)]


class AnyOfConfig(StrictModel):
    """At least one of `fields` must be given and valid."""

    fields: list[FieldPath] = Field(min_length=2)
    first_request_only: bool = Field(
        default=False, description="Demanded only while the contact is unknown (ID-6)."
    )


class VersionLineConfig(StrictModel):
    end_of_support: Date = Field(description="Last day the line is served (inclusive).")


class ProductConfig(StrictModel):
    """A served product (AR-2, ID-2) and which of its versions are served."""

    name: Text = Field(min_length=1, description="Canonical name, written into Redmine.")
    aliases: list[Text] = Field(default_factory=list, description="Other ways to write it; "
                                "matching ignores case, extra spaces, dashes and quotes.")
    supported_versions: Text | None = Field(
        default=None, description='PEP 440 specifier set, e.g. ">=7.0,<8"; empty: any.'
    )
    allow_prereleases: bool = Field(default=False, description="Serve alpha/beta/RC versions.")
    current_version: VersionText | None = Field(
        default=None, description='Only this line is served (ID-2): "15", "7.2" or a '
        'specifier set such as ">=15.3".'
    )
    version_lines: dict[VersionText, VersionLineConfig] = Field(
        default_factory=dict, description='Lines with an end of support: {"6.*": '
        '{end_of_support: 2024-12-31}}; a key is a line ("6", "6.*", "7.2") or a specifier.'
    )

    @field_validator("supported_versions")
    @classmethod
    def _specifiers(cls, value: str | None) -> str | None:
        if value:
            parse_specifiers(value)
        return value or None

    @field_validator("current_version")
    @classmethod
    def _current(cls, value: str | None) -> str | None:
        if value:
            parse_version_line(value)
        return value or None

    @field_validator("version_lines")
    @classmethod
    def _lines(cls, value: dict[str, VersionLineConfig]) -> dict[str, VersionLineConfig]:
        for key in value:
            parse_version_line(key)
        return value

    def to_domain(self) -> ProductRule:
        has_policy = (self.supported_versions or self.current_version or self.version_lines
                      or self.allow_prereleases)
        policy = VersionPolicy(
            supported=self.supported_versions,
            allow_prereleases=self.allow_prereleases,
            lines=tuple(VersionLine(k, v.end_of_support) for k, v in self.version_lines.items()),
            current=self.current_version,
        ) if has_policy else None
        return ProductRule(self.name, tuple(self.aliases), policy)


class RudenessConfig(StrictModel):
    """Rude/obscene words (AR-7, ID-7): found words raise a flag for a human."""

    use_default_patterns: bool = Field(default=True, description="Keep the shipped list.")
    patterns: list[Text] = Field(default_factory=list,
                                 description="Regexes over lower-cased text, ё read as е.")
    stems: list[Text] = Field(default_factory=list,
                              description="Plain stems: words starting with them match.")
    lemmas: list[Text] = Field(default_factory=list, description="Words in dictionary form "
                               "(«неуч»): they match in any inflected form («неучи»).")
    allowed: list[Text] = Field(default_factory=list, description="Words in dictionary form "
                                "never flagged, in any form (a product or place name).")

    def to_domain(self) -> RudeLexicon:
        return RudeLexicon.build(use_defaults=self.use_default_patterns,
                                 patterns=self.patterns, stems=self.stems,
                                 lemmas=self.lemmas, allowed=self.allowed)

    @model_validator(mode="after")
    def _compiles(self) -> RudenessConfig:
        self.to_domain()  # ValueError names the bad regex
        return self


class IntakeConfig(StrictModel):
    """What a request must contain under the regulation; see the module docstring."""

    required: list[FieldPath] = Field(default_factory=list,
                                      description="Field paths demanded on every request.")
    first_request_only: list[FieldPath] = Field(
        default_factory=list, description="Demanded only from a contact not seen before."
    )
    any_of: list[AnyOfConfig] = Field(default_factory=list)
    products: list[ProductConfig] = Field(
        default_factory=list, description="Served products; empty: any product."
    )
    demo_once_per_days: int = Field(default=365, ge=1, description="ID-4 window.")
    parse_description: bool = True
    replace_default_labels: bool = Field(
        default=False, description="Use only `labels`, not the shipped ones."
    )
    labels: dict[LabelledPath, list[Text]] = Field(
        default_factory=dict, description="Extra labels per field for description lines."
    )
    rudeness: RudenessConfig = Field(default_factory=RudenessConfig)
    messages: dict[Literal["ru", "en"], dict[Text, Text]] = Field(
        default_factory=dict, description="Text overrides per language and message key."
    )

    @field_validator("first_request_only")
    @classmethod
    def _not_also_always(cls, value: list[str], info: ValidationInfo) -> list[str]:
        if both := set(value) & set(info.data.get("required", ())):
            raise ValueError(f"{sorted(both)} are already in `required` (demanded always)")
        return value

    @field_validator("products")
    @classmethod
    def _distinct_names(cls, value: list[ProductConfig]) -> list[ProductConfig]:
        seen: dict[str, str] = {}
        for product in value:
            for name in (product.name, *product.aliases):
                key = product_key(name)
                if seen.setdefault(key, product.name) != product.name:
                    raise ValueError(f"{name!r} names both {seen[key]!r} and {product.name!r}")
        return value

    @field_validator("labels")
    @classmethod
    def _distinct_labels(cls, value: dict[str, list[str]], info: ValidationInfo
                         ) -> dict[str, list[str]]:
        owners: dict[str, str] = {}
        defaults = {} if info.data.get("replace_default_labels") else DEFAULT_LABELS
        for path, names in (*defaults.items(), *value.items()):
            for name in names:
                key = " ".join(name.lower().split())
                if owners.setdefault(key, path) != path:
                    raise ValueError(f"label {name!r} of {path!r} already belongs to "
                                     f"{owners[key]!r}")
        return value

    @field_validator("messages")
    @classmethod
    def _messages(cls, value: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        for language, templates in value.items():
            for key, template in templates.items():
                try:
                    check_override(key, template)
                except ValueError as exc:
                    at = (language, key) if key in PLACEHOLDERS else (language,)
                    raise ConfigValueError(f"{language}: {exc}", at=at) from None
        return value

    @model_validator(mode="after")
    def _consistent(self) -> IntakeConfig:
        self.to_domain()  # anything IntakeRules still refuses
        return self

    def to_domain(self, language: Language = "ru") -> IntakeRules:
        """The plain policy the domain gate works with; `language` is the deployment's
        (the root config's `language`), one setting for every customer-facing text."""
        labels: dict[str, tuple[str, ...]] = (
            {} if self.replace_default_labels else {k: tuple(v) for k, v in DEFAULT_LABELS.items()}
        )
        for path, names in self.labels.items():
            labels[path] = tuple(dict.fromkeys((*labels.get(path, ()), *names)))
        return IntakeRules(
            required=tuple(self.required),
            first_request_only=tuple(self.first_request_only),
            any_of=tuple(AnyOf(tuple(g.fields), g.first_request_only) for g in self.any_of),
            products=tuple(p.to_domain() for p in self.products),
            demo_once_per_days=self.demo_once_per_days,
            parse_description=self.parse_description,
            labels=labels,
            rudeness=self.rudeness.to_domain(),
            messages=MessageCatalog(language, dict(self.messages.get(language, {}))),
        )
