"""Remediations and tamper detections in the report, from records the real handlers wrote in moto: the deployment
guard (endpoint deleted, variants out of traffic), the drift monitor (version sent back) and the tamper watch."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from lambdas.deployment_guard import handler as guard
from lambdas.drift_monitor import handler as drift
from lambdas.model_deployer import handler as deployer
from lambdas.tamper_watch import handler as tamper
from policies.model import GovernancePolicy
from review.evidence.build import build_report
from review.evidence.collect import read_audit_records
from review.evidence.html import render_html
from tests.conftest import policy_variant
from tests.events import approval_event, tamper_event
from tests.lambdas.test_deployment_gate import approved_by_the_gate, request
from tests.lambdas.test_drift_monitor import DATA, Deployed, drift_policy, run_event
from tests.lambdas.world import REGION, World
from tests.review.test_evidence_scenario import POLICY_SHA256, validate_report


def report_of(world: World, policy: GovernancePolicy) -> dict[str, Any]:
    records = read_audit_records(world.s3, world.names.audit_bucket, since=None, until=None)
    report = build_report(records, policy=policy, policy_source_sha256=POLICY_SHA256)
    validate_report(report)
    return report


@pytest.mark.parametrize(
    ("quarantine", "outcome", "result"),
    [
        ("delete-endpoint", "deleted", "deleted endpoint credit-risk-scoring in eu-west-1"),
        ("scale-to-zero", "quarantined", "set the traffic weight of AllTraffic on credit-risk-scoring to 0"),
    ],
)
def test_the_deployment_guards_quarantine_is_a_remediation(
    world_for: Any, policy: GovernancePolicy, lambda_context: Any, quarantine: str, outcome: str, result: str
) -> None:
    governed = policy_variant(policy, deployment={"quarantine": quarantine})
    world = world_for(governed)
    arn = approved_by_the_gate(world, lambda_context)
    deployer.handler(request(arn), lambda_context)
    boto3.client("sagemaker", region_name=REGION).update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Rejected")
    guard.handler(approval_event(arn, status="Rejected"), lambda_context)

    report = report_of(world, governed)
    (remediation,) = report["remediations"]
    assert (remediation["rule_set"], remediation["outcome"], remediation["name"]) == (
        "deployment",
        outcome,
        "credit-risk-scoring",
    )
    assert (remediation["kind"], remediation["region"], remediation["project"]) == ("endpoint", REGION, "credit-risk")
    assert remediation["action"]["result"].startswith(result)
    assert report["remediations_by_outcome"] == {outcome: 1}
    assert result in render_html(report)


def test_a_version_the_drift_monitor_sent_back_is_a_remediation(
    world_for: Any, policy: GovernancePolicy, lambda_context: Any
) -> None:
    governed = drift_policy(policy, on_breach="quarantine")
    world = world_for(governed)
    deployed = Deployed(world)
    deployed.capture(DATA.shifted())
    drift.handler(run_event(world), lambda_context)

    report = report_of(world, governed)
    (remediation,) = report["remediations"]
    assert (remediation["rule_set"], remediation["outcome"]) == ("data-drift", "sent back")
    assert remediation["action"]["result"] == f"{deployed.version}: set to PendingManualApproval"
    assert remediation["remediation"] == {"model_packages": deployed.version}
    assert report["remediations_by_outcome"] == {"sent back": 1}


def test_tamper_detections_have_a_table_of_their_own(world: World, policy: GovernancePolicy, lambda_context: Any) -> None:
    tamper.handler(tamper_event("disable-rule"), lambda_context)
    tamper.handler(tamper_event("disable-rule", error_code="AccessDenied"), lambda_context)
    tamper.handler(tamper_event("disable-rule", overrides={"name": "team-nightly-report"}), lambda_context)  # not governance

    report = report_of(world, policy)
    detections = report["tamper_detections"]
    assert sorted((t["target"], t["call"], t["denied_with"] or "done") for t in detections) == [
        ("acme-approval-gate", "events.amazonaws.com/DisableRule", "AccessDenied"),
        ("acme-approval-gate", "events.amazonaws.com/DisableRule", "done"),
    ]
    assert all(t["actor"].endswith("AdministratorAccess/mallory") for t in detections)
    assert report["remediations"] == []
    page = render_html(report)
    assert "<h2>Tamper detection</h2>" in page
    assert "<b>attempt denied</b> (AccessDenied)" in page and "<b>done</b>" in page
