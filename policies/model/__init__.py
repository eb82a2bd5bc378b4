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

from collections.abc import Mapping
from functools import cached_property
from typing import Annotated, Any, Literal, Self

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
from policies.reading import PolicyReading, policy_fingerprint
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


class GovernancePolicy(_Strict, PolicyReading):
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

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """As pydantic's, but the copy's ``fingerprint`` is its own: pydantic copies a computed one along."""
        copied = super().model_copy(update=update, deep=deep)
        copied.__dict__.pop("fingerprint", None)
        return copied

    @cached_property
    def fingerprint(self) -> str:
        """Content hash of the normalized policy: recorded in every audit record as the policy version.

        Fields added after version 1 of the format count only when set, so a policy that does not
        use them keeps its version.
        """
        return policy_fingerprint(self.model_dump(mode="json"), self._defaults_of)

    def _defaults_of(self, part: str) -> dict[str, Any]:
        """The JSON of the policy part ``part`` with every field at its default (``Deployment``, ``DriftSettings``)."""
        defaults: dict[str, Any] = self._sibling(part)().model_dump(mode="json")
        return defaults


def _policy_issues(policy: GovernancePolicy) -> list[PolicyIssue]:
    """Checks across fields, metric ranges and AWS limits on derived names and tags (policies/limits.py)."""
    from policies.limits import limit_issues  # imported here: limits reads the names naming derives from this model

    return limit_issues(policy)
