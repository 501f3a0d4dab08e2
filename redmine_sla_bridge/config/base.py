"""Base model for every config section: strict, immutable, path-addressable."""

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """Unknown keys are errors (a typo must never be silently ignored) and values are
    frozen once loaded. Type checks are pydantic's default (lax) ones, so `"10"` is read
    as 10 where a number is expected; the values YAML itself mangles (times, INNs,
    versions, yes/no) are guarded by the types in `config.types` instead."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=False, populate_by_name=True)


class ConfigValueError(ValueError):
    """A validator's error about a value below the validated one (`at` is the path from
    it, e.g. (language, key) under a dict), so that the loader shows it at that value's
    own line."""

    def __init__(self, message: str, at: tuple[str | int, ...]) -> None:
        super().__init__(message)
        self.at = at
