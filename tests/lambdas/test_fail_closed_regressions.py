"""Regressions of the fail-closed findings: each failed before the fix (a version left Approved, a second or
untrue record, the gate named as approver, an event from elsewhere let through)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from lambdas.approval_gate import handler as gate
from lambdas.shared import aws
from lambdas.shared import policy as packaged_policy
from lambdas.shared.events import MalformedEvent
from tests.events import approval_event
from tests.lambdas.world import APPROVER, CREATOR, World, fail_calls

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
