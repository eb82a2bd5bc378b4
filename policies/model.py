"""Typed model of the governance policy file.

The policy is parsed once (``policies.loader.load_policy``) and the resulting
``GovernancePolicy`` is what the stacks, the checkov checks, the Lambdas and the
pipelines read. Field docstrings become the JSON Schema descriptions that editors show.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from enum import StrEnum
from functools import cached_property
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from policies.errors import Loc, PolicyError, PolicyIssue, format_loc
from policies.regions import AWS_REGIONS, DEFAULT_ENABLED_REGIONS, DEFAULT_GLOBAL_SERVICE_ACTIONS

SLUG = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"
METRIC_NAME = r"^[a-z][a-z0-9_]*$"
# SageMaker accepts only these schedule shapes for monitoring schedules:
# hourly "cron(0 * ? * * *)", daily at hour H "cron(0 H ? * * *)", every N hours "cron(0 H/N ? * * *)".
SAGEMAKER_MONITORING_CRON = re.compile(r"^cron\(0 (\*|(0?\d|1\d|2[0-3])(/([1-9]|1\d|2[0-4]))?) \? \* \* \*\)$")
PROJECT_TAG_KEY = "ml-project"
OWNER_TAG_KEY = "owner-team"
TAG_TEXT = re.compile(r"^[\w .:/=+\-@]*$", re.UNICODE)


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
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True, use_attribute_docstrings=True)


def _check_region(value: str) -> str:
    if value not in AWS_REGIONS:
        close = sorted(r for r in AWS_REGIONS if r.split("-")[0] == value.split("-", maxsplit=1)[0])
        hint = f"; Regions with that prefix: {', '.join(close)}" if close else ""
        raise ValueError(f"{value!r} is not an AWS Region name (commercial partition){hint}")
    return value


def _check_tag_text(value: str, what: str, max_len: int) -> str:
    if not value or len(value) > max_len:
        raise ValueError(f"{what} must be 1 to {max_len} characters, got {len(value)}")
    if value.lower().startswith("aws:"):
        raise ValueError(f"{what} {value!r} uses the reserved 'aws:' prefix")
    if not TAG_TEXT.match(value):
        raise ValueError(f"{what} {value!r} has characters AWS tags do not allow (letters, digits, spaces and _ . : / = + - @)")
    return value


RegionName = Annotated[str, AfterValidator(_check_region)]


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
    watched: list[RegionName] = Field(default_factory=lambda: list(DEFAULT_ENABLED_REGIONS))
    """Regions whose SageMaker API calls are forwarded to the home Region for enforcement.
    Defaults to every Region enabled by default in an account; add opt-in Regions you enabled."""
    global_service_actions: list[str] = Field(default_factory=lambda: list(DEFAULT_GLOBAL_SERVICE_ACTIONS))
    """Actions of global services exempt from the Region restriction (they are served from us-east-1)."""

    @field_validator("allowed", "watched")
    @classmethod
    def _regions_unique(cls, values: list[str]) -> list[str]:
        dupes = sorted({v for v in values if values.count(v) > 1})
        if dupes:
            raise ValueError(f"Regions listed twice: {', '.join(dupes)}")
        return values

    @field_validator("global_service_actions")
    @classmethod
    def _actions_shape(cls, values: list[str]) -> list[str]:
        for value in values:
            if not re.match(r"^[a-z0-9-]+:[A-Za-z0-9*]+$", value):
                raise ValueError(f"{value!r} is not an IAM action pattern like 'iam:*'")
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
    remediation: Remediation = Remediation.TAG
    """For jobs that violate the rule in enforce mode: 'tag' applies the required level, 'stop' stops the job."""

    @field_validator("tag_key")
    @classmethod
    def _key_valid(cls, value: str) -> str:
        return _check_tag_text(value, "tag key", 128)

    @field_validator("levels")
    @classmethod
    def _levels_valid(cls, values: list[str]) -> list[str]:
        for value in values:
            _check_tag_text(value, "level", 256)
        dupes = sorted({v for v in values if values.count(v) > 1})
        if dupes:
            raise ValueError(f"levels listed twice: {', '.join(dupes)}")
        return values

    @property
    def required_for_unattributed(self) -> str:
        return self.unattributed_level or self.levels[-1]

    def rank(self, level: str) -> int:
        """Position of ``level`` in the ordering (0 = least sensitive); -1 if unknown."""
        return self.levels.index(level) if level in self.levels else -1


class MetricThreshold(_Strict):
    minimum: float | None = None
    maximum: float | None = None

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


class MonitoredEndpoint(_Strict):
    name: Annotated[str, Field(pattern=r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")]
    """Name of the SageMaker endpoint (created by the project's deployment; data capture on)."""
    schedule: str = "cron(0 * ? * * *)"
    """Model Monitor schedule: hourly 'cron(0 * ? * * *)', daily 'cron(0 H ? * * *)' or every N hours 'cron(0 H/N ? * * *)'."""
    instance_type: Annotated[str, Field(pattern=r"^ml\.[a-z0-9]+\.[a-z0-9]+$")] = "ml.m5.xlarge"
    max_runtime_seconds: Annotated[int, Field(ge=1, le=3600)] = 3600
    baseline_uri: Annotated[str, Field(pattern=r"^s3://[a-z0-9.\-]{3,63}/.*$")] | None = None
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


class Project(_Strict):
    name: Annotated[str, Field(pattern=SLUG, min_length=2, max_length=40)]
    """Project name; also the name of its model package group."""
    owner_team: Annotated[str, Field(min_length=1, max_length=128)]
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
        for name in values:
            if not re.match(METRIC_NAME, name):
                raise ValueError(f"metric name {name!r} must be lowercase letters, digits and underscores")
        return values


class Approval(_Strict):
    separation_of_duties: bool = True
    """The identity that approves a model version must differ from the one that registered it."""
    require_lineage_evidence: bool = True
    """A model version must name its training data in the lineage bucket, and that object must exist."""
    metric_minimums: dict[str, float] = Field(default_factory=dict)
    """Organization-wide floor for metrics every project must report (higher is better)."""

    @field_validator("metric_minimums")
    @classmethod
    def _metric_names(cls, values: dict[str, float]) -> dict[str, float]:
        for name in values:
            if not re.match(METRIC_NAME, name):
                raise ValueError(f"metric name {name!r} must be lowercase letters, digits and underscores")
        return values


class Audit(_Strict):
    retention_years: Annotated[int, Field(ge=1, le=100)] = 7
    """Years each audit record is locked against deletion (S3 Object Lock default retention)."""
    object_lock_mode: ObjectLockMode = ObjectLockMode.COMPLIANCE
    """COMPLIANCE: nobody, root included, can shorten retention. GOVERNANCE: privileged users can."""


class Enforcement(_Strict):
    approval_gate: Mode = Mode.ENFORCE
    data_classification: Mode = Mode.ENFORCE
    region_restriction: Mode = Mode.ENFORCE


class Notifications(_Strict):
    emails: list[Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]] = Field(default_factory=list)
    """Addresses subscribed to the governance alerts topic (each must confirm the subscription)."""


class GovernancePolicy(_Strict):
    """The governance policy: the single source of truth for every enforcement point."""

    schema_version: Literal[1] = 1
    organization: Organization
    regions: Regions
    classification: Classification
    projects: list[Project] = Field(default_factory=list)
    approval: Approval = Field(default_factory=Approval)
    audit: Audit = Field(default_factory=Audit)
    enforcement: Enforcement = Field(default_factory=Enforcement)
    notifications: Notifications = Field(default_factory=Notifications)
    create_cloudtrail: bool = True
    """Create a multi-Region CloudTrail trail; EventBridge only receives SageMaker API calls that a trail records.
    Set to false when an organization trail already records management events in every watched Region."""

    @model_validator(mode="after")
    def _cross_field(self) -> GovernancePolicy:
        issues = list(self._cross_field_issues())
        if issues:
            raise PolicyError(issues)
        return self

    def _cross_field_issues(self) -> list[PolicyIssue]:
        issues: list[PolicyIssue] = []
        levels = self.classification.levels
        if self.regions.home not in self.regions.allowed:
            issues.append(
                PolicyIssue(
                    ("regions", "home"),
                    f"home Region {self.regions.home!r} is not in regions.allowed ({', '.join(self.regions.allowed)}); add it there or pick one of them",
                )
            )
        unattributed = self.classification.unattributed_level
        if unattributed is not None and unattributed not in levels:
            issues.append(
                PolicyIssue(
                    ("classification", "unattributed_level"),
                    f"{unattributed!r} is not a classification level; allowed: {', '.join(levels)}",
                )
            )
        seen_projects: dict[str, int] = {}
        seen_endpoints: dict[str, Loc] = {}
        for i, project in enumerate(self.projects):
            loc: Loc = ("projects", i)
            if project.name in seen_projects:
                issues.append(
                    PolicyIssue(
                        loc + ("name",),
                        f"duplicate project {project.name!r} (also projects[{seen_projects[project.name]}]); project names must be unique",
                    )
                )
            seen_projects.setdefault(project.name, i)
            if project.classification not in levels:
                issues.append(
                    PolicyIssue(
                        loc + ("classification",),
                        f"{project.classification!r} is not a classification level; allowed: {', '.join(levels)} (classification.levels)",
                    )
                )
            for metric, threshold in project.metric_thresholds.items():
                floor = self.approval.metric_minimums.get(metric)
                if floor is None:
                    continue
                if threshold.minimum is None:
                    issues.append(
                        PolicyIssue(
                            loc + ("metric_thresholds", metric),
                            f"approval.metric_minimums sets a minimum of {floor:g} for {metric!r}; give this project a minimum too (>= {floor:g})",
                        )
                    )
                elif threshold.minimum < floor:
                    issues.append(
                        PolicyIssue(
                            loc + ("metric_thresholds", metric, "minimum"),
                            f"{threshold.minimum:g} is below the organization minimum {floor:g} (approval.metric_minimums.{metric}); raise it or remove it to inherit {floor:g}",
                        )
                    )
            for j, endpoint in enumerate(project.endpoints):
                if endpoint.name in seen_endpoints:
                    issues.append(
                        PolicyIssue(
                            loc + ("endpoints", j, "name"),
                            f"endpoint {endpoint.name!r} is already monitored at {format_loc(seen_endpoints[endpoint.name])}",
                        )
                    )
                seen_endpoints.setdefault(endpoint.name, loc + ("endpoints", j, "name"))
        return issues

    # ---- derived views used by every enforcement point ---------------------------------
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
        """Content hash of the normalized policy: recorded in every audit record as the policy version."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    @property
    def version(self) -> str:
        return f"v{self.schema_version}-{self.fingerprint}"
