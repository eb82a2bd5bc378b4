"""EventBridge patterns that route events to the handlers, derived from the policy and the Region rule.

Each event goes to exactly one handler: approvals to the approval gate, SageMaker create
calls in allowed Regions to data-classification enforcement, and create calls anywhere else
to the region guard. The split is ``policies.rules.region.allowed_regions``, the same list
``decide_region`` judges by.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from policies.rules.region import allowed_regions
from policies.rules.resources import API_CALL_VIA_CLOUDTRAIL, MODEL_PACKAGE_STATE_CHANGE, SAGEMAKER_CREATE_CALLS
from policies.rules.tampering import TAMPER_CALLS

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


def create_calls_in_allowed_regions(policy: GovernancePolicy) -> Pattern:
    return sagemaker_create_calls(allowed_regions(policy))


def create_calls_outside_allowed_regions(policy: GovernancePolicy) -> Pattern:
    return sagemaker_create_calls([{"anything-but": allowed_regions(policy)}])


def tamper_calls(policy: GovernancePolicy | None = None) -> Pattern:
    """Calls that could switch governance off, attempted or done (policies.rules.tampering)."""
    return {
        "source": sorted({f"aws.{source.split('.')[0]}" for source in TAMPER_CALLS}),
        "detail-type": [API_CALL_VIA_CLOUDTRAIL],
        "detail": {
            "eventSource": sorted(TAMPER_CALLS),
            "eventName": sorted({n for calls in TAMPER_CALLS.values() for n in calls}),
        },
    }


DEPLOYMENT_CALLS = ("CreateEndpoint", "UpdateEndpoint")


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


def deployment_changes(policy: GovernancePolicy | None = None) -> Pattern:
    """A deployment call, or a model version leaving Approved (its clearance ends; what serves it is judged again)."""
    revocations = {
        "source": ["aws.sagemaker"],
        "detail-type": [MODEL_PACKAGE_STATE_CHANGE],
        "detail": {"ModelApprovalStatus": ["Rejected", "PendingManualApproval"]},
    }
    return {"$or": [deployment_calls(), revocations]}


def forwarded_patterns() -> dict[str, Pattern]:
    """What the forwarding rule in every other watched Region sends to the home Region's default bus
    (IAM's calls, for one, are only delivered in us-east-1)."""
    return {
        "approvals": approvals(),
        "sagemaker-create-calls": sagemaker_create_calls(),
        "tamper-calls": tamper_calls(),
        "deployment-changes": deployment_changes(),
    }
