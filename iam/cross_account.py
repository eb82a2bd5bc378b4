"""IAM documents between the governance hub and the workload accounts (the policy's ``accounts`` section).

Who may cross which account line, each limited to the organization (``aws:PrincipalOrgID``):

- **registry**: a project's model package group in the hub lets the project's execution roles of the entry
  stages register versions (never pre-approved), and the deploy roles of every stage the project runs in
  describe them; only approvers change approval status (``iam.resource_policies.model_package_group_policy``);
- **artifacts**: one KMS key per project in the hub, whose key policy lets the entry stages' execution roles
  encrypt and the roles the project's stages deploy it with decrypt (the execution role each stage's deployer
  passes to CreateModel: SageMaker loads the artifacts with it; the deployer never reads them), and nobody else
  use it; the hub's artifact bucket keeps each project's prefix to those roles and that key;
- **events**: the hub's default bus accepts PutEvents from the workload accounts' forwarding roles only;
- **enforcement**: in each workload account a role per enforcement handler, with the handler's role name, that only
  the hub's role of that name may assume (with the hub's external id);
- **clearances**: a hub role the stages' deployers assume to read the approval gate's clearances and the
  promotion records, and nothing else of the table.

Every principal list is deduplicated: stages that share an account share their roles.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from iam.documents import Document, document, statement
from iam.resource_policies import model_package_group_policy
from policies.naming import Names

if TYPE_CHECKING:
    from policies.model import Project

APPROVAL_STATUS_KEY = "sagemaker:ModelApprovalStatus"
KEY_ADMINISTRATION_ACTIONS: tuple[str, ...] = (
    "kms:CancelKeyDeletion",
    "kms:Create*",
    "kms:Delete*",
    "kms:Describe*",
    "kms:Disable*",
    "kms:Enable*",
    "kms:Get*",
    "kms:List*",
    "kms:Put*",
    "kms:Revoke*",
    "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:Update*",
)


def unique(arns: Sequence[str]) -> list[str]:
    """``arns`` once each, in order: no principal twice in a document when stages share an account."""
    return list(dict.fromkeys(arns))


def in_organization(organization_id: str) -> dict[str, Any]:
    return {"StringEquals": {"aws:PrincipalOrgID": organization_id}}


def _principals(arns: Sequence[str]) -> dict[str, Any]:
    found = unique(arns)
    if not found:
        raise ValueError("a cross-account statement needs at least one principal")
    return {"AWS": found[0] if len(found) == 1 else found}


# ---- trust -------------------------------------------------------------------------------------------
def trust_roles(sid: str, principals: Sequence[str], organization_id: str, *, external_id: str | None = None) -> Document:
    """Assumed only by ``principals`` (role ARNs of other accounts), from inside the organization."""
    condition = in_organization(organization_id)
    if external_id is not None:
        condition["StringEquals"]["sts:ExternalId"] = external_id
    return document(
        {"Sid": sid, "Effect": "Allow", "Principal": _principals(principals), "Action": "sts:AssumeRole", "Condition": condition}
    )


def workload_enforcement_trust(hub: Names, handler: str, organization_id: str) -> Document:
    """A workload account's enforcement role: only the hub's handler role of the same name, with the hub's external id."""
    return trust_roles(
        "AssumedByTheHubHandler",
        [hub.role_arn(hub.handler_role(handler))],
        organization_id,
        external_id=hub.hub_external_id(hub.account),
    )


def assume_workload_roles_policy(roles: Sequence[str]) -> Document:
    """What the hub's handler role adds: assume its namesakes in the workload accounts."""
    return document(statement("ActInWorkloadAccounts", ["sts:AssumeRole"], unique(roles)))


# ---- registry --------------------------------------------------------------------------------------
def hub_model_package_group_policy(
    hub: Names, project: Project, *, registrants: Sequence[str], deployers: Sequence[str], organization_id: str
) -> Document:
    """The hub group's one resource policy: approvers only change approval status (single-account statement),
    the entry stages' pipelines register, the stages' deploy roles describe versions, nobody registers Approved."""
    group, versions = hub.model_package_group_arn(project), hub.model_packages_arn(project)
    base = model_package_group_policy(hub, project)["Statement"]
    return document(
        *base,
        {
            "Sid": "EntryStagePipelinesRegisterVersions",
            "Effect": "Allow",
            "Principal": _principals(registrants),
            "Action": ["sagemaker:CreateModelPackage", "sagemaker:DescribeModelPackageGroup"],
            "Resource": [group, versions],
            "Condition": in_organization(organization_id),
        },
        {
            "Sid": "StageDeployRolesDescribeVersions",
            "Effect": "Allow",
            "Principal": _principals(deployers),
            "Action": "sagemaker:DescribeModelPackage",
            "Resource": versions,
            "Condition": in_organization(organization_id),
        },
        {
            "Sid": "NoPreApprovedVersions",
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": "sagemaker:CreateModelPackage",
            "Resource": [group, versions],
            "Condition": {"StringEquals": {APPROVAL_STATUS_KEY: "Approved"}},
        },
    )


# ---- model artifacts -------------------------------------------------------------------------------
def artifact_key_policy(hub: Names, *, writers: Sequence[str], readers: Sequence[str]) -> Document:
    """Key policy of a project's artifact key: the hub administers it without using it; the entry stages'
    pipelines encrypt; the roles the project's stages deploy it with decrypt. Nothing else may use the key."""
    return document(
        {
            "Sid": "HubAdministersKeyWithoutUsingIt",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:{hub.partition}:iam::{hub.account}:root"},
            "Action": list(KEY_ADMINISTRATION_ACTIONS),
            "Resource": "*",
        },
        {
            "Sid": "EntryStagePipelinesEncryptArtifacts",
            "Effect": "Allow",
            "Principal": _principals(writers),
            # Encrypt: SageMaker checks that the training job's role may use OutputDataConfig.KmsKeyId
            "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"],
            "Resource": "*",
        },
        {
            "Sid": "StagesServingRolesDecryptArtifacts",
            "Effect": "Allow",
            "Principal": _principals(readers),
            "Action": ["kms:Decrypt", "kms:DescribeKey"],
            "Resource": "*",
        },
    )


def artifacts_bucket_statements(
    hub: Names, project: str, *, key_arn: str, writers: Sequence[str], readers: Sequence[str]
) -> list[dict[str, Any]]:
    """A project's prefix of the hub's artifact bucket: written (and listed: the pipeline's evaluation step reads the
    trained model by prefix) by its entry stages' pipelines with its key only, read by the roles its stages deploy it
    with, and by its stages' deployers, which read only the object versions (HeadObject) and cannot decrypt the bytes."""
    objects = f"{hub.bucket_arn(hub.artifacts_bucket)}/{hub.artifacts_prefix(project)}/*"
    sid = "".join(part.capitalize() for part in project.split("-"))
    return [
        {
            "Sid": f"{sid}PipelinesWrite",
            "Effect": "Allow",
            "Principal": _principals(writers),
            "Action": "s3:PutObject",
            "Resource": objects,
        },
        {
            "Sid": f"{sid}PipelinesList",
            "Effect": "Allow",
            "Principal": _principals(writers),
            "Action": "s3:ListBucket",
            "Resource": hub.bucket_arn(hub.artifacts_bucket),
            "Condition": {"StringLike": {"s3:prefix": f"{hub.artifacts_prefix(project)}/*"}},
        },
        {
            "Sid": f"{sid}StagesRead",
            "Effect": "Allow",
            "Principal": _principals(readers),
            "Action": "s3:GetObject",
            "Resource": objects,
        },
        {
            "Sid": f"{sid}OnlyWithItsKey",
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": "s3:PutObject",
            "Resource": objects,
            "Condition": {"StringNotEquals": {"s3:x-amz-server-side-encryption-aws-kms-key-id": key_arn}},
        },
    ]


def stage_pipeline_policy(hub: Names, project: Project, *, registers: bool) -> Document:
    """What a project's execution role in a workload account adds: register in the hub's group and write
    artifacts (entry stages), read its artifacts (every stage, for the endpoints it serves)."""
    objects = f"{hub.bucket_arn(hub.artifacts_bucket)}/{hub.artifacts_prefix(project.name)}/*"
    hub_keys = f"arn:{hub.partition}:kms:{hub.region}:{hub.account}:key/*"  # each key's policy names its roles
    statements = [
        statement("ReadHubModelArtifacts", ["s3:GetObject"], [objects]),
        statement("DecryptHubModelArtifacts", ["kms:Decrypt", "kms:DescribeKey"], [hub_keys]),
    ]
    if registers:
        statements += [
            statement(
                "RegisterInHubModelPackageGroup",
                ["sagemaker:CreateModelPackage", "sagemaker:DescribeModelPackageGroup"],
                [hub.model_package_group_arn(project), hub.model_packages_arn(project)],
            ),
            statement("WriteHubModelArtifacts", ["s3:PutObject"], [objects]),
            # the evaluation step reads the model it trained by prefix (ProcessingS3Input S3Prefix)
            statement(
                "ListHubModelArtifacts",
                ["s3:ListBucket"],
                [hub.bucket_arn(hub.artifacts_bucket)],
                condition={"StringLike": {"s3:prefix": f"{hub.artifacts_prefix(project.name)}/*"}},
            ),
            # Encrypt: SageMaker checks that the training job's role may use OutputDataConfig.KmsKeyId
            statement("EncryptHubModelArtifacts", ["kms:Encrypt", "kms:GenerateDataKey"], [hub_keys]),
        ]
    return document(*statements)


def stage_deployer_policy(hub: Names, projects: Sequence[Project]) -> Document:
    """What a workload account's deployer adds: describe the hub's versions of its stages' projects, read clearances."""
    none = f"arn:{hub.partition}:sagemaker:{hub.region}:{hub.account}:model-package/{hub.org}-no-projects/*"
    versions = [hub.model_packages_arn(p) for p in projects] or [none]
    return document(
        statement("DescribeHubModelVersions", ["sagemaker:DescribeModelPackage"], versions),
        statement("ReadHubClearances", ["sts:AssumeRole"], [hub.role_arn(hub.clearance_reader_role)]),
    )


# ---- events ----------------------------------------------------------------------------------------
def hub_bus_policy(hub: Names, forwarders: Sequence[str], organization_id: str) -> Document:
    """The hub's default bus: the workload accounts' forwarding roles put events, from inside the organization."""
    return document(
        {
            "Sid": "WorkloadAccountsForwardSageMakerEvents",
            "Effect": "Allow",
            "Principal": _principals(forwarders),
            "Action": "events:PutEvents",
            "Resource": hub.event_bus_arn(hub.account),
            "Condition": in_organization(organization_id),
        }
    )


def forward_to_hub_policy(hub: Names) -> Document:
    """A workload account's forwarding role: put events on the hub's default bus, nothing else."""
    return document(statement("PutEventsOnHubBus", ["events:PutEvents"], [hub.event_bus_arn(hub.account)]))


# ---- clearances ------------------------------------------------------------------------------------
def clearance_reader_policy(table_arn: str, table_key_arn: str, kinds: Sequence[str], region: str) -> Document:
    """Read the items of ``kinds`` (``cleared#...``, ``promoted#...``) of the hub's table, and decrypt them through DynamoDB."""
    return document(
        statement(
            "ReadClearancesAndPromotions",
            ["dynamodb:GetItem"],
            [table_arn],
            condition={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [f"{kind}#*" for kind in kinds]}},
        ),
        statement(
            "DecryptTheTableThroughDynamoDb",
            ["kms:Decrypt", "kms:DescribeKey"],
            [table_key_arn],
            condition={"StringEquals": {"kms:ViaService": f"dynamodb.{region}.amazonaws.com"}},
        ),
    )
