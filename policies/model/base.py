"""Building blocks of the policy model: patterns, the metric catalogue, enums, and the strict base model."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from policies.regions import check_region

SLUG = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"
METRIC_NAME = r"^[a-z][a-z0-9_]*$"
ENDPOINT_NAME = r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$"
INSTANCE_TYPE = r"^ml\.[a-z0-9]+\.[a-z0-9]+$"
S3_URI = r"^s3://[a-z0-9.\-]{3,63}/.*$"
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
# SageMaker accepts only these schedule shapes for monitoring schedules:
# hourly "cron(0 * ? * * *)", daily at hour H "cron(0 H ? * * *)", every N hours "cron(0 H/N ? * * *)".
SAGEMAKER_MONITORING_CRON = re.compile(r"^cron\(0 (\*|(0?\d|1\d|2[0-3])(/([1-9]|1\d|2[0-4]))?) \? \* \* \*\)$")
PROJECT_TAG_KEY = "ml-project"
OWNER_TAG_KEY = "owner-team"
TAG_TEXT = re.compile(r"^[\w .:/=+\-@]*$", re.UNICODE)


@dataclass(frozen=True)
class MetricRange:
    """The values a metric can take; ``None`` is unbounded."""

    lowest: float | None
    highest: float | None

    def contains(self, value: float) -> bool:
        return (self.lowest is None or value >= self.lowest) and (self.highest is None or value <= self.highest)

    def describe(self) -> str:
        if self.lowest is not None and self.highest is not None:
            return f"from {self.lowest:g} to {self.highest:g}"
        if self.lowest is not None:
            return f"at least {self.lowest:g}"
        return f"at most {self.highest:g}" if self.highest is not None else "any number"


# The metrics the governed evaluation step (pipelines/steps/evaluate.py) writes into evaluation.json,
# all fractions. A threshold on any other metric must be declared in approval.custom_metrics.
KNOWN_METRICS: Mapping[str, MetricRange] = MappingProxyType(
    {
        "accuracy": MetricRange(0.0, 1.0),
        "auc": MetricRange(0.0, 1.0),
        "f1": MetricRange(0.0, 1.0),
        "precision": MetricRange(0.0, 1.0),
        "recall": MetricRange(0.0, 1.0),
    }
)


class Mode(StrEnum):
    """How a rule acts on a violation."""

    ENFORCE = "enforce"
    REPORT = "report"


class ObjectLockMode(StrEnum):
    GOVERNANCE = "GOVERNANCE"
    COMPLIANCE = "COMPLIANCE"


class Remediation(StrEnum):
    """What data-classification enforcement does to a running job that violates the rule."""

    TAG = "tag"
    STOP = "stop"


class _Strict(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        str_strip_whitespace=True,
        use_attribute_docstrings=True,
        strict=True,
        allow_inf_nan=False,
    )


def _check_tag_text(value: str, what: str, max_len: int) -> str:
    if not value or len(value) > max_len:
        raise ValueError(f"{what} must be 1 to {max_len} characters, got {len(value)}")
    if value.lower().startswith("aws:"):
        raise ValueError(f"{what} {value!r} uses the reserved 'aws:' prefix")
    if not TAG_TEXT.match(value):
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
