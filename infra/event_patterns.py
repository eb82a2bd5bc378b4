"""EventBridge patterns of the enforcement rules, derived from the policy.

Each event goes to exactly one handler: approvals to the approval gate, SageMaker create
calls in allowed Regions to data-classification enforcement, and create calls anywhere else
to the region guard.
"""

from __future__ import annotations

from typing import Any

from policies.model import GovernancePolicy
from policies.rules.resources import API_CALL_VIA_CLOUDTRAIL, MODEL_PACKAGE_STATE_CHANGE, SAGEMAKER_CREATE_CALLS

Pattern = dict[str, Any]


def approvals() -> Pattern:
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


def rule_patterns(policy: GovernancePolicy) -> dict[str, Pattern]:
    """Handler name -> the pattern of the rule that invokes it."""
    allowed = list(policy.regions.allowed)
    return {
        "approval-gate": approvals(),
        "classification-tags": sagemaker_create_calls(allowed),
        "region-guard": sagemaker_create_calls([{"anything-but": allowed}]),
    }


def forwarded_patterns() -> dict[str, Pattern]:
    """What the forwarding rule in every other watched Region sends to the home Region's default bus."""
    return {"approvals": approvals(), "sagemaker-create-calls": sagemaker_create_calls()}
