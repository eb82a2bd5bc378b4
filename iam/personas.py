"""Identity policies of the persona roles, one function per persona.

``keys`` maps a key purpose (``data``, ``audit``, ``ops``) to its KMS key ARN: keys get random
ids, so stacks pass Terraform references in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from iam.documents import Document, document, statement
from policies.naming import Names

Keys = Mapping[str, str]


def sagemaker_arn(names: Names, kind: str, name: str = "*") -> str:
    """A SageMaker resource pattern of the account in any Region (the boundary limits the Regions)."""
    return f"arn:{names.partition}:sagemaker:*:{names.account}:{kind}/{name}"


def _sagemaker_arns(names: Names, kinds: Sequence[str]) -> list[str]:
    return [sagemaker_arn(names, kind) for kind in kinds]


def _registry_read(names: Names) -> dict[str, Any]:
    return statement(
        "ReadModelRegistry",
        [
            "sagemaker:DescribeModelPackage",
            "sagemaker:DescribeModelPackageGroup",
            "sagemaker:ListModelPackages",
            "sagemaker:ListTags",
        ],
        [sagemaker_arn(names, "model-package-group"), sagemaker_arn(names, "model-package", "*/*")],
    )


def _pass_execution_roles(names: Names) -> dict[str, Any]:
    execution_roles = [names.role_arn(names.execution_role(p)) for p in names.policy.projects]
    return statement(
        "PassProjectExecutionRolesToSageMaker",
        ["iam:PassRole"],
        execution_roles or [names.role_arn(f"{names.org}-no-projects")],
        condition={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
    )


def _lineage(names: Names) -> str:
    return names.bucket_arn(names.lineage_bucket)


def _list_lineage(names: Names) -> dict[str, Any]:
    return statement("ListLineageBucket", ["s3:ListBucket"], [_lineage(names)])


def _use_data_key(keys: Keys) -> dict[str, Any]:
    return statement("UseDataKey", ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"], [keys["data"]])


def data_scientist(names: Names, keys: Keys) -> Document:
    """Builds, trains and registers models (as PendingManualApproval); cannot approve or deploy."""
    return document(
        _registry_read(names),
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
            _sagemaker_arns(names, ["training-job", "processing-job", "model-package", "model-package-group"]),
        ),
        statement("ReadWriteLineageData", ["s3:GetObject", "s3:PutObject"], [f"{_lineage(names)}/projects/*"]),
        _list_lineage(names),
        _pass_execution_roles(names),
        _use_data_key(keys),
    )


def ml_engineer(names: Names, keys: Keys) -> Document:
    """Deploys model versions to endpoints."""
    return document(
        _registry_read(names),
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
            _sagemaker_arns(names, ["endpoint", "endpoint-config", "model", "transform-job"]),
        ),
        statement("ReadLineageData", ["s3:GetObject"], [f"{_lineage(names)}/*"]),
        _list_lineage(names),
        _pass_execution_roles(names),
        _use_data_key(keys),
    )


def model_approver(names: Names, keys: Keys) -> Document:
    """Reads the evidence and approves or rejects model versions."""
    return document(
        _registry_read(names),
        statement(
            "ApproveOrRejectModelVersions", ["sagemaker:UpdateModelPackage"], [sagemaker_arn(names, "model-package", "*/*")]
        ),
        statement("ReadLineageEvidence", ["s3:GetObject"], [f"{_lineage(names)}/*"]),
        _list_lineage(names),
        statement("DecryptLineageEvidence", ["kms:Decrypt", "kms:DescribeKey"], [keys["data"]]),
    )


def auditor(names: Names, keys: Keys) -> Document:
    """Reads the registry and the audit trail; changes nothing."""
    audit = names.bucket_arn(names.audit_bucket)
    return document(
        _registry_read(names),
        statement("ReadAuditTrail", ["s3:GetObject", "s3:GetObjectRetention", "s3:GetObjectVersion"], [f"{audit}/*"]),
        statement("ListAuditTrail", ["s3:ListBucket", "s3:ListBucketVersions"], [audit]),
        statement("DecryptAuditTrail", ["kms:Decrypt", "kms:DescribeKey"], [keys["audit"]]),
    )


PERSONA_POLICIES: dict[str, Callable[[Names, Keys], Document]] = {
    "data-scientist": data_scientist,
    "ml-engineer": ml_engineer,
    "model-approver": model_approver,
    "auditor": auditor,
}


def persona_policy(names: Names, persona: str, keys: Keys) -> Document:
    """Identity policy of a persona role."""
    try:
        return PERSONA_POLICIES[persona](names, keys)
    except KeyError:
        raise ValueError(f"unknown persona {persona!r}; personas: {', '.join(PERSONA_POLICIES)}") from None
