"""The permissions boundaries: the ceiling of what a governed role may ever do, and the guardrails no role crosses.

Two boundaries share one set of guardrails (``governance_guardrails``), which the multi-account
service control policies reuse:

- the **ML boundary** on people, project execution roles and the deployer: ML platform services,
  only in the allowed Regions, deployment only by the deployer, approval only by approvers;
- the **enforcement boundary** on the enforcement handlers: exactly the actions the handler table
  declares, in every Region (SageMaker work outside the allowed Regions is what they stop), and never
  setting a model version to Approved.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from iam.documents import Document, document, statement
from policies.errors import PolicyError, PolicyIssue
from policies.naming import (
    APPROVAL_GATE,
    BOUNDARY_REMOVAL_ALARM,
    DRIFT_MONITOR,
    TAMPER_ALARMS,
    TRAIL_TAMPERING_ALARM,
    Names,
)

# The ceiling of what any governed principal may ever do: ML platform services only.
# A boundary grants nothing by itself; each role's own policy grants the narrow subset.
BOUNDARY_SERVICE_CEILING: tuple[str, ...] = (
    "application-autoscaling:*",
    "cloudtrail:Describe*",
    "cloudtrail:Get*",
    "cloudtrail:LookupEvents",
    "cloudwatch:*",
    "dynamodb:*",
    "ecr:*",
    "events:*",
    "iam:Get*",
    "iam:List*",
    "kms:*",
    "lambda:GetFunction",
    "lambda:InvokeFunction",
    "lambda:ListFunctions",
    "logs:*",
    "s3:*",
    "sagemaker:*",
    "sns:*",
    "sqs:*",
    "sts:*",
    "xray:*",
)

APPROVAL_STATUS_KEY = "sagemaker:ModelApprovalStatus"
# Denied to every role by the boundaries; the audit trail also alarms on any attempt.
BOUNDARY_REMOVAL_ACTIONS: tuple[str, ...] = ("iam:DeleteRolePermissionsBoundary", "iam:DeleteUserPermissionsBoundary")
BOUNDARY_TAMPERING_ACTIONS: tuple[str, ...] = (
    "iam:CreatePolicyVersion",
    "iam:DeletePolicy",
    "iam:DeletePolicyVersion",
    "iam:SetDefaultPolicyVersion",
)
TRAIL_TAMPERING_ACTIONS: tuple[str, ...] = (
    "cloudtrail:DeleteTrail",
    "cloudtrail:PutEventSelectors",
    "cloudtrail:StopLogging",
    "cloudtrail:UpdateTrail",
)
GOVERNANCE_BUCKET_TAMPERING_ACTIONS: tuple[str, ...] = (
    "s3:DeleteBucketPolicy",
    "s3:PutBucketObjectLockConfiguration",
    "s3:PutBucketPolicy",
    "s3:PutBucketVersioning",
    "s3:PutEncryptionConfiguration",
    "s3:PutLifecycleConfiguration",
)
AUDIT_RECORD_TAMPERING_ACTIONS: tuple[str, ...] = (
    "s3:BypassGovernanceRetention",
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:PutObjectLegalHold",
    "s3:PutObjectRetention",
)
RULE_TAMPERING_ACTIONS: tuple[str, ...] = (
    "events:DeleteRule",
    "events:DisableRule",
    "events:PutRule",
    "events:PutTargets",
    "events:RemoveTargets",
)
FUNCTION_TAMPERING_ACTIONS: tuple[str, ...] = (
    "lambda:AddPermission",
    "lambda:DeleteFunction",
    "lambda:DeleteFunctionConcurrency",
    "lambda:PutFunctionConcurrency",
    "lambda:RemovePermission",
    "lambda:UpdateFunctionCode",
    "lambda:UpdateFunctionConfiguration",
    "lambda:*EventInvoke*",  # retries and event age (0 retries, 60 s: events dropped), where failures go
)
SCHEDULE_TAMPERING_ACTIONS: tuple[str, ...] = (
    "scheduler:DeleteSchedule",
    "scheduler:DeleteScheduleGroup",
    "scheduler:UpdateSchedule",
)
QUEUE_TAMPERING_ACTIONS: tuple[str, ...] = ("sqs:DeleteQueue", "sqs:PurgeQueue", "sqs:SetQueueAttributes")
KEY_TAMPERING_ACTIONS: tuple[str, ...] = (
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:PutKeyPolicy",
    "kms:Re*Grant",  # RetireGrant, RevokeGrant: a service's grant (the table's, a queue's) gone, it cannot use the key
    "kms:ScheduleKeyDeletion",
)
# A governance key is known by its alias (the deny above, the tamper watch): removing or repointing the alias is the
# first step of tampering with the key unseen, and creating one of its names could stand another key in for it.
KEY_ALIAS_TAMPERING_ACTIONS: tuple[str, ...] = ("kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias")
# The trail's alarms (named <org>-<alarm>): alarm -> (what it means, the actions it watches, which the boundary denies).
TAMPERING_ALARMS: dict[str, tuple[str, tuple[str, ...]]] = {
    TRAIL_TAMPERING_ALARM: ("Someone tried to stop, delete or change the governance trail", TRAIL_TAMPERING_ACTIONS),
    BOUNDARY_REMOVAL_ALARM: ("Someone tried to remove a permissions boundary from a role or user", BOUNDARY_REMOVAL_ACTIONS),
}
assert tuple(TAMPERING_ALARMS) == TAMPER_ALARMS, "policies/naming.py names the tamper alarms"
# Calls that put a model behind an endpoint: only the deployer makes them (IAM cannot tie them to an approval).
DEPLOYMENT_ACTIONS: tuple[str, ...] = (
    "sagemaker:CreateEndpoint",
    "sagemaker:CreateEndpointConfig",
    "sagemaker:CreateInferenceComponent",
    "sagemaker:CreateModel",
    "sagemaker:UpdateEndpoint",
    "sagemaker:UpdateEndpointWeightsAndCapacities",
    "sagemaker:UpdateInferenceComponent",
)


def approver_principals(names: Names) -> list[str]:
    """Principals allowed to change a model version's approval status: the approver; the approval gate and the drift
    monitor (to Rejected or PendingManualApproval only: the enforcement boundary denies them Approved)."""
    return [
        names.role_arn(names.persona_role("model-approver")),
        names.role_arn(names.handler_role(APPROVAL_GATE)),
        names.role_arn(names.handler_role(DRIFT_MONITOR)),
    ]


def boundary_arns(names: Names) -> list[str]:
    return [names.boundary_policy_arn, names.enforcement_boundary_policy_arn]


def governance_guardrails(names: Names, handlers: Sequence[str]) -> list[dict[str, Any]]:
    """Deny statements that keep governance on: no role may drop a boundary, stop the trail, change the
    governance buckets, keys, enforcement rules, functions and queues, or touch a written audit record.

    The resources are named in any partition and account (``arn:*:events:*:*:rule/acme-approval-gate``): a boundary
    only bounds principals of its own account, so the deny is the same, and the boundary stays within IAM's 6,144
    characters for a managed policy (``MANAGED_POLICY_MAX_CHARS``).
    """
    exact, names = names, replace(names, partition="*", account="*")
    partition, account = names.partition, names.account
    return [
        statement(
            "DenyPrincipalsWithoutBoundary",
            ["iam:CreateRole", "iam:CreateUser", "iam:PutRolePermissionsBoundary", "iam:PutUserPermissionsBoundary"],
            "*",
            effect="Deny",
            condition={"StringNotEquals": {"iam:PermissionsBoundary": boundary_arns(exact)}},
        ),
        statement("DenyBoundaryRemoval", BOUNDARY_REMOVAL_ACTIONS, "*", effect="Deny"),
        statement("DenyBoundaryTampering", BOUNDARY_TAMPERING_ACTIONS, boundary_arns(names), effect="Deny"),
        statement(
            "DenyGovernanceTampering",
            GOVERNANCE_BUCKET_TAMPERING_ACTIONS,
            [names.bucket_arn(names.audit_bucket), names.bucket_arn(names.lineage_bucket)],
            effect="Deny",
        ),
        statement(
            "DenyAuditRecordTampering", AUDIT_RECORD_TAMPERING_ACTIONS, f"{names.bucket_arn(names.audit_bucket)}/*", effect="Deny"
        ),
        statement(
            "DenyAuditTrailTampering",
            TRAIL_TAMPERING_ACTIONS,
            f"arn:{partition}:cloudtrail:*:{account}:trail/{names.trail}",
            effect="Deny",
        ),
        statement(
            "DenyEnforcementTampering",
            [*RULE_TAMPERING_ACTIONS, *FUNCTION_TAMPERING_ACTIONS, *QUEUE_TAMPERING_ACTIONS],
            [
                # the handler's rule and its schedule rule (``handler_schedule_rule``), with one name each
                *(f"arn:{partition}:events:*:{account}:rule/{names.handler_rule(h)}*" for h in handlers),
                f"arn:{partition}:events:*:{account}:rule/{names.forwarding_rule_prefix}*",
                *(f"arn:{partition}:lambda:*:{account}:function:{names.handler_function(h)}" for h in handlers),
                # by name: a pattern would reach other teams' <org>-...-dlq queues through the organization's SCPs
                *(f"arn:{partition}:sqs:*:{account}:{names.dead_letter_queue(h)}" for h in handlers),
            ],
            effect="Deny",
        ),
        statement(
            "DenyDriftScheduleTampering",
            SCHEDULE_TAMPERING_ACTIONS,
            [
                f"arn:{partition}:scheduler:*:{account}:schedule-group/{names.drift_schedule_group}",
                f"arn:{partition}:scheduler:*:{account}:schedule/{names.drift_schedule_group}/*",
            ],
            effect="Deny",
        ),
        statement(
            "DenyGovernanceKeyTampering",
            KEY_TAMPERING_ACTIONS,
            "*",
            effect="Deny",
            condition={"ForAnyValue:StringLike": {"kms:ResourceAliases": names.key_alias_pattern}},
        ),
        statement(
            "DenyGovernanceKeyAliasTampering",
            KEY_ALIAS_TAMPERING_ACTIONS,
            f"arn:{partition}:kms:*:{account}:{names.key_alias_pattern}",
            effect="Deny",
        ),
        statement(
            "DenyRegisteringPreApprovedModels",
            ["sagemaker:CreateModelPackage"],
            "*",
            effect="Deny",
            condition={"StringEquals": {APPROVAL_STATUS_KEY: "Approved"}},
        ),
    ]


def permissions_boundary(names: Names, handlers: Sequence[str]) -> Document:
    """The ML boundary: people, project execution roles, the deployer."""
    policy = names.policy
    return document(
        statement("MlPlatformServicesCeiling", BOUNDARY_SERVICE_CEILING, "*"),
        statement(
            "PassOnlyOrganizationRoles", ["iam:PassRole"], f"arn:{names.partition}:iam::{names.account}:role/{names.org}-*"
        ),
        {
            "Sid": "DenyOutsideAllowedRegions",
            "Effect": "Deny",
            "NotAction": sorted(policy.regions.global_service_actions),
            "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:RequestedRegion": list(policy.regions.allowed)}},
        },
        *governance_guardrails(names, handlers),
        statement(
            "DenyApprovalStatusChangeByNonApprovers",
            ["sagemaker:UpdateModelPackage"],
            "*",
            effect="Deny",
            condition={
                "Null": {APPROVAL_STATUS_KEY: "false"},
                "ArnNotEquals": {"aws:PrincipalArn": approver_principals(names)},
            },
        ),
        statement(
            "DenyDeploymentExceptByTheDeployer",
            DEPLOYMENT_ACTIONS,
            "*",
            effect="Deny",
            condition={"ArnNotEquals": {"aws:PrincipalArn": names.role_arn(names.deployer_role)}},
        ),
    )


def enforcement_boundary(names: Names, handlers: Sequence[str], ceiling: Sequence[str]) -> Document:
    """The enforcement boundary: the handler table's actions (``ceiling``) in every Region, the same guardrails,
    and no way to approve a model version. With many accounts (the policy's accounts section), the hub's handlers
    may also assume their namesakes in the workload accounts (iam.cross_account.workload_enforcement_trust)."""
    accounts = names.policy.accounts
    namesakes = (
        [
            statement(
                "ActInWorkloadAccounts",
                ["sts:AssumeRole"],
                # A ceiling in any account and any <org>- role (a boundary has 6,144 characters): which roles in
                # which accounts is the role's own policy (iam.cross_account), and the namesakes' trust names the
                # hub's role and external id.
                [f"arn:{names.partition}:iam::*:role/{names.org}-*"],
            )
        ]
        if accounts is not None
        else []
    )
    return document(
        statement("EnforcementActionsCeiling", sorted(set(ceiling)), "*"),
        *namesakes,
        *governance_guardrails(names, handlers),
        statement(
            "DenyApprovingModelVersions",
            ["sagemaker:UpdateModelPackage"],
            "*",
            effect="Deny",
            condition={"StringEquals": {APPROVAL_STATUS_KEY: "Approved"}},
        ),
        # Setting a variant's weight to zero is how the deployment guard quarantines: it can only take traffic away.
        statement(
            "DenyDeployment",
            [a for a in DEPLOYMENT_ACTIONS if a != "sagemaker:UpdateEndpointWeightsAndCapacities"],
            "*",
            effect="Deny",
        ),
    )


MANAGED_POLICY_MAX_CHARS = 6_144  # IAM's quota for a managed policy (a boundary is one); whitespace is not counted


def partition_of(region: str) -> str:
    return "aws-cn" if region.startswith("cn-") else "aws-us-gov" if region.startswith("us-gov-") else "aws"


def deployed_chars(doc: Document) -> int:
    """What IAM counts against its quota: the document's characters, whitespace left out."""
    return len("".join(json.dumps(doc, ensure_ascii=False).split()))


def check_boundary_sizes(boundaries: Mapping[str, Document]) -> None:
    """Refuse at synth a boundary IAM would refuse at deploy (``LimitExceeded``); ``boundaries`` by policy name, built
    with the account and partition they deploy to (the size grows with the organization's name and the Regions)."""
    over = {name: size for name, doc in boundaries.items() if (size := deployed_chars(doc)) > MANAGED_POLICY_MAX_CHARS}
    if over:
        found = ", ".join(f"{name} would be {size:,} characters" for name, size in over.items())
        raise PolicyError(
            [
                PolicyIssue(
                    ("organization", "name"),
                    f"{found}, over IAM's {MANAGED_POLICY_MAX_CHARS:,} for a managed policy: every guardrail names the "
                    "organization's resources, so use a shorter organization name (or allow fewer Regions)",
                )
            ]
        )
