"""Event fixtures in AWS's documented shapes, behind one loader (see README.md for sources)."""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any

EVENTS = Path(__file__).parent
ACCOUNT = "123456789012"


def load_event(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return event


def approval_event(package_arn: str, *, status: str = "Approved", event_id: str | None = None) -> dict[str, Any]:
    """The documented model package state change, about ``package_arn``."""
    event = load_event("model_package_state_change")
    region, account = package_arn.split(":")[3], package_arn.split(":")[4]
    group, version = package_arn.split("/")[-2], int(package_arn.rsplit("/", maxsplit=1)[-1])
    event.update(id=event_id or str(uuid.uuid4()), region=region, account=account, resources=[package_arn])
    event["detail"].update(
        ModelPackageGroupName=group, ModelPackageVersion=version, ModelPackageArn=package_arn, ModelApprovalStatus=status
    )
    return event


CALL_FIXTURES = {
    "CreateEndpoint": ("cloudtrail_create_endpoint", "endpointName", "endpointArn", "endpoint"),
    "CreateModel": ("cloudtrail_create_model", "modelName", "modelArn", "model"),
    "CreateTrainingJob": ("cloudtrail_create_training_job", "trainingJobName", "trainingJobArn", "training-job"),
    "CreateProcessingJob": ("cloudtrail_create_processing_job", "processingJobName", "processingJobArn", "processing-job"),
    "CreateTransformJob": ("cloudtrail_create_transform_job", "transformJobName", "transformJobArn", "transform-job"),
    "CreateModelPackageGroup": (
        "cloudtrail_create_model_package_group",
        "modelPackageGroupName",
        "modelPackageGroupArn",
        "model-package-group",
    ),
}


def api_call_event(
    event_name: str,
    *,
    name: str,
    region: str,
    tags: dict[str, str] | None = None,
    event_id: str | None = None,
    actor: str = f"arn:aws:iam::{ACCOUNT}:user/intern",
) -> dict[str, Any]:
    """The documented CloudTrail-via-EventBridge shape for ``event_name``, about resource ``name`` in ``region``."""
    fixture, name_field, arn_field, kind = CALL_FIXTURES[event_name]
    event = copy.deepcopy(load_event(fixture))
    event.update(id=event_id or str(uuid.uuid4()), region=region, account=ACCOUNT)
    detail = event["detail"]
    detail.update(awsRegion=region, eventID=str(uuid.uuid4()))
    detail["userIdentity"]["arn"] = actor
    detail["requestParameters"][name_field] = name
    detail["responseElements"] = {arn_field: f"arn:aws:sagemaker:{region}:{ACCOUNT}:{kind}/{name.lower()}"}
    if tags is not None:
        detail["requestParameters"]["tags"] = [{"key": k, "value": v} for k, v in tags.items()]
    return event
