"""The synthesized EventBridge patterns send each documented event to exactly the intended handler, in the home Region
and, forwarded once, from every other watched Region. With the synthesized stacks, not the handlers: the handlers' own
tests (tests/lambdas) run in a session that synthesizes nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from moto.events.models import EventPattern

from lambdas.table import HANDLERS
from tests.conftest import Synthesized
from tests.events import (
    RENAMED_TAMPERING,
    TAMPER_REQUESTS,
    api_call_event,
    approval_event,
    load_event,
    object_created_event,
    tag_call_event,
    tamper_event,
)

PACKAGE = "arn:aws:sagemaker:eu-west-1:123456789012:model-package/credit-risk/3"
LINEAGE = "acme-ml-lineage-123456789012-eu-west-1"
CREATE_CALLS = (
    "CreateEndpoint",
    "CreateModel",
    "CreateTrainingJob",
    "CreateProcessingJob",
    "CreateTransformJob",
    "CreateModelPackageGroup",
)


def rules(synthesized: Synthesized) -> dict[str, EventPattern]:
    """Handler rules of the enforcement stack in the home Region, by function they invoke."""
    found = {}
    for body in synthesized.resources("aws_cloudwatch_event_rule", "enforcement").values():
        if "provider" in body or "event_pattern" not in body:  # forwarding rules in other Regions, schedules
            continue
        handler = body["name"].removeprefix("acme-")
        found[handler] = EventPattern.load(body["event_pattern"])
    return found


def forwarding(synthesized: Synthesized) -> dict[str, list[EventPattern]]:
    by_region: dict[str, list[EventPattern]] = {}
    for body in synthesized.resources("aws_cloudwatch_event_rule", "enforcement").values():
        if "provider" in body:
            by_region.setdefault(body["provider"].removeprefix("aws."), []).append(EventPattern.load(body["event_pattern"]))
    return by_region


def failed(event: dict[str, Any]) -> dict[str, Any]:
    event["detail"]["errorCode"] = "ValidationException"
    return event


def update_endpoint(event: dict[str, Any], call: str = "UpdateEndpoint") -> dict[str, Any]:
    """The documented CreateEndpoint record as UpdateEndpoint's (same request and response fields), or as another
    deployment call's."""
    event["detail"]["eventName"] = call
    return event


CASES = [
    pytest.param(approval_event(PACKAGE), {"approval-gate"}, id="model-version-approved"),
    pytest.param(approval_event(PACKAGE, status="Rejected"), {"deployment-guard"}, id="model-version-rejected"),
    pytest.param(load_event("model_package_state_change"), {"deployment-guard"}, id="documented-sample-rejected"),
    pytest.param(
        approval_event(PACKAGE, status="PendingManualApproval"), {"deployment-guard"}, id="model-version-back-to-pending"
    ),
    pytest.param(
        update_endpoint(api_call_event("CreateEndpoint", name="credit-risk-x", region="eu-central-1")),
        {"deployment-guard"},
        id="UpdateEndpoint",
    ),
    *[
        pytest.param(
            update_endpoint(api_call_event("CreateEndpoint", name="credit-risk-x", region=region), call),
            {"deployment-guard"},
            id=f"{call}-{region}",
        )
        for call in ("CreateInferenceComponent", "UpdateInferenceComponent")
        for region in ("eu-central-1", "us-west-2")
    ],
    *[
        pytest.param(
            api_call_event(call, name="credit-risk-x", region="eu-central-1"),
            {"classification-tags", "deployment-guard"} if call == "CreateEndpoint" else {"classification-tags"},
            id=f"{call}-allowed-region",
        )
        for call in CREATE_CALLS
    ],
    *[
        pytest.param(
            api_call_event(call, name="credit-risk-x", region="us-west-2"),
            {"region-guard", "deployment-guard"} if call == "CreateEndpoint" else {"region-guard"},
            id=f"{call}-other-region",
        )
        for call in CREATE_CALLS
    ],
    pytest.param(
        load_event("cloudtrail_create_endpoint"), {"region-guard", "deployment-guard"}, id="documented-create-endpoint-us-west-2"
    ),
    pytest.param(load_event("cloudtrail_create_model"), {"region-guard"}, id="documented-create-model-us-west-2"),
    pytest.param(failed(api_call_event("CreateEndpoint", name="x", region="eu-west-1")), set(), id="failed-call"),
    # a write into a model store (an approved artifact may have been overwritten); other lineage writes reach no handler
    pytest.param(
        object_created_event(LINEAGE, "projects/credit-risk/models/credit-risk-train-1/output/model.tar.gz", region="eu-west-1"),
        {"deployment-guard"},
        id="model-artifact-written",
    ),
    pytest.param(
        object_created_event(LINEAGE, "projects/credit-risk/capture/credit-risk-scoring/AllTraffic/x.jsonl", region="eu-west-1"),
        set(),
        id="captured-traffic-written",
    ),
    pytest.param(
        object_created_event(LINEAGE, "projects/credit-risk/runs/r1/evaluation/evaluation.json", region="eu-west-1"),
        set(),
        id="evidence-written",
    ),
    pytest.param(load_event("s3_object_created"), set(), id="documented-object-created-elsewhere"),
]


@pytest.mark.parametrize(("event", "expected"), CASES)
def test_each_event_reaches_exactly_its_handler(synthesized: Synthesized, event: dict[str, Any], expected: set[str]) -> None:
    patterns = rules(synthesized)
    assert set(patterns) == {spec.name for spec in HANDLERS if spec.route is not None}
    matched = {handler for handler, pattern in patterns.items() if pattern.matches_event(json.loads(json.dumps(event)))}
    assert matched == expected


def test_every_other_watched_region_forwards_each_event_a_handler_needs_once(synthesized: Synthesized, policy: Any) -> None:
    by_region = forwarding(synthesized)
    handlers = rules(synthesized)
    assert sorted(by_region) == sorted(r for r in policy.regions.watched if r != policy.regions.home)
    events = [case.values[0] for case in CASES]
    for region, patterns in by_region.items():
        for sample in events:
            event = {**json.loads(json.dumps(sample)), "region": region}
            needed = any(p.matches_event(event) for p in handlers.values())
            # once: a CreateEndpoint call, which two handlers need, is not forwarded twice
            assert sum(p.matches_event(event) for p in patterns) == (1 if needed else 0), (region, event["detail"])


def test_every_event_pattern_fits_eventbridges_default_size(synthesized: Synthesized) -> None:
    """EventBridge refuses a pattern over 2,048 characters unless the account's quota was raised."""
    for stack in synthesized.stacks:
        for name, body in synthesized.resources("aws_cloudwatch_event_rule", stack).items():
            if "event_pattern" in body:  # as Terraform sends it
                assert len(body["event_pattern"]) <= 2048, (stack, name, len(body["event_pattern"]))


def tamper_rule(synthesized: Synthesized) -> EventPattern:
    (body,) = [
        b for b in synthesized.resources("aws_cloudwatch_event_rule", "enforcement").values() if b["name"] == "acme-tamper-watch"
    ]
    return EventPattern.load(body["event_pattern"])


@pytest.mark.parametrize("kind", sorted(TAMPER_REQUESTS))
def test_every_tamper_sample_matches_the_synthesized_rule_and_its_forwarding(synthesized: Synthesized, kind: str) -> None:
    event = json.loads(json.dumps(tamper_event(kind)))
    assert tamper_rule(synthesized).matches_event(event)
    forwarded = [
        EventPattern.load(b["event_pattern"])
        for b in synthesized.resources("aws_cloudwatch_event_rule", "enforcement").values()
        if b.get("provider") == "aws.us-east-1"
    ]
    assert sum(p.matches_event(json.loads(json.dumps(tamper_event(kind, region="us-east-1")))) for p in forwarded) == 1


def test_tag_calls_reach_the_classification_rule_for_models_endpoints_and_jobs_only(
    synthesized: Synthesized, policy: Any
) -> None:
    home = policy.regions.home
    rule = next(
        EventPattern.load(body["event_pattern"])
        for name, body in synthesized.resources("aws_cloudwatch_event_rule", "enforcement").items()
        if name.startswith("classification-tags_rule")
    )
    job = f"arn:aws:sagemaker:{home}:123456789012:training-job/credit-risk-train-3"
    pipeline = f"arn:aws:sagemaker:{home}:123456789012:pipeline/credit-risk-governed"
    for event_name in ("AddTags", "DeleteTags"):
        assert rule.matches_event(json.loads(json.dumps(tag_call_event(event_name, job, {"data-classification": "x"}))))
        assert not rule.matches_event(json.loads(json.dumps(tag_call_event(event_name, pipeline, {"team": "x"}))))
    forwarded = [
        EventPattern.load(b["event_pattern"])
        for b in synthesized.resources("aws_cloudwatch_event_rule", "enforcement").values()
        if b.get("provider") == "aws.us-east-1"
    ]
    elsewhere = tag_call_event("AddTags", job.replace(home, "us-east-1"), {"data-classification": "x"})
    elsewhere["region"] = elsewhere["detail"]["awsRegion"] = "us-east-1"
    assert sum(p.matches_event(json.loads(json.dumps(elsewhere))) for p in forwarded) == 1


@pytest.mark.parametrize(("kind", "overrides", "event_name"), RENAMED_TAMPERING)
def test_a_governance_resource_named_another_way_reaches_the_tamper_watch(
    synthesized: Synthesized, kind: str, overrides: dict[str, Any], event_name: str | None
) -> None:
    event = tamper_event(kind, overrides=overrides)
    if event_name is not None:
        event["detail"]["eventName"] = event_name
    assert tamper_rule(synthesized).matches_event(json.loads(json.dumps(event)))
