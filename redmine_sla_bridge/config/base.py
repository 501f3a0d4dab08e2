"""Base model for every config section: strict, immutable, path-addressable."""

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """Unknown keys are errors (a typo must never be silently ignored), values are frozen
    once loaded, and no type coercion happens behind the admin's back (`"8"` is not 8)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=False, populate_by_name=True)
