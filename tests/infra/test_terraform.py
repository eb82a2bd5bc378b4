"""The synthesized Terraform is real: terraform validates it offline and applies it into an embedded AWS.

Needs the terraform binary (and, offline, the provider mirror); skipped with a reason where
terraform is absent. On the reference image both are present and these tests run.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import Future
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from infra.embedded_aws import EmbeddedAws
from infra.readback import EMBEDDED_AWS_GAPS, key_arn_by_alias, verify_deployment
from infra.stack_order import STACK_NAMES
from infra.terraform_cli import EMBEDDED_AWS_EXCLUSIONS, StackResult, resource_addresses, validate
from policies.model import GovernancePolicy
from policies.naming import APPROVAL_GATE, PERSONAS, Names
from tests.conftest import BackgroundDeployment, Synthesized

REPO = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.terraform,
    pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not on PATH: validate/deploy-local cannot run"),
]


def test_terraform_validates_every_stack(validation: Future[list[StackResult]] | None) -> None:
    """Validated in the background from the session's start (tests/conftest.py)."""
    assert validation is not None
    results = validation.result(timeout=1200)
    assert [r.stack for r in results] == list(STACK_NAMES)
    failed = {r.stack: r.detail for r in results if not r.ok}
    assert not failed, failed


def test_a_stack_that_terraform_refuses_is_named_with_its_error(synthesized: Synthesized, tmp_path: Path) -> None:
    """Stacks share one provider installation and one provider process: the stack that installed it and the ones
    after are judged alike, a provider configuration is still judged by the provider (here an aliased one, as the
    watched Regions' are), and no provider process outlives the validation."""
    identity = synthesized.stacks["identity"]
    broken = json.loads(json.dumps(identity))
    broken["resource"]["aws_iam_role"][next(iter(identity["resource"]["aws_iam_role"]))]["max_session_hours"] = 12
    misconfigured = json.loads(json.dumps(identity))
    misconfigured["provider"]["aws"].append(
        {
            "alias": "us-east-1",
            "region": "us-east-1",
            "assume_role": [{"role_arn": "arn:aws:iam::123456789012:role/x", "duration": "a week"}],
        }
    )
    misconfigured["resource"]["aws_iam_role"][next(iter(identity["resource"]["aws_iam_role"]))]["provider"] = "aws.us-east-1"
    stacks = {"valid": identity, "broken": broken, "misconfigured": misconfigured, "valid-again": identity}
    for name, config in stacks.items():
        (tmp_path / "stacks" / name).mkdir(parents=True)
        (tmp_path / "stacks" / name / "cdk.tf.json").write_text(json.dumps(config))
    results = {r.stack: r for r in validate(tmp_path, list(stacks))}
    assert results["valid"].ok and results["valid-again"].ok
    assert not results["broken"].ok
    assert 'No argument or block type is named "max_session_hours"' in results["broken"].detail
    assert not results["misconfigured"].ok
    assert '"assume_role.0.duration" cannot be parsed as a duration' in results["misconfigured"].detail
    assert processes_started_from(tmp_path) == []


def processes_started_from(directory: Path) -> list[str]:
    """The command lines of running processes whose program lies under ``directory``."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes().split(b"\0")
        except OSError:  # ended meanwhile
            continue
        if argv[0].startswith(str(directory).encode()):
            found.append(b" ".join(argv).decode(errors="replace"))
    return found


def test_an_interrupted_validation_says_so_and_leaves_no_provider_running(synthesized: Synthesized, tmp_path: Path) -> None:
    """Ctrl-C during ``make validate``: no traceback, exit 130, and the provider it served is stopped."""
    shutil.copytree(synthesized.outdir / "stacks", tmp_path / "stacks", ignore=shutil.ignore_patterns(".terraform*"))
    as_at_a_terminal = (  # a shell's background job, as this suite may be, starts its children with SIGINT ignored
        "import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
        f"sys.argv = ['terraform_cli', 'validate', '--outdir', {str(tmp_path)!r}]; "
        "runpy.run_module('infra.terraform_cli', run_name='__main__')"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", as_at_a_terminal], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 120
    while not processes_started_from(tmp_path) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert processes_started_from(tmp_path), "the validation served its provider"
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert stderr.strip().splitlines()[-1] == "validate: interrupted"
    assert "Traceback" not in stderr
    assert processes_started_from(tmp_path) == []


def test_stacks_installed_once_keep_their_own_state_and_an_uninstallable_one_is_named(tmp_path: Path) -> None:
    """The stacks of a deploy share one provider installation (``SharedProviders``): each still applies into a state
    of its own, a later wave's stack too; a stack whose provider cannot be installed fails with Terraform's
    ``init`` error, and the stacks after it are judged on their own."""
    from infra.terraform_cli import deploy_local

    def stack(name: str, config: dict[str, object]) -> None:
        (tmp_path / "out" / "stacks" / name).mkdir(parents=True)
        (tmp_path / "out" / "stacks" / name / "cdk.tf.json").write_text(json.dumps(config))

    for name in ("first", "second", "later"):  # terraform_data needs no provider: nothing is called
        # a backend of its own, as synth writes it: the deploy's override puts every stack's state in its directory
        backend = {"local": {"path": f"terraform.{name}.tfstate"}}
        stack(name, {"terraform": {"backend": backend}, "resource": {"terraform_data": {f"{name}-marker": {"input": name}}}})
    stack("unknown", {"terraform": {"required_providers": {"nowhere": {"source": "hashicorp/nowhere"}}}})
    results = deploy_local(tmp_path / "out", [["first", "second"], ["later", "unknown"]], tmp_path / "work", "http://127.0.0.1:9")

    assert [(r.stack, r.ok) for r in results] == [("first", True), ("second", True), ("later", True), ("unknown", False)]
    assert "hashicorp/nowhere" in results[3].detail
    for name in ("first", "second", "later"):
        state = json.loads((tmp_path / "work" / name / "terraform.tfstate").read_text())
        assert [r["name"] for r in state["resources"]] == [f"{name}-marker"]
    # one data directory per set of required providers: the three stacks that need none share one
    assert len(list((tmp_path / "work" / ".terraform-providers").iterdir())) == 2


def test_a_stack_whose_own_init_fails_leaves_the_next_of_its_set_to_install_them(tmp_path: Path) -> None:
    from infra.terraform_cli import SharedProviders, _tf_env, write_cli_config

    for name, config in {
        "needs-a-newer-terraform": {"terraform": {"required_version": ">= 99.0"}},
        "fine": {"resource": {"terraform_data": {"marker": {"input": "fine"}}}},
    }.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "cdk.tf.json").write_text(json.dumps(config))
    providers = SharedProviders(tmp_path / ".providers", serve=False, backend=True)
    env = _tf_env(write_cli_config(tmp_path / "cli"))
    _, failed = providers.prepare(tmp_path / "needs-a-newer-terraform", "terraform", env)
    assert failed is not None and "Unsupported Terraform Core version" in failed.stderr + failed.stdout
    shared, failed = providers.prepare(tmp_path / "fine", "terraform", env)
    assert failed is None
    assert (
        subprocess.run(
            ["terraform", "apply", "-auto-approve", "-no-color"],
            cwd=tmp_path / "fine",
            env=shared,
            capture_output=True,
            check=False,
        ).returncode
        == 0
    )


def test_stacks_with_other_modules_or_backends_get_an_installation_of_their_own(tmp_path: Path) -> None:
    """A stack shares the first stack's ``init`` only if that init installed what it needs: the same providers, the
    same modules and, for a deploy, the same backend. Otherwise its apply would find its module missing or the backend
    set up for another stack's state."""
    from infra.terraform_cli import SharedProviders, _tf_env, write_cli_config

    marker = {"resource": {"terraform_data": {"marker": {"input": "x"}}}}
    stacks: dict[str, dict[str, object]] = {
        "plain": {**marker, "terraform": {"backend": {"local": {"path": "plain.tfstate"}}}},
        "with-module": {
            **marker,
            "terraform": {"backend": {"local": {"path": "plain.tfstate"}}},
            "module": {"m": {"source": "./m"}},
            "output": {"from-module": {"value": "${module.m.answer}"}},
        },
        "other-backend": {**marker, "terraform": {"backend": {"local": {"path": "elsewhere.tfstate"}}}},
    }
    for name, config in stacks.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "cdk.tf.json").write_text(json.dumps(config))
    (tmp_path / "with-module" / "m").mkdir()
    (tmp_path / "with-module" / "m" / "main.tf.json").write_text(json.dumps({"output": {"answer": {"value": 42}}}))
    providers = SharedProviders(tmp_path / ".providers", serve=False, backend=True)
    env = _tf_env(write_cli_config(tmp_path / "cli"))
    for name in stacks:
        shared, failed = providers.prepare(tmp_path / name, "terraform", env)
        assert failed is None, failed.stderr if failed else ""
        applied = subprocess.run(
            ["terraform", "apply", "-auto-approve", "-input=false", "-no-color"],
            cwd=tmp_path / name,
            env=shared,
            capture_output=True,
            text=True,
            check=False,
        )
        assert applied.returncode == 0, (name, applied.stderr)
    assert json.loads((tmp_path / "with-module" / "plain.tfstate").read_text())["outputs"]["from-module"]["value"] == 42
    assert (tmp_path / "other-backend" / "elsewhere.tfstate").exists()
    assert len(list((tmp_path / ".providers").iterdir())) == 3


@pytest.fixture(scope="module")
def deployed(deployment: BackgroundDeployment | None) -> tuple[EmbeddedAws, list[StackResult]]:
    """The apply started in the background at the beginning of the session (tests/conftest.py)."""
    assert deployment is not None
    aws, results = deployment.wait()
    return aws, results


def test_every_stack_applies_with_only_the_documented_exclusions(
    deployed: tuple[EmbeddedAws, list[StackResult]], synthesized: Synthesized
) -> None:
    _, results = deployed
    failed = {r.stack: r.detail for r in results if not r.ok}
    assert not failed, failed
    assert [r.stack for r in results] == list(STACK_NAMES)
    for result in results:
        addresses = resource_addresses(synthesized.stacks[result.stack])
        assert sorted(result.applied + list(result.excluded)) == sorted(addresses)
        assert {a.split(".")[0] for a in result.excluded} <= set(EMBEDDED_AWS_EXCLUSIONS)
    # The default policy monitors with drift jobs, so no Model Monitor schedule is synthesized (none excluded).
    excluded_types = sorted({a.split(".")[0] for r in results for a in r.excluded})
    assert excluded_types == ["aws_sagemaker_model_package_group_policy"]


def test_deployed_buckets_keep_the_policy_guarantees(
    deployed: tuple[EmbeddedAws, list[StackResult]], policy: GovernancePolicy
) -> None:
    aws, _ = deployed
    names = Names(policy, account="123456789012")
    s3 = aws.client("s3")
    for bucket, alias in ((names.lineage_bucket, "data"), (names.audit_bucket, "audit")):
        rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
        assert rule["ApplyServerSideEncryptionByDefault"] == {
            "SSEAlgorithm": "aws:kms",
            "KMSMasterKeyID": key_arn_by_alias(aws, names.key_alias(alias)),
        }
        assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        }
        assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
        # applied by the foundation's second apply, beside the later waves (terraform_cli.SETTLING_RESOURCES)
        rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
        assert [(r["ID"], r["Status"]) for r in rules] == [("governed-retention", "Enabled")]
    lock = s3.get_object_lock_configuration(Bucket=names.audit_bucket)["ObjectLockConfiguration"]
    assert lock["ObjectLockEnabled"] == "Enabled"
    retention = lock["Rule"]["DefaultRetention"]
    assert (retention["Mode"], retention["Years"]) == ("COMPLIANCE", policy.audit.retention_years)


def test_deployed_roles_carry_the_boundary(deployed: tuple[EmbeddedAws, list[StackResult]], policy: GovernancePolicy) -> None:
    aws, _ = deployed
    iam = aws.client("iam")
    names = Names(policy, account="123456789012")
    boundary = f"arn:aws:iam::123456789012:policy/{names.boundary_policy}"
    roles = {r["RoleName"]: r for r in iam.list_roles()["Roles"]}
    expected = [names.persona_role(p) for p in PERSONAS] + [
        role for p in policy.projects for role in (names.execution_role(p), names.experiment_role(p))
    ]
    for role_name in expected:
        role = iam.get_role(RoleName=role_name)["Role"]
        assert role["PermissionsBoundary"]["PermissionsBoundaryArn"] == boundary, role_name
    assert set(expected) <= set(roles)


def test_deployed_model_package_groups_and_tags(
    deployed: tuple[EmbeddedAws, list[StackResult]], policy: GovernancePolicy
) -> None:
    aws, _ = deployed
    sagemaker = aws.client("sagemaker")
    groups = {g["ModelPackageGroupName"]: g for g in sagemaker.list_model_package_groups()["ModelPackageGroupSummaryList"]}
    assert sorted(groups) == sorted(p.name for p in policy.projects)
    for project in policy.projects:
        tags = {
            t["Key"]: t["Value"] for t in sagemaker.list_tags(ResourceArn=groups[project.name]["ModelPackageGroupArn"])["Tags"]
        }
        assert tags["data-classification"] == project.classification
        assert tags["owner-team"] == project.owner_team


def test_readback_verifier_finds_no_violation(deployed: tuple[EmbeddedAws, list[StackResult]], policy: GovernancePolicy) -> None:
    aws, _ = deployed
    assert verify_deployment(aws, policy, unverifiable=EMBEDDED_AWS_GAPS) == []


ALL_PUBLIC_ACCESS_BLOCKED = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}


def test_readback_verifier_catches_a_removed_boundary_and_a_public_bucket(
    deployed: tuple[EmbeddedAws, list[StackResult]], policy: GovernancePolicy
) -> None:
    aws, _ = deployed
    names = Names(policy, account="123456789012")
    iam, s3 = aws.client("iam"), aws.client("s3")
    iam.delete_role_permissions_boundary(RoleName=names.persona_role("data-scientist"))
    s3.put_public_access_block(
        Bucket=names.lineage_bucket,
        PublicAccessBlockConfiguration={**ALL_PUBLIC_ACCESS_BLOCKED, "BlockPublicPolicy": False},
    )
    try:
        problems = verify_deployment(aws, policy, unverifiable=EMBEDDED_AWS_GAPS)
        assert any(p.startswith("role acme-data-scientist carries boundary None") for p in problems), problems
        assert any(p.startswith(f"bucket {names.lineage_bucket} does not block all public access") for p in problems), problems
        assert len(problems) == 2, problems
    finally:
        iam.put_role_permissions_boundary(
            RoleName=names.persona_role("data-scientist"),
            PermissionsBoundary=f"arn:aws:iam::123456789012:policy/{names.boundary_policy}",
        )
        s3.put_public_access_block(
            Bucket=names.lineage_bucket,
            PublicAccessBlockConfiguration=ALL_PUBLIC_ACCESS_BLOCKED,
        )


def test_readback_verifier_catches_a_dead_letter_queue_without_its_policy(
    deployed: tuple[EmbeddedAws, list[StackResult]], policy: GovernancePolicy
) -> None:
    """What removing a queue policy resource does (SetQueueAttributes with an empty Policy): the rule's undeliverable
    events would have nowhere to go."""
    aws, _ = deployed
    names = Names(policy, account="123456789012")
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=names.dead_letter_queue(APPROVAL_GATE))["QueueUrl"]
    kept = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": ""})
    try:
        problems = verify_deployment(aws, policy, unverifiable=EMBEDDED_AWS_GAPS)
        assert problems == [
            f"dead-letter queue {names.dead_letter_queue(APPROVAL_GATE)} has no policy letting its rules deliver what they could not"
        ]
    finally:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": kept})


def test_readback_verifier_catches_a_silenced_trail(
    deployed: tuple[EmbeddedAws, list[StackResult]], policy: GovernancePolicy
) -> None:
    aws, _ = deployed
    names = Names(policy, account="123456789012")
    cloudtrail, logs = aws.client("cloudtrail"), aws.client("logs")
    log_group = names.trail_log_group
    (tampering_filter,) = logs.describe_metric_filters(logGroupName=log_group, filterNamePrefix=f"{names.org}-trail-tampering")[
        "metricFilters"
    ]
    cloudtrail.stop_logging(Name=names.trail)
    logs.delete_metric_filter(logGroupName=log_group, filterName=tampering_filter["filterName"])
    try:
        problems = verify_deployment(aws, policy, unverifiable=EMBEDDED_AWS_GAPS)
        assert problems == [
            f"trail {names.trail} is not logging",
            f"no metric filter {names.org}-trail-tampering on the trail's log group '{log_group}'",
        ]
    finally:
        cloudtrail.start_logging(Name=names.trail)
        logs.put_metric_filter(
            logGroupName=log_group,
            filterName=tampering_filter["filterName"],
            filterPattern=tampering_filter["filterPattern"],
            metricTransformations=tampering_filter["metricTransformations"],
        )


@pytest.mark.parametrize(
    ("call", "resource_type"),
    [
        (
            lambda sm: sm.create_monitoring_schedule(
                MonitoringScheduleName="probe",
                MonitoringScheduleConfig={"MonitoringJobDefinitionName": "probe", "MonitoringType": "DataQuality"},
            ),
            "aws_sagemaker_monitoring_schedule",
        ),
        (
            lambda sm: sm.put_model_package_group_policy(ModelPackageGroupName="credit-risk", ResourcePolicy=json.dumps({})),
            "aws_sagemaker_model_package_group_policy",
        ),
    ],
)
def test_each_exclusion_is_still_unsupported_by_the_embedded_aws(
    deployed: tuple[EmbeddedAws, list[StackResult]], call, resource_type: str
) -> None:  # type: ignore[no-untyped-def]
    """If moto learns one of these calls, this fails: drop the exclusion so the resource gets applied too."""
    aws, _ = deployed
    with pytest.raises(ClientError) as caught:
        call(aws.client("sagemaker"))
    assert resource_type in EMBEDDED_AWS_EXCLUSIONS
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] in {404, 500, 501}, caught.value.response
