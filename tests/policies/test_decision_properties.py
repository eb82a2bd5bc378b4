"""The approval rules at scale, pure: over generated policies x model versions, a version that breaks any rule
never ends Approved under enforce, and every decision is explained by exactly the rules it breaks.

The oracle below is written from the policy's words, not from policies/rules/approval.py, so the two
disagree when either is wrong. The same generator runs twice: 1,000 cases through hypothesis (which
favours edge values and shrinks a failure to its smallest case) and 10,000 from a seeded random sweep
(a failure names its seed and index). hypothesis spends about 1.5 ms drawing each case, so 10,000 of
them took 14-24 s of the suite; the sweep takes about a second. The moto-backed property test in
tests/lambdas/ stays small: it exercises faults, this one exercises the rules.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
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


@dataclass(frozen=True)
class OneOf:
    values: tuple[Any, ...]


@dataclass(frozen=True)
class Between:
    low: float
    high: float


@dataclass(frozen=True)
class SomeOf:
    """A subset of ``values`` without repeats, in any order."""

    values: tuple[str, ...]


@dataclass(frozen=True)
class Scores:
    """Up to three of ``metrics``, each a value in [0, 1] or NaN."""

    metrics: tuple[str, ...]


Spec = OneOf | Between | SomeOf | Scores
Pick = Callable[[Spec], Any]
FLOORS = OneOf((None, 0.5, 0.7))
METRIC_SETS = SomeOf(tuple(METRICS))
MINIMUMS = Between(0.5, 0.95)
PROJECT_LEVELS = OneOf(tuple(LEVELS))
BOOLEANS = OneOf((False, True))
MODES = OneOf(("enforce", "report"))
GROUPS = OneOf(("credit-risk", "churn-forecast", "unknown-group"))
TAG_LEVELS = OneOf((*LEVELS, None, "secret"))
REPORTS = OneOf(("ok", "ok", "none", "missing", "garbage", "outside"))
METRIC_VALUES = Scores(tuple(METRICS))
TRAININGS = OneOf(("ok", "ok", "none", "missing", "outside"))
SESSIONS = OneOf((*PEOPLE, None))
RUNS = OneOf(("run1", "run0"))


@cache
def strategy(spec: Spec) -> st.SearchStrategy[Any]:
    """The spec as a hypothesis strategy, built once (hypothesis validates a strategy each time one is built)."""
    if isinstance(spec, OneOf):
        return st.sampled_from(spec.values)
    if isinstance(spec, Between):
        return st.floats(spec.low, spec.high)
    if isinstance(spec, SomeOf):
        return st.lists(st.sampled_from(spec.values), unique=True, max_size=len(spec.values))
    return st.dictionaries(st.sampled_from(spec.metrics), st.floats(0, 1) | st.just(math.nan), max_size=3)


def sample(spec: Spec, rng: random.Random) -> Any:
    """The spec drawn with ``rng``: the same values the strategy gives, edge values no likelier than others."""
    if isinstance(spec, OneOf):
        return rng.choice(spec.values)
    if isinstance(spec, Between):
        return rng.uniform(spec.low, spec.high)
    if isinstance(spec, SomeOf):
        return rng.sample(spec.values, rng.randint(0, len(spec.values)))
    chosen = rng.sample(spec.metrics, rng.randint(0, 3))
    return {m: math.nan if rng.random() < 0.1 else rng.random() for m in chosen}


@dataclass(frozen=True)
class Case:
    policy: GovernancePolicy
    facts: ModelVersionFacts


def _policy(draw: Pick, base: dict[str, Any]) -> GovernancePolicy:
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


def build_case(draw: Pick, base: dict[str, Any]) -> Case:
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


@st.composite
def cases(draw: Any, base: dict[str, Any]) -> Case:
    return build_case(lambda spec: draw(strategy(spec)), base)


def follows_the_oracle(case: Case) -> None:
    decision = decide_approval(case.policy, case.facts, lineage_bucket=LINEAGE)
    broken = expected_rules(case.policy, case.facts)
    assert {v.rule for v in decision.violations} == broken
    assert decision.verdict is (Verdict.DENY if broken else Verdict.ALLOW)
    if broken and case.policy.enforcement.approval_gate.value == "enforce":
        assert decision.action is Action.REJECT_MODEL  # never left Approved
    explanation = decision.explanation()
    assert all(rule in explanation for rule in broken)


def test_a_thousand_generated_decisions_follow_the_oracle(policy: GovernancePolicy) -> None:
    base = policy.model_dump(mode="json")
    count = {"n": 0}

    @settings(max_examples=1_000, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(cases(base))
    def check(case: Case) -> None:
        count["n"] += 1
        follows_the_oracle(case)

    check()
    assert count["n"] >= 1_000


SWEEP_SEED = 20261126


def test_ten_thousand_random_decisions_follow_the_oracle(policy: GovernancePolicy) -> None:
    base = policy.model_dump(mode="json")
    rng = random.Random(SWEEP_SEED)  # noqa: S311 - reproducible test data, not a secret
    outcomes = {Verdict.ALLOW: 0, Verdict.DENY: 0}
    for index in range(10_000):
        case = build_case(lambda spec: sample(spec, rng), base)
        try:
            follows_the_oracle(case)
        except AssertionError as exc:
            raise AssertionError(f"case {index} of seed {SWEEP_SEED}: {case.facts!r} under {case.policy!r}") from exc
        outcomes[decide_approval(case.policy, case.facts, lineage_bucket=LINEAGE).verdict] += 1
    # A false allow shows in the cases the oracle denies (9,900 here); the ones it allows check the reverse.
    assert outcomes[Verdict.ALLOW] >= 50, outcomes
