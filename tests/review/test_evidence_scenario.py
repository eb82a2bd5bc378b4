"""A realistic three days of governance decisions, produced by the real handlers in moto.

``run_scenario`` is what the evidence report tests build their reports from: the approval gate on
five model versions (one allowed, one below its metric threshold, one self-approved, one outside
any governed project, one undecidable then allowed on retry), the classification handler and the
region guard on SageMaker create calls (tagged, stopped, deleted, allowed, and a create call whose
user-supplied name is markup). The test here pins what the handlers wrote.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from jsonschema import Draft202012Validator

from lambdas.approval_gate import handler as gate
from lambdas.classification_tags import handler as classification
from lambdas.region_guard import handler as guard
from lambdas.shared import aws
from policies.validated import DEFAULT_POLICY_PATH
from tests.events import api_call_event, approval_event
from tests.lambdas.sagemaker_fixtures import create_endpoint, create_model, create_training_job
from tests.lambdas.world import APPROVER, CREATOR, REGION, World

DAY1, DAY2, DAY3 = "2025-03-03", "2025-03-04", "2025-03-05"
OUTSIDE = "us-east-1"
MARKUP_NAME = "<script>alert('x')<script>"  # no '/': it ends up in an ARN


@dataclass
class Scenario:
    packages: dict[str, str] = field(default_factory=dict)
    expected_records: int = 0


def at(event: dict[str, Any], day: str, clock: str) -> dict[str, Any]:
    event["time"] = f"{day}T{clock}Z"
    return event


def _fail_once(operation: str, code: str) -> None:
    calls = [0]

    def hook(**_: Any) -> None:
        calls[0] += 1
        if calls[0] == 1:
            raise ClientError({"Error": {"Code": code, "Message": f"injected {code}"}}, operation)

    aws.client("sagemaker", REGION).meta.events.register(f"before-call.sagemaker.{operation}", hook)


def run_scenario(world: World, context: Any) -> Scenario:
    scenario = Scenario()
    # day 1: one compliant version, one below its AUC threshold
    ok = scenario.packages["ok"] = world.register("credit-risk", metrics={"auc": 0.91, "accuracy": 0.88})
    gate.handler(at(approval_event(ok), DAY1, "09:00:00"), context)
    low = scenario.packages["low"] = world.register("credit-risk", metrics={"auc": 0.79, "accuracy": 0.88})
    gate.handler(at(approval_event(low), DAY1, "10:30:00"), context)
    # day 2: a self-approval, a group outside the policy, a transient error then a clean retry
    churn = scenario.packages["self-approved"] = world.register("churn-forecast", metrics={"auc": 0.8})
    world.set_identities(churn, created_by=CREATOR, approved_by=CREATOR)
    gate.handler(at(approval_event(churn), DAY2, "08:15:00"), context)
    world.sagemaker().create_model_package_group(ModelPackageGroupName="side-project")
    side = scenario.packages["ungoverned"] = world.register("side-project")
    gate.handler(at(approval_event(side), DAY2, "11:00:00"), context)
    flaky = scenario.packages["flaky"] = world.register("credit-risk")
    _fail_once("ListTags", "ThrottlingException")
    with pytest.raises(gate.GateUndecided):
        gate.handler(at(approval_event(flaky), DAY2, "15:00:00"), context)
    world.sagemaker().update_model_package(ModelPackageArn=flaky, ModelApprovalStatus="Approved")
    world.set_identities(flaky, created_by=CREATOR, approved_by=APPROVER)
    gate.handler(at(approval_event(flaky), DAY2, "15:20:00"), context)
    # day 3: SageMaker resources
    create_model("credit-risk-scorer", {"ml-project": "credit-risk"})
    event = api_call_event("CreateModel", name="credit-risk-scorer", region=REGION, tags={"ml-project": "credit-risk"})
    classification.handler(at(event, DAY3, "09:00:00"), context)
    create_training_job("credit-risk-train-7", {"ml-project": "credit-risk"})
    event = api_call_event("CreateTrainingJob", name="credit-risk-train-7", region=REGION, tags={"ml-project": "credit-risk"})
    classification.handler(at(event, DAY3, "09:05:00"), context)
    tags = {"ml-project": "churn-forecast", "data-classification": "internal"}
    create_model("churn-forecast-m2", tags)
    classification.handler(
        at(api_call_event("CreateModel", name="churn-forecast-m2", region=REGION, tags=tags), DAY3, "09:10:00"), context
    )
    classification.handler(at(api_call_event("CreateModel", name=MARKUP_NAME, region=REGION, tags={}), DAY3, "09:20:00"), context)
    create_training_job("credit-risk-train-x", {"ml-project": "credit-risk"}, region=OUTSIDE)
    event = api_call_event(
        "CreateTrainingJob", name="credit-risk-train-x", region=OUTSIDE, actor="arn:aws:iam::123456789012:user/mallory"
    )
    guard.handler(at(event, DAY3, "13:00:00"), context)
    create_endpoint("credit-risk-live", OUTSIDE)
    guard.handler(at(api_call_event("CreateEndpoint", name="credit-risk-live", region=OUTSIDE), DAY3, "13:30:00"), context)
    create_endpoint("credit-risk-eu", "eu-central-1")
    guard.handler(at(api_call_event("CreateEndpoint", name="credit-risk-eu", region="eu-central-1"), DAY3, "14:00:00"), context)
    scenario.expected_records = 13
    return scenario


def test_the_scenario_writes_one_record_per_decision(world: World, lambda_context: Any) -> None:
    scenario = run_scenario(world, lambda_context)
    records = world.audit_records()
    assert len(records) == scenario.expected_records
    decisions = sorted((r["rule_set"], r["decision"]) for r in records)
    assert decisions.count(("approval-gate", "allow")) == 2
    assert decisions.count(("approval-gate", "deny")) == 3
    assert decisions.count(("approval-gate", "undecidable")) == 1
    assert decisions.count(("data-classification", "deny")) == 3
    assert decisions.count(("data-classification", "allow")) == 1
    assert decisions.count(("region-restriction", "deny")) == 2
    assert decisions.count(("region-restriction", "allow")) == 1
    results = {r["action"]["result"] for r in records}
    assert {"stopped training-job credit-risk-train-x", "deleted endpoint credit-risk-live in us-east-1"} <= results
    assert "tagged data-classification=confidential" in results
    assert any(MARKUP_NAME in v["message"] for r in records for v in r["violations"])


# ---- helpers the other evidence tests share ----------------------------------------------------------

POLICY_SHA256 = hashlib.sha256(DEFAULT_POLICY_PATH.read_bytes()).hexdigest()
SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "review" / "evidence" / "schema.json").read_text())


def validate_report(report: dict[str, Any]) -> None:
    """The report validates against the published schema (and the schema is a valid draft 2020-12 schema)."""
    Draft202012Validator.check_schema(SCHEMA)
    Draft202012Validator(SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER).validate(report)


def synthetic_record(
    *,
    rule_set: str = "approval-gate",
    subject: str = "arn:aws:sagemaker:eu-west-1:123456789012:model-package/credit-risk/1",
    decision: str = "deny",
    violations: list[tuple[str, str]] | None = None,
    evidence: dict[str, Any] | None = None,
    day: str = DAY1,
    clock: str = "12:00:00",
    result: str = "set to Rejected",
    kind: str = "reject-model",
) -> dict[str, Any]:
    """An audit record in the shape lambdas/shared/audit.py writes, for cases the handlers cannot produce."""
    event_id = f"{day}-{clock}-{subject.rsplit('/', 1)[-1]}"
    return {
        "schema": "ml-governance-audit/1",
        "recorded_at": f"{day}T{clock}+00:00",
        "event": {"id": event_id, "source": "aws.sagemaker", "detail-type": "x", "time": f"{day}T{clock}Z", "region": REGION},
        "who": APPROVER,
        "what": subject,
        "rule_set": rule_set,
        "decision": decision,
        "violations": [{"rule": r, "message": m} for r, m in (violations or [])],
        "evidence": evidence if evidence is not None else {"model_package_group": "credit-risk", "created_by": CREATOR},
        "action": {"kind": kind, "mode": "enforce", "result": result, "remediation": {}},
        "policy_version": "v1-0000000000000000",
        "handler": {"function": "f", "request_id": "r"},
        "decision_digest": "0" * 16,
        "audit_key": f"decisions/{rule_set}/{day.replace('-', '/')}/{event_id}/{'0' * 16}.json",
    }
