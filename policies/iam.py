"""IAM documents of the blueprint, built from the policy.

Plain functions that return policy documents as dicts: the identity stack renders them,
tests and the IAM review read them. Resource ARNs come from ``policies.naming``; KMS key
ARNs are passed in because keys get random ids (Terraform interpolations at synth).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from policies.model import Project
from policies.naming import Names

Document = dict[str, Any]

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
TRAIL_TAMPERING_ACTIONS: tuple[str, ...] = (
    "cloudtrail:DeleteTrail",
    "cloudtrail:PutEventSelectors",
    "cloudtrail:StopLogging",
    "cloudtrail:UpdateTrail",
)


def document(*statements: Mapping[str, Any]) -> Document:
    return {"Version": "2012-10-17", "Statement": [dict(s) for s in statements]}


def statement(
    sid: str,
    actions: Sequence[str],
    resources: Sequence[str] | str,
    *,
    effect: str = "Allow",
    condition: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "Sid": sid,
        "Effect": effect,
        "Action": sorted(actions),
        "Resource": resources if isinstance(resources, str) else list(resources),
    }
    if condition:
        out["Condition"] = dict(condition)
    return out


def approver_principals(names: Names) -> list[str]:
    """Principals allowed to change a model version's approval status."""
    return [names.role_arn(names.persona_role("model-approver")), names.role_arn(names.handler_role("approval-gate"))]


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
        statement(
            "DenyBoundaryRemoval",
            list(BOUNDARY_REMOVAL_ACTIONS),
            "*",
            effect="Deny",
        ),
        statement(
            "DenyBoundaryTampering",
            ["iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion", "iam:SetDefaultPolicyVersion"],
            boundary_arn,
            effect="Deny",
        ),
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
        statement(
            "DenyGovernanceTampering",
            [
                "s3:DeleteBucketPolicy",
                "s3:PutBucketObjectLockConfiguration",
                "s3:PutBucketPolicy",
                "s3:PutBucketVersioning",
                "s3:PutEncryptionConfiguration",
                "s3:PutLifecycleConfiguration",
            ],
            governance_buckets,
            effect="Deny",
        ),
        statement(
            "DenyAuditTrailTampering",
            list(TRAIL_TAMPERING_ACTIONS),
            f"arn:{names.partition}:cloudtrail:*:{names.account}:trail/{names.trail}",
            effect="Deny",
        ),
    )


def trust_service(service: str, account: str) -> Document:
    return document(
        {
            "Sid": "AssumedByService",
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": account}},
        }
    )


def trust_account_with_mfa(names: Names) -> Document:
    return document(
        {
            "Sid": "AssumedByAccountPrincipalsWithMfa",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:{names.partition}:iam::{names.account}:root"},
            "Action": "sts:AssumeRole",
            "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
        }
    )


def _sagemaker_arn(names: Names, kind: str, name: str = "*") -> str:
    return f"arn:{names.partition}:sagemaker:*:{names.account}:{kind}/{name}"


def _project_scoped(names: Names, kinds: Sequence[str]) -> list[str]:
    return [_sagemaker_arn(names, kind) for kind in kinds]


def persona_policy(names: Names, persona: str, keys: Mapping[str, str]) -> Document:
    """Identity policy of a persona role. ``keys`` maps key purpose to KMS key ARN."""
    lineage = names.bucket_arn(names.lineage_bucket)
    audit = names.bucket_arn(names.audit_bucket)
    execution_roles = [names.role_arn(names.execution_role(p)) for p in names.policy.projects]
    registry_read = statement(
        "ReadModelRegistry",
        [
            "sagemaker:DescribeModelPackage",
            "sagemaker:DescribeModelPackageGroup",
            "sagemaker:ListModelPackages",
            "sagemaker:ListTags",
        ],
        [_sagemaker_arn(names, "model-package-group"), _sagemaker_arn(names, "model-package", "*/*")],
    )
    pass_execution_roles = statement(
        "PassProjectExecutionRolesToSageMaker",
        ["iam:PassRole"],
        execution_roles or [names.role_arn(f"{names.org}-no-projects")],
        condition={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
    )
    use_data_key = statement("UseDataKey", ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"], [keys["data"]])
    if persona == "data-scientist":
        return document(
            registry_read,
            statement(
                "BuildAndRegisterModels",
                [
                    "sagemaker:AddTags",
                    "sagemaker:CreateModelPackage",
                    "sagemaker:CreateProcessingJob",
                    "sagemaker:CreateTrainingJob",
                    "sagemaker:DescribeProcessingJob",
                    "sagemaker:DescribeTrainingJob",
                    "sagemaker:StopProcessingJob",
                    "sagemaker:StopTrainingJob",
                ],
                _project_scoped(names, ["training-job", "processing-job", "model-package", "model-package-group"]),
            ),
            statement("ReadWriteLineageData", ["s3:GetObject", "s3:PutObject"], [f"{lineage}/projects/*"]),
            statement("ListLineageBucket", ["s3:ListBucket"], [lineage]),
            pass_execution_roles,
            use_data_key,
        )
    if persona == "ml-engineer":
        return document(
            registry_read,
            statement(
                "DeployApprovedModels",
                [
                    "sagemaker:AddTags",
                    "sagemaker:CreateEndpoint",
                    "sagemaker:CreateEndpointConfig",
                    "sagemaker:CreateModel",
                    "sagemaker:CreateTransformJob",
                    "sagemaker:DeleteEndpoint",
                    "sagemaker:DescribeEndpoint",
                    "sagemaker:DescribeEndpointConfig",
                    "sagemaker:DescribeModel",
                    "sagemaker:UpdateEndpoint",
                ],
                _project_scoped(names, ["endpoint", "endpoint-config", "model", "transform-job"]),
            ),
            statement("ReadLineageData", ["s3:GetObject"], [f"{lineage}/*"]),
            statement("ListLineageBucket", ["s3:ListBucket"], [lineage]),
            pass_execution_roles,
            use_data_key,
        )
    if persona == "model-approver":
        return document(
            registry_read,
            statement(
                "ApproveOrRejectModelVersions",
                ["sagemaker:UpdateModelPackage"],
                [_sagemaker_arn(names, "model-package", "*/*")],
            ),
            statement("ReadLineageEvidence", ["s3:GetObject"], [f"{lineage}/*"]),
            statement("ListLineageBucket", ["s3:ListBucket"], [lineage]),
            statement("DecryptLineageEvidence", ["kms:Decrypt", "kms:DescribeKey"], [keys["data"]]),
        )
    if persona == "auditor":
        return document(
            registry_read,
            statement("ReadAuditTrail", ["s3:GetObject", "s3:GetObjectRetention", "s3:GetObjectVersion"], [f"{audit}/*"]),
            statement("ListAuditTrail", ["s3:ListBucket", "s3:ListBucketVersions"], [audit]),
            statement("DecryptAuditTrail", ["kms:Decrypt", "kms:DescribeKey"], [keys["audit"]]),
        )
    raise ValueError(f"unknown persona {persona!r}")


def execution_role_policy(names: Names, project: Project, keys: Mapping[str, str]) -> Document:
    """What a project's SageMaker pipeline jobs may do: its own lineage prefix, its own model package group."""
    lineage = names.bucket_arn(names.lineage_bucket)
    own_role = names.role_arn(names.execution_role(project))
    return document(
        statement(
            "ReadWriteProjectLineage",
            ["s3:GetObject", "s3:PutObject"],
            [f"{lineage}/projects/{project.name}/*"],
        ),
        statement(
            "ListProjectLineage",
            ["s3:ListBucket"],
            [lineage],
            condition={"StringLike": {"s3:prefix": [f"projects/{project.name}/*"]}},
        ),
        statement(
            "RunPipelineJobs",
            [
                "sagemaker:AddTags",
                "sagemaker:CreateProcessingJob",
                "sagemaker:CreateTrainingJob",
                "sagemaker:DescribeProcessingJob",
                "sagemaker:DescribeTrainingJob",
            ],
            [_sagemaker_arn(names, "processing-job"), _sagemaker_arn(names, "training-job")],
        ),
        statement(
            "RegisterInOwnModelPackageGroup",
            ["sagemaker:CreateModelPackage", "sagemaker:DescribeModelPackageGroup"],
            [
                names.model_package_group_arn(project),
                names.model_packages_arn(project),
            ],
        ),
        statement(
            "PassOwnRoleToJobs",
            ["iam:PassRole"],
            [own_role],
            condition={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
        ),
        statement("UseDataKey", ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"], [keys["data"]]),
        statement(
            "PullSageMakerImages",
            ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
            [f"arn:{names.partition}:ecr:*:*:repository/*"],
        ),
        statement("GetEcrToken", ["ecr:GetAuthorizationToken"], "*"),
        statement(
            "WriteJobLogs",
            ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            [f"arn:{names.partition}:logs:*:{names.account}:log-group:/aws/sagemaker/*"],
        ),
        statement(
            "PublishJobMetrics",
            ["cloudwatch:PutMetricData"],
            "*",
            condition={"StringLike": {"cloudwatch:namespace": ["/aws/sagemaker/*", "aws/sagemaker/*"]}},
        ),
    )


def model_package_group_policy(names: Names, project: Project) -> Document:
    """Resource policy of a model package group: only approvers change approval status."""
    return document(
        {
            "Sid": "OnlyApproversChangeApprovalStatus",
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": "sagemaker:UpdateModelPackage",
            "Resource": names.model_packages_arn(project),
            "Condition": {
                "Null": {APPROVAL_STATUS_KEY: "false"},
                "ArnNotEquals": {"aws:PrincipalArn": approver_principals(names)},
            },
        }
    )


def key_policy(names: Names, purpose: str) -> Document:
    """Key policy of a customer-managed key: the account administers it through IAM; services get only what they use."""
    account = names.account
    statements: list[dict[str, Any]] = [
        {
            "Sid": "AccountAdministersKeyThroughIam",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:{names.partition}:iam::{account}:root"},
            "Action": "kms:*",
            "Resource": "*",
        }
    ]
    if purpose == "ops":
        statements.append(
            {
                "Sid": "CloudWatchLogsEncryptGovernanceLogGroups",
                "Effect": "Allow",
                "Principal": {"Service": f"logs.{names.region}.amazonaws.com"},
                "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"],
                "Resource": "*",
                "Condition": {
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": f"arn:{names.partition}:logs:{names.region}:{account}:log-group:*"
                    }
                },
            }
        )
        statements.append(
            {
                "Sid": "AlarmsAndEventsPublishToEncryptedTopicsAndQueues",
                "Effect": "Allow",
                "Principal": {"Service": ["cloudwatch.amazonaws.com", "events.amazonaws.com"]},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:SourceAccount": account}},
            }
        )
    if purpose == "audit":
        statements.append(
            {
                "Sid": "CloudTrailEncryptsTrailLogs",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": ["kms:DescribeKey", "kms:GenerateDataKey*"],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account},
                    "StringLike": {
                        "kms:EncryptionContext:aws:cloudtrail:arn": f"arn:{names.partition}:cloudtrail:*:{account}:trail/*"
                    },
                },
            }
        )
    return document(*statements)
