"""The events the handlers accept, as pydantic models on top of Powertools' EventBridge envelope.

Shapes follow AWS's documentation (SageMaker developer guide: "Events that SageMaker sends to
EventBridge"; CloudTrail user guide: "AWS API Call via CloudTrail"); see demo/samples/README.md.
Imported by the parsers in ``lambdas.shared.events`` on the first event, not when a handler loads.
"""

from __future__ import annotations

from typing import Any, Literal

from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import BaseModel, ConfigDict, Field, field_validator

from lambdas.shared.events import MODEL_PACKAGE_ARN, TAMPER_TARGET_FIELDS, MalformedEvent, identity_arn


class _GovernanceEvent(EventBridgeModel):
    @field_validator("source", mode="before")
    @classmethod
    def _single_source(cls, value: Any) -> Any:
        # AWS's documented model package sample carries "source" twice, the last as a list.
        if isinstance(value, list) and len(value) == 1:
            return value[0]
        return value


class ModelPackageStateChange(BaseModel):
    model_config = ConfigDict(extra="allow")
    ModelPackageGroupName: str = Field(min_length=1)
    ModelPackageArn: str = Field(pattern=MODEL_PACKAGE_ARN)
    ModelApprovalStatus: Literal["Approved", "Rejected", "PendingManualApproval"]
    ModelPackageVersion: int | None = None


class ModelPackageStateChangeEvent(_GovernanceEvent):
    detail_type: Literal["SageMaker Model Package State Change"] = Field(alias="detail-type")
    detail: ModelPackageStateChange


class CloudTrailCall(BaseModel):
    """Any service's CloudTrail record, as EventBridge delivers it."""

    model_config = ConfigDict(extra="allow")
    eventSource: str = Field(min_length=1)
    eventName: str = Field(min_length=1)
    awsRegion: str = Field(min_length=1)
    eventID: str = Field(min_length=1)
    userIdentity: dict[str, Any] = Field(default_factory=dict)
    requestParameters: dict[str, Any] | None = None
    responseElements: dict[str, Any] | None = None
    errorCode: str | None = None


class SageMakerApiCall(CloudTrailCall):
    """A SageMaker call's CloudTrail record."""

    eventSource: Literal["sagemaker.amazonaws.com"]


class SageMakerApiCallEvent(_GovernanceEvent):
    detail_type: Literal["AWS API Call via CloudTrail"] = Field(alias="detail-type")
    detail: SageMakerApiCall


class TamperCallEvent(_GovernanceEvent):
    detail_type: Literal["AWS API Call via CloudTrail"] = Field(alias="detail-type")
    detail: CloudTrailCall

    @property
    def target(self) -> str:
        call = self.detail
        for part in (call.responseElements or {}, call.requestParameters or {}):
            for name in TAMPER_TARGET_FIELDS.get(call.eventSource, ()):
                if isinstance(part.get(name), str) and part[name]:
                    return str(part[name])
        raise MalformedEvent(
            f"{call.eventSource} {call.eventName} names no resource ({', '.join(TAMPER_TARGET_FIELDS.get(call.eventSource, ()))})"
        )

    @property
    def actor(self) -> str | None:
        return identity_arn(self.detail.userIdentity)
