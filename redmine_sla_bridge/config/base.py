"""Base model for every config section: strict, immutable, path-addressable."""

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """Unknown keys are errors (a typo must never be silently ignored) and values are
    frozen once loaded. Type checks are pydantic's default (lax) ones, so `"10"` is read
    as 10 where a number is expected; the values YAML itself mangles (times, INNs,
    versions, yes/no) are guarded by the types in `config.types` instead."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=False, populate_by_name=True)
