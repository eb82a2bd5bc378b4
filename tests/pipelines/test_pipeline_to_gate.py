"""Validate -> train -> evaluate locally on the bundled dataset; the approval gate judges the result.

The evaluation JSON the pipeline writes is the one the gate reads: accepted when the metrics
meet the policy, rejected when the policy asks for more.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import pytest

from lambdas.approval_gate import handler as gate
from pipelines import dataset
from pipelines.bundle import source_bundle
from pipelines.expectations import FEATURE_RANGES
from pipelines.local_run import LocalRun, local_registration, run_locally
from pipelines.modeling import build_model, features_and_target, split
from pipelines.registration import run_prefix_uri
from policies.model import GovernancePolicy
from policies.rules.approval import ModelVersionFacts, decide_approval
from policies.rules.metrics import metrics_from_report
from tests.conftest import policy_variant
from tests.events import approval_event
from tests.lambdas.world import APPROVER, registrar_of
from tests.policies.test_decisions import COMPLIANT

LINEAGE = "acme-ml-lineage-123456789012-eu-west-1"


def facts(run: LocalRun) -> ModelVersionFacts:
    """A compliant version (tests/policies/test_decisions.py) carrying the metrics of this run's evaluation report."""
    return replace(COMPLIANT, metrics=metrics_from_report(run.evaluation))


def test_local_run_produces_the_sagemaker_artifacts(local_run: LocalRun) -> None:
    assert local_run.validation["success"] is True
    assert local_run.validation["rows"] == 569
    assert local_run.validation["data_sha256"] == dataset.sha256_of(local_run.data_file)
    assert local_run.model_file is not None and local_run.model_file.name == "model.joblib"
    report = local_run.evaluation
    assert report is not None
    assert set(report) == {"binary_classification_metrics", "holdout"}
    assert report["holdout"]["rows"] == 142  # the bundled dataset's test split (569 rows x 0.25)
    assert set(report["binary_classification_metrics"]) == {"auc", "accuracy", "f1", "precision", "recall"}
    assert local_run.baseline_file is not None and local_run.baseline_file.name == "baseline.json"


def test_gate_accepts_when_the_metrics_meet_the_policy(local_run: LocalRun, policy: GovernancePolicy) -> None:
    decision = decide_approval(policy, facts(local_run), lineage_bucket=LINEAGE)
    assert decision.allowed, decision.explanation()


def test_gate_rejects_when_the_policy_asks_for_more(local_run: LocalRun, policy: GovernancePolicy) -> None:
    projects = [p.model_dump(mode="json") for p in policy.projects]
    projects[0]["metric_thresholds"]["auc"] = {"minimum": 0.9999}
    strict = policy_variant(policy, projects=projects)
    decision = decide_approval(strict, facts(local_run), lineage_bucket=LINEAGE)
    assert not decision.allowed
    assert [v.rule for v in decision.violations] == ["metric-thresholds"]
    assert "does not meet >= 0.9999" in decision.explanation()


def test_training_data_chosen_to_pass_is_judged_on_the_holdout(tmp_path: Path) -> None:
    """Whoever starts the pipeline chooses its training data (TrainingDataUri). Noise that meets the data contract,
    with the rows the split holds out replaced by rows the noise model scores right, once earned an AUC of 1.0 on
    its own held-out rows; now the report is the model's score on the published holdout, whatever the data."""
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(7)

    def noise(rows: int) -> pd.DataFrame:
        return pd.DataFrame({column: rng.uniform(low, high, rows) for column, (low, high) in FEATURE_RANGES.items()})

    frame = noise(600)
    frame[dataset.TARGET] = rng.integers(0, 2, 600)
    kept, held_out = split(frame)
    model = build_model().fit(*features_and_target(kept))
    pool = noise(20_000)
    ranked = pool.iloc[np.argsort(-model.predict_proba(pool)[:, 1])]
    for label, rows in ((1, ranked), (0, ranked.iloc[::-1])):
        index = held_out.index[held_out[dataset.TARGET] == label]
        frame.loc[index, list(FEATURE_RANGES)] = rows.iloc[: len(index)].to_numpy()
    crafted_features, crafted_labels = features_and_target(split(frame)[1])
    assert roc_auc_score(crafted_labels, model.predict_proba(crafted_features)[:, 1]) == 1.0  # what it used to report

    run = run_locally(tmp_path, frame)
    assert run.validation["success"], "the crafted data meets the data contract"
    report = json.loads(run.evaluation_file.read_bytes())  # type: ignore[union-attr]
    holdout_features, holdout_labels = features_and_target(pd.read_csv(tmp_path / "holdout" / "holdout.csv"))
    trained = joblib.load(run.model_file)
    assert metrics_from_report(report)["auc"] == roc_auc_score(holdout_labels, trained.predict_proba(holdout_features)[:, 1])
    assert metrics_from_report(report)["auc"] < 1.0
    assert report["holdout"] == {"sha256": dataset.sha256_of(tmp_path / "holdout" / "holdout.csv"), "rows": 142}


def test_a_violated_contract_stops_before_training(tmp_path: Path) -> None:
    frame = dataset.load()
    frame.loc[0, "mean_radius"] = None
    run = run_locally(tmp_path, frame)
    assert run.validation["success"] is False
    assert run.model_file is None and run.evaluation_file is None and run.baseline_file is None
    assert (
        json.loads((tmp_path / "validation" / "validation.json").read_text())["failed_expectations"][0]["column"] == "mean_radius"
    )


@pytest.mark.parametrize(("auc_minimum", "expected"), [(0.8, "Approved"), (0.9999, "Rejected")])
def test_registered_the_way_the_pipeline_does_the_gate_decides_in_moto(
    local_run: LocalRun, policy: GovernancePolicy, world_for: Any, lambda_context: Any, auc_minimum: float, expected: str
) -> None:
    projects = [p.model_dump(mode="json") for p in policy.projects]
    projects[0]["metric_thresholds"]["auc"] = {"minimum": auc_minimum}
    world = world_for(policy_variant(policy, projects=projects))
    run_uri = run_prefix_uri(world.names.lineage_bucket, "credit-risk", "r1")
    for key, path in local_run.artifacts().items():
        world.put_lineage(f"projects/credit-risk/runs/r1/{key}", path.read_bytes())
    project = policy.project("credit-risk")
    assert project is not None
    execution = "arn:aws:sagemaker:eu-west-1:123456789012:pipeline/credit-risk-governed/execution/r1"
    registration = local_registration(
        local_run, project, run_uri=run_uri, code_version=source_bundle().version, execution_arn=execution
    )
    arn = world.sagemaker().create_model_package(
        ModelPackageGroupName="credit-risk",
        ModelApprovalStatus="PendingManualApproval",
        InferenceSpecification={
            "Containers": [{"Image": "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
        ModelMetrics=registration.model_metrics,
        CustomerMetadataProperties=registration.customer_metadata_properties,
        MetadataProperties=registration.metadata_properties,
    )["ModelPackageArn"]
    world.sagemaker().update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")
    world.set_identities(arn, created_by=registrar_of("credit-risk"), approved_by=APPROVER)
    gate.handler(approval_event(arn), lambda_context)
    assert world.status(arn) == expected, world.description(arn)
