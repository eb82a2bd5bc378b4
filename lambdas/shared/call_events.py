"""CloudTrail's "AWS API Call via CloudTrail" events: a SageMaker call, and a call that could switch governance off;
read by plain checks (``event_models``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Self

from lambdas.shared.event_models import EventBridgeEvent
from lambdas.shared.events import TAMPER_ALL_TARGET_FIELDS, TAMPER_TARGET_FIELDS, MalformedEvent, identity_arn
from lambdas.shared.field_reader import Reader
from policies.rules.resources import API_CALL_VIA_CLOUDTRAIL
from policies.rules.tampering import BUS_POLICY_CALLS, DEFAULT_EVENT_BUS

SAGEMAKER_SOURCE = "sagemaker.amazonaws.com"


@dataclass(frozen=True)
class CloudTrailCall:
    """Any service's CloudTrail record, as EventBridge delivers it."""

    eventSource: str
    eventName: str
    awsRegion: str
    eventID: str
    userIdentity: dict[str, Any]
    requestParameters: dict[str, Any] | None
    responseElements: dict[str, Any] | None
    errorCode: str | None

    @classmethod
    def read(cls, detail: dict[str, Any], reader: Reader, *, source: str | None = None) -> Self:
        event_source = (
            reader.one_of(detail, "eventSource", "detail", (source,))
            if source
            else reader.text(detail, "eventSource", "detail", non_empty=True)
        )
        identity = detail.get("userIdentity", {})
        if not isinstance(identity, dict):
            reader.fail("detail.userIdentity", "Input should be a valid dictionary")
            identity = {}
        return cls(
            eventSource=event_source,
            eventName=reader.text(detail, "eventName", "detail", non_empty=True),
            awsRegion=reader.text(detail, "awsRegion", "detail", non_empty=True),
            eventID=reader.text(detail, "eventID", "detail", non_empty=True),
            userIdentity=identity,
            requestParameters=reader.optional_mapping(detail, "requestParameters", "detail"),
            responseElements=reader.optional_mapping(detail, "responseElements", "detail"),
            errorCode=reader.text(detail, "errorCode", "detail", required=False),
        )


class SageMakerApiCall(CloudTrailCall):
    """A SageMaker call's CloudTrail record (the same fields: a subclass without fields of its own is no new dataclass)."""


class SageMakerApiCallEvent(EventBridgeEvent[SageMakerApiCall]):
    @classmethod
    def read(cls, event: Any) -> SageMakerApiCallEvent:
        return cls.read_with(
            event, API_CALL_VIA_CLOUDTRAIL, lambda detail, reader: SageMakerApiCall.read(detail, reader, source=SAGEMAKER_SOURCE)
        )


class TamperCallEvent(EventBridgeEvent[CloudTrailCall]):
    @classmethod
    def read(cls, event: Any) -> TamperCallEvent:
        return cls.read_with(event, API_CALL_VIA_CLOUDTRAIL, CloudTrailCall.read)

    @property
    def target(self) -> str:
        """The resource the call names; a call naming several (DeleteAlarms) names them all, comma-separated."""
        return ", ".join(self.targets)

    @property
    def targets(self) -> tuple[str, ...]:
        call = self.detail
        found: list[str] = []
        for part in (call.responseElements or {}, call.requestParameters or {}):
            for name in TAMPER_TARGET_FIELDS.get(call.eventSource, ()):
                value = part.get(name)
                if isinstance(value, str) and value:
                    found.append(value)
                elif isinstance(value, list) and value and all(isinstance(v, str) and v for v in value):
                    found.extend(value)
                else:
                    continue
                if call.eventSource not in TAMPER_ALL_TARGET_FIELDS:
                    return tuple(found)
        if found:
            return tuple(dict.fromkeys(found))
        if call.eventSource == "events.amazonaws.com" and call.eventName in BUS_POLICY_CALLS:
            return (DEFAULT_EVENT_BUS,)  # a bus policy call without eventBusName is about the default bus
        raise MalformedEvent(
            f"{call.eventSource} {call.eventName} names no resource ({', '.join(TAMPER_TARGET_FIELDS.get(call.eventSource, ()))})"
        )

    @property
    def actor(self) -> str | None:
        return identity_arn(self.detail.userIdentity)
