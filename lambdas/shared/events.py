"""The events the handlers accept: parsing, and what the handlers read from them.

The shapes are frozen dataclasses and named tuples read by plain checks (``lambdas.shared.event_models``, and a module per kind of
event), imported by the parsers when the first event arrives; no event is read with pydantic (it is not on a cold
start).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from policies.rules.resources import SAGEMAKER_CREATE_CALLS, SAGEMAKER_TAG_CALLS, ResourceFacts, retaggable_resource

if TYPE_CHECKING:
    from lambdas.shared.approval_events import ModelPackageStateChangeEvent
    from lambdas.shared.call_events import SageMakerApiCall, SageMakerApiCallEvent, TamperCallEvent

Parsed = TypeVar("Parsed")
MODEL_PACKAGE_ARN = r"^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:model-package/[^/]+/\d+$"


class MalformedEvent(ValueError):
    """The event is not one the handler can act on; it is logged and sent to the dead-letter queue."""


# Where each service's record names the resource a tamper call acts on (requestParameters, then responseElements).
# For the services in TAMPER_ALL_TARGET_FIELDS every field found is a target, not only the first.
TAMPER_ALL_TARGET_FIELDS = frozenset({"logs.amazonaws.com"})
TAMPER_TARGET_FIELDS: dict[str, tuple[str, ...]] = {
    "events.amazonaws.com": ("name", "rule", "eventBusName"),
    "lambda.amazonaws.com": ("functionName",),
    "iam.amazonaws.com": ("roleName", "policyArn"),  # a role call may name a policy too (AttachRolePolicy): the role
    "kms.amazonaws.com": ("keyId", "aliasName"),
    "s3.amazonaws.com": ("bucketName",),
    "cloudtrail.amazonaws.com": ("name", "trailName"),
    "scheduler.amazonaws.com": ("groupName", "name"),
    "sqs.amazonaws.com": ("queueUrl",),  # a schedule is known by its group; a group by its name
    "sns.amazonaws.com": ("topicArn", "subscriptionArn"),
    "monitoring.amazonaws.com": ("alarmName", "alarmNames"),  # DeleteAlarms and DisableAlarmActions name a list
    # a metric filter call names both: each is judged; a key call may name its group by ARN (resourceIdentifier)
    "logs.amazonaws.com": ("filterName", "logGroupName", "resourceIdentifier"),
}


def read_or_refuse(read: Callable[[Any], Parsed], event: Any, what: str) -> Parsed:
    """``read(event)``; whatever stops a reader (a named problem, or an input no check foresaw) makes the event malformed."""
    from lambdas.shared.field_reader import EventShapeError

    try:
        return read(event)
    except EventShapeError as exc:
        raise MalformedEvent(f"{what}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - a reader only reads: an error here is about the event, which fails closed
        raise MalformedEvent(f"{what}: unreadable ({type(exc).__name__}: {exc})") from None


def _same_place(what: str, arn: str, region: str, account: str) -> None:
    """The resource ARN is authoritative: the event's Region and account must agree with it."""
    parts = arn.split(":")
    if len(parts) < 6 or parts[3] != region or parts[4] != account:
        raise MalformedEvent(f"{what} {arn} is not in the event's Region {region} and account {account}")


def parse_model_package_event(event: Any) -> ModelPackageStateChangeEvent:
    from lambdas.shared.approval_events import ModelPackageStateChangeEvent

    parsed = read_or_refuse(ModelPackageStateChangeEvent.read, event, "not a SageMaker Model Package State Change event")
    _same_place("model package", parsed.detail.ModelPackageArn, parsed.region, parsed.account)
    return parsed


def parse_api_call_event(event: Any) -> SageMakerApiCallEvent:
    from lambdas.shared.call_events import SageMakerApiCallEvent

    parsed = read_or_refuse(SageMakerApiCallEvent.read, event, "not a SageMaker 'AWS API Call via CloudTrail' event")
    if parsed.detail.eventName not in SAGEMAKER_CREATE_CALLS and parsed.detail.eventName not in SAGEMAKER_TAG_CALLS:
        raise MalformedEvent(f"{parsed.detail.eventName} is not a SageMaker create or tag call the rules watch")
    if parsed.detail.awsRegion != parsed.region:
        raise MalformedEvent(f"the record's awsRegion {parsed.detail.awsRegion} is not the event's Region {parsed.region}")
    return parsed


def parse_tamper_event(event: Any) -> TamperCallEvent:
    from lambdas.shared.call_events import TamperCallEvent

    parsed = read_or_refuse(TamperCallEvent.read, event, "not an 'AWS API Call via CloudTrail' event")
    _ = parsed.target  # a record that names no resource cannot be judged
    return parsed


def actor(call: SageMakerApiCall) -> str | None:
    return identity_arn(call.userIdentity)


SAGEMAKER_ARN_IN_TEXT = r'arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:[a-z-]+/[A-Za-z0-9](?:[-/]*[A-Za-z0-9])*(?=")'


def find_arn(event: Any, pattern: str = SAGEMAKER_ARN_IN_TEXT) -> str | None:
    """Best effort on an event that failed validation: which SageMaker resource does it name?

    Looks where resources belong (``resources``, then anywhere in the event's JSON text): a truncated
    or mangled event may still name it. Only a complete ARN (ending where its string ends) counts.
    """
    if isinstance(event, dict) and isinstance(event.get("resources"), list):
        for candidate in event["resources"]:
            if isinstance(candidate, str) and re.fullmatch(pattern.removesuffix('(?=")'), candidate):
                return candidate
    text = (
        event.decode(errors="replace")
        if isinstance(event, bytes)
        else event
        if isinstance(event, str)
        else json.dumps(event, default=str)
    )
    found = re.search(pattern, text)
    return found.group(0) if found else None


def identity_arn(identity: dict[str, Any]) -> str | None:
    """The caller's ARN in a CloudTrail userIdentity (the session's, else its issuer's)."""
    session_issuer = (
        identity.get("sessionContext", {}).get("sessionIssuer", {}) if isinstance(identity.get("sessionContext"), dict) else {}
    )
    arn = identity.get("arn") or session_issuer.get("arn")
    return str(arn) if arn else None


def _retagged(event: SageMakerApiCallEvent) -> ResourceFacts:
    """The resource whose tags an AddTags or DeleteTags call changed; its tags are read as they are now."""
    call = event.detail
    arn = (call.requestParameters or {}).get("resourceArn")
    found = retaggable_resource(arn) if isinstance(arn, str) else None
    if found is None:
        raise MalformedEvent(f"{call.eventName} event names no model, endpoint or job (requestParameters.resourceArn)")
    kind, name = found
    _same_place(kind.value, str(arn), call.awsRegion, event.account)
    return ResourceFacts(kind=kind, name=name, arn=str(arn), region=call.awsRegion, created_by=actor(call))


def resource_from_call(event: SageMakerApiCallEvent) -> ResourceFacts:
    """The resource a successful create call made, as far as the event tells (tags from the request), or the one a
    tag call changed."""
    call = event.detail
    if call.eventName in SAGEMAKER_TAG_CALLS:
        return _retagged(event)
    kind, name_field, arn_field = SAGEMAKER_CREATE_CALLS[call.eventName]
    request = call.requestParameters or {}
    response = call.responseElements or {}
    name = request.get(name_field)
    arn = response.get(arn_field)
    if not isinstance(name, str) or not name:
        raise MalformedEvent(f"{call.eventName} event has no requestParameters.{name_field}")
    if not isinstance(arn, str) or not arn.startswith("arn:"):
        raise MalformedEvent(f"{call.eventName} event has no responseElements.{arn_field}")
    _same_place(kind.value, arn, call.awsRegion, event.account)
    raw_tags = request.get("tags") or []
    if not isinstance(raw_tags, list):
        raise MalformedEvent(f"{call.eventName} event has requestParameters.tags that is not a list")
    tags = {str(t.get("key")): str(t.get("value", "")) for t in raw_tags if isinstance(t, dict) and "key" in t}
    role = request.get("roleArn") or request.get("executionRoleArn")
    return ResourceFacts(
        kind=kind,
        name=name,
        arn=arn,
        region=call.awsRegion,
        tags=tags,
        created_by=actor(call),
        role=role if isinstance(role, str) and role else None,
    )
