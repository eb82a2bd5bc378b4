"""SageMaker's "SageMaker Model Package State Change" event, read by plain checks (``event_models``)."""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from lambdas.shared.event_models import EventBridgeEvent
from lambdas.shared.events import MODEL_PACKAGE_ARN
from lambdas.shared.field_reader import Reader
from policies.rules.resources import MODEL_PACKAGE_STATE_CHANGE

APPROVAL_STATUSES = ("Approved", "Rejected", "PendingManualApproval")


class ModelPackageStateChange(NamedTuple):
    """The event's detail (a named tuple: cheaper to define on a cold start than a dataclass)."""

    ModelPackageGroupName: str
    ModelPackageArn: str
    ModelApprovalStatus: str
    ModelPackageVersion: int | None


class ModelPackageStateChangeEvent(EventBridgeEvent[ModelPackageStateChange]):
    @classmethod
    def read(cls, event: Any) -> ModelPackageStateChangeEvent:
        return cls.read_with(event, MODEL_PACKAGE_STATE_CHANGE, _read_change)


def _read_change(detail: dict[str, Any], reader: Reader) -> ModelPackageStateChange:
    version = detail.get("ModelPackageVersion")
    if isinstance(version, str) and re.fullmatch(r"[0-9]{1,18}", version):  # ASCII digits, a bounded number
        version = int(version)
    if version is not None and (not isinstance(version, int) or isinstance(version, bool)):
        reader.fail("detail.ModelPackageVersion", "Input should be a valid integer")
    return ModelPackageStateChange(
        ModelPackageGroupName=reader.text(detail, "ModelPackageGroupName", "detail", non_empty=True),
        ModelPackageArn=reader.text(detail, "ModelPackageArn", "detail", pattern=MODEL_PACKAGE_ARN),
        ModelApprovalStatus=reader.one_of(detail, "ModelApprovalStatus", "detail", APPROVAL_STATUSES),
        ModelPackageVersion=version,
    )
