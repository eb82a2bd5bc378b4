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

import copy
import hashlib
import json
from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, ValidationInfo, field_validator, model_validator

from policies.errors import PolicyError, PolicyIssue
from policies.model.accounts import Accounts, Promotion, Stage
from policies.model.base import (
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
    _not_bool,
    _Strict,
)
from policies.model.projects import DriftSettings, MetricThreshold, MonitoredEndpoint, Project
from policies.model.sections import (
    Approval,
    Audit,
    Classification,
    CustomMetric,
    Deployment,
    Enforcement,
    Notifications,
    Organization,
    Regions,
)
from policies.terms import DriftOnBreach, MonitoringEngine, Quarantine

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
    "Accounts",
    "Approval",
    "Audit",
    "Classification",
    "CustomMetric",
    "Deployment",
    "DriftOnBreach",
    "DriftSettings",
    "Enforcement",
    "GovernancePolicy",
    "MetricRange",
    "MetricThreshold",
    "Mode",
    "MonitoredEndpoint",
    "MonitoringEngine",
    "Notifications",
    "ObjectLockMode",
    "Organization",
    "Project",
    "Promotion",
    "Quarantine",
    "Regions",
    "Remediation",
    "Stage",
]


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
    deployment: Deployment = Field(default_factory=Deployment)
    """How model versions reach endpoints: only through the deployer, only when cleared by the gate."""
    enforcement: Enforcement = Field(default_factory=Enforcement)
    """Whether each run-time rule acts on a violation or only reports it."""
    notifications: Notifications = Field(default_factory=Notifications)
    """Who is told about violations."""
    create_cloudtrail: bool = True
    """Create a multi-Region CloudTrail trail; EventBridge only receives SageMaker API calls that a trail records.
    Set to false when an organization trail already records management events in every watched Region."""
    accounts: Accounts | None = None
    """Many accounts (optional): a governance hub, a workload account per stage, promotion between stages and SCPs
    from the organization (docs/multi-account.md). Absent: everything is deployed in one account."""

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
        return policy_fingerprint(self.model_dump(mode="json"))

    @property
    def version(self) -> str:
        return f"v{self.schema_version}-{self.fingerprint}"


def policy_fingerprint(data: dict[str, Any]) -> str:
    """``GovernancePolicy.fingerprint`` of the policy whose ``model_dump(mode="json")`` is ``data`` (left unchanged)."""
    data = copy.deepcopy(data)
    if not data["allow_no_projects"]:
        del data["allow_no_projects"]
    if not data["approval"]["custom_metrics"]:
        del data["approval"]["custom_metrics"]
    if data["deployment"] == Deployment().model_dump(mode="json"):
        del data["deployment"]
    if data["accounts"] is None:
        del data["accounts"]
    default_monitoring = {"engine": MonitoringEngine.DRIFT_JOB.value, "drift": DriftSettings().model_dump(mode="json")}
    for project in data["projects"]:
        for endpoint in project["endpoints"]:
            if {k: endpoint[k] for k in default_monitoring} == default_monitoring:
                del endpoint["engine"], endpoint["drift"]
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _policy_issues(policy: GovernancePolicy) -> list[PolicyIssue]:
    """Checks across fields, metric ranges and AWS limits on derived names and tags (policies/limits.py)."""
    from policies.limits import limit_issues  # imported here: limits reads the names naming derives from this model

    return limit_issues(policy)
