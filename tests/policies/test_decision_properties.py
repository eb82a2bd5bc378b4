"""The approval rules at scale, pure: over generated policies x model versions, a version that breaks any rule
never ends Approved under enforce, and every decision is explained by exactly the rules it breaks.

The oracle below is written from the policy's words, not from policies/rules/approval.py, so the two
disagree when either is wrong. Over 10,000 generated cases in a few seconds (the moto-backed property
test in tests/lambdas/ stays small: it exercises faults, this one exercises the rules).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policies.model import GovernancePolicy
from policies.rules.approval import ModelVersionFacts, decide_approval
from policies.rules.outcome import Action, Verdict
from policies.rules.provenance import EvidenceFile

LINEAGE = "acme-ml-lineage-123456789012-eu-west-1"
LEVELS = ["public", "internal", "confidential", "restricted"]
PEOPLE = ["arn:aws:sts::123456789012:assumed-role/acme-model-approver/alice", "arn:aws:sts::123456789012:assumed-role/x/bob"]
METRICS = ["auc", "accuracy", "f1"]
# The strategies, built once (hypothesis validates a strategy each time one is built: a third of the run).
FLOORS = st.sampled_from([None, 0.5, 0.7])
METRIC_SETS = st.lists(st.sampled_from(METRICS), unique=True, max_size=3)
MINIMUMS = st.floats(0.5, 0.95)
PROJECT_LEVELS = st.sampled_from(LEVELS)
BOOLEANS = st.booleans()
MODES = st.sampled_from(["enforce", "report"])
GROUPS = st.sampled_from(["credit-risk", "churn-forecast", "unknown-group"])
TAG_LEVELS = st.sampled_from([*LEVELS, None, "secret"])
REPORTS = st.sampled_from(["ok", "ok", "none", "missing", "garbage", "outside"])
METRIC_VALUES = st.dictionaries(st.sampled_from(METRICS), st.floats(0, 1) | st.just(math.nan), max_size=3)
TRAININGS = st.sampled_from(["ok", "ok", "none", "missing", "outside"])
SESSIONS = st.sampled_from([*PEOPLE, None])
RUNS = st.sampled_from(["run1", "run0"])


@dataclass(frozen=True)
class Case:
    policy: GovernancePolicy
    facts: ModelVersionFacts


def _policy(draw: Any, base: dict[str, Any]) -> GovernancePolicy:
    floor = draw(FLOORS)
    projects = []
    for name in ("credit-risk", "churn-forecast"):
        thresholds = {}
        for metric in draw(METRIC_SETS):
            minimum = draw(MINIMUMS)
            thresholds[metric] = {"minimum": max(minimum, floor or 0) if metric == "auc" else minimum}
        if floor is not None and "auc" not in thresholds:
            thresholds["auc"] = {"minimum": floor}
        projects.append(
            {"name": name, "owner_team": "team", "classification": draw(PROJECT_LEVELS), "metric_thresholds": thresholds}
        )
    changes = {
        "projects": projects,
        "approval": {
            "separation_of_duties": draw(BOOLEANS),
            "require_lineage_evidence": draw(BOOLEANS),
            "metric_minimums": {"auc": floor} if floor is not None else {},
        },
        "enforcement": {"approval_gate": draw(MODES)},
    }
    # The shipped policy with these sections replaced (validation reads it and copies nothing back into it).
    merged = {
        **base,
        "projects": projects,
        "approval": {**base["approval"], **changes["approval"]},
        "enforcement": {**base["enforcement"], **changes["enforcement"]},
    }
    return GovernancePolicy.model_validate(merged)


@st.composite
def cases(draw: Any, base: dict[str, Any]) -> Case:
    policy = _policy(draw, base)
    group = draw(GROUPS)
    level = draw(TAG_LEVELS)
    report = draw(REPORTS)
    metrics = draw(METRIC_VALUES)
    training = draw(TRAININGS)
    creator, approver = draw(SESSIONS), draw(SESSIONS)
    pipeline_registered, executed = draw(BOOLEANS), draw(BOOLEANS)
    registrar = (
        f"arn:aws:sts::123456789012:assumed-role/acme-{group}-sagemaker-execution/SageMaker" if pipeline_registered else PEOPLE[1]
    )
    execution = f"arn:aws:sagemaker:eu-west-1:123456789012:pipeline/{group}-governed/execution/run1" if executed else None
    run = f"s3://{LINEAGE}/projects/{group}/runs/{draw(RUNS)}"
    report_uri = {"none": None, "outside": "s3://elsewhere/e.json"}.get(report, f"{run}/evaluation/evaluation.json")
    training_uri = {"none": None, "outside": "s3://elsewhere/t.csv"}.get(training, f"{run}/data/train.csv")
    edited = draw(BOOLEANS)
    report_found = None if report in ("none", "outside") else report != "missing"
    training_found = None if training in ("none", "outside") else training != "missing"
    files = (
        EvidenceFile("evaluation report", report_uri, "aa", report_found, "bb" if edited else "aa"),
        EvidenceFile("training data", training_uri, "cc", training_found, "cc"),
    )
    facts = ModelVersionFacts(
        package_arn=f"arn:aws:sagemaker:eu-west-1:123456789012:model-package/{group}/1",
        group_name=group,
        group_tags={"data-classification": level} if level else {},
        metrics_report_uri=report_uri,
        metrics_report_found=None if report in ("none", "outside") else report != "missing",
        metrics=metrics if report == "ok" else None,
        metrics_report_error="not JSON" if report == "garbage" else None,
        training_data_uri=training_uri,
        training_data_found=None if training in ("none", "outside") else training != "missing",
        created_by=registrar,
        approved_by=approver,
        registered_by_person=creator.rsplit("/", 1)[-1] if creator else None,
        approved_by_person=approver.rsplit("/", 1)[-1] if approver else None,
        pipeline_execution=execution,
        evidence_files=files,
    )
    return Case(policy, facts)


def expected_rules(policy: GovernancePolicy, f: ModelVersionFacts) -> set[str]:
    """The oracle, from the policy's words."""
    broken: set[str] = set()
    project = next((p for p in policy.projects if p.name == f.group_name), None)
    if project is None:
        broken.add("governed-project")
    level = f.group_tags.get("data-classification")
    if level not in LEVELS or (project and LEVELS.index(level) < LEVELS.index(project.classification)):
        broken.add("classification-tag")
    if project:
        required: dict[str, float] = dict(policy.approval.metric_minimums)
        for name, t in project.metric_thresholds.items():
            if t.minimum is not None:
                required[name] = max(required.get(name, 0.0), t.minimum)
        if required:
            values = f.metrics or {}
            if f.metrics is None or any(not (values.get(m, math.nan) >= v) for m, v in required.items()):
                broken.add("metric-thresholds")
    if policy.approval.require_lineage_evidence:
        outside_report = bool(f.metrics_report_uri) and not str(f.metrics_report_uri).startswith(f"s3://{LINEAGE}/")
        bad_training = (
            not f.training_data_uri or not f.training_data_uri.startswith(f"s3://{LINEAGE}/") or f.training_data_found is False
        )
        if outside_report or bad_training:
            broken.add("lineage-evidence")
    if policy.approval.separation_of_duties and (
        not f.registered_by_person or not f.approved_by_person or f.registered_by_person == f.approved_by_person
    ):
        broken.add("separation-of-duties")
    if policy.approval.require_lineage_evidence and project:
        run = f"s3://{LINEAGE}/projects/{f.group_name}/runs/{str(f.pipeline_execution).rsplit('/', 1)[-1]}/"
        by_pipeline = f"assumed-role/acme-{f.group_name}-sagemaker-execution/" in str(f.created_by)
        files_ok = all(
            e.uri and e.uri.startswith(run) and e.found is not False and e.sha256 == e.registered_sha256 for e in f.evidence_files
        )
        if not f.pipeline_execution or not by_pipeline or not files_ok:
            broken.add("evidence-provenance")
    return broken


COUNT = {"n": 0}


def test_ten_thousand_decisions_follow_the_oracle(policy: GovernancePolicy) -> None:
    base = policy.model_dump(mode="json")

    @settings(max_examples=10_000, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(cases(base))
    def check(case: Case) -> None:
        COUNT["n"] += 1
        decision = decide_approval(case.policy, case.facts, lineage_bucket=LINEAGE)
        broken = expected_rules(case.policy, case.facts)
        assert {v.rule for v in decision.violations} == broken
        assert decision.verdict is (Verdict.DENY if broken else Verdict.ALLOW)
        if broken and case.policy.enforcement.approval_gate.value == "enforce":
            assert decision.action is Action.REJECT_MODEL  # never left Approved
        explanation = decision.explanation()
        assert all(rule in explanation for rule in broken)

    check()
    assert COUNT["n"] >= 10_000
