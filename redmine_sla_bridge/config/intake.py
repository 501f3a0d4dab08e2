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
        - name: "Ideco PBX"               # ID-2: one product served in several lines,
          lines:                          # each with its own version policy; the
            current:                      # version chooses the line
              current: true
              current_version: "4"        # only line 4.*
            "3":                          # "Ideco PBX 3" names it too
              versions: "3"               # any 3.x ("3.*", ">=3,<4" alike)
              end_of_support: 2027-12-31
              aliases: ["PBX 3"]
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

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from redmine_sla_bridge.config.base import ConfigValueError, StrictModel
from redmine_sla_bridge.config.types import Date, Text, VersionText, _quoted_text
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
from redmine_sla_bridge.domain.intake.products import ProductLine, lines_overlap


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


class ProductLineConfig(StrictModel):
    """One served line of a product, with its own version policy (ID-2 serves "Ideco ICS"
    in its current version and "Ideco ICS 6"): `versions`, or `current: true` with
    `current_version`."""

    versions: VersionText | None = Field(
        default=None, description='The versions of the line: "6" (any 6.x), "7.2" or a '
        'specifier set such as ">=6,<7". Two lines of a product never share a version.'
    )
    current: bool = Field(default=False, description="Only the current version is served "
                          "(ID-2 \"актуальной версии\"); set `current_version` with it.")
    current_version: VersionText | None = Field(
        default=None, description='The current version of a `current: true` line: "20", '
        '"7.2" or ">=20.3"; update it when a version ships.'
    )
    end_of_support: Date | None = Field(
        default=None, description="Last day the line is served (inclusive); empty: no end."
    )
    allow_prereleases: bool = Field(default=False, description="Serve alpha/beta/RC versions.")
    title: Text | None = Field(
        default=None, min_length=1, description='The line as refusals name it; default: the '
        'product name and the line name ("Ideco ICS 6"), the product name for the current line.'
    )
    aliases: list[Text] = Field(
        default_factory=list, description='More product names for the line ("ICS 6"); each '
        'name of the product followed by the line name ("Ideco UTM 6") and the title count too.'
    )

    @field_validator("versions", "current_version")
    @classmethod
    def _line(cls, value: str | None) -> str | None:
        if value:
            parse_version_line(value)
        return value or None

    @model_validator(mode="after")
    def _one_policy(self) -> ProductLineConfig:
        if self.current and self.current_version is None:
            raise ConfigValueError('`current: true` needs `current_version` (e.g. "20")',
                                   at=("current",))
        if self.current and self.versions is not None:
            raise ConfigValueError("a current line holds its current version only: give "
                                   "`current_version`, not `versions`", at=("versions",))
        if self.current_version is not None and not self.current:
            raise ConfigValueError("a line with `current_version` is the current one: add "
                                   "`current: true` (or give `versions` instead)",
                                   at=("current_version",))
        if self.versions is None and not self.current:
            raise ConfigValueError('a line needs `versions` (e.g. "6" or ">=6,<7") or '
                                   '`current: true` with `current_version`', at=())
        return self

    def to_domain(self, name: str, product: str) -> ProductLine:
        title = self.title or (product if self.current else f"{product} {name}")
        return ProductLine.of(name, title, versions=self.versions,
                              current_version=self.current_version,
                              end_of_support=self.end_of_support,
                              allow_prereleases=self.allow_prereleases, aliases=self.aliases)


LineName = Annotated[str, BeforeValidator(_quoted_text("line name", "6")),
                     WithJsonSchema({"type": "string"})]
"""A product line's name, e.g. "6" or "current" (quoted: YAML reads 6.10 as 6.1)."""

_SINGLE_POLICY = ("supported_versions", "current_version", "version_lines", "allow_prereleases")


class ProductConfig(StrictModel):
    """A served product (AR-2, ID-2) and which of its versions are served: one policy
    (`supported_versions`, `current_version`, `version_lines`, `allow_prereleases`) or
    several `lines`, each with its own."""

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
    lines: dict[LineName, ProductLineConfig] = Field(
        default_factory=dict, description='Lines served under one name, each with its own '
        'version policy (ID-2: {current: {current: true, current_version: "20"}, "6": '
        '{versions: "6"}}); the version chooses the line. Replaces the keys above.'
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

    @model_validator(mode="after")
    def _lines_consistent(self) -> ProductConfig:
        if not self.lines:
            return self
        for key in _SINGLE_POLICY:
            if getattr(self, key):
                raise ConfigValueError(
                    f"`{key}` and `lines` exclude each other: with lines, each line has "
                    f"its own policy (lines.<name>.versions, current_version, "
                    f"end_of_support, allow_prereleases)", at=(key,))
        current: str | None = None
        seen: list[tuple[str, str]] = []
        for name, line in self.lines.items():
            if line.current:
                if current is not None:
                    raise ConfigValueError(f"lines {current!r} and {name!r} are both the "
                                           f"current one; a product has one current line",
                                           at=("lines", name, "current"))
                current = name
            members = line.current_version or line.versions
            assert members is not None  # ProductLineConfig demands one
            for other, other_members in seen:
                if (both := lines_overlap(other_members, members)) is not None:
                    raise ConfigValueError(
                        f"lines {other!r} ({other_members}) and {name!r} ({members}) both "
                        f"hold version {both}; a version must belong to one line",
                        at=("lines", name, "current_version" if line.current else "versions"))
            seen.append((name, members))
        owners: dict[str, str] = {}
        for key, at, owner in self.named():
            if owners.setdefault(key, owner) != owner:
                raise ConfigValueError(f"the name {key!r} names both {owners[key]} and "
                                       f"{owner}", at=at)
        return self

    def named(self) -> list[tuple[str, tuple[str | int, ...], str]]:
        """Every name of the product and its lines: (`product_key` form, path from the
        product, what it names), so a clash is reported at the name that clashes."""
        found: list[tuple[str, tuple[str | int, ...], str]] = [
            (product_key(self.name), ("name",), f"product {self.name!r}"),
            *((product_key(a), ("aliases", i), f"product {self.name!r}")
              for i, a in enumerate(self.aliases)),
        ]
        own = {product_key(n) for n in (self.name, *self.aliases)}
        for name, config in self.lines.items():
            line = config.to_domain(name, self.name)
            owner = f"line {name!r} of {self.name!r}"
            for written in line.names((self.name, *self.aliases)):
                key = product_key(written)
                if written == line.title and key in own:
                    continue  # the current line's title is the product's own name
                at: tuple[str | int, ...] = ("lines", name)
                if written in config.aliases:
                    at = ("lines", name, "aliases", config.aliases.index(written))
                elif written == config.title:
                    at = ("lines", name, "title")
                found.append((key, at, owner))
        return found

    def to_domain(self) -> ProductRule:
        if self.lines:
            return ProductRule(self.name, tuple(self.aliases), lines=tuple(
                line.to_domain(name, self.name) for name, line in self.lines.items()))
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
        for index, product in enumerate(value):
            for key, at, _ in product.named():
                if seen.setdefault(key, product.name) != product.name:
                    raise ConfigValueError(
                        f"{key!r} names both {seen[key]!r} and {product.name!r}",
                        at=(index, *at))
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
