"""Region guard on SageMaker create calls forwarded from other Regions, end to end in moto."""

from __future__ import annotations

from typing import Any

import pytest

from lambdas.region_guard import handler as guard
from policies.model import GovernancePolicy
from tests.conftest import policy_variant
from tests.events import api_call_event
from tests.lambdas.sagemaker_fixtures import (
    create_endpoint,
    create_model,
    create_processing_job,
    create_training_job,
    create_transform_job,
    endpoints,
    job_status,
)
from tests.lambdas.world import World

OUTSIDE = "us-east-1"


def test_training_job_outside_allowed_regions_is_stopped(world: World, lambda_context: Any) -> None:
    create_training_job("credit-risk-train-x", {"ml-project": "credit-risk"}, region=OUTSIDE)
    event = api_call_event(
        "CreateTrainingJob", name="credit-risk-train-x", region=OUTSIDE, actor="arn:aws:iam::123456789012:user/mallory"
    )
    result = guard.handler(event, lambda_context)
    assert result["decision"] == "deny"
    assert job_status("training-job", "credit-risk-train-x", region=OUTSIDE) == "Stopped"
    (record,) = world.audit_records()
    assert record["rule_set"] == "region-restriction"
    assert record["who"] == "arn:aws:iam::123456789012:user/mallory"
    assert record["violations"] == [
        {
            "rule": "region-restriction",
            "message": "training-job credit-risk-train-x was created in us-east-1; the policy allows eu-west-1, eu-central-1",
        }
    ]
    assert record["action"]["result"] == "stopped training-job credit-risk-train-x"
    (alert,) = world.notifications()
    assert alert["rule_set"] == "region-restriction"


def test_endpoint_outside_allowed_regions_is_deleted(world: World, lambda_context: Any) -> None:
    create_endpoint("credit-risk-live", OUTSIDE)
    assert endpoints(OUTSIDE) == ["credit-risk-live"]
    guard.handler(api_call_event("CreateEndpoint", name="credit-risk-live", region=OUTSIDE), lambda_context)
    assert endpoints(OUTSIDE) == []
    (record,) = world.audit_records()
    assert record["action"]["result"] == "deleted endpoint credit-risk-live in us-east-1"


def test_model_outside_allowed_regions_is_reported(world: World, lambda_context: Any) -> None:
    create_model("credit-risk-m", {"ml-project": "credit-risk"}, region=OUTSIDE)
    guard.handler(api_call_event("CreateModel", name="credit-risk-m", region=OUTSIDE), lambda_context)
    (record,) = world.audit_records()
    assert record["decision"] == "deny"
    assert record["action"]["kind"] == "report-only"
    assert len(world.notifications()) == 1


def test_allowed_region_is_allowed(world: World, lambda_context: Any) -> None:
    create_endpoint("credit-risk-eu", "eu-central-1")
    result = guard.handler(api_call_event("CreateEndpoint", name="credit-risk-eu", region="eu-central-1"), lambda_context)
    assert result["decision"] == "allow"
    assert endpoints("eu-central-1") == ["credit-risk-eu"]


def test_report_mode_leaves_the_work_running(world_for: Any, lambda_context: Any, policy: GovernancePolicy) -> None:
    world = world_for(policy_variant(policy, enforcement={"region_restriction": "report"}))
    create_endpoint("credit-risk-live", OUTSIDE)
    guard.handler(api_call_event("CreateEndpoint", name="credit-risk-live", region=OUTSIDE), lambda_context)
    assert endpoints(OUTSIDE) == ["credit-risk-live"]
    assert world.audit_records()[0]["action"]["kind"] == "report-only"


@pytest.mark.parametrize(("call", "kind"), [("CreateProcessingJob", "processing-job"), ("CreateTransformJob", "transform-job")])
def test_other_jobs_are_stopped_too(world: World, lambda_context: Any, call: str, kind: str) -> None:
    if kind == "processing-job":
        create_processing_job("credit-risk-prep", OUTSIDE)
    else:
        create_transform_job("credit-risk-prep", OUTSIDE)
    guard.handler(api_call_event(call, name="credit-risk-prep", region=OUTSIDE), lambda_context)
    assert job_status(kind, "credit-risk-prep", OUTSIDE) == "Stopped"
    assert len(world.audit_records()) == 1
