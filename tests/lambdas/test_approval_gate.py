"""Approval gate, end to end in moto: every rule's compliant case and violations, report mode, faults."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.embedded_extensions import record_user_context
from lambdas.approval_gate import handler as gate
from lambdas.shared.events import MalformedEvent
from policies.model import GovernancePolicy
from tests.conftest import policy_variant
from tests.events import approval_event
from tests.lambdas.world import ACCOUNT, APPROVER, CREATOR, World, fail_calls


def run(event: dict[str, Any], context: Any) -> dict[str, Any]:
    result: dict[str, Any] = gate.handler(event, context)
    return result


def only_record(world: World) -> dict[str, Any]:
    records = world.audit_records()
    assert len(records) == 1, records
    return records[0]


def test_compliant_version_stays_approved_with_one_allow_record(
    world: World, lambda_context: Any, policy: GovernancePolicy
) -> None:
    arn = world.register("credit-risk", metrics={"auc": 0.91, "accuracy": 0.88})
    event = approval_event(arn)
    result = run(event, lambda_context)

    assert result["decision"] == "allow"
    assert world.status(arn) == "Approved"
    record = only_record(world)
    assert record["decision"] == "allow"
    assert record["rule_set"] == "approval-gate"
    assert record["what"] == arn
    assert record["who"] == APPROVER
    assert record["violations"] == []
    assert record["evidence"]["metrics"] == {"auc": 0.91, "accuracy": 0.88}
    assert record["evidence"]["created_by"] == CREATOR
    assert record["action"] == {"kind": "none", "mode": "enforce", "result": "none: compliant", "remediation": {}}
    assert record["policy_version"] == policy.version
    assert record["event"]["id"] == event["id"]
    assert record["key"] == f"decisions/approval-gate/2021/02/24/{event['id']}/{record['decision_digest']}.json"
    assert world.notifications() == []


VIOLATIONS = [
    pytest.param(
        {"metrics": {"auc": 0.79, "accuracy": 0.88}},
        None,
        ["metric-thresholds: auc = 0.79 does not meet >= 0.8"],
        id="metric-below-threshold",
    ),
    pytest.param(
        {"metrics": {"auc": 0.91}},
        None,
        ["metric-thresholds: accuracy is missing from the evaluation report (required >= 0.75)"],
        id="metric-missing",
    ),
    pytest.param(
        {"report_uri": None},
        None,
        ["metric-thresholds: no evaluation report is attached (ModelMetrics.ModelQuality.Statistics)"],
        id="no-report-attached",
    ),
    pytest.param(
        {"report_uri": "s3://acme-ml-lineage-123456789012-eu-west-1/projects/credit-risk/evaluation/gone.json"},
        None,
        [
            "metric-thresholds: the evaluation report s3://acme-ml-lineage-123456789012-eu-west-1/projects/credit-risk/evaluation/gone.json does not exist"
        ],
        id="report-object-missing",
    ),
    pytest.param(
        {"report_uri": "s3://somewhere-else/evaluation.json"},
        None,
        [
            "metric-thresholds: the evaluation report s3://somewhere-else/evaluation.json was not read: it is outside the lineage bucket",
            "lineage-evidence: the evaluation report s3://somewhere-else/evaluation.json is not in the lineage bucket acme-ml-lineage-123456789012-eu-west-1",
        ],
        id="report-outside-lineage",
    ),
    pytest.param(
        {"training_uri": None},
        None,
        ["lineage-evidence: the model version does not name its training data"],
        id="no-training-data",
    ),
    pytest.param(
        {"training_uri": "s3://acme-ml-lineage-123456789012-eu-west-1/projects/credit-risk/data/missing.csv"},
        None,
        [
            "lineage-evidence: the training data s3://acme-ml-lineage-123456789012-eu-west-1/projects/credit-risk/data/missing.csv does not exist"
        ],
        id="training-data-missing",
    ),
    pytest.param(
        {"training_uri": "s3://scratch-bucket/train.csv"},
        None,
        [
            "lineage-evidence: the training data s3://scratch-bucket/train.csv is not in the lineage bucket acme-ml-lineage-123456789012-eu-west-1"
        ],
        id="training-data-outside-lineage",
    ),
    pytest.param(
        {},
        {"data-classification": None},
        [
            "classification-tag: model package group credit-risk has no 'data-classification' tag (project credit-risk requires 'confidential')"
        ],
        id="tag-missing",
    ),
    pytest.param(
        {},
        {"data-classification": "secret"},
        [
            "classification-tag: data-classification='secret' on model package group credit-risk is not a classification level (public, internal, confidential, restricted)"
        ],
        id="tag-unknown",
    ),
    pytest.param(
        {},
        {"data-classification": "internal"},
        [
            "classification-tag: data-classification='internal' on model package group credit-risk is below 'confidential' (project credit-risk)"
        ],
        id="tag-too-low",
    ),
]


@pytest.mark.parametrize(("register", "group_tags", "expected"), VIOLATIONS)
def test_each_violation_rejects_with_reasons_record_and_alert(
    world: World, lambda_context: Any, register: dict[str, Any], group_tags: dict[str, str | None] | None, expected: list[str]
) -> None:
    if group_tags:
        group_arn = world.sagemaker().describe_model_package_group(ModelPackageGroupName="credit-risk")["ModelPackageGroupArn"]
        world.sagemaker().delete_tags(ResourceArn=group_arn, TagKeys=list(group_tags))
        world.sagemaker().add_tags(
            ResourceArn=group_arn, Tags=[{"Key": k, "Value": v} for k, v in group_tags.items() if v is not None]
        )
    arn = world.register("credit-risk", **register)
    result = run(approval_event(arn), lambda_context)

    assert result["decision"] == "deny"
    assert world.status(arn) == "Rejected"
    description = world.description(arn)
    assert description.startswith("Rejected by the approval gate: ")
    for reason in expected:
        assert reason in description
    record = only_record(world)
    messages = [f"{v['rule']}: {v['message']}" for v in record["violations"]]
    assert [m for m in messages if not m.startswith("evidence-provenance: ")] == expected
    # evidence that is not the run's own (elsewhere, missing, never named) also breaks provenance; nothing else does
    moved = "training_uri" in register or "report_uri" in register
    assert any(m.startswith("evidence-provenance: ") for m in messages) == moved
    assert record["action"]["kind"] == "reject-model"
    assert record["action"]["result"] == "set to Rejected"
    (alert,) = world.notifications()
    assert alert["subject"] == f"[approval-gate] deny: {arn.rsplit('/', 1)[-1]}"
    assert alert["violations"] == record["violations"]
    assert alert["audit_record"] == f"s3://{world.names.audit_bucket}/{record['key']}"


def test_ungoverned_group_is_rejected(world: World, lambda_context: Any) -> None:
    world.sagemaker().create_model_package_group(ModelPackageGroupName="side-project")
    arn = world.register("side-project")
    run(approval_event(arn), lambda_context)
    assert world.status(arn) == "Rejected"
    assert "governed-project: model package group 'side-project' is not a governed project" in world.description(arn)


def test_self_approval_violates_separation_of_duties(world: World, lambda_context: Any) -> None:
    arn = world.register("credit-risk")
    world.set_identities(arn, created_by=CREATOR, approved_by=CREATOR)
    run(approval_event(arn), lambda_context)
    assert world.status(arn) == "Rejected"
    assert "separation-of-duties: carol approved a model version they registered" in world.description(arn)


def test_one_person_through_two_roles_is_still_self_approval(world: World, lambda_context: Any) -> None:
    """carol's pipeline registered the version; carol, now in the approver role, approves it: same person, different roles."""
    arn = world.register("credit-risk")
    region = arn.split(":")[3]
    record_user_context(
        ACCOUNT,
        region,
        arn,
        created_by={"IamIdentity": {"Arn": CREATOR, "SourceIdentity": "carol"}},
        last_modified_by={"IamIdentity": {"Arn": APPROVER.replace("/alice", "/carol"), "SourceIdentity": "carol"}},
    )
    run(approval_event(arn), lambda_context)
    assert world.status(arn) == "Rejected"
    assert "separation-of-duties: carol approved a model version they registered" in world.description(arn)


def test_two_people_in_the_same_role_are_not_self_approval(world: World, lambda_context: Any) -> None:
    arn = world.register("credit-risk")
    same_role = {"IamIdentity": {"Arn": APPROVER, "SourceIdentity": "bob"}}
    record_user_context(
        ACCOUNT,
        arn.split(":")[3],
        arn,
        created_by=same_role,
        last_modified_by={"IamIdentity": {"Arn": APPROVER, "SourceIdentity": "alice"}},
    )
    run(approval_event(arn), lambda_context)
    assert "separation-of-duties" not in world.description(arn)


def test_an_approval_without_source_identity_fails_closed(world: World, lambda_context: Any) -> None:
    arn = world.register("credit-risk")
    record_user_context(
        ACCOUNT,
        arn.split(":")[3],
        arn,
        created_by={"IamIdentity": {"Arn": CREATOR, "SourceIdentity": "carol"}},
        last_modified_by={"IamIdentity": {"Arn": APPROVER}},
    )
    run(approval_event(arn), lambda_context)
    assert world.status(arn) == "Rejected"
    assert (
        f"separation-of-duties: cannot establish the person who approved the model version ({APPROVER} carries no sts:SourceIdentity)"
        in world.description(arn)
    )


def test_unknown_approver_fails_separation_of_duties_closed(world: World, lambda_context: Any) -> None:
    arn = world.register("credit-risk")
    world.set_identities(arn, created_by=CREATOR, approved_by=None)
    run(approval_event(arn), lambda_context)
    assert world.status(arn) == "Rejected"
    assert (
        "separation-of-duties: cannot establish the person who approved the model version (no identity is recorded)"
        in world.description(arn)
    )


def test_rules_the_policy_turns_off_are_not_applied(world_for: Any, lambda_context: Any, policy: GovernancePolicy) -> None:
    relaxed = policy_variant(policy, approval={"separation_of_duties": False, "require_lineage_evidence": False})
    world = world_for(relaxed)
    arn = world.register("credit-risk", training_uri=None)
    world.set_identities(arn, created_by=CREATOR, approved_by=CREATOR)
    assert run(approval_event(arn), lambda_context)["decision"] == "allow"
    assert world.status(arn) == "Approved"


def test_report_mode_records_and_alerts_but_leaves_the_version(
    world_for: Any, lambda_context: Any, policy: GovernancePolicy
) -> None:
    world = world_for(policy_variant(policy, enforcement={"approval_gate": "report"}))
    arn = world.register("credit-risk", metrics={"auc": 0.5, "accuracy": 0.9})
    result = run(approval_event(arn), lambda_context)
    assert result["decision"] == "deny"
    assert world.status(arn) == "Approved"
    record = only_record(world)
    assert record["action"] == {
        "kind": "report-only",
        "mode": "report",
        "result": "none: report mode, recorded and notified only",
        "remediation": {},
    }
    assert len(world.notifications()) == 1


def test_events_that_are_not_approvals_are_skipped(world: World, lambda_context: Any) -> None:
    arn = world.register("credit-risk", status="Rejected")
    assert run(approval_event(arn, status="Rejected"), lambda_context) == {"decision": "skipped", "subject": arn}
    assert world.audit_records() == []


def test_documented_sample_event_parses(world: World, lambda_context: Any) -> None:
    """AWS's sample (status Rejected, repeated 'source') is accepted and skipped, not rejected as malformed."""
    from tests.events import load_event

    result = run(load_event("model_package_state_change"), lambda_context)
    assert result["decision"] == "skipped"


# ---- faults: the version never stays Approved when the gate cannot decide ----------------------


@pytest.mark.parametrize(
    ("service", "operation", "code"),
    [
        ("sagemaker", "DescribeModelPackage", "ThrottlingException"),
        ("sagemaker", "ListTags", "AccessDeniedException"),
        ("s3", "GetObject", "AccessDenied"),
    ],
)
def test_aws_errors_hold_the_version_back_and_retry(
    world: World, lambda_context: Any, service: str, operation: str, code: str
) -> None:
    arn = world.register("credit-risk")
    fail_calls("eu-west-1", service, operation, code)
    with pytest.raises(gate.GateUndecided, match=code):
        run(approval_event(arn), lambda_context)
    assert world.status(arn) == "PendingManualApproval"
    assert world.description(arn).startswith("Held by the approval gate: undecidable: ")
    assert code in world.description(arn)
    record = only_record(world)
    assert record["decision"] == "undecidable"
    assert record["action"]["result"] == "set to PendingManualApproval"
    (alert,) = world.notifications()
    assert alert["decision"] == "undecidable"


def test_retry_after_a_transient_error_decides_and_records_again(world: World, lambda_context: Any) -> None:
    arn = world.register("credit-risk")
    fail_calls("eu-west-1", "sagemaker", "ListTags", "ThrottlingException", times=1)
    event = approval_event(arn)
    with pytest.raises(gate.GateUndecided):
        run(event, lambda_context)
    assert world.status(arn) == "PendingManualApproval"
    # the approver approves again; EventBridge delivers the new state change
    world.sagemaker().update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")
    world.set_identities(arn, created_by=CREATOR, approved_by=APPROVER)
    assert run(approval_event(arn), lambda_context)["decision"] == "allow"
    assert sorted(r["decision"] for r in world.audit_records()) == ["allow", "undecidable"]


def test_hold_back_still_happens_when_describe_keeps_failing(world: World, lambda_context: Any) -> None:
    arn = world.register("credit-risk")
    fail_calls("eu-west-1", "sagemaker", "DescribeModelPackage", "ThrottlingException")
    with pytest.raises(gate.GateUndecided):
        run(approval_event(arn), lambda_context)
    assert world.status(arn) == "PendingManualApproval"


def test_unreadable_report_is_a_violation(world: World, lambda_context: Any) -> None:
    report = world.put_lineage("projects/credit-risk/evaluation/broken.json", "{not json")
    arn = world.register("credit-risk", report_uri=report)
    run(approval_event(arn), lambda_context)
    assert world.status(arn) == "Rejected"
    assert "is unreadable: the evaluation report is not JSON" in world.description(arn)


def test_malformed_event_with_a_findable_version_is_held_back_and_raised(world: World, lambda_context: Any) -> None:
    arn = world.register("credit-risk")
    event = approval_event(arn)
    event["detail"]["ModelPackageVersion"] = "second"
    event["detail"]["ModelApprovalStatus"] = 1
    with pytest.raises(MalformedEvent, match="not a SageMaker Model Package State Change event"):
        run(event, lambda_context)
    assert world.status(arn) == "PendingManualApproval"
    record = only_record(world)
    assert record["decision"] == "undecidable"
    assert "malformed event" in record["violations"][0]["message"]


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda detail, arn: detail.update(ModelPackageVersion="²"), id="a-superscript-digit-version"),
        pytest.param(lambda detail, arn: detail.update(ModelPackageVersion="9" * 5000), id="a-5000-digit-version"),
        pytest.param(lambda detail, arn: detail.update(ModelPackageArn=arn + "\n"), id="an-arn-ending-in-a-newline"),
        pytest.param(lambda detail, arn: detail.update(ModelPackageGroupName="credit-risk\ud800"), id="a-lone-surrogate"),
    ],
)
def test_an_approval_the_reader_refuses_is_held_back_with_one_record(world: World, lambda_context: Any, change: Any) -> None:
    """Values no check foresaw are refused as malformed (never an unexpected error that leaves the version Approved)."""
    arn = world.register("credit-risk")
    event = approval_event(arn)
    change(event["detail"], arn)
    with pytest.raises(MalformedEvent, match="not a SageMaker Model Package State Change event"):
        run(event, lambda_context)
    assert world.status(arn) == "PendingManualApproval"
    assert only_record(world)["decision"] == "undecidable"


@pytest.mark.parametrize(
    "event",
    [
        pytest.param('{"version": "0", "id": "a4b2', id="truncated-json-text"),
        pytest.param({"detail-type": "SageMaker Model Package State Change"}, id="no-detail"),
        pytest.param({"version": "0", "id": "x", "detail": None, "resources": "arn"}, id="wrong-types"),
        pytest.param([], id="not-an-object"),
    ],
)
def test_malformed_events_without_a_version_change_nothing(world: World, lambda_context: Any, event: Any) -> None:
    arn = world.register("credit-risk")
    with pytest.raises(MalformedEvent):
        run(event, lambda_context)
    assert world.status(arn) == "Approved"  # nothing in the event names it: no action, the event goes to the DLQ
    assert world.audit_records() == []


def test_redelivery_gives_one_record_and_one_alert(world: World, lambda_context: Any) -> None:
    arn = world.register("credit-risk", metrics={"auc": 0.5, "accuracy": 0.9})
    event = approval_event(arn)
    first = run(event, lambda_context)
    second = run(json.loads(json.dumps(event)), lambda_context)
    assert first == second
    assert len(world.audit_records()) == 1
    assert world.audit_versions() == 1
    assert len(world.notifications()) == 1
