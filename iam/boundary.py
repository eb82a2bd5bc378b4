"""The permissions boundary every governed role carries: the ceiling of what it may ever do."""

from __future__ import annotations

from iam.documents import Document, document, statement
from policies.naming import APPROVAL_GATE, Names

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
    "logs:*",
    "s3:*",
    "sagemaker:*",
    "sns:*",
    "sqs:*",
    "sts:*",
    "xray:*",
)

APPROVAL_STATUS_KEY = "sagemaker:ModelApprovalStatus"
# Denied to every role by the boundary; the audit trail also alarms on any attempt.
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


def approver_principals(names: Names) -> list[str]:
    """Principals allowed to change a model version's approval status."""
    return [names.role_arn(names.persona_role("model-approver")), names.role_arn(names.handler_role(APPROVAL_GATE))]


def permissions_boundary(names: Names) -> Document:
    policy = names.policy
    boundary_arn = names.boundary_policy_arn
    governance_buckets = [names.bucket_arn(names.audit_bucket), names.bucket_arn(names.lineage_bucket)]
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
        statement(
            "DenyPrincipalsWithoutBoundary",
            ["iam:CreateRole", "iam:CreateUser", "iam:PutRolePermissionsBoundary", "iam:PutUserPermissionsBoundary"],
            "*",
            effect="Deny",
            condition={"StringNotEquals": {"iam:PermissionsBoundary": boundary_arn}},
        ),
        statement("DenyBoundaryRemoval", BOUNDARY_REMOVAL_ACTIONS, "*", effect="Deny"),
        statement("DenyBoundaryTampering", BOUNDARY_TAMPERING_ACTIONS, boundary_arn, effect="Deny"),
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
            "DenyRegisteringPreApprovedModels",
            ["sagemaker:CreateModelPackage"],
            "*",
            effect="Deny",
            condition={"StringEquals": {APPROVAL_STATUS_KEY: "Approved"}},
        ),
        statement("DenyGovernanceTampering", GOVERNANCE_BUCKET_TAMPERING_ACTIONS, governance_buckets, effect="Deny"),
        statement(
            "DenyAuditTrailTampering",
            TRAIL_TAMPERING_ACTIONS,
            f"arn:{names.partition}:cloudtrail:*:{names.account}:trail/{names.trail}",
            effect="Deny",
        ),
    )
