"""The organization's rules for infrastructure, as pure functions over a Terraform resource body.

Each rule takes the policy, the resource type and the resource's body as it appears in the
synthesized Terraform JSON, and returns a Finding: passed, failed (with the reason) or not
applicable. The custom checkov checks in ``review/checkov/`` are adapters around these;
``tests/review/test_infrastructure_rules.py`` runs them on synthesized stacks directly.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from policies.model import PROJECT_TAG_KEY, GovernancePolicy
from policies.naming import BOUNDARY_CONSTRUCT_ID, ENFORCEMENT_BOUNDARY_CONSTRUCT_ID, Names
from policies.rules.classification import classification_problem


class Outcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    NOT_APPLICABLE = "not-applicable"


@dataclass(frozen=True)
class Finding:
    outcome: Outcome
    reason: str = ""


PASSED = Finding(Outcome.PASSED)
NOT_APPLICABLE = Finding(Outcome.NOT_APPLICABLE)


def failed(reason: str) -> Finding:
    return Finding(Outcome.FAILED, reason)


Body = Mapping[str, Any]
Rule = Callable[[GovernancePolicy, str, Body], Finding]

# SageMaker resources the blueprint governs (those that carry tags).
GOVERNED_SAGEMAKER_TYPES: tuple[str, ...] = (
    "aws_sagemaker_model_package_group",
    "aws_sagemaker_data_quality_job_definition",
    "aws_sagemaker_monitoring_schedule",
    "aws_sagemaker_model",
    "aws_sagemaker_endpoint",
    "aws_sagemaker_endpoint_configuration",
    "aws_sagemaker_pipeline",
    "aws_sagemaker_model_card",
)
EVENT_FORWARDING_TYPES: tuple[str, ...] = ("aws_cloudwatch_event_rule", "aws_cloudwatch_event_target")
IAM_POLICY_TYPES: tuple[str, ...] = ("aws_iam_policy", "aws_iam_role_policy")
AWS_MANAGED_KEY = re.compile(r"(^|:)alias/aws/")


def _names(policy: GovernancePolicy) -> Names:
    """Names of the policy's resources in any account: synthesized JSON refers to the account by interpolation."""
    return Names(policy, account="*")


def _first(value: Any) -> Any:
    """Terraform JSON allows a nested block as an object or as a list of one object."""
    if isinstance(value, list):
        return value[0] if value else None
    return value


# ---- classification ------------------------------------------------------------------------------
def classification_tag(policy: GovernancePolicy, resource_type: str, body: Body) -> Finding:
    if resource_type not in GOVERNED_SAGEMAKER_TYPES:
        return NOT_APPLICABLE
    raw = body.get("tags")
    tags = {str(k): str(v) for k, v in raw.items()} if isinstance(raw, Mapping) else {}
    project = policy.project(tags.get(PROJECT_TAG_KEY, ""))
    problem = classification_problem(
        policy,
        tags,
        required=project.classification if project else None,
        subject="the resource",  # provider default tags do not count: checkov does not apply them
        because=f"project {project.name}" if project else "",
    )
    return failed(problem) if problem else PASSED


# ---- customer-managed keys -----------------------------------------------------------------------
def _is_customer_managed(key: Any) -> bool:
    return isinstance(key, str) and bool(key.strip()) and not AWS_MANAGED_KEY.search(key)


def customer_managed_keys(policy: GovernancePolicy, resource_type: str, body: Body) -> Finding:
    if resource_type == "aws_s3_bucket_server_side_encryption_configuration":
        rules = body.get("rule") or []
        for rule in rules if isinstance(rules, list) else [rules]:
            default = _first(rule.get("apply_server_side_encryption_by_default")) or {}
            algorithm, key = default.get("sse_algorithm"), default.get("kms_master_key_id")
            if algorithm not in ("aws:kms", "aws:kms:dsse"):
                return failed(f"default encryption is {algorithm!r}, not SSE-KMS with a customer-managed key")
            if not _is_customer_managed(key):
                return failed(f"kms_master_key_id {key!r} is not a customer-managed key")
        return PASSED if rules else failed("no default encryption rule")
    if resource_type == "aws_sagemaker_data_quality_job_definition":
        output = _first(body.get("data_quality_job_output_config")) or {}
        cluster = _first((_first(body.get("job_resources")) or {}).get("cluster_config")) or {}
        missing = [
            name
            for name, key in (
                ("output kms_key_id", output.get("kms_key_id")),
                ("volume_kms_key_id", cluster.get("volume_kms_key_id")),
            )
            if not _is_customer_managed(key)
        ]
        return failed(f"no customer-managed key for {', '.join(missing)}") if missing else PASSED
    if resource_type in ("aws_sagemaker_endpoint_configuration", "aws_sagemaker_notebook_instance", "aws_sagemaker_domain"):
        key = body.get("kms_key_arn") or body.get("kms_key_id")
        return PASSED if _is_customer_managed(key) else failed("no customer-managed key (kms_key_arn / kms_key_id)")
    return NOT_APPLICABLE


# ---- identity ------------------------------------------------------------------------------------
def permissions_boundary(policy: GovernancePolicy, resource_type: str, body: Body) -> Finding:
    if resource_type != "aws_iam_role":
        return NOT_APPLICABLE
    boundary = str(body.get("permissions_boundary") or "")
    names = _names(policy)
    expected = (names.boundary_policy, names.enforcement_boundary_policy)
    if not boundary:
        return failed("the role has no permissions boundary")
    by_name = any(boundary.endswith(f":policy/{name}") for name in expected)
    by_reference = any(f"aws_iam_policy.{cid}." in boundary for cid in (BOUNDARY_CONSTRUCT_ID, ENFORCEMENT_BOUNDARY_CONSTRUCT_ID))
    if not (by_name or by_reference):
        return failed(f"the role's boundary {boundary!r} is not one of the organization's ({', '.join(expected)})")
    return PASSED


def _statements(document: Any) -> list[Mapping[str, Any]]:
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            return []
    if not isinstance(document, Mapping):
        return []
    statements = document.get("Statement", [])
    return [s for s in (statements if isinstance(statements, list) else [statements]) if isinstance(s, Mapping)]


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in (value if isinstance(value, list) else [value])]


PASS_ROLE = re.compile(r"^(\*|iam:\*|iam:Pass\*|iam:PassRole)$", re.IGNORECASE)


def no_wildcard_grants(policy: GovernancePolicy, resource_type: str, body: Body) -> Finding:
    if resource_type not in IAM_POLICY_TYPES:
        return NOT_APPLICABLE
    problems = []
    for statement in _statements(body.get("policy")):
        if statement.get("Effect") != "Allow":
            continue
        sid = statement.get("Sid", "(no Sid)")
        actions = _as_list(statement.get("Action"))
        resources = _as_list(statement.get("Resource"))
        if "NotAction" in statement:
            problems.append(f"{sid} allows everything except NotAction")
        if "*" in actions:
            problems.append(f"{sid} allows every action ('*')")
        if "*" in resources and any(PASS_ROLE.match(a) for a in actions):
            problems.append(f"{sid} allows iam:PassRole on every role ('*')")
    return failed("; ".join(problems)) if problems else PASSED


# ---- Regions -------------------------------------------------------------------------------------
def provider_region(policy: GovernancePolicy, provider: Body) -> Finding:
    """The unaliased AWS provider is pinned to the home Region; aliases are allowed or watched Regions."""
    region = provider.get("region")
    if "alias" not in provider:
        if region != policy.regions.home:
            return failed(f"the default AWS provider targets {region!r}, not the home Region {policy.regions.home}")
        return PASSED
    if region in policy.regions.allowed:
        return PASSED
    if region in policy.regions.watched:
        return PASSED  # event forwarding only; resources on it are checked by resource_region
    return failed(f"provider alias {provider.get('alias')!r} targets {region!r}, outside the allowed and watched Regions")


def resource_region(policy: GovernancePolicy, resource_type: str, body: Body, regions_by_alias: Mapping[str, str]) -> Finding:
    """Resources stay in allowed Regions; EventBridge forwarding rules may also live in watched Regions."""
    provider = body.get("provider")
    if not provider:
        return PASSED  # the default provider, pinned to the home Region
    alias = str(provider).removeprefix("aws.")
    region = regions_by_alias.get(alias, alias)
    if region in policy.regions.allowed:
        return PASSED
    if region in policy.regions.watched and resource_type in EVENT_FORWARDING_TYPES:
        return PASSED
    return failed(
        f"{resource_type} is created in {region!r}, outside the policy's allowed Regions ({', '.join(policy.regions.allowed)})"
    )


# ---- audit trail ---------------------------------------------------------------------------------
def audit_object_lock(policy: GovernancePolicy, resource_type: str, body: Body) -> Finding:
    if resource_type == "aws_s3_bucket":
        if not _names(policy).is_bucket("audit", str(body.get("bucket", ""))):
            return NOT_APPLICABLE
        return PASSED if body.get("object_lock_enabled") is True else failed("the audit bucket is created without Object Lock")
    if resource_type == "aws_s3_bucket_object_lock_configuration":
        retention = _first((_first(body.get("rule")) or {}).get("default_retention")) or {}
        years = retention.get("years") or 0
        days = retention.get("days") or 0
        wanted = policy.audit.retention_years
        if max(float(years), float(days) / 365) < wanted:
            return failed(
                f"default retention is {years or days} {'years' if years else 'days'}, the policy requires {wanted} years"
            )
        if retention.get("mode") != policy.audit.object_lock_mode.value:
            return failed(
                f"Object Lock mode {retention.get('mode')!r}, the policy requires {policy.audit.object_lock_mode.value}"
            )
        return PASSED
    return NOT_APPLICABLE


RESOURCE_RULES: dict[str, Rule] = {
    "classification-tag": classification_tag,
    "customer-managed-keys": customer_managed_keys,
    "permissions-boundary": permissions_boundary,
    "no-wildcard-grants": no_wildcard_grants,
    "audit-object-lock": audit_object_lock,
}
