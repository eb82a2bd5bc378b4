"""Regressions of the fail-closed findings: each failed before the fix (a version left Approved, a second or
untrue record, the gate named as approver, an event from elsewhere let through)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from lambdas.approval_gate import handler as gate
from lambdas.deployment_guard import handler as guard
from lambdas.model_deployer import handler as deployer
from lambdas.region_guard import handler as region_guard_handler
from lambdas.shared import aws
from lambdas.shared import policy as packaged_policy
from lambdas.shared.clearance import clearance
from lambdas.shared.events import MalformedEvent
from lambdas.tamper_watch import handler as tamper
from tests.events import api_call_event, approval_event, tamper_event
from tests.lambdas.sagemaker_fixtures import create_endpoint, create_training_job, endpoints
from tests.lambdas.test_deployment_gate import approved_by_the_gate, deployment_records, request, scheduled_sweep
from tests.lambdas.test_tamper_watch import governance_key
from tests.lambdas.world import APPROVER, CREATOR, REGION, World, fail_calls

LOW = {"auc": 0.61, "accuracy": 0.9}


def deliver(event: dict[str, Any], context: Any, times: int = 3) -> None:
    for attempt in range(times):
        try:
            gate.handler(json.loads(json.dumps(event)), context)
            return
        except Exception:
            if attempt == times - 1:
                raise


def test_an_unreadable_packaged_policy_holds_the_version_back_with_a_record(world: World, lambda_context: Any) -> None:
    arn = world.register("credit-risk")
    path = os.environ["GOVERNANCE_POLICY_FILE"]
    original = Path(path).read_text(encoding="utf-8")
    broken = original.replace('"minimum": 0.8', '"minimum": NaN')
    assert broken != original
    Path(path).write_text(broken, encoding="utf-8")
    packaged_policy.reset()
    with pytest.raises(gate.GateUndecided):
        gate.handler(approval_event(arn), lambda_context)
    assert world.status(arn) == "PendingManualApproval"
    (record,) = world.audit_records()
    assert record["decision"] == "undecidable" and record["policy_version"].startswith("unreadable: ")


def test_an_unavailable_idempotency_store_holds_back_instead_of_acting_without_it(world: World, lambda_context: Any) -> None:
    arn = world.register("credit-risk", metrics=LOW)
    fail_calls(None, "dynamodb", "PutItem", "ServiceUnavailable")
    with pytest.raises(Exception, match="ServiceUnavailable"):
        gate.handler(approval_event(arn), lambda_context)
    assert world.status(arn) == "PendingManualApproval"
    assert [r["decision"] for r in world.audit_records()] == ["undecidable"]


def gate_records_itself_as_modifier(world: World, arn: str) -> None:
    """As SageMaker does: after the gate's UpdateModelPackage, the version's LastModifiedBy is the gate's session."""
    gate_session = "arn:aws:sts::123456789012:assumed-role/acme-approval-gate/acme-approval-gate"

    def after(**_: Any) -> None:
        world.set_identities(arn, created_by=CREATOR, approved_by=gate_session)

    aws.client("sagemaker", "eu-west-1").meta.events.register("after-call.sagemaker.UpdateModelPackage", after)


def test_a_retry_after_the_record_failed_completes_it_naming_the_person_and_alerting(world: World, lambda_context: Any) -> None:
    arn = world.register("credit-risk", metrics=LOW)
    event = approval_event(arn)
    gate_records_itself_as_modifier(world, arn)
    fail_calls(None, "s3", "PutObject", "SlowDown", times=1)  # the status update succeeds, the record fails once
    deliver(event, lambda_context)
    records = world.audit_records()
    decisions = [r for r in records if r["decision"] == "deny"]
    assert len(decisions) == 1, records
    (deny,) = decisions
    assert deny["who"] == APPROVER, "the approver is the person from the event, never the gate's own update"
    assert [v["rule"] for v in deny["violations"]] == ["metric-thresholds"], "no spurious separation-of-duties violation"
    assert deny["action"]["result"] == "set to Rejected"
    assert world.status(arn) == "Rejected"
    alerted = {n["audit_record"].rsplit("/", 1)[-1] for n in world.notifications()}
    assert deny["key"].rsplit("/", 1)[-1] in alerted, "the retry sends the alert the failed attempt could not"


def test_a_retry_after_the_alert_failed_sends_it_once(world: World, lambda_context: Any) -> None:
    arn = world.register("credit-risk", metrics=LOW)
    fail_calls(None, "sns", "Publish", "Throttling", times=1)
    deliver(approval_event(arn), lambda_context)
    gate.handler(approval_event(arn, event_id="redelivered-elsewhere"), lambda_context)
    denies = [r for r in world.audit_records() if r["decision"] == "deny"]
    assert (
        len([n for n in world.notifications() if n["decision"] == "deny" and n["audit_record"].endswith(denies[0]["key"])]) == 1
    )


def test_an_event_whose_region_disagrees_with_its_resource_is_held_back(world: World, lambda_context: Any) -> None:
    arn = world.register("credit-risk")
    event = approval_event(arn)
    event["region"] = "us-east-1"
    with pytest.raises(MalformedEvent, match="not in the event's Region"):
        gate.handler(event, lambda_context)
    assert world.status(arn) == "PendingManualApproval"
    assert [r["decision"] for r in world.audit_records()] == ["undecidable"]


def test_an_event_whose_detail_is_a_string_is_held_back(world: World, lambda_context: Any) -> None:
    arn = world.register("credit-risk")
    event = approval_event(arn)
    event["detail"] = json.dumps(event["detail"])
    with pytest.raises(MalformedEvent):
        gate.handler(event, lambda_context)
    assert world.status(arn) == "PendingManualApproval"


# ---- Retries after an action and before its record (review of 2026-11-26: each failed before the fix) -----------------


def test_a_sweep_retry_records_the_endpoint_the_first_attempt_deleted(world: World, lambda_context: Any) -> None:
    """The first attempt deletes an endpoint and its record fails; the retry used to list the live endpoints again,
    find none, and finish with no record and no alert."""
    create_endpoint("credit-risk-manual", REGION)  # a raw model, not from the registry: deleted
    sweep = scheduled_sweep()
    fail_calls(None, "s3", "PutObject", "InternalError", times=1)
    with pytest.raises(guard.EndpointsUndecided):  # its one endpoint's record failed
        guard.handler(sweep, lambda_context)
    assert endpoints(REGION) == []
    result = guard.handler(sweep, lambda_context)
    (record,) = deployment_records(world)
    assert result["judged"] == 1 and record["decision"] == "deny"
    assert record["action"]["result"].startswith("deleted endpoint credit-risk-manual"), record["action"]
    assert len(world.notifications()) == 1


def test_a_revocation_retry_records_the_endpoint_the_first_attempt_quarantined(world: World, lambda_context: Any) -> None:
    arn = approved_by_the_gate(world, lambda_context)
    deployer.handler(request(arn), lambda_context)
    boto3.client("sagemaker", region_name=REGION).update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Rejected")
    revocation = approval_event(arn, status="Rejected")
    fail_calls(None, "s3", "PutObject", "InternalError", times=1)
    with pytest.raises(guard.EndpointsUndecided):  # its one endpoint's record failed
        guard.handler(revocation, lambda_context)
    guard.handler(revocation, lambda_context)
    (record,) = [r for r in deployment_records(world) if r["decision"] == "deny"]
    assert record["action"]["result"].startswith("deleted endpoint credit-risk-scoring"), record["action"]


@pytest.mark.parametrize(
    ("handler", "create", "call", "name", "region", "done"),
    [
        (region_guard_handler.handler, create_endpoint, "CreateEndpoint", "credit-risk-live", "us-east-1", "deleted"),
        (guard.handler, create_endpoint, "CreateEndpoint", "credit-risk-shadow-it", REGION, "deleted"),
        (
            region_guard_handler.handler,
            lambda name, region: create_training_job(name, {"ml-project": "credit-risk"}, region=region),
            "CreateTrainingJob",
            "credit-risk-train-x",
            "us-east-1",
            "stopped",
        ),
    ],
    ids=["region-guard-endpoint", "deployment-guard-endpoint", "region-guard-job"],
)
def test_a_retry_records_what_the_first_attempt_did(
    world: World, lambda_context: Any, handler: Any, create: Any, call: str, name: str, region: str, done: str
) -> None:
    """Not "already gone": the record says what this event's handling did."""
    create(name, region)
    event = api_call_event(call, name=name, region=region)
    fail_calls(None, "s3", "PutObject", "SlowDown", times=1)
    with pytest.raises((ClientError, guard.EndpointsUndecided)):
        handler(event, lambda_context)
    handler(event, lambda_context)
    (record,) = world.audit_records()
    assert record["action"]["result"].startswith(done), record["action"]


def test_a_tamper_retry_judges_the_key_as_the_first_attempt_saw_it(world: World, lambda_context: Any) -> None:
    """The alias removed between the attempts used to flip the retry to allow: two records, no alert."""
    key = governance_key("alias/acme-ml-audit")
    event = tamper_event("key-deletion", overrides={"keyId": key})
    fail_calls(None, "sns", "Publish", "InternalError", times=1)
    with pytest.raises(ClientError):
        tamper.handler(event, lambda_context)
    boto3.client("kms", region_name=REGION).delete_alias(AliasName="alias/acme-ml-audit")
    assert tamper.handler(event, lambda_context)["decision"] == "deny"
    assert [r["decision"] for r in world.audit_records()] == ["deny"]
    assert len(world.notifications()) == 1


def test_a_gate_retry_after_a_hold_leaves_the_held_version_uncleared(world: World, lambda_context: Any) -> None:
    """The allow record failed, the version was held back; the retry used to clear it anyway, so a person's next
    approval would be deployable before the gate judged it."""
    arn = world.register("credit-risk")
    event = approval_event(arn)
    event["detail"]["LastModifiedBy"] = {"IamIdentity": {"Arn": APPROVER, "SourceIdentity": "alice"}}
    fail_calls(None, "s3", "PutObject", "SlowDown", times=1)
    with pytest.raises(ClientError):
        gate.handler(event, lambda_context)
    assert world.status(arn) == "PendingManualApproval"
    result = gate.handler(event, lambda_context)
    assert result["decision"] == "allow" and "not cleared" in result["action_result"], result
    assert clearance(arn) is None
    world.sagemaker().update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")
    assert deployer.handler(request(arn), lambda_context)["decision"] == "deny"
