"""The evidence a version is registered on: digests that match the reports' bytes, read by the definition
from the right steps, and a local run that registers exactly what the pipeline would."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from drift.baseline import Baseline, NumericBaseline
from pipelines import dataset
from pipelines.bundle import BUNDLE_FILES, source_bundle
from pipelines.definition import PROCESSING_SOURCE
from pipelines.evidence import BASELINE, DATA, DIGEST_FILE, DIGESTED, EVALUATION, VALIDATION, Evidence
from pipelines.local_run import LocalRun, Registration, local_registration, run_locally
from pipelines.modeling import features_and_target, split
from pipelines.registration import run_prefix_uri
from pipelines.steps._paths import CONTAINER_SOURCE_ROOTS
from policies.model import GovernancePolicy
from policies.naming import BASELINE_REPORT, Names
from policies.rules.approval import (
    BASELINE_SHA256_KEY,
    BASELINE_URI_KEY,
    EVALUATION_REPORT_SHA256_KEY,
    TRAINING_DATA_SHA256_KEY,
    TRAINING_DATA_URI_KEY,
    VALIDATION_REPORT_SHA256_KEY,
    VALIDATION_REPORT_URI_KEY,
)
from tests.pipelines.definition_eval import Execution, by_name, property_file

LINEAGE = "acme-ml-lineage-123456789012-eu-west-1"
RUN_ID = "a1b2c3d4e5f6"
EXECUTION_ARN = f"arn:aws:sagemaker:eu-west-1:123456789012:pipeline/credit-risk-governed/execution/{RUN_ID}"
VALIDATED_DATA = {"Get": "Steps.ValidateData.ProcessingOutputConfig.Outputs['data'].S3Output.S3Uri"}
# metadata key -> (step, property file, processing output, file read, JSON path)
HASHES = {
    TRAINING_DATA_SHA256_KEY: ("ValidateData", "ValidationReport", "validation", "validation.json", "data_sha256"),
    VALIDATION_REPORT_SHA256_KEY: ("ValidateData", "ValidationDigest", "validation", DIGEST_FILE, "sha256"),
    EVALUATION_REPORT_SHA256_KEY: ("Evaluate", "EvaluationDigest", "evaluation", DIGEST_FILE, "sha256"),
    BASELINE_SHA256_KEY: ("Baseline", "BaselineDigest", "baseline", DIGEST_FILE, "sha256"),
}
# metadata key -> (step that uploads the file, the file's evidence)
URIS = {
    TRAINING_DATA_URI_KEY: ("ValidateData", DATA),
    VALIDATION_REPORT_URI_KEY: ("ValidateData", VALIDATION),
    BASELINE_URI_KEY: ("Baseline", BASELINE),
}


def register_arguments(definition: dict[str, Any]) -> dict[str, Any]:
    arguments: dict[str, Any] = by_name(definition)["RegisterModel"]["Arguments"]
    return arguments


def registration_of(run: LocalRun, policy: GovernancePolicy, run_id: str = RUN_ID) -> Registration:
    return local_registration(
        run,
        policy.project("credit-risk"),  # type: ignore[arg-type]
        run_uri=run_prefix_uri(LINEAGE, "credit-risk", run_id),
        code_version=source_bundle().version,
        execution_arn=EXECUTION_ARN,
    )


# ---- the definition --------------------------------------------------------------------------


@pytest.mark.parametrize("key", sorted(HASHES))
def test_each_hash_is_read_from_the_step_that_wrote_the_file(credit_risk: dict[str, Any], key: str) -> None:
    step, name, output, path, json_path = HASHES[key]
    get = register_arguments(credit_risk)["CustomerMetadataProperties"][key]["Std:JsonGet"]
    assert get == {"Path": json_path, "PropertyFile": {"Get": f"Steps.{step}.PropertyFiles.{name}"}}
    ref = property_file(credit_risk, get["PropertyFile"]["Get"])
    assert (ref.output, ref.path, ref.local_path) == (output, path, f"/opt/ml/processing/{output}")


@pytest.mark.parametrize("key", sorted(URIS))
def test_each_uri_names_the_file_its_step_uploads(credit_risk: dict[str, Any], key: str) -> None:
    step, evidence = URIS[key]
    execution = Execution(credit_risk, RUN_ID, EXECUTION_ARN, Path("/nonexistent"))
    (output,) = [
        o
        for o in by_name(credit_risk)[step]["Arguments"]["ProcessingOutputConfig"]["Outputs"]
        if o["OutputName"] == evidence.output
    ]
    uploaded = execution.resolve(output["S3Output"]["S3Uri"]) + "/" + evidence.file
    assert execution.resolve(register_arguments(credit_risk)["CustomerMetadataProperties"][key]) == uploaded
    assert uploaded == f"s3://{LINEAGE}/projects/credit-risk/runs/{RUN_ID}/{evidence.key}"
    if evidence in DIGESTED:  # a report: where the lineage layout puts a run's reports
        assert uploaded == f"s3://{LINEAGE}/" + Names.lineage_run_report("credit-risk", RUN_ID, evidence.output)
    assert BASELINE.output == BASELINE_REPORT  # the only run output the drift monitor's role may read


def test_the_evaluation_report_is_the_model_quality_statistics(credit_risk: dict[str, Any]) -> None:
    execution = Execution(credit_risk, RUN_ID, EXECUTION_ARN, Path("/nonexistent"))
    statistics = register_arguments(credit_risk)["ModelMetrics"]["ModelQuality"]["Statistics"]
    (output,) = by_name(credit_risk)["Evaluate"]["Arguments"]["ProcessingOutputConfig"]["Outputs"]
    assert execution.resolve(statistics["S3Uri"]) == execution.resolve(output["S3Output"]["S3Uri"]) + "/evaluation.json"
    assert property_file(credit_risk, "Steps.Evaluate.PropertyFiles.EvaluationDigest").output == output["OutputName"]


def test_the_version_names_the_pipeline_execution(credit_risk: dict[str, Any]) -> None:
    assert register_arguments(credit_risk)["MetadataProperties"] == {"GeneratedBy": {"Get": "Execution.PipelineExecutionArn"}}


def test_training_evaluation_and_baseline_read_the_validated_copy(credit_risk: dict[str, Any]) -> None:
    steps = by_name(credit_risk)
    validate = steps["ValidateData"]["Arguments"]
    assert {i["InputName"]: i["S3Input"]["S3Uri"] for i in validate["ProcessingInputs"]}["data"] == {
        "Get": "Parameters.TrainingDataUri"
    }
    assert [o["OutputName"] for o in validate["ProcessingOutputConfig"]["Outputs"]] == ["validation", "data"]
    channels = {
        c["ChannelName"]: c["DataSource"]["S3DataSource"]["S3Uri"] for c in steps["Train"]["Arguments"]["InputDataConfig"]
    }
    assert channels["train"] == VALIDATED_DATA
    baseline = {i["InputName"]: i["S3Input"] for i in steps["Baseline"]["Arguments"]["ProcessingInputs"]}
    assert baseline["data"]["S3Uri"] == VALIDATED_DATA
    assert baseline["data"]["LocalPath"] == "/opt/ml/processing/input/data"


def test_models_are_judged_on_the_published_holdout_not_on_the_data_they_were_given(credit_risk: dict[str, Any]) -> None:
    """The training data is a parameter whoever starts the pipeline chooses; what Evaluate scores on is not."""
    inputs = {i["InputName"]: i["S3Input"] for i in by_name(credit_risk)["Evaluate"]["Arguments"]["ProcessingInputs"]}
    assert set(inputs) == {"model", "holdout", "source"}
    assert inputs["holdout"]["S3Uri"].endswith("/projects/credit-risk/holdout/")
    assert inputs["holdout"]["LocalPath"] == "/opt/ml/processing/input/holdout"
    assert [p["Name"] for p in credit_risk["Parameters"]] == ["TrainingDataUri"]


@pytest.mark.parametrize(("step", "script"), [("ValidateData", "validate"), ("Evaluate", "evaluate"), ("Baseline", "baseline")])
def test_processing_jobs_run_their_script_from_the_mounted_bundle(credit_risk: dict[str, Any], step: str, script: str) -> None:
    arguments = by_name(credit_risk)[step]["Arguments"]
    entrypoint = arguments["AppSpecification"]["ContainerEntrypoint"]
    assert entrypoint == ["python3", f"{PROCESSING_SOURCE}/pipelines/steps/{script}.py"]
    assert f"pipelines/steps/{script}.py" in BUNDLE_FILES
    inputs = {i["InputName"]: i["S3Input"] for i in arguments["ProcessingInputs"]}
    assert inputs["source"]["LocalPath"] == PROCESSING_SOURCE == CONTAINER_SOURCE_ROOTS[0]
    assert inputs["source"]["S3Uri"].endswith(f"/code/{source_bundle().version}/")
    assert "code" not in inputs  # the script runs beside the modules it imports, from the bundle the version names


def test_a_local_run_registers_what_the_definition_registers(
    credit_risk: dict[str, Any], local_run: LocalRun, policy: GovernancePolicy
) -> None:
    execution = Execution(credit_risk, RUN_ID, EXECUTION_ARN, local_run.workdir)
    register = register_arguments(credit_risk)
    local = registration_of(local_run, policy)
    assert execution.resolve(register["CustomerMetadataProperties"]) == local.customer_metadata_properties
    assert set(register["CustomerMetadataProperties"]) == set(local.customer_metadata_properties)
    assert {k: v for k, v in register["ModelMetrics"].items() if v} == {"ModelQuality": register["ModelMetrics"]["ModelQuality"]}
    assert execution.resolve(register["ModelMetrics"]["ModelQuality"]) == local.model_metrics["ModelQuality"]
    assert execution.resolve(register["MetadataProperties"]) == local.metadata_properties == {"GeneratedBy": EXECUTION_ARN}


def test_the_local_artifacts_are_the_run_prefix_the_pipeline_writes(credit_risk: dict[str, Any], local_run: LocalRun) -> None:
    expected = set()
    for step in ("ValidateData", "Evaluate", "Baseline"):
        for output in by_name(credit_risk)[step]["Arguments"]["ProcessingOutputConfig"]["Outputs"]:
            evidence = next(e for e in (DATA, *DIGESTED) if e.output == output["OutputName"])
            expected |= {evidence.key} | ({evidence.digest_key} if evidence in DIGESTED else set())
    assert set(local_run.artifacts()) == expected
    assert all(path.is_file() for path in local_run.artifacts().values())


# ---- the local run's evidence ------------------------------------------------------------------


@pytest.mark.parametrize("evidence", DIGESTED, ids=lambda e: e.output)
def test_each_digest_is_the_sha256_of_its_reports_bytes(local_run: LocalRun, evidence: Evidence) -> None:
    body = local_run.path(evidence).read_bytes()
    assert local_run.digest(evidence) == {"file": evidence.file, "sha256": hashlib.sha256(body).hexdigest(), "size": len(body)}


def test_the_validated_copy_is_the_input_byte_for_byte_and_the_report_names_its_hash(local_run: LocalRun) -> None:
    copy = local_run.data_file
    assert copy == local_run.workdir / "data" / dataset.DATA_FILE
    assert copy.read_bytes() == (local_run.workdir / "input" / dataset.DATA_FILE).read_bytes()
    assert local_run.validation["data_sha256"] == hashlib.sha256(copy.read_bytes()).hexdigest()
    assert json.loads(local_run.path(VALIDATION).read_bytes()) == local_run.validation


def test_the_baseline_round_trips_and_describes_the_training_split(local_run: LocalRun) -> None:
    assert local_run.baseline_file is not None
    body = local_run.baseline_file.read_bytes()
    baseline = Baseline.from_json(body)
    assert baseline.to_json().encode() == body
    train, test = split(pd.read_csv(local_run.data_file))
    features, _ = features_and_target(train)
    assert baseline.names == tuple(features.columns) and "target" not in baseline.names
    assert (len(train), len(test)) == (427, 142)
    for name in baseline.names:
        feature = baseline[name]
        assert isinstance(feature, NumericBaseline)
        values = features[name].to_numpy(dtype=np.float64)
        assert (feature.count, feature.missing, int(feature.bin_counts.sum())) == (len(train), 0, len(train))
        np.testing.assert_array_equal(feature.reservoir, np.sort(values))  # every training row, no test row
        assert (feature.minimum, feature.maximum) == (values.min(), values.max())
        assert feature.mean == pytest.approx(values.mean(), rel=1e-12)
    assert baseline.metadata["training_data_sha256"] == local_run.validation["data_sha256"]
    assert baseline.metadata["split"] == "train"
    assert len(body) < 64_000


def test_editing_a_report_after_the_run_breaks_the_binding(local_run: LocalRun, policy: GovernancePolicy, tmp_path: Path) -> None:
    registered = registration_of(local_run, policy).customer_metadata_properties
    report = json.loads(local_run.path(EVALUATION).read_bytes())
    raised = json.loads(json.dumps(report))
    raised["binary_classification_metrics"]["auc"]["value"] = 0.9999
    reformatted = json.dumps(report, sort_keys=True).encode()  # the same content, other bytes
    for edited in (json.dumps(raised, indent=2, sort_keys=True).encode(), reformatted):
        assert hashlib.sha256(edited).hexdigest() != registered[EVALUATION_REPORT_SHA256_KEY]
    baseline = bytearray(local_run.path(BASELINE).read_bytes())
    baseline[-2:-1] = b" "
    assert hashlib.sha256(bytes(baseline)).hexdigest() != registered[BASELINE_SHA256_KEY]
    # the untouched files still match: the gate's check accepts them
    for key, evidence in (
        (EVALUATION_REPORT_SHA256_KEY, EVALUATION),
        (VALIDATION_REPORT_SHA256_KEY, VALIDATION),
        (BASELINE_SHA256_KEY, BASELINE),
    ):
        assert hashlib.sha256(local_run.path(evidence).read_bytes()).hexdigest() == registered[key]


def test_another_runs_evidence_does_not_match(local_run: LocalRun, policy: GovernancePolicy, tmp_path: Path) -> None:
    other = run_locally(tmp_path, dataset.load().drop(index=range(0, 40)).reset_index(drop=True))
    ours, theirs = registration_of(local_run, policy), registration_of(other, policy, run_id="other")
    for key in (TRAINING_DATA_SHA256_KEY, VALIDATION_REPORT_SHA256_KEY, EVALUATION_REPORT_SHA256_KEY, BASELINE_SHA256_KEY):
        assert ours.customer_metadata_properties[key] != theirs.customer_metadata_properties[key], key


def test_the_same_data_gives_the_same_evidence(local_run: LocalRun, tmp_path: Path) -> None:
    again = run_locally(tmp_path)
    for evidence in (DATA, *DIGESTED):
        assert again.path(evidence).read_bytes() == local_run.path(evidence).read_bytes(), evidence.key


def test_no_registration_when_the_contract_fails(policy: GovernancePolicy, tmp_path: Path) -> None:
    frame = dataset.load()
    frame.loc[0, "mean_radius"] = None
    run = run_locally(tmp_path, frame)
    assert set(run.artifacts()) == {"data/train.csv", "validation/validation.json", "validation/digest.json"}
    with pytest.raises(ValueError, match="data contract failed"):
        registration_of(run, policy)


def test_the_drift_monitor_can_use_the_registered_baseline(local_run: LocalRun, policy: GovernancePolicy) -> None:
    from policies.rules import drift as drift_rules

    assert (BASELINE_URI_KEY, BASELINE_SHA256_KEY) == (drift_rules.BASELINE_URI_KEY, drift_rules.BASELINE_SHA256_KEY)
    metadata = registration_of(local_run, policy).customer_metadata_properties
    uri, sha256 = metadata[BASELINE_URI_KEY], metadata[BASELINE_SHA256_KEY]
    assert drift_rules.baseline_problem(uri, sha256, lineage_bucket=LINEAGE, project="credit-risk") is None


def test_the_run_outputs_people_may_read_are_the_reports_not_the_data() -> None:
    """iam reads policies.naming.RUN_REPORTS; the step scripts (standard library only) write pipelines.evidence's."""
    from pipelines.evidence import DATA, DIGESTED
    from policies.naming import RUN_REPORTS

    assert sorted(e.output for e in DIGESTED) == sorted(RUN_REPORTS)
    assert DATA.output not in RUN_REPORTS
