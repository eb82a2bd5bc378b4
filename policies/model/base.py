"""Building blocks of the policy model: the strict base model and its validators; the patterns, the metric catalogue
and the enums are the policy's vocabulary (policies/terms.py), re-exported here."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from policies.regions import check_region
from policies.terms import (
    EMAIL,
    ENDPOINT_NAME,
    INSTANCE_TYPE,
    KNOWN_METRICS,
    METRIC_NAME,
    OWNER_TAG_KEY,
    PROJECT_TAG_KEY,
    S3_URI,
    SAGEMAKER_MONITORING_CRON,
    SLUG,
    TAG_TEXT,
    MetricRange,
    Mode,
    ObjectLockMode,
    Remediation,
)

__all__ = [
    "EMAIL",
    "ENDPOINT_NAME",
    "INSTANCE_TYPE",
    "KNOWN_METRICS",
    "METRIC_NAME",
    "OWNER_TAG_KEY",
    "PROJECT_TAG_KEY",
    "S3_URI",
    "SAGEMAKER_MONITORING_CRON",
    "SLUG",
    "TAG_TEXT",
    "LockMode",
    "MetricRange",
    "Mode",
    "ObjectLockMode",
    "RegionName",
    "Remediation",
    "RuleMode",
]


class _Strict(BaseModel):
    # defer_build: a model's validator is built on its first validation, not when the class is defined, so
    # loading the model costs little where a policy is only read. python-re: the patterns compiled by Python's re
    # build the validator in 19 ms where the Rust engine's took 33 ms; every pattern here reads any text in linear
    # time but EMAIL's, whose length is bounded before it runs (test_loader_hardening.py).
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        str_strip_whitespace=True,
        strict=True,
        allow_inf_nan=False,
        defer_build=True,
        regex_engine="python-re",
    )

    def _sibling(self, name: str) -> Callable[..., Any]:
        """The model class ``name``: what ``policies.reading`` builds derived parts with (validated, as here)."""
        import policies.model

        sibling: Callable[..., Any] = getattr(policies.model, name)
        return sibling


def _check_tag_text(value: str, what: str, max_len: int) -> str:
    if not value or len(value) > max_len:
        raise ValueError(f"{what} must be 1 to {max_len} characters, got {len(value)}")
    if value.lower().startswith("aws:"):
        raise ValueError(f"{what} {value!r} uses the reserved 'aws:' prefix")
    if not re.match(TAG_TEXT, value):
        raise ValueError(f"{what} {value!r} has characters AWS tags do not allow (letters, digits, spaces and _ . : / = + - @)")
    return value


def _not_bool(value: object) -> object:
    if isinstance(value, bool):
        raise ValueError(f"{str(value).lower()} is not a schema version: must be 1")
    return value


def _listed_twice(values: list[str], what: str) -> list[str]:
    dupes = sorted(v for v, n in Counter(values).items() if n > 1)
    if dupes:
        raise ValueError(f"{what} listed twice: {', '.join(dupes)}")
    return values


RegionName = Annotated[str, AfterValidator(check_region)]
# Enum values arrive as text from YAML and JSON alike: enums are the one place strict mode is relaxed.
LockMode = Annotated[ObjectLockMode, Field(strict=False)]
RuleMode = Annotated[Mode, Field(strict=False)]
