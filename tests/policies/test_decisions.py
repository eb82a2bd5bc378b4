"""The pure decision functions on their own: no AWS, no handler, exact verdicts, actions and violated rules."""

from __future__ import annotations

from dataclasses import replace

import pytest

from policies.model import GovernancePolicy
from policies.rules.approval import ModelVersionFacts, decide_approval, undecidable_approval
from policies.rules.classification import decide_classification
from policies.rules.outcome import Action, Verdict
from policies.rules.provenance import EvidenceFile
from policies.rules.region import decide_region
from policies.rules.resources import ResourceFacts, ResourceKind
from tests.conftest import policy_variant

LINEAGE = "acme-ml-lineage-123456789012-eu-west-1"
PACKAGE = "arn:aws:sagemaker:eu-west-1:123456789012:model-package/credit-risk/3"
REGISTRAR = "arn:aws:sts::123456789012:assumed-role/acme-credit-risk-sagemaker-execution/SageMaker"
APPROVER = "arn:aws:sts::123456789012:assumed-role/acme-model-approver/alice"

RUN = f"s3://{LINEAGE}/projects/credit-risk/runs/r1"
EXECUTION = "arn:aws:sagemaker:eu-west-1:123456789012:pipeline/credit-risk-governed/execution/r1"


def evidence(role: str, key: str, sha: str = "ab" * 32) -> EvidenceFile:
    return EvidenceFile(role, f"{RUN}/{key}", registered_sha256=sha, found=True, sha256=sha, version_id="v1")


FILES = (
    evidence("evaluation report", "evaluation/evaluation.json"),
    evidence("validation report", "validation/validation.json"),
    evidence("training data", "data/train.csv"),
    evidence("drift baseline", "baseline/baseline.json"),
)
COMPLIANT = ModelVersionFacts(
    package_arn=PACKAGE,
    group_name="credit-risk",
    group_tags={"data-classification": "confidential", "ml-project": "credit-risk"},
    metrics_report_uri=f"{RUN}/evaluation/evaluation.json",
    metrics_report_found=True,
    metrics={"auc": 0.91, "accuracy": 0.88},
    training_data_uri=f"{RUN}/data/train.csv",
    training_data_found=True,
    created_by=REGISTRAR,
    approved_by=APPROVER,
    registered_by_person="carol",
    approved_by_person="alice",
    pipeline_execution=EXECUTION,
    evidence_files=FILES,
)


def rules(facts: ModelVersionFacts, policy: GovernancePolicy) -> list[str]:
    return [v.rule for v in decide_approval(policy, facts, lineage_bucket=LINEAGE).violations]


def test_a_compliant_version_is_allowed_and_left_alone(policy: GovernancePolicy) -> None:
    decision = decide_approval(policy, COMPLIANT, lineage_bucket=LINEAGE)
    assert (decision.verdict, decision.action, decision.violations) == (Verdict.ALLOW, Action.NONE, ())
    assert decision.explanation() == "compliant with the governance policy"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param({"group_name": "fraud"}, ["governed-project"], id="ungoverned-group"),
        pytest.param({"group_tags": {}}, ["classification-tag"], id="no-tag"),
        pytest.param({"group_tags": {"data-classification": "internal"}}, ["classification-tag"], id="below-project-level"),
        pytest.param({"group_tags": {"data-classification": "secret"}}, ["classification-tag"], id="unknown-level"),
        pytest.param({"metrics_report_uri": None, "metrics": None}, ["metric-thresholds"], id="no-report"),
        pytest.param({"metrics_report_found": False, "metrics": None}, ["metric-thresholds"], id="report-missing"),
        pytest.param({"metrics": None, "metrics_report_error": "not JSON"}, ["metric-thresholds"], id="report-unreadable"),
        pytest.param({"metrics": {"auc": 0.91}}, ["metric-thresholds"], id="metric-missing"),
        pytest.param({"metrics": {"auc": 0.79, "accuracy": 0.74}}, ["metric-thresholds", "metric-thresholds"], id="two-below"),
        pytest.param({"metrics": {"auc": float("nan"), "accuracy": 0.9}}, ["metric-thresholds"], id="nan-never-passes"),
        pytest.param({"training_data_uri": None}, ["lineage-evidence"], id="no-training-data"),
        pytest.param({"training_data_uri": "s3://elsewhere/train.csv"}, ["lineage-evidence"], id="data-outside-lineage"),
        pytest.param({"training_data_found": False}, ["lineage-evidence"], id="data-missing"),
        pytest.param(
            {"metrics_report_uri": "s3://elsewhere/e.json", "metrics": None},
            ["metric-thresholds", "lineage-evidence"],
            id="report-outside-lineage",
        ),
        pytest.param({"approved_by_person": "carol"}, ["separation-of-duties"], id="self-approval"),
        pytest.param({"approved_by_person": None}, ["separation-of-duties"], id="approver-unknown"),
        pytest.param({"registered_by_person": None}, ["separation-of-duties"], id="registrar-unknown"),
        pytest.param({"pipeline_execution": None}, ["evidence-provenance"], id="no-pipeline-execution"),
        pytest.param(
            {"created_by": "arn:aws:sts::123456789012:assumed-role/acme-data-scientist/carol"},
            ["evidence-provenance"],
            id="registered-by-a-person",
        ),
        pytest.param(
            {
                "evidence_files": (
                    EvidenceFile("evaluation report", f"{RUN}/evaluation/evaluation.json", "ab" * 32, True, "cd" * 32),
                )
                + FILES[1:]
            },
            ["evidence-provenance"],
            id="report-edited-after-registration",
        ),
        pytest.param(
            {
                "evidence_files": (
                    EvidenceFile(
                        "evaluation report",
                        f"s3://{LINEAGE}/projects/credit-risk/runs/r0/evaluation/evaluation.json",
                        "ab" * 32,
                        True,
                        "ab" * 32,
                    ),
                )
                + FILES[1:]
            },
            ["evidence-provenance"],
            id="stale-report-of-another-run",
        ),
        pytest.param(
            {
                "evidence_files": (
                    EvidenceFile(
                        "evaluation report",
                        f"s3://{LINEAGE}/projects/churn-forecast/runs/r1/evaluation/evaluation.json",
                        "ab" * 32,
                        True,
                        "ab" * 32,
                    ),
                )
                + FILES[1:]
            },
            ["evidence-provenance"],
            id="foreign-report-of-another-project",
        ),
    ],
)
def test_each_violation_is_named_and_rejects(policy: GovernancePolicy, change: dict[str, object], expected: list[str]) -> None:
    facts = replace(COMPLIANT, **change)  # type: ignore[arg-type]
    decision = decide_approval(policy, facts, lineage_bucket=LINEAGE)
    assert [v.rule for v in decision.violations] == expected
    assert (decision.verdict, decision.action) == (Verdict.DENY, Action.REJECT_MODEL)
    assert all(f"{v.rule}: {v.message}" in decision.explanation() for v in decision.violations)


def test_report_mode_records_without_acting(policy: GovernancePolicy) -> None:
    lenient = policy_variant(policy, enforcement={"approval_gate": "report"})
    decision = decide_approval(lenient, replace(COMPLIANT, approved_by_person="carol"), lineage_bucket=LINEAGE)
    assert (decision.verdict, decision.action) == (Verdict.DENY, Action.REPORT_ONLY)


def test_switched_off_rules_do_not_fire(policy: GovernancePolicy) -> None:
    relaxed = policy_variant(policy, approval={"separation_of_duties": False, "require_lineage_evidence": False})
    assert rules(replace(COMPLIANT, approved_by_person="carol", training_data_uri=None, pipeline_execution=None), relaxed) == []


def test_the_organization_floor_applies_to_every_project(policy: GovernancePolicy) -> None:
    run = RUN.replace("credit-risk", "churn-forecast")
    churn = replace(
        COMPLIANT,
        package_arn=PACKAGE.replace("credit-risk", "churn-forecast"),
        group_name="churn-forecast",
        group_tags={"data-classification": "internal"},
        metrics={"auc": 0.74},
        training_data_uri=f"{run}/data/train.csv",
        created_by=REGISTRAR.replace("credit-risk", "churn-forecast"),
        pipeline_execution=EXECUTION.replace("credit-risk", "churn-forecast"),
        evidence_files=tuple(replace(f, uri=str(f.uri).replace("credit-risk", "churn-forecast")) for f in FILES),
    )
    assert rules(churn, policy) == ["metric-thresholds"]
    assert rules(replace(churn, metrics={"auc": 0.75}), policy) == []


def test_an_undecidable_version_is_held_back_in_enforce_mode_only(policy: GovernancePolicy) -> None:
    held = undecidable_approval(policy, PACKAGE, "ThrottlingException: rate exceeded")
    assert (held.verdict, held.action, [v.rule for v in held.violations]) == (
        Verdict.UNDECIDABLE,
        Action.REVERT_TO_PENDING,
        ["undecidable"],
    )
    reported = undecidable_approval(policy_variant(policy, enforcement={"approval_gate": "report"}), PACKAGE, "x")
    assert reported.action is Action.REPORT_ONLY


def resource(kind: ResourceKind, name: str, region: str = "eu-west-1", **tags: str) -> ResourceFacts:
    arn = f"arn:aws:sagemaker:{region}:123456789012:{kind.value}/{name}"
    return ResourceFacts(kind=kind, name=name, arn=arn, region=region, tags=tags)


@pytest.mark.parametrize(
    ("facts", "verdict", "action", "required"),
    [
        pytest.param(
            resource(ResourceKind.MODEL, "credit-risk-m", **{"data-classification": "confidential"}),
            Verdict.ALLOW,
            Action.NONE,
            "confidential",
            id="at-project-level",
        ),
        pytest.param(
            resource(ResourceKind.MODEL, "credit-risk-m", **{"data-classification": "restricted"}),
            Verdict.ALLOW,
            Action.NONE,
            "confidential",
            id="stricter-is-fine",
        ),
        pytest.param(
            resource(ResourceKind.MODEL, "credit-risk-m"), Verdict.DENY, Action.TAG_RESOURCE, "confidential", id="untagged"
        ),
        pytest.param(
            resource(ResourceKind.TRAINING_JOB, "credit-risk-t", **{"data-classification": "public"}),
            Verdict.DENY,
            Action.STOP_JOB,
            "confidential",
            id="job-below-is-stopped",
        ),
        pytest.param(
            resource(ResourceKind.ENDPOINT, "scratch", **{"data-classification": "internal"}),
            Verdict.DENY,
            Action.TAG_RESOURCE,
            "restricted",
            id="unattributed-needs-the-top-level",
        ),
        pytest.param(
            resource(ResourceKind.MODEL, "x", **{"ml-project": "churn-forecast", "data-classification": "internal"}),
            Verdict.ALLOW,
            Action.NONE,
            "internal",
            id="project-tag-wins-over-name",
        ),
        # Each tie to a project is the caller's to choose: none lowers what another requires (a review found a
        # restricted project's job tagged with an internal project allowed, and an execution role's job named after
        # another project judged by that name).
        pytest.param(
            resource(
                ResourceKind.TRAINING_JOB,
                "claims-triage--exp1",
                **{"ml-project": "churn-forecast", "data-classification": "internal"},
            ),
            Verdict.DENY,
            Action.STOP_JOB,
            "restricted",
            id="a-less-strict-project-tag-does-not-lower-the-name",
        ),
        pytest.param(
            replace(
                resource(ResourceKind.TRAINING_JOB, "churn-forecast-train-7", **{"data-classification": "internal"}),
                role="arn:aws:iam::123456789012:role/acme-claims-triage-sagemaker-execution",
            ),
            Verdict.DENY,
            Action.STOP_JOB,
            "restricted",
            id="the-project-role-it-runs-as-counts",
        ),
        pytest.param(
            replace(
                resource(ResourceKind.PROCESSING_JOB, "churn-forecast--p", **{"data-classification": "internal"}),
                role="arn:aws:iam::123456789012:role/acme-claims-triage-experiments",
            ),
            Verdict.DENY,
            Action.STOP_JOB,
            "restricted",
            id="an-experiment-role-counts-too",
        ),
        pytest.param(
            replace(
                resource(ResourceKind.TRAINING_JOB, "churn-forecast-train-7", **{"data-classification": "internal"}),
                role="arn:aws:iam::123456789012:role/acme-churn-forecast-sagemaker-execution",
            ),
            Verdict.ALLOW,
            Action.NONE,
            "internal",
            id="its-own-project-role",
        ),
    ],
)
def test_classification_decisions(
    policy: GovernancePolicy, facts: ResourceFacts, verdict: Verdict, action: Action, required: str
) -> None:
    decision = decide_classification(policy, facts)
    assert (decision.verdict, decision.action, decision.evidence["required_level"]) == (verdict, action, required)
    assert decision.remediation == ({"data-classification": required} if verdict is Verdict.DENY else {})


def test_classification_tags_instead_of_stopping_when_the_policy_says_so(policy: GovernancePolicy) -> None:
    tagging = policy_variant(policy, classification={"remediation": "tag"})
    assert decide_classification(tagging, resource(ResourceKind.TRAINING_JOB, "credit-risk-t")).action is Action.TAG_RESOURCE


@pytest.mark.parametrize(
    ("kind", "region", "action"),
    [
        (ResourceKind.TRAINING_JOB, "eu-central-1", Action.NONE),
        (ResourceKind.TRAINING_JOB, "us-east-1", Action.STOP_JOB),
        (ResourceKind.PROCESSING_JOB, "ap-south-1", Action.STOP_JOB),
        (ResourceKind.TRANSFORM_JOB, "us-west-2", Action.STOP_JOB),
        (ResourceKind.ENDPOINT, "us-east-1", Action.DELETE_ENDPOINT),
        (ResourceKind.MODEL, "us-east-1", Action.REPORT_ONLY),
        (ResourceKind.MODEL_PACKAGE_GROUP, "sa-east-1", Action.REPORT_ONLY),
    ],
)
def test_region_decisions(policy: GovernancePolicy, kind: ResourceKind, region: str, action: Action) -> None:
    decision = decide_region(policy, resource(kind, "credit-risk-x", region))
    assert decision.action is action
    assert decision.verdict is (Verdict.ALLOW if action is Action.NONE else Verdict.DENY)
    if decision.violations:
        assert decision.violations[0].message.endswith("the policy allows eu-west-1, eu-central-1")


def test_region_report_mode(policy: GovernancePolicy) -> None:
    lenient = policy_variant(policy, enforcement={"region_restriction": "report"})
    assert decide_region(lenient, resource(ResourceKind.ENDPOINT, "e", "us-east-1")).action is Action.REPORT_ONLY
