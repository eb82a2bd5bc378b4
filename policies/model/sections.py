"""The policy's sections other than projects: organization, Regions, classification, approval, audit, enforcement,
deployment, notifications."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field, ValidationInfo, field_validator, model_validator

from policies.model.base import (
    EMAIL,
    METRIC_NAME,
    SLUG,
    LockMode,
    Mode,
    ObjectLockMode,
    RegionName,
    Remediation,
    RuleMode,
    _check_tag_text,
    _listed_twice,
    _Strict,
)
from policies.reading import ClassificationReading, RegionsReading
from policies.regions import DEFAULT_ENABLED_REGIONS, DEFAULT_GLOBAL_SERVICE_ACTIONS, check_global_action
from policies.terms import SCHEDULE_EXPRESSION, Quarantine


class Organization(_Strict):
    name: Annotated[str, Field(pattern=SLUG, min_length=2, max_length=20)]
    """Short lowercase name used as the prefix of every resource name (buckets, roles, keys)."""
    standard_tags: dict[str, str] = Field(default_factory=dict)
    """Tags every resource carries (applied as provider default tags and on each resource)."""

    @field_validator("standard_tags")
    @classmethod
    def _tags_valid(cls, tags: dict[str, str]) -> dict[str, str]:
        for key, value in tags.items():
            _check_tag_text(key, "tag key", 128)
            if value:
                _check_tag_text(value, f"value of tag {key!r}", 256)
        return tags


class Regions(_Strict, RegionsReading):
    home: RegionName
    """The Region the blueprint deploys to and where enforcement runs."""
    allowed: Annotated[list[RegionName], Field(min_length=1)]
    """Regions where ML workloads may run; the permissions boundary denies every other Region."""
    watched: list[RegionName] = Field(default_factory=lambda: list(DEFAULT_ENABLED_REGIONS), validate_default=True)
    """Regions whose SageMaker API calls are checked (forwarded to the home Region for enforcement).
    Must include the home Region and every allowed Region. Defaults to every Region enabled by default
    in an account; add opt-in Regions you enabled."""
    global_service_actions: list[Annotated[str, AfterValidator(check_global_action)]] = Field(
        default_factory=lambda: list(DEFAULT_GLOBAL_SERVICE_ACTIONS)
    )
    """Actions of global services exempt from the Region restriction (they are served from us-east-1).
    Services the blueprint governs (sagemaker, s3, kms, events, lambda, cloudtrail, logs) may not appear."""

    @field_validator("allowed", "watched", "global_service_actions")
    @classmethod
    def _listed_once(cls, values: list[str], info: ValidationInfo) -> list[str]:
        return _listed_twice(values, "actions" if info.field_name == "global_service_actions" else "Regions")

    @field_validator("watched")
    @classmethod
    def _watches_where_workloads_run(cls, values: list[str], info: ValidationInfo) -> list[str]:
        needed = [info.data["home"]] if "home" in info.data else []
        needed += info.data.get("allowed", [])
        missing = [r for r in dict.fromkeys(needed) if r not in values]
        if missing:
            raise ValueError(
                f"does not include {', '.join(missing)}: SageMaker calls there would never be checked; add them "
                "(watched must include the home Region and every allowed Region)"
            )
        return values


class Classification(_Strict, ClassificationReading):
    tag_key: str = "data-classification"
    """Tag key that carries a resource's data-classification level."""
    levels: Annotated[list[str], Field(min_length=1)]
    """Classification levels ordered from least to most sensitive."""
    unattributed_level: str | None = None
    """Level required of a SageMaker resource that names no governed project. Defaults to the most sensitive level."""
    remediation: Annotated[Remediation, Field(strict=False)] = Remediation.TAG
    """What enforce mode does to a job that violates the rule: 'tag' applies the required level, 'stop' stops the job."""

    @field_validator("tag_key")
    @classmethod
    def _key_valid(cls, value: str) -> str:
        return _check_tag_text(value, "tag key", 128)

    @field_validator("levels")
    @classmethod
    def _levels_valid(cls, values: list[str]) -> list[str]:
        for value in values:
            _check_tag_text(value, "level", 256)
        return _listed_twice(values, "levels")


class CustomMetric(_Strict):
    """A metric a project's own evaluation reports, beyond those of the governed evaluation step."""

    minimum_value: float | None = 0.0
    """Lowest value the metric can take (null: unbounded below); a threshold below it is refused."""
    maximum_value: float | None = 1.0
    """Highest value the metric can take (null: unbounded above); a threshold above it is refused.
    The default range, 0 to 1, suits fractions; use null for losses and errors."""

    @model_validator(mode="after")
    def _ordered(self) -> CustomMetric:
        low, high = self.minimum_value, self.maximum_value
        if low is not None and high is not None and low >= high:
            raise ValueError(f"minimum_value {low:g} must be below maximum_value {high:g}")
        return self


def _metric_names(values: dict[str, object]) -> None:
    for name in values:
        if not re.match(METRIC_NAME, name):
            raise ValueError(f"metric name {name!r} must be lowercase letters, digits and underscores")


class Approval(_Strict):
    separation_of_duties: bool = True
    """The identity that approves a model version must differ from the one that registered it."""
    require_lineage_evidence: bool = True
    """A model version must name its training data in the lineage bucket, and that object must exist."""
    metric_minimums: dict[str, float] = Field(default_factory=dict)
    """Organization-wide floor for metrics every project must report (higher is better)."""
    custom_metrics: dict[str, CustomMetric] = Field(default_factory=dict)
    """Metrics a project's own evaluation reports besides the governed ones (accuracy, auc, f1, precision, recall),
    each with the range of values it can take. A threshold may name only a governed metric or one declared here;
    the governed pipeline's evaluation step does not produce these."""

    @field_validator("metric_minimums", "custom_metrics")
    @classmethod
    def _metric_names(cls, values: dict[str, object]) -> dict[str, object]:
        _metric_names(values)
        return values


class Audit(_Strict):
    retention_years: Annotated[int, Field(ge=1, le=100)] = 7
    """Years each audit record stays locked against deletion (S3 Object Lock default retention)."""
    object_lock_mode: LockMode = ObjectLockMode.COMPLIANCE
    """How the audit records are locked. COMPLIANCE: nobody, root included, can shorten retention; GOVERNANCE: privileged users can."""


class Enforcement(_Strict):
    approval_gate: RuleMode = Mode.ENFORCE
    """What the approval gate does with a model version approved against the policy: 'enforce' rejects it, 'report' only records."""
    data_classification: RuleMode = Mode.ENFORCE
    """What classification enforcement does with an under-classified resource: 'enforce' acts, 'report' only records."""
    region_restriction: RuleMode = Mode.ENFORCE
    """What the region guard does with a SageMaker resource outside the allowed Regions: 'enforce' stops or deletes it, 'report' only records."""


class Notifications(_Strict):
    emails: list[Annotated[str, Field(max_length=254, pattern=EMAIL)]] = Field(default_factory=list)
    """Addresses subscribed to the governance alerts topic (each must confirm the subscription). At most 254
    characters each, as an address may have."""

    @field_validator("emails")
    @classmethod
    def _listed_once(cls, values: list[str]) -> list[str]:
        return _listed_twice(values, "addresses")


class Deployment(_Strict):
    quarantine: Annotated[Quarantine, Field(strict=False)] = Quarantine.DELETE_ENDPOINT
    """What the deployment guard does to an endpoint that serves a version the gate has not cleared:
    'delete-endpoint' deletes it, 'scale-to-zero' sets the offending variants' traffic weight to 0 (a caller that
    names the variant in InvokeEndpoint's TargetVariant still reaches it: AWS lets TargetVariant override the
    weights, so only 'delete-endpoint' stops every request), 'report' only records and alerts."""
    sweep_schedule: Annotated[str, Field(pattern=SCHEDULE_EXPRESSION)] = "rate(1 hour)"
    """How often every endpoint is traced back to its model versions, besides the checks on each deployment call."""
    capture_sampling_percent: Annotated[int, Field(ge=1, le=100)] = 100
    """Share of requests the deployer's endpoints capture for drift detection; the deployment guard quarantines an
    endpoint that captures less, or not into its project's capture prefix."""
