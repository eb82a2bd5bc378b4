"""Typed model of the governance policy file.

The policy is parsed once (``policies.loader.load_policy``) and the resulting
``GovernancePolicy`` is what the stacks, the checkov checks, the Lambdas and the
pipelines read. Field docstrings become the JSON Schema descriptions that editors show,
and the loader quotes their first sentence when it refuses a value.

Every model is strict: no bool for a number, no text for a number or a bool, only finite
numbers (an int is still accepted where a float is expected). Enum fields accept their
values, so the YAML file and the packaged ``policy.json`` read the same way.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from types import MappingProxyType
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from policies.errors import PolicyError, PolicyIssue
from policies.regions import DEFAULT_ENABLED_REGIONS, DEFAULT_GLOBAL_SERVICE_ACTIONS, check_global_action, check_region

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


class Regions(_Strict):
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

    @property
    def forwarded(self) -> list[str]:
        """Watched Regions other than home: each gets an EventBridge forwarding rule."""
        return [r for r in self.watched if r != self.home]


class Classification(_Strict):
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

    @property
    def required_for_unattributed(self) -> str:
        return self.unattributed_level or self.levels[-1]

    def rank(self, level: str) -> int:
        """Position of ``level`` in the ordering (0 = least sensitive); -1 if unknown."""
        return self.levels.index(level) if level in self.levels else -1


class MetricThreshold(_Strict):
    minimum: float | None = None
    """Lowest value of the metric a model version may report and still be approved."""
    maximum: float | None = None
    """Highest value of the metric a model version may report and still be approved."""

    @model_validator(mode="after")
    def _bounded(self) -> MetricThreshold:
        if self.minimum is None and self.maximum is None:
            raise ValueError("give a minimum, a maximum, or both")
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise ValueError(f"minimum {self.minimum} is greater than maximum {self.maximum}")
        return self

    def describe(self) -> str:
        parts = []
        if self.minimum is not None:
            parts.append(f">= {self.minimum:g}")
        if self.maximum is not None:
            parts.append(f"<= {self.maximum:g}")
        return " and ".join(parts)

    def admits(self, value: float) -> bool:
        if math.isnan(value):  # NaN never meets a threshold
            return False
        if self.minimum is not None and value < self.minimum:
            return False
        return not (self.maximum is not None and value > self.maximum)


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


class MonitoredEndpoint(_Strict):
    name: Annotated[str, Field(pattern=ENDPOINT_NAME)]
    """Name of the SageMaker endpoint (created by the project's deployment; data capture on)."""
    schedule: str = "cron(0 * ? * * *)"
    """Model Monitor schedule: hourly 'cron(0 * ? * * *)', daily 'cron(0 H ? * * *)' or every N hours 'cron(0 H/N ? * * *)'."""
    instance_type: Annotated[str, Field(pattern=INSTANCE_TYPE)] = "ml.m5.xlarge"
    """Instance type of the monitoring job."""
    max_runtime_seconds: Annotated[int, Field(ge=1, le=3600)] = 3600
    """Seconds a monitoring run may take before SageMaker stops it (at most one hour)."""
    baseline_uri: Annotated[str, Field(pattern=S3_URI)] | None = None
    """S3 prefix holding the baseline constraints.json and statistics.json (from a baselining job)."""

    @field_validator("schedule")
    @classmethod
    def _sagemaker_cron(cls, value: str) -> str:
        if not SAGEMAKER_MONITORING_CRON.match(value):
            raise ValueError(
                f"{value!r} is not a schedule SageMaker Model Monitor accepts; use 'cron(0 * ? * * *)' (hourly), "
                "'cron(0 H ? * * *)' (daily at hour H) or 'cron(0 H/N ? * * *)' (every N hours from hour H)"
            )
        return value


def _metric_names(values: dict[str, object]) -> None:
    for name in values:
        if not re.match(METRIC_NAME, name):
            raise ValueError(f"metric name {name!r} must be lowercase letters, digits and underscores")


class Project(_Strict):
    name: Annotated[str, Field(pattern=SLUG, min_length=2, max_length=40)]
    """Project name; also the name of its model package group."""
    owner_team: Annotated[str, Field(min_length=1, max_length=128)]
    """Team that owns the project's models (the owner-team tag on its resources)."""
    classification: str
    """Data-classification level of the project's data and models; one of classification.levels."""
    metric_thresholds: dict[str, MetricThreshold] = Field(default_factory=dict)
    """Metric bounds a model version must meet to be approved (added to approval.metric_minimums)."""
    endpoints: list[MonitoredEndpoint] = Field(default_factory=list)
    """Endpoints to monitor with SageMaker Model Monitor."""

    @field_validator("owner_team")
    @classmethod
    def _team_tag_value(cls, value: str) -> str:
        return _check_tag_text(value, "owner_team", 128)

    @field_validator("metric_thresholds")
    @classmethod
    def _metric_names(cls, values: dict[str, MetricThreshold]) -> dict[str, MetricThreshold]:
        _metric_names(dict(values))
        return values


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
    emails: list[Annotated[str, Field(pattern=EMAIL)]] = Field(default_factory=list)
    """Addresses subscribed to the governance alerts topic (each must confirm the subscription)."""

    @field_validator("emails")
    @classmethod
    def _listed_once(cls, values: list[str]) -> list[str]:
        return _listed_twice(values, "addresses")


class GovernancePolicy(_Strict):
    """The governance policy: the single source of truth for every enforcement point."""

    schema_version: Annotated[Literal[1], BeforeValidator(_not_bool)] = 1
    """Version of the policy file format; 1 is the only one."""
    organization: Organization
    """Who the blueprint is deployed for: resource name prefix and standard tags."""
    regions: Regions
    """Where the blueprint runs and where ML workloads may run."""
    classification: Classification
    """Data-classification levels and how they are enforced."""
    allow_no_projects: bool = False
    """Set to true to deploy the platform (keys, buckets, boundary, trail, enforcement) before any project exists.
    Every SageMaker resource is then unattributed and must carry classification.unattributed_level.
    Without it an empty projects list is refused."""
    projects: list[Project] = Field(default_factory=list, validate_default=True)
    """The governed ML projects: one model package group, execution role and monitoring each."""
    approval: Approval = Field(default_factory=Approval)
    """What a model version needs before it may be approved."""
    audit: Audit = Field(default_factory=Audit)
    """How long and how strictly audit records are kept."""
    enforcement: Enforcement = Field(default_factory=Enforcement)
    """Whether each run-time rule acts on a violation or only reports it."""
    notifications: Notifications = Field(default_factory=Notifications)
    """Who is told about violations."""
    create_cloudtrail: bool = True
    """Create a multi-Region CloudTrail trail; EventBridge only receives SageMaker API calls that a trail records.
    Set to false when an organization trail already records management events in every watched Region."""

    @field_validator("projects")
    @classmethod
    def _something_governed(cls, values: list[Project], info: ValidationInfo) -> list[Project]:
        if not values and not info.data.get("allow_no_projects", False):
            raise ValueError(
                "no project is governed: add at least one project (name, owner_team, classification) under projects, "
                "or set allow_no_projects: true to deploy the platform before any project exists"
            )
        return values

    @model_validator(mode="after")
    def _cross_field(self) -> GovernancePolicy:
        issues = _policy_issues(self)
        if issues:
            raise PolicyError(issues)
        return self

    # ---- derived views used by every enforcement point ---------------------------------
    def metric_range(self, name: str) -> MetricRange | None:
        """Values ``name`` can take: a governed metric's, or the declared custom metric's; None if unknown."""
        if name in KNOWN_METRICS:
            return KNOWN_METRICS[name]
        custom = self.approval.custom_metrics.get(name)
        return None if custom is None else MetricRange(custom.minimum_value, custom.maximum_value)

    def project(self, name: str) -> Project | None:
        return next((p for p in self.projects if p.name == name), None)

    def approval_requirements(self, project: Project) -> dict[str, MetricThreshold]:
        """Metric bounds a model version of ``project`` must meet: the organization floor merged with the project's own."""
        merged = {name: MetricThreshold(minimum=floor) for name, floor in self.approval.metric_minimums.items()}
        for name, threshold in project.metric_thresholds.items():
            floor = merged.get(name)
            minimum = threshold.minimum
            if floor is not None and floor.minimum is not None:
                minimum = floor.minimum if minimum is None else max(minimum, floor.minimum)
            merged[name] = MetricThreshold(minimum=minimum, maximum=threshold.maximum)
        return dict(sorted(merged.items()))

    @property
    def platform_classification(self) -> str:
        """Level of shared platform resources (lineage, audit): the most sensitive level of any governed project."""
        ranks = [self.classification.rank(p.classification) for p in self.projects]
        return self.classification.levels[max(ranks)] if ranks else self.classification.levels[-1]

    def standard_tags(self) -> dict[str, str]:
        """Tags on every resource: the organization's standard tags plus the platform classification."""
        return {**self.organization.standard_tags, self.classification.tag_key: self.platform_classification}

    def project_tags(self, project: Project) -> dict[str, str]:
        return {
            **self.organization.standard_tags,
            self.classification.tag_key: project.classification,
            PROJECT_TAG_KEY: project.name,
            OWNER_TAG_KEY: project.owner_team,
        }

    @cached_property
    def fingerprint(self) -> str:
        """Content hash of the normalized policy: recorded in every audit record as the policy version.

        Fields added after version 1 of the format count only when set, so a policy that does not
        use them keeps its version.
        """
        data = self.model_dump(mode="json")
        if not data["allow_no_projects"]:
            del data["allow_no_projects"]
        if not data["approval"]["custom_metrics"]:
            del data["approval"]["custom_metrics"]
        canonical = json.dumps(data, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    @property
    def version(self) -> str:
        return f"v{self.schema_version}-{self.fingerprint}"


def _policy_issues(policy: GovernancePolicy) -> list[PolicyIssue]:
    """Checks across fields, metric ranges and AWS limits on derived names and tags (policies/limits.py)."""
    from policies.limits import limit_issues  # imported here: limits reads the names naming derives from this model

    return limit_issues(policy)
