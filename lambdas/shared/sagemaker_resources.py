"""Reads and remedies on SageMaker resources, in the resource's own Region."""

from __future__ import annotations

from lambdas.shared import aws
from policies.rules.resources import ResourceFacts, ResourceKind

_STOP = {
    ResourceKind.TRAINING_JOB: ("stop_training_job", "TrainingJobName"),
    ResourceKind.PROCESSING_JOB: ("stop_processing_job", "ProcessingJobName"),
    ResourceKind.TRANSFORM_JOB: ("stop_transform_job", "TransformJobName"),
}


def current_tags(resource: ResourceFacts) -> dict[str, str] | None:
    """The resource's tags now; None when the resource no longer exists."""
    sagemaker = aws.client("sagemaker", resource.region)
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


def add_tags(resource: ResourceFacts, tags: dict[str, str]) -> str:
    aws.client("sagemaker", resource.region).add_tags(
        ResourceArn=resource.arn, Tags=[{"Key": k, "Value": v} for k, v in tags.items()]
    )
    return "tagged " + ", ".join(f"{k}={v}" for k, v in tags.items())


def stop_job(resource: ResourceFacts) -> str:
    operation, parameter = _STOP[resource.kind]
    getattr(aws.client("sagemaker", resource.region), operation)(**{parameter: resource.name})
    return f"stopped {resource.kind.value} {resource.name}"


def delete_endpoint(resource: ResourceFacts) -> str:
    aws.client("sagemaker", resource.region).delete_endpoint(EndpointName=resource.name)
    return f"deleted endpoint {resource.name} in {resource.region}"
