"""The pipeline definition follows the policy: steps in order, the policy's thresholds, the project's tags."""

from __future__ import annotations

from typing import Any

from pipelines.cli import offline_definition
from policies.model import GovernancePolicy
from tests.conftest import policy_variant
from tests.pipelines.definition_eval import by_name, flatten

VALIDATED_DATA = {"Get": "Steps.ValidateData.ProcessingOutputConfig.Outputs['data'].S3Output.S3Uri"}


def test_steps_run_in_the_governed_order(credit_risk: dict[str, Any]) -> None:
    layout = [(depth, step["Name"], step["Type"]) for depth, step in flatten(credit_risk["Steps"])]
    assert layout == [
        (0, "ValidateData", "Processing"),
        (0, "DataContract", "Condition"),
        (1, "Train", "Training"),
        (1, "Evaluate", "Processing"),
        (1, "Baseline", "Processing"),
        (1, "AccuracyThreshold", "Condition"),
        (2, "AucThreshold", "Condition"),
        (3, "RegisterModel", "RegisterModel"),
        (3, "AucBelowPolicy", "Fail"),
        (2, "AccuracyBelowPolicy", "Fail"),
        (1, "DataContractViolated", "Fail"),
    ]


def test_thresholds_are_the_policys(credit_risk: dict[str, Any], policy: GovernancePolicy) -> None:
    steps = by_name(credit_risk)
    for metric, threshold in policy.approval_requirements(policy.project("credit-risk")).items():  # type: ignore[arg-type]
        (condition,) = steps[f"{metric.capitalize()}Threshold"]["Arguments"]["Conditions"]
        assert condition["Type"] == "GreaterThanOrEqualTo"
        assert condition["RightValue"] == threshold.minimum
        assert condition["LeftValue"]["Std:JsonGet"]["Path"] == f"binary_classification_metrics.{metric}.value"
    message = steps["AucBelowPolicy"]["Arguments"]["ErrorMessage"]["Std:Join"]["Values"]
    assert message[0] == "auc = "
    assert message[2] == " does not meet the policy's >= 0.8 for credit-risk"


def test_registration_is_pending_and_carries_lineage(credit_risk: dict[str, Any]) -> None:
    register = by_name(credit_risk)["RegisterModel"]["Arguments"]
    assert register["ModelPackageGroupName"] == "credit-risk"
    assert register["ModelApprovalStatus"] == "PendingManualApproval"
    # CreateModelPackage into a group takes no Tags ("you cannot supply a tag argument"): the group carries them
    assert "Tags" not in register
    metadata = register["CustomerMetadataProperties"]
    assert set(metadata) == {
        "lineage:training-data-uri",
        "lineage:training-data-sha256",
        "lineage:validation-report-uri",
        "lineage:validation-report-sha256",
        "lineage:evaluation-report-sha256",
        "monitoring:baseline-uri",
        "monitoring:baseline-sha256",
        "lineage:code-version",
        "governance:data-classification",
    }
    assert metadata["governance:data-classification"] == "confidential"
    assert metadata["lineage:training-data-sha256"]["Std:JsonGet"]["Path"] == "data_sha256"
    statistics = register["ModelMetrics"]["ModelQuality"]["Statistics"]
    assert statistics["ContentType"] == "application/json"
    assert statistics["S3Uri"]["Std:Join"]["Values"][-1] == "evaluation.json"


def test_jobs_run_as_the_project_role_with_code_from_the_lineage_bucket(credit_risk: dict[str, Any]) -> None:
    steps = by_name(credit_risk)
    role = "arn:aws:iam::123456789012:role/acme-credit-risk-sagemaker-execution"
    for name in ("ValidateData", "Evaluate", "Train"):
        assert steps[name]["Arguments"]["RoleArn"] == role
    inputs = {i["InputName"]: i for i in steps["ValidateData"]["Arguments"]["ProcessingInputs"]}
    assert inputs["source"]["S3Input"]["S3Uri"].startswith(
        "s3://acme-ml-lineage-123456789012-eu-west-1/projects/credit-risk/code/"
    )
    channels = {c["ChannelName"]: c for c in steps["Train"]["Arguments"]["InputDataConfig"]}
    for channel in channels.values():
        uri = channel["DataSource"]["S3DataSource"]["S3Uri"]
        assert uri == VALIDATED_DATA or uri.startswith("s3://acme-ml-lineage-123456789012-eu-west-1/projects/credit-risk/")


def test_definition_changes_with_the_policy(policy: GovernancePolicy) -> None:
    projects = [p.model_dump(mode="json") for p in policy.projects]
    projects[0]["metric_thresholds"] = {"auc": {"minimum": 0.9}, "log_loss": {"maximum": 0.3}}
    projects[0]["classification"] = "restricted"
    variant = policy_variant(policy, projects=projects, approval={"custom_metrics": {"log_loss": {"maximum_value": None}}})
    steps = by_name(offline_definition(variant, variant.project("credit-risk")))  # type: ignore[arg-type]
    assert "AccuracyThreshold" not in steps
    assert steps["AucThreshold"]["Arguments"]["Conditions"][0]["RightValue"] == 0.9
    (log_loss,) = steps["LogLossThreshold"]["Arguments"]["Conditions"]
    assert (log_loss["Type"], log_loss["RightValue"]) == ("LessThanOrEqualTo", 0.3)
    metadata = steps["RegisterModel"]["Arguments"]["CustomerMetadataProperties"]
    assert metadata["governance:data-classification"] == "restricted"


def test_another_project_gets_its_own_group_and_thresholds(policy: GovernancePolicy) -> None:
    steps = by_name(offline_definition(policy, policy.project("claims-triage")))  # type: ignore[arg-type]
    assert steps["RegisterModel"]["Arguments"]["ModelPackageGroupName"] == "claims-triage"
    assert steps["AucThreshold"]["Arguments"]["Conditions"][0]["RightValue"] == 0.85
    assert steps["F1Threshold"]["Arguments"]["Conditions"][0]["RightValue"] == 0.7
