"""The drift rule on plain data: breaches deny and name features and statistics, too little data is undecidable,
quarantine only when the endpoint asks for it and the rule is in enforce mode."""

from __future__ import annotations

from typing import Any

import pytest

from policies.model import GovernancePolicy
from policies.rules.drift import (
    BASELINE_SHA256_KEY,
    BASELINE_URI_KEY,
    CheckFacts,
    DriftRunFacts,
    FeatureFacts,
    VariantFacts,
    baseline_problem,
    decide_drift,
    drift_targets,
    watched_features,
)
from policies.rules.outcome import Action, RuleSet, Verdict
from tests.conftest import policy_variant

ENDPOINT, PROJECT = "credit-risk-scoring", "credit-risk"
ARN = f"arn:aws:sagemaker:eu-west-1:123456789012:endpoint/{ENDPOINT}"
VERSION = "arn:aws:sagemaker:eu-west-1:123456789012:model-package/credit-risk/3"
LINEAGE = "acme-ml-lineage-123456789012-eu-west-1"


def with_drift(policy: GovernancePolicy, *, approval_gate: str = "enforce", **drift: Any) -> GovernancePolicy:
    projects = [p.model_dump(mode="json") for p in policy.projects]
    projects[0]["endpoints"][0]["drift"] = drift
    projects[1]["endpoints"][0]["engine"] = "model-monitor"
    return policy_variant(policy, projects=projects, enforcement={"approval_gate": approval_gate})


def ok(name: str) -> FeatureFacts:
    return FeatureFacts(
        name,
        "ok",
        600,
        (CheckFacts("psi", 0.03, 0.2, False), CheckFacts("ks", 0.05, 0.01, False, 0.41, 0.000333)),
    )


def breach(name: str) -> FeatureFacts:
    return FeatureFacts(
        name,
        "breach",
        600,
        (CheckFacts("psi", 1.234, 0.2, True), CheckFacts("ks", 0.5, 0.01, True, 1.2e-40, 0.000333)),
    )


def variant(status: str, *features: FeatureFacts, **extra: Any) -> VariantFacts:
    fields: dict[str, Any] = {"model_package": VERSION, "rows": 600, "min_samples": 500, "features": features}
    return VariantFacts("AllTraffic", status=status, **(fields | extra))


def run(*variants: VariantFacts, **extra: Any) -> DriftRunFacts:
    return DriftRunFacts(ENDPOINT, ARN, PROJECT, "2026-11-20T10:00:00Z", 24, variants, **extra)


def test_no_drift_is_allowed(policy: GovernancePolicy) -> None:
    decision = decide_drift(with_drift(policy), run(variant("no-drift", ok("a"), ok("b"))))
    assert (decision.rule_set, decision.verdict, decision.action) == (RuleSet.DATA_DRIFT, Verdict.ALLOW, Action.NONE)
    assert decision.subject == ARN
    assert decision.evidence["variants"][0]["status"] == "no-drift"


def test_each_drifting_feature_is_a_violation_naming_its_statistics(policy: GovernancePolicy) -> None:
    decision = decide_drift(with_drift(policy), run(variant("drift", ok("a"), breach("b"), breach("c"))))
    assert decision.verdict is Verdict.DENY
    assert [v.rule for v in decision.violations] == ["data-drift", "data-drift"]
    assert decision.violations[0].message == (
        f"b drifted on variant AllTraffic (model version {VERSION}): PSI 1.234 > 0.2; KS p-value 1.2e-40 < 0.000333"
    )
    assert decision.evidence["variants"][0]["breached_features"] == ["b", "c"]


@pytest.mark.parametrize(
    ("on_breach", "mode", "action"),
    [
        ("quarantine", "enforce", Action.REVERT_TO_PENDING),
        ("quarantine", "report", Action.REPORT_ONLY),
        ("notify", "enforce", Action.REPORT_ONLY),
    ],
)
def test_only_quarantine_in_enforce_mode_sends_the_version_back(
    policy: GovernancePolicy, on_breach: str, mode: str, action: Action
) -> None:
    decision = decide_drift(with_drift(policy, approval_gate=mode, on_breach=on_breach), run(variant("drift", breach("b"))))
    assert decision.action is action
    assert decision.remediation == ({"model_packages": VERSION} if action is Action.REVERT_TO_PENDING else {})


def test_too_little_traffic_is_undecidable_never_a_pass(policy: GovernancePolicy) -> None:
    short = FeatureFacts("a", "insufficient-data", 100, (CheckFacts("psi", 0.01, 0.2, False),))
    decision = decide_drift(with_drift(policy, on_breach="quarantine"), run(variant("insufficient-data", short, rows=100)))
    assert (decision.verdict, decision.action) == (Verdict.UNDECIDABLE, Action.REPORT_ONLY)
    (violation,) = decision.violations
    assert violation.rule == "undecidable"
    assert violation.message == (
        "insufficient data: variant AllTraffic captured 100 rows in the 24 h before 2026-11-20T10:00:00Z; "
        "500 are needed to judge drift (too few values: a)"
    )


def test_a_variant_without_evidence_is_undecidable(policy: GovernancePolicy) -> None:
    unjudged = VariantFacts("AllTraffic", VERSION, reason="the baseline s3://x/y does not match its registered SHA-256")
    decision = decide_drift(with_drift(policy), run(unjudged))
    assert decision.verdict is Verdict.UNDECIDABLE
    assert decision.violations[0].message.startswith("variant AllTraffic: the baseline s3://x/y does not match")


def test_drift_on_one_variant_denies_and_still_reports_the_variant_it_could_not_judge(policy: GovernancePolicy) -> None:
    other = VariantFacts("Canary", None, reason="model m was not made from a registered model version (no ModelPackageName)")
    decision = decide_drift(with_drift(policy, on_breach="quarantine"), run(variant("drift", breach("b")), other))
    assert decision.verdict is Verdict.DENY
    assert [v.rule for v in decision.violations] == ["data-drift", "undecidable"]
    assert decision.remediation == {"model_packages": VERSION}


@pytest.mark.parametrize(
    ("facts", "message"),
    [
        (run(reason=f"endpoint {ENDPOINT} does not exist in eu-west-1"), f"endpoint {ENDPOINT} does not exist in eu-west-1"),
        (run(), f"endpoint {ENDPOINT} serves no production variant"),
    ],
)
def test_an_endpoint_with_nothing_to_judge_is_undecidable(policy: GovernancePolicy, facts: DriftRunFacts, message: str) -> None:
    decision = decide_drift(with_drift(policy), facts)
    assert decision.verdict is Verdict.UNDECIDABLE
    assert [v.message for v in decision.violations] == [message]


def test_an_endpoint_the_drift_job_does_not_watch_is_undecidable(policy: GovernancePolicy) -> None:
    projects = [p.model_dump(mode="json") for p in policy.projects]
    projects[0]["endpoints"][0]["engine"] = "model-monitor"
    decision = decide_drift(policy_variant(policy, projects=projects), run(variant("drift", breach("b"))))
    assert decision.verdict is Verdict.UNDECIDABLE
    assert "is not a drift-job endpoint of project credit-risk" in decision.violations[0].message


def test_drift_targets_are_the_drift_job_endpoints(policy: GovernancePolicy) -> None:
    assert [t.endpoint.name for t in drift_targets(policy)] == ["credit-risk-scoring", "churn-forecast-live"]
    assert [t.endpoint.name for t in drift_targets(with_drift(policy))] == ["credit-risk-scoring"]


def test_watched_features_default_to_the_whole_baseline(policy: GovernancePolicy) -> None:
    (target, *_) = drift_targets(policy)
    assert watched_features(target.endpoint, ["a", "b"]) == (["a", "b"], [])
    (chosen, *_) = drift_targets(with_drift(policy, features=["b", "z"]))
    assert watched_features(chosen.endpoint, ["a", "b"]) == (["b", "z"], ["z"])


@pytest.mark.parametrize(
    ("uri", "sha", "problem"),
    [
        (None, None, f"the model version names no drift baseline ({BASELINE_URI_KEY})"),
        (f"s3://{LINEAGE}/projects/credit-risk/baselines/b.json", None, f"but no SHA-256 ({BASELINE_SHA256_KEY})"),
        (f"s3://{LINEAGE}/projects/churn-forecast/runs/r1/baseline/baseline.json", "ab", "not a pipeline run's baseline"),
        ("s3://elsewhere/projects/credit-risk/runs/r1/baseline/baseline.json", "ab", "not a pipeline run's baseline"),
        (f"s3://{LINEAGE}/projects/credit-risk/runs/r1/data/train.csv", "ab", "not a pipeline run's baseline"),
        (f"s3://{LINEAGE}/projects/credit-risk/runs//baseline/baseline.json", "ab", "not a pipeline run's baseline"),
        (f"s3://{LINEAGE}/projects/credit-risk/runs/r1/baseline/baseline.json", "ab", None),
    ],
)
def test_baseline_reference_problems(uri: str | None, sha: str | None, problem: str | None) -> None:
    found = baseline_problem(uri, sha, lineage_bucket=LINEAGE, project=PROJECT)
    assert found == problem if problem is None else (found is not None and problem in found)


def test_facts_survive_the_ledger_round_trip() -> None:
    facts = run(variant("drift", ok("a"), breach("b")), report_uri=f"s3://{LINEAGE}/r.json")
    assert DriftRunFacts.from_dict(facts.to_dict()) == facts


def test_decisions_are_stable_for_the_same_facts(policy: GovernancePolicy) -> None:
    facts = run(variant("drift", breach("b")))
    assert decide_drift(with_drift(policy), facts).digest() == decide_drift(with_drift(policy), facts).digest()
