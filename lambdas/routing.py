"""EventBridge patterns that route events to the handlers, derived from the policy and the Region rule.

Each event goes to exactly one handler: approvals to the approval gate, SageMaker create
calls in allowed Regions to data-classification enforcement, and create calls anywhere else
to the region guard. The split is ``policies.rules.region.allowed_regions``, the same list
``decide_region`` judges by.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from policies.rules.resources import (
    API_CALL_VIA_CLOUDTRAIL,
    MODEL_PACKAGE_STATE_CHANGE,
    OBJECT_CREATED,
    RETAGGABLE_KINDS,
    SAGEMAKER_CREATE_CALLS,
    SAGEMAKER_TAG_CALLS,
)

if TYPE_CHECKING:
    from policies.model import GovernancePolicy

Pattern = dict[str, Any]


def approvals(policy: GovernancePolicy | None = None) -> Pattern:
    return {
        "source": ["aws.sagemaker"],
        "detail-type": [MODEL_PACKAGE_STATE_CHANGE],
        "detail": {"ModelApprovalStatus": ["Approved"]},
    }


def sagemaker_create_calls(region_condition: list[Any] | None = None) -> Pattern:
    detail: dict[str, Any] = {
        "eventSource": ["sagemaker.amazonaws.com"],
        "eventName": sorted(SAGEMAKER_CREATE_CALLS),
        "errorCode": [{"exists": False}],
    }
    if region_condition is not None:
        detail["awsRegion"] = region_condition
    return {"source": ["aws.sagemaker"], "detail-type": [API_CALL_VIA_CLOUDTRAIL], "detail": detail}


def sagemaker_tag_changes(region_condition: list[Any] | None = None) -> Pattern:
    """Tags added to or removed from a model, endpoint or job after its create call was judged."""
    detail: dict[str, Any] = {
        "eventSource": ["sagemaker.amazonaws.com"],
        "eventName": list(SAGEMAKER_TAG_CALLS),
        "errorCode": [{"exists": False}],
        "requestParameters": {"resourceArn": [{"wildcard": f"arn:*:sagemaker:*:*:{k.value}/*"} for k in RETAGGABLE_KINDS]},
    }
    if region_condition is not None:
        detail["awsRegion"] = region_condition
    return {"source": ["aws.sagemaker"], "detail-type": [API_CALL_VIA_CLOUDTRAIL], "detail": detail}


def create_and_tag_calls_in_allowed_regions(policy: GovernancePolicy) -> Pattern:
    """The classification rule's events: create calls, and later tag changes, in the allowed Regions."""
    from policies.rules.region import allowed_regions  # at synth: the handlers' table need not load it

    regions = allowed_regions(policy)
    return any_of(sagemaker_create_calls(regions), sagemaker_tag_changes(regions))


def create_calls_outside_allowed_regions(policy: GovernancePolicy) -> Pattern:
    from policies.rules.region import allowed_regions

    return sagemaker_create_calls([{"anything-but": allowed_regions(policy)}])


def tamper_calls(policy: GovernancePolicy | None = None) -> Pattern:
    """Calls that could switch governance off, attempted or done (policies.rules.tampering)."""
    from policies.rules.tampering import ANY_VERSION_SUFFIX, TAMPER_CALLS  # at synth: the handlers' table need not load it

    return {
        "source": sorted({f"aws.{source.split('.')[0]}" for source in TAMPER_CALLS}),
        "detail-type": [API_CALL_VIA_CLOUDTRAIL],
        "detail": {
            "eventSource": sorted(TAMPER_CALLS),
            "eventName": [
                *sorted({n for calls in TAMPER_CALLS.values() for n in calls} - ANY_VERSION_SUFFIX),
                *({"prefix": n} for n in sorted(ANY_VERSION_SUFFIX)),
            ],
        },
    }


# The calls that change what an endpoint serves (the boundaries let only the deployer make them): an endpoint and
# its config, or an inference component on it.
DEPLOYMENT_CALLS = ("CreateEndpoint", "UpdateEndpoint", "CreateInferenceComponent", "UpdateInferenceComponent")


def deployment_calls() -> Pattern:
    return {
        "source": ["aws.sagemaker"],
        "detail-type": [API_CALL_VIA_CLOUDTRAIL],
        "detail": {
            "eventSource": ["sagemaker.amazonaws.com"],
            "eventName": list(DEPLOYMENT_CALLS),
            "errorCode": [{"exists": False}],
        },
    }


def model_artifact_writes(policy: GovernancePolicy) -> Pattern:
    """An object written into a project's model store (S3's EventBridge notification, in the bucket's account and
    Region): an approved artifact may have been overwritten, and the endpoints serving it would load the new bytes on
    their next instance. The guard sweeps only for a key a clearance pins; a new training output judges nothing."""
    from policies.naming import Names

    bucket, prefix = Names(policy, account="*").model_store("*")
    return {
        "source": ["aws.s3"],
        "detail-type": [OBJECT_CREATED],
        "region": [policy.regions.home],  # where the model stores are
        "detail": {"bucket": {"name": [{"wildcard": bucket}]}, "object": {"key": [{"wildcard": f"{prefix}/*"}]}},
    }


def deployment_changes(policy: GovernancePolicy | None = None) -> Pattern:
    """A deployment call, a model version leaving Approved (its clearance ends; what serves it is judged again), or,
    given the policy, a write into a model store (``model_artifact_writes``)."""
    revocations = {
        "source": ["aws.sagemaker"],
        "detail-type": [MODEL_PACKAGE_STATE_CHANGE],
        "detail": {"ModelApprovalStatus": ["Rejected", "PendingManualApproval"]},
    }
    return {"$or": [deployment_calls(), revocations, *([model_artifact_writes(policy)] if policy is not None else [])]}


# The forwarding rules of every other watched Region, by the purpose their names end with: what each forwards.
SAGEMAKER_EVENTS = "sagemaker-events"
TAMPER_CALLS_FORWARDED = "tamper-calls"
FORWARDED = {
    SAGEMAKER_EVENTS: "SageMaker approvals, create calls, tag changes and deployment changes",
    TAMPER_CALLS_FORWARDED: "calls that could switch governance off",
}


def any_of(*patterns: Pattern) -> Pattern:
    """One pattern matching every event any of ``patterns`` matches (EventBridge's ``$or``, one level)."""
    return {"$or": [branch for p in patterns for branch in (p["$or"] if set(p) == {"$or"} else [p])]}


def forwarded_patterns() -> dict[str, Pattern]:
    """What the forwarding rules in every other watched Region send to the home Region's default bus (IAM's
    calls, for one, are only delivered in us-east-1). One rule for SageMaker's own events, so that an event
    several handlers need (a CreateEndpoint call) is forwarded once, and one for tampering, whose pattern is
    the longest: 2,018 characters of EventBridge's default 2,048 (tests/infra/test_event_routing.py holds every
    synthesized pattern to the limit; a further watched call may need a second tamper rule)."""
    return {
        SAGEMAKER_EVENTS: any_of(approvals(), sagemaker_create_calls(), deployment_changes(), sagemaker_tag_changes()),
        TAMPER_CALLS_FORWARDED: tamper_calls(),
    }
