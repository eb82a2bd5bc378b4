"""The policy's vocabulary without its validation: name patterns, tag keys, the metric catalogue, the enums.

``policies.model`` (pydantic) re-exports every name here and validates policies with them. The
enforcement handlers and the decision rules import them from this module, so that loading a
handler does not load the validation stack: they read a policy that was validated at synth
(``lambdas/shared/policy.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

MAX_POLICY_BYTES = 1024 * 1024  # a policy file's size at most (the shipped policy is about 4 KiB)
SLUG = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"
METRIC_NAME = r"^[a-z][a-z0-9_]*$"
ENDPOINT_NAME = r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$"
INSTANCE_TYPE = r"^ml\.[a-z0-9]+\.[a-z0-9]+$"
S3_URI = r"^s3://[a-z0-9.\-]{3,63}/.*$"
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
SCHEDULE_EXPRESSION = r"^(rate\([0-9]+ (minute|minutes|hour|hours|day|days)\)|cron\(.+\))$"  # EventBridge's
# SageMaker accepts only these schedule shapes for monitoring schedules:
# hourly "cron(0 * ? * * *)", daily at hour H "cron(0 H ? * * *)", every N hours "cron(0 H/N ? * * *)".
SAGEMAKER_MONITORING_CRON = r"^cron\(0 (\*|(0?[0-9]|1[0-9]|2[0-3])(/([1-9]|1[0-9]|2[0-4]))?) \? \* \* \*\)$"
PROJECT_TAG_KEY = "ml-project"
# What a project's SageMaker role is for: the governed pipeline (writes evidence, registers) or people's experiments.
# IAM and bucket policies name these roles by this tag, so that no document lists one ARN per project.
ROLE_KIND_TAG_KEY = "ml-governance-role"
PIPELINE_ROLE_KIND = "pipeline"
EXPERIMENTS_ROLE_KIND = "experiments"
OWNER_TAG_KEY = "owner-team"
TAG_TEXT = r"^[\w .:/=+\-@]*$"


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


class MonitoringEngine(StrEnum):
    DRIFT_JOB = "drift-job"
    MODEL_MONITOR = "model-monitor"


class DriftOnBreach(StrEnum):
    NOTIFY = "notify"
    QUARANTINE = "quarantine"


class Quarantine(StrEnum):
    """What happens to an endpoint serving a model version that is not (or no longer) approved."""

    DELETE_ENDPOINT = "delete-endpoint"
    SCALE_TO_ZERO = "scale-to-zero"
    REPORT = "report"
