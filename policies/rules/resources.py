"""SageMaker resources as the run-time rules see them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from policies.terms import PROJECT_TAG_KEY

if TYPE_CHECKING:
    from policies.model import GovernancePolicy, Project


class ResourceKind(StrEnum):
    MODEL_PACKAGE = "model-package"
    MODEL_PACKAGE_GROUP = "model-package-group"
    MODEL = "model"
    ENDPOINT = "endpoint"
    TRAINING_JOB = "training-job"
    PROCESSING_JOB = "processing-job"
    TRANSFORM_JOB = "transform-job"

    @property
    def is_job(self) -> bool:
        return self in {ResourceKind.TRAINING_JOB, ResourceKind.PROCESSING_JOB, ResourceKind.TRANSFORM_JOB}


@dataclass(frozen=True)
class ResourceFacts:
    kind: ResourceKind
    name: str
    arn: str
    region: str
    tags: Mapping[str, str] = field(default_factory=dict)
    created_by: str | None = None
    role: str | None = None
    """The role the work runs as (a job's ``RoleArn``, a model's ``ExecutionRoleArn``), when the call names one."""


def attributed_project(policy: GovernancePolicy, resource: ResourceFacts) -> Project | None:
    """The governed project a resource belongs to: its project tag, its group name, or its name prefix."""
    tagged = resource.tags.get(PROJECT_TAG_KEY)
    if tagged is not None:
        return policy.project(tagged)
    if resource.kind is ResourceKind.MODEL_PACKAGE_GROUP:
        return policy.project(resource.name)
    prefixed = [p for p in policy.projects if resource.name.startswith(f"{p.name}-")]
    return max(prefixed, key=lambda p: len(p.name), default=None)


# SageMaker create calls the run-time rules watch: eventName -> (kind, name field, ARN field)
# in the CloudTrail record's requestParameters / responseElements.
SAGEMAKER_CREATE_CALLS: dict[str, tuple[ResourceKind, str, str]] = {
    "CreateModelPackageGroup": (ResourceKind.MODEL_PACKAGE_GROUP, "modelPackageGroupName", "modelPackageGroupArn"),
    "CreateModel": (ResourceKind.MODEL, "modelName", "modelArn"),
    "CreateEndpoint": (ResourceKind.ENDPOINT, "endpointName", "endpointArn"),
    "CreateTrainingJob": (ResourceKind.TRAINING_JOB, "trainingJobName", "trainingJobArn"),
    "CreateProcessingJob": (ResourceKind.PROCESSING_JOB, "processingJobName", "processingJobArn"),
    "CreateTransformJob": (ResourceKind.TRANSFORM_JOB, "transformJobName", "transformJobArn"),
}

# Tags changed after creation: the classification rule judges the resource again, with its tags as they are now
# (a job's tag lowered after its create call was judged would otherwise stand).
SAGEMAKER_TAG_CALLS: tuple[str, ...] = ("AddTags", "DeleteTags")
RETAGGABLE_KINDS: tuple[ResourceKind, ...] = (
    ResourceKind.MODEL,
    ResourceKind.ENDPOINT,
    ResourceKind.TRAINING_JOB,
    ResourceKind.PROCESSING_JOB,
    ResourceKind.TRANSFORM_JOB,
)


def retaggable_resource(arn: str) -> tuple[ResourceKind, str] | None:
    """(kind, name) of a SageMaker ARN whose tags the classification rule judges, else None."""
    parts = arn.split(":", 5)
    kind, _, name = (parts[5] if len(parts) == 6 and parts[2] == "sagemaker" else "").partition("/")
    found = next((k for k in RETAGGABLE_KINDS if k.value == kind), None)
    return (found, name) if found is not None and name and "/" not in name else None


MODEL_PACKAGE_STATE_CHANGE = "SageMaker Model Package State Change"
OBJECT_CREATED = "Object Created"  # S3's EventBridge notification of a new object (or object version)
API_CALL_VIA_CLOUDTRAIL = "AWS API Call via CloudTrail"
