"""What a handler reads about a SageMaker resource, in the resource's own Region (remedies are in lambdas/actions.py)."""

from __future__ import annotations

from typing import Any

from lambdas.shared import aws
from policies.rules.resources import ResourceFacts, ResourceKind

_ROLE_OF: dict[ResourceKind, tuple[str, str, str]] = {
    ResourceKind.MODEL: ("describe_model", "ModelName", "ExecutionRoleArn"),
    ResourceKind.TRAINING_JOB: ("describe_training_job", "TrainingJobName", "RoleArn"),
    ResourceKind.PROCESSING_JOB: ("describe_processing_job", "ProcessingJobName", "RoleArn"),
}


def current_role(resource: ResourceFacts) -> str | None:
    """The role a model or a training or processing job runs as; None for other kinds or when it no longer exists."""
    if resource.kind not in _ROLE_OF:
        return None
    operation, parameter, field = _ROLE_OF[resource.kind]
    try:
        described = getattr(aws.client_for("sagemaker", resource.arn, resource.region), operation)(**{parameter: resource.name})
    except Exception as exc:
        if aws.error_code(exc) in aws.SAGEMAKER_NOT_FOUND:
            return None
        raise
    role = described.get(field)
    return str(role) if role else None


def current_tags(resource: ResourceFacts) -> dict[str, str] | None:
    """The resource's tags now; None when the resource no longer exists."""
    sagemaker = aws.client_for("sagemaker", resource.arn, resource.region)
    tags: dict[str, str] = {}
    token = None
    while True:
        try:
            page = sagemaker.list_tags(ResourceArn=resource.arn, **({"NextToken": token} if token else {}))
        except Exception as exc:
            if aws.error_code(exc) in aws.SAGEMAKER_NOT_FOUND:
                return None
            raise
        tags.update({t["Key"]: t["Value"] for t in page.get("Tags", [])})
        token = page.get("NextToken")
        if not token:
            return tags


def describe_package(arn: str, region: str) -> dict[str, Any]:
    """A model version as SageMaker describes it (the gate gathers evidence from it, the deployer deploys it)."""
    package: dict[str, Any] = aws.client("sagemaker", region).describe_model_package(ModelPackageName=arn)
    return package
