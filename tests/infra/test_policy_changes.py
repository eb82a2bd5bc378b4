"""Change the policy, synthesize again: the Terraform follows the policy and nothing else."""

from __future__ import annotations

import json
from pathlib import Path

from infra.stacks.base import BackendSettings
from policies.model import GovernancePolicy
from tests.conftest import SynthesizeFn, policy_variant, with_engines


def boundary_regions(stacks: dict) -> list[str]:  # type: ignore[type-arg]
    (boundary,) = [
        b for b in stacks["identity"]["resource"]["aws_iam_policy"].values() if b["name"] == "acme-ml-permissions-boundary"
    ]
    statement = next(s for s in json.loads(boundary["policy"])["Statement"] if s["Sid"] == "DenyOutsideAllowedRegions")
    return list(statement["Condition"]["StringNotEquals"]["aws:RequestedRegion"])


def test_region_list_follows_the_policy(synthesize: SynthesizeFn, policy: GovernancePolicy) -> None:
    variant = policy_variant(policy, regions={"home": "us-east-2", "allowed": ["us-east-2", "us-west-2", "ca-central-1"]})
    out = synthesize(with_engines(variant, {"credit-risk-scoring": "model-monitor"}))
    assert boundary_regions(out.stacks) == ["us-east-2", "us-west-2", "ca-central-1"]
    assert {p["region"] for c in out.stacks.values() for p in c["provider"]["aws"] if "alias" not in p} == {"us-east-2"}
    buckets = {b["bucket"] for b in out.resources("aws_s3_bucket").values()}
    assert all(b.endswith("-us-east-2") for b in buckets)
    definition = next(iter(out.resources("aws_sagemaker_data_quality_job_definition").values()))
    assert definition["data_quality_app_specification"]["image_uri"].startswith("777275614652.dkr.ecr.us-east-2.amazonaws.com/")


def test_a_new_project_gets_its_group_role_and_monitoring(synthesize: SynthesizeFn, policy: GovernancePolicy) -> None:
    projects = [p.model_dump(mode="json") for p in policy.projects] + [
        {
            "name": "fraud-detect",
            "owner_team": "payments-risk",
            "classification": "restricted",
            "metric_thresholds": {"auc": {"minimum": 0.9}, "false_positive_rate": {"maximum": 0.02}},
            "endpoints": [{"name": "fraud-detect-rt", "schedule": "cron(0 0/4 ? * * *)"}],
        }
    ]
    out = synthesize(policy_variant(policy, projects=projects, approval={"custom_metrics": {"false_positive_rate": {}}}))
    groups = {g["model_package_group_name"]: g for g in out.resources("aws_sagemaker_model_package_group").values()}
    assert groups["fraud-detect"]["tags"]["data-classification"] == "restricted"
    assert groups["fraud-detect"]["tags"]["owner-team"] == "payments-risk"
    roles = {r["name"] for r in out.resources("aws_iam_role", "identity").values()}
    assert "acme-fraud-detect-sagemaker-execution" in roles
    schedules = {s["name"]: s for s in out.resources("aws_scheduler_schedule", "monitoring").values()}
    assert schedules["fraud-detect-rt"]["schedule_expression"] == "cron(0 0/4 ? * * *)"
    assert json.loads(schedules["fraud-detect-rt"]["target"]["input"])["detail"]["project"] == "fraud-detect"
    assert len(schedules) == 3


def test_retention_and_lock_mode_follow_the_policy(synthesize: SynthesizeFn, policy: GovernancePolicy) -> None:
    out = synthesize(policy_variant(policy, audit={"retention_years": 10, "object_lock_mode": "GOVERNANCE"}))
    (lock,) = out.resources("aws_s3_bucket_object_lock_configuration").values()
    assert lock["rule"]["default_retention"] == {"mode": "GOVERNANCE", "years": 10}


def test_classification_tags_follow_the_policy(synthesize: SynthesizeFn, policy: GovernancePolicy) -> None:
    projects = [p.model_dump(mode="json") for p in policy.projects]
    for project in projects:
        project["classification"] = "internal"
    out = synthesize(
        policy_variant(policy, classification={"tag_key": "sensitivity"}, projects=projects, create_cloudtrail=False)
    )
    for config in out.stacks.values():
        for provider in config["provider"]["aws"]:
            assert provider["default_tags"][0]["tags"]["sensitivity"] == "internal"
    for group in out.resources("aws_sagemaker_model_package_group").values():
        assert group["tags"]["sensitivity"] == "internal"
        assert "data-classification" not in group["tags"]
    assert out.resources("aws_cloudtrail") == {}


def test_s3_backend_with_native_locking_when_a_state_bucket_is_set(policy: GovernancePolicy, tmp_path: Path) -> None:
    from cdktn import Testing

    import infra.node  # noqa: F401
    from infra.app import build

    app = Testing.app(outdir=str(tmp_path))
    stacks = build(app, policy, BackendSettings(state_bucket="acme-terraform-state"))
    config = json.loads(Testing.synth(stacks["identity"]))
    assert config["terraform"]["backend"] == {
        "s3": {
            "bucket": "acme-terraform-state",
            "key": "ml-governance/identity.tfstate",
            "region": "eu-west-1",
            "encrypt": True,
            "use_lockfile": True,
        }
    }


def test_a_synth_with_a_state_bucket_writes_the_s3_backend(policy: GovernancePolicy, tmp_path: Path) -> None:
    """What ``make synth`` and ``make deploy`` run with GOVERNANCE_STATE_BUCKET set: cdktn refused the S3 backend's
    native lock file for a project targeting Terraform older than 1.10, and the app declared no target."""
    import infra.node  # noqa: F401
    from infra.app import synth

    synth(policy, tmp_path, BackendSettings(state_bucket="acme-terraform-state"))
    config = json.loads((tmp_path / "stacks" / "foundation" / "cdk.tf.json").read_text())
    assert config["terraform"]["backend"]["s3"]["use_lockfile"] is True


def test_the_declared_terraform_target_is_the_one_the_commands_require() -> None:
    """cdktf.json declares the targets the cdktn CLI and ``python -m infra.app`` give cdktn, and the lowest Terraform
    they admit is the lowest the commands accept (infra/terraform_cli.py)."""
    from infra.stacks.base import declared_targets
    from infra.terraform_cli import MIN_TERRAFORM

    assert declared_targets() == {"terraform": ">=" + ".".join(map(str, MIN_TERRAFORM)) + ".0"}
