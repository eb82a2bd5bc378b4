"""Evidence no one can forge: a version is approved only on the files its own pipeline run wrote, unchanged."""

from __future__ import annotations

import json
from typing import Any

from infra.embedded_extensions import record_user_context
from lambdas.approval_gate import handler as gate
from policies.rules.metrics import evaluation_report
from tests.events import approval_event
from tests.lambdas.world import ACCOUNT, APPROVER, World


def report_of(world: World, arn: str) -> tuple[str, str]:
    uri = world.sagemaker().describe_model_package(ModelPackageName=arn)["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"]
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    return bucket, key


def provenance_messages(world: World) -> list[str]:
    (record,) = [r for r in world.audit_records() if r["rule_set"] == "approval-gate"]
    return [v["message"] for v in record["violations"] if v["rule"] == "evidence-provenance"]


def test_a_report_edited_after_registration_is_rejected(world: World, lambda_context: Any) -> None:
    arn = world.register("credit-risk", status="PendingManualApproval", metrics={"auc": 0.62, "accuracy": 0.9})
    bucket, key = report_of(world, arn)
    better = json.dumps(evaluation_report("binary_classification_metrics", {"auc": 0.99, "accuracy": 0.99}))
    world.s3.put_object(Bucket=bucket, Key=key, Body=better)  # the numbers now pass; the hash does not
    world.sagemaker().update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")
    world.set_identities(
        arn,
        created_by=world.sagemaker().describe_model_package(ModelPackageName=arn)["CreatedBy"]["IamIdentity"]["Arn"],
        approved_by=APPROVER,
    )
    gate.handler(approval_event(arn), lambda_context)
    assert world.status(arn) == "Rejected"
    (message,) = provenance_messages(world)
    assert "evaluation report" in message and "changed after registration" in message


def test_a_stale_report_of_an_earlier_run_is_rejected(world: World, lambda_context: Any) -> None:
    earlier = world.register("credit-risk", status="PendingManualApproval")
    bucket, key = report_of(world, earlier)
    arn = world.register("credit-risk", report_uri=f"s3://{bucket}/{key}")
    gate.handler(approval_event(arn), lambda_context)
    assert world.status(arn) == "Rejected"
    assert any("is not from this version's pipeline run" in m for m in provenance_messages(world))


def test_a_report_of_another_project_is_rejected(world: World, lambda_context: Any) -> None:
    foreign = world.register("churn-forecast", status="PendingManualApproval")
    bucket, key = report_of(world, foreign)
    arn = world.register("credit-risk", report_uri=f"s3://{bucket}/{key}")
    gate.handler(approval_event(arn), lambda_context)
    assert world.status(arn) == "Rejected"
    assert any(
        "/projects/churn-forecast/" in m and "not from this version's pipeline run" in m for m in provenance_messages(world)
    )


def test_a_version_a_person_registered_is_rejected(world: World, lambda_context: Any) -> None:
    arn = world.register("credit-risk")
    person = {"IamIdentity": {"Arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/acme-data-scientist/carol", "SourceIdentity": "carol"}}
    record_user_context(
        ACCOUNT,
        "eu-west-1",
        arn,
        created_by=person,
        last_modified_by={"IamIdentity": {"Arn": APPROVER, "SourceIdentity": "alice"}},
    )
    gate.handler(approval_event(arn), lambda_context)
    assert world.status(arn) == "Rejected"
    assert any("not by project credit-risk's pipeline" in m for m in provenance_messages(world))


def test_the_record_carries_each_files_version_and_hash(world: World, lambda_context: Any) -> None:
    arn = world.register("credit-risk")
    gate.handler(approval_event(arn), lambda_context)
    (record,) = world.audit_records()
    evidence = record["evidence"]
    assert record["decision"] == "allow"
    for role in ("evaluation_report", "validation_report", "training_data", "drift_baseline"):
        assert len(evidence[f"{role}_sha256"]) == 64
        assert evidence[f"{role}_version_id"]
    assert evidence["pipeline_execution_arn"].endswith(
        "/execution/" + evidence["training_data_uri"].split("/runs/")[1].split("/")[0]
    )
    assert (evidence["registered_by_person"], evidence["approved_by_person"]) == ("carol", "alice")
