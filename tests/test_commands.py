"""Every documented command, run as a new user would: a clean environment, a subprocess, one clear line on failure.

Each command runs with no AWS credentials (no keys, no profile, no config files), no
AWS_DEFAULT_REGION, and GOVERNANCE_POLICY pointing at the policy the case needs; its exit code
and its output are checked, and no output may hold a traceback. Commands that import cdktn or
the SageMaker SDK cost 5 to 10 s each, so only the cases that matter run them.
"""

from __future__ import annotations

import ast
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from infra.progress import Check, checklist, phase
from infra.readback import GAP_GROUPS, GUARANTEES, verify_groups
from infra.stack_order import STACK_NAMES, monitoring_notice, stack_dependencies
from infra.terraform_cli import _tf_env, embedded_aws_env, guarantee_checklist
from policies.loader import load_policy

REPO = Path(__file__).resolve().parents[1]
GOOD_POLICY = REPO / "policies" / "governance.yaml"


def clean_env(tmp_path: Path, *, policy: Path | None = GOOD_POLICY, path: str | None = None) -> dict[str, str]:
    """No credentials from anywhere, no Region, no instance metadata; HOME kept for the jsii and uv caches."""
    env = {
        "PATH": path if path is not None else os.environ["PATH"],
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "PYTHONPATH": str(REPO),
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "CHECKPOINT_DISABLE": "1",
        "LANG": "C.UTF-8",
    }
    for key in ("UV", "UV_CACHE_DIR", "TF_PROVIDER_MIRROR", "TF_CLI_CONFIG_FILE", "JSII_RUNTIME_PACKAGE_CACHE_ROOT"):
        if key in os.environ:
            env[key] = os.environ[key]
    if policy is not None:
        env["GOVERNANCE_POLICY"] = str(policy)
    return env


def run(args: list[str], env: dict[str, str], cwd: Path = REPO, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output[-4000:]
    return result


def path_without(tool: str) -> str:
    """PATH with every directory that holds ``tool`` left out."""
    return os.pathsep.join(d for d in os.environ["PATH"].split(os.pathsep) if d and not (Path(d) / tool).exists())


@pytest.fixture(scope="module")
def bad_policy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("policy") / "bad.yaml"
    path.write_text(GOOD_POLICY.read_text().replace("classification: confidential", "classification: secret", 1))
    assert path.read_text() != GOOD_POLICY.read_text()
    return path


@pytest.fixture(scope="module")
def app_outdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`python -m infra.app` (make synth, and the app command of cdktf.json) once, in a clean environment."""
    tmp = tmp_path_factory.mktemp("app")
    env = {**clean_env(tmp), "CDKTF_OUTDIR": str(tmp / "cdktf.out")}
    result = run(["infra.app"], env)
    assert result.returncode == 0, result.stderr[-3000:]
    return tmp / "cdktf.out"


# ---- infra.app and infra.summary (make synth, make demo) ---------------------------------------------


def test_app_synthesizes_every_stack_with_its_dependencies(app_outdir: Path) -> None:
    manifest = json.loads((app_outdir / "manifest.json").read_text())
    assert {name: sorted(s["dependencies"]) for name, s in manifest["stacks"].items()} == {
        name: sorted(deps) for name, deps in stack_dependencies().items()
    }


@pytest.mark.parametrize("case", ["bad", "missing"])
def test_app_refuses_a_bad_or_missing_policy_in_one_message(case: str, bad_policy: Path, tmp_path: Path) -> None:
    policy = bad_policy if case == "bad" else tmp_path / "nowhere.yaml"
    result = run(["infra.app"], {**clean_env(tmp_path, policy=policy), "CDKTF_OUTDIR": str(tmp_path / "out")})
    assert result.returncode == 2
    assert "invalid governance policy" in result.stderr if case == "bad" else "cannot read the policy file" in result.stderr
    assert not (tmp_path / "out").exists(), "nothing is written for a policy that cannot be used"


@pytest.mark.parametrize("node", ["missing", "not-node"])
def test_app_without_node_says_so_in_one_line(node: str, bad_policy: Path, tmp_path: Path) -> None:
    """cdktn's Node kernel starts on a thread of its own (infra/app.py): a Node.js that is missing, or a program that
    is not Node, is reported as the synth's failure in one line, without a traceback; a bad policy's refusal is
    still what the user reads."""
    program = str(tmp_path / "no-node") if node == "missing" else shutil.which("true")
    assert program is not None
    env = {**clean_env(tmp_path), "CDKTF_OUTDIR": str(tmp_path / "out"), "JSII_NODE": program}
    result = run(["infra.app"], env)
    assert result.returncode == 1, result.stderr[-2000:]
    reason = f"[Errno 2] No such file or directory: '{program}'" if node == "missing" else "Expecting value"
    assert f"synth failed: the Node.js kernel did not start: {reason}" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()
    refused = run(["infra.app"], {**env, **clean_env(tmp_path, policy=bad_policy)})
    assert refused.returncode == 2, refused.stderr[-2000:]
    assert "invalid governance policy" in refused.stderr and "Traceback" not in refused.stderr


def test_app_names_the_endpoints_the_multi_account_layout_does_not_monitor(tmp_path: Path) -> None:
    """The multi-account layout has no monitoring stack yet: a synth says which declared endpoints get no drift job
    or Model Monitor schedule (a single-account synth monitors every one and says nothing)."""
    example = REPO / "examples" / "multi-account" / "governance.yaml"
    declared = [f"{p.name}/{e.name}" for p in load_policy(example).projects for e in p.endpoints]
    assert declared, "the example declares endpoints"
    result = run(["infra.app"], {**clean_env(tmp_path, policy=example), "CDKTF_OUTDIR": str(tmp_path / "out")})
    assert result.returncode == 0, result.stderr[-2000:]
    assert "does not monitor" not in result.stderr, "on stdout: the cdktn CLI shows the app's stderr as errors"
    notice = [line for line in result.stdout.splitlines() if "does not monitor endpoints for drift yet" in line]
    assert len(notice) == 1 and notice[0].endswith(
        f"{', '.join(declared)} (they are deployed and guarded as the policy says; docs/multi-account.md, 'Not done yet')"
    )
    assert monitoring_notice(load_policy(GOOD_POLICY)) is None


def test_app_refuses_a_policy_whose_permissions_boundary_iam_would_refuse(tmp_path: Path) -> None:
    """IAM refuses a managed policy over 6,144 characters at deploy (LimitExceeded), which moto does not check: synth
    says so first, naming the field to change."""
    data = load_policy(GOOD_POLICY).model_dump(mode="json")
    data["organization"]["name"] = "a" * 20  # the longest the model allows
    data["regions"]["global_service_actions"] += [f"service{i}:*" for i in range(60)]
    policy = tmp_path / "governance.yaml"
    policy.write_text(json.dumps(data))  # JSON is YAML
    result = run(["infra.app"], {**clean_env(tmp_path, policy=policy), "CDKTF_OUTDIR": str(tmp_path / "out")})
    assert result.returncode == 2, result.stderr[-2000:]
    assert "organization.name" in result.stderr and "over IAM's 6,144 for a managed policy" in result.stderr
    assert "Traceback" not in result.stderr
    assert not [p for p in (tmp_path / "out").rglob("*") if p.is_file()], (
        "nothing is written for a policy that cannot be deployed"
    )


def test_app_refuses_hcl_output_in_one_message_and_leaves_no_stack_without_its_plain_blocks(tmp_path: Path) -> None:
    """`cdktn synth --hcl` (SYNTH_HCL_OUTPUT): the stacks' plain blocks are merged into JSON only (infra/plain_resources.py)."""
    out = tmp_path / "out"
    result = run(["infra.app"], {**clean_env(tmp_path), "CDKTF_OUTDIR": str(out), "SYNTH_HCL_OUTPUT": "true"})
    assert result.returncode == 1, result.stderr[-2000:]
    assert "synthesize to Terraform JSON, not HCL; synthesize without --hcl" in result.stderr
    assert "Traceback" not in result.stderr
    assert (out / "stacks" / "identity").is_dir()  # cdktn wrote the stacks before the merge refused them
    assert not list(out.rglob("cdk.tf")), "a stack written without its plain blocks (every stack has some)"


def test_summary_prints_what_the_policy_produced(app_outdir: Path, tmp_path: Path) -> None:
    result = run(["infra.summary", str(app_outdir)], clean_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert f"Stacks ({len(STACK_NAMES)}," in result.stdout


def test_summary_without_synth_or_with_a_bad_policy(app_outdir: Path, bad_policy: Path, tmp_path: Path) -> None:
    missing = run(["infra.summary", str(tmp_path / "cdktf.out")], clean_env(tmp_path))
    assert missing.returncode == 2 and "run `make synth`" in missing.stderr
    bad = run(["infra.summary", str(app_outdir)], clean_env(tmp_path, policy=bad_policy))
    assert bad.returncode == 2 and "invalid governance policy" in bad.stderr


# ---- pipelines.cli -------------------------------------------------------------------------------------


def test_pipeline_definition_is_offline_with_no_region_and_no_sdk_noise(tmp_path: Path) -> None:
    output = tmp_path / "credit-risk.json"
    result = run(["pipelines.cli", "definition", "--project", "credit-risk", "--output", str(output)], clean_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert json.loads(output.read_text())["Steps"]
    assert result.stdout.strip() == f"wrote {output}"
    assert result.stderr == "", result.stderr  # no NoRegionError, no "Popping out ...", no INFO lines


def test_pipeline_run_local_checks_the_policy(tmp_path: Path) -> None:
    result = run(
        ["pipelines.cli", "run-local", "--project", "credit-risk", "--workdir", str(tmp_path / "run")], clean_env(tmp_path)
    )
    assert result.returncode == 0, result.stderr
    assert "auc" in result.stdout and "BELOW POLICY" not in result.stdout


def test_pipeline_upsert_without_credentials_says_how_to_provide_them(tmp_path: Path) -> None:
    result = run(["pipelines.cli", "upsert", "--project", "credit-risk"], clean_env(tmp_path))
    assert result.returncode == 2
    assert result.stderr.startswith("no AWS credentials") and len(result.stderr.strip().splitlines()) == 1


def test_pipeline_commands_refuse_an_unknown_project_or_a_bad_policy(bad_policy: Path, tmp_path: Path) -> None:
    unknown = run(["pipelines.cli", "definition", "--project", "no-such-project"], clean_env(tmp_path))
    assert unknown.returncode == 2 and "'no-such-project' is not in the policy (governed: credit-risk" in unknown.stderr
    bad = run(["pipelines.cli", "upsert", "--project", "credit-risk"], clean_env(tmp_path, policy=bad_policy))
    assert bad.returncode == 2 and "invalid governance policy" in bad.stderr


# ---- infra.terraform_cli, review.scan, review.iam_review -----------------------------------------------


@pytest.mark.parametrize("command", ["validate", "deploy-local"])
def test_terraform_commands_without_terraform_say_what_to_install(command: str, app_outdir: Path, tmp_path: Path) -> None:
    env = clean_env(tmp_path, path=path_without("terraform"))
    result = run(["infra.terraform_cli", command, "--outdir", str(app_outdir), "--workdir", str(tmp_path / "w")], env)
    assert result.returncode == 2
    assert result.stderr.startswith("terraform is not on PATH: install Terraform >= 1.10"), result.stderr


def test_terraform_older_than_1_10_is_refused_with_the_reason(app_outdir: Path, tmp_path: Path) -> None:
    fake = tmp_path / "bin" / "terraform"
    fake.parent.mkdir()
    fake.write_text('#!/bin/sh\necho \'{"terraform_version":"1.6.6","platform":"linux_amd64"}\'\n')
    fake.chmod(0o755)
    env = clean_env(tmp_path, path=f"{fake.parent}{os.pathsep}{path_without('terraform')}")
    result = run(["infra.terraform_cli", "validate", "--outdir", str(app_outdir)], env)
    assert result.returncode == 2
    assert "is Terraform 1.6.6; the stacks need >= 1.10 (S3 native state locking)" in result.stderr


@pytest.mark.skipif(shutil.which("terraform") is None, reason="needs terraform to get past the version check")
def test_deploy_local_without_synth_says_to_synthesize(tmp_path: Path) -> None:
    result = run(["infra.terraform_cli", "deploy-local", "--outdir", str(tmp_path / "cdktf.out")], clean_env(tmp_path))
    assert result.returncode == 2 and "run `make synth` first" in result.stderr


def users_aws_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *, profile: str, defined: bool) -> dict[str, str]:
    """A shell whose AWS settings point elsewhere: a service's own endpoint variable, the instruction to ignore
    endpoint settings, and a profile (``defined`` in the config file, or not) whose config names an S3 endpoint."""
    config = tmp_path / "config"
    section = f"profile {profile}" if defined else "default"
    config.write_text(f"[{section}]\nservices = elsewhere\n[services elsewhere]\ns3 =\n  endpoint_url = http://127.0.0.1:9\n")
    user = {
        "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9",
        "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true",
        "AWS_PROFILE": profile,
        "AWS_CONFIG_FILE": str(config),
    }
    for key, value in user.items():
        monkeypatch.setenv(key, value)
    return user


def test_an_embedded_deploy_sends_every_call_to_the_embedded_aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Settings in the shell that outrank the embedded AWS's global endpoint are not passed on: a service's own
    endpoint variable, a profile whose config file names endpoints, an instruction to ignore endpoint settings."""
    user = users_aws_settings(monkeypatch, tmp_path, profile="work", defined=True)
    embedded = _tf_env(None, embedded_aws_env("http://127.0.0.1:4566"))
    assert embedded["AWS_ENDPOINT_URL"] == "http://127.0.0.1:4566"
    assert embedded["AWS_CONFIG_FILE"] == embedded["AWS_SHARED_CREDENTIALS_FILE"] == os.devnull
    assert [k for k in embedded if k.startswith(("AWS_ENDPOINT_URL_", "AWS_IGNORE_CONFIGURED", "AWS_PROFILE"))] == []
    # validating, or deploying to the user's own account, keeps the user's settings
    assert {k: _tf_env(None)[k] for k in user} == user


def test_terraform_collects_garbage_less_often_unless_the_user_chose(monkeypatch: pytest.MonkeyPatch) -> None:
    """terraform and the providers it starts (which inherit its environment) run with Go's collector at 400, the
    user's own ``GOGC`` when set."""
    monkeypatch.delenv("GOGC", raising=False)
    assert _tf_env(None)["GOGC"] == _tf_env(None, embedded_aws_env("http://127.0.0.1:4566"))["GOGC"] == "400"
    monkeypatch.setenv("GOGC", "off")
    assert _tf_env(None)["GOGC"] == _tf_env(None, embedded_aws_env("http://127.0.0.1:4566"))["GOGC"] == "off"


def test_the_demos_embedded_aws_ignores_the_users_aws_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A profile that does not exist failed every client of the demo and of the read-back; a per-service endpoint
    or an instruction to ignore endpoints sent the handlers' calls elsewhere. None of them reach the embedded world."""
    import boto3

    from demo.embedded import embedded_aws

    user = users_aws_settings(monkeypatch, tmp_path, profile="a-profile-that-does-not-exist", defined=False)
    with embedded_aws("eu-west-1", log_path=tmp_path / "moto.log") as aws:
        aws.client("s3").create_bucket(
            Bucket="made-by-the-read-back", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        handlers_client = boto3.client("s3")  # as the handlers create theirs: from the environment
        assert [b["Name"] for b in handlers_client.list_buckets()["Buckets"]] == ["made-by-the-read-back"]
    assert {k: os.environ[k] for k in user} == user  # the user's settings are back afterwards


def test_preflight_without_credentials_lists_what_is_missing(tmp_path: Path) -> None:
    result = run(["infra.terraform_cli", "preflight"], clean_env(tmp_path))
    assert result.returncode == 1
    assert "FAILED  credentials" in result.stdout and "no AWS credentials" in result.stdout
    assert "skipped state bucket" in result.stdout


def test_scan_and_iam_review_without_synth(tmp_path: Path) -> None:
    scan = run(["review.scan", "--outdir", str(tmp_path / "cdktf.out"), "--reports", str(tmp_path / "r")], clean_env(tmp_path))
    assert scan.returncode == 2 and "run `make synth` first" in scan.stderr
    review = run(["review.iam_review", "--outdir", str(tmp_path / "cdktf.out")], clean_env(tmp_path))
    assert review.returncode == 2


def test_iam_review_reads_the_synthesized_stacks(app_outdir: Path, tmp_path: Path) -> None:
    result = run(["review.iam_review", "--outdir", str(app_outdir)], clean_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("#")


# ---- progress and the closing checklist ----------------------------------------------------------------


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_plain_lines_when_not_a_terminal() -> None:
    stream = io.StringIO()
    with phase("foundation: terraform apply", stream=stream) as step:
        step.note("35 resources")
    with pytest.raises(RuntimeError), phase("identity: terraform apply", stream=stream):
        raise RuntimeError("boom")
    lines = stream.getvalue().splitlines()
    assert lines[0] == "[....] foundation: terraform apply ..."
    assert lines[1].startswith("[ ok ] foundation: terraform apply (35 resources) in ") and lines[1].endswith(" s")
    assert lines[3].startswith("[FAIL] identity: terraform apply in ")
    assert "\x1b" not in stream.getvalue()


def test_checklist_plain_and_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    checks = [Check("keys", True, "exist and rotate"), Check("buckets", False, "versioned", ["bucket x is not versioned"])]
    plain = io.StringIO()
    assert checklist(checks, title="Guarantees", stream=plain) is False
    assert plain.getvalue().splitlines() == [
        "Guarantees: 1 ok, 1 failed",
        "  ok      keys     exist and rotate",
        "  FAILED  buckets  versioned",
        "                   - bucket x is not versioned",
    ]
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    terminal = _Terminal()
    checklist(checks, title="Guarantees", stream=terminal)
    assert "✓ ok" in terminal.getvalue() and "bucket x is not versioned" in terminal.getvalue()


def test_every_readback_function_is_a_documented_guarantee_group() -> None:
    tree = ast.parse((REPO / "infra" / "readback.py").read_text())
    functions = {
        node.name.removeprefix("_verify_").replace("_", "-")
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and node.name.startswith("_verify_")
    }
    assert functions == set(GUARANTEES), "a _verify_<group> function of infra/readback.py has no GUARANTEES entry"
    assert set(GAP_GROUPS.values()) <= set(GUARANTEES)


def test_a_group_whose_read_fails_is_reported_without_hiding_the_others() -> None:
    class NoTrail:
        """Answers sts; every other service call fails like a missing resource."""

        def client(self, service: str, region: str | None = None) -> object:
            if service == "sts":
                return type("Sts", (), {"get_caller_identity": lambda self: {"Account": "111122223333"}})()
            raise RuntimeError(f"{service} is unreachable\nsecond line")

    groups = verify_groups(NoTrail(), load_policy(REPO / "policies" / "governance.yaml"))
    assert list(groups) == list(GUARANTEES)
    assert all(
        found == [f"could not read back: RuntimeError: {service} is unreachable"]
        for found, service in [(groups["keys"], "kms"), (groups["registry"], "sagemaker"), (groups["identity"], "iam")]
    )


def test_guarantee_checklist_groups_problems_and_names_what_it_could_not_verify() -> None:
    checks = guarantee_checklist(
        {"keys": ["KMS key alias/acme-data does not rotate"], "buckets": []},
        {"lambda-dead-letter-config": "moto does not store it", "new-gap": "not in a group"},
    )
    by_name = {c.name: c for c in checks}
    assert [c.name for c in checks] == [*GUARANTEES, "not verified"]
    assert by_name["keys"].ok is False and by_name["keys"].problems == ["KMS key alias/acme-data does not rotate"]
    assert by_name["buckets"].ok is True
    assert by_name["enforcement"].notes == ["not verifiable here: lambda-dead-letter-config: moto does not store it"]
    assert by_name["not verified"].notes == ["not verifiable here: new-gap: not in a group"]
