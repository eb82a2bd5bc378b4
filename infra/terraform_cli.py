"""Run Terraform on the synthesized stacks: offline validate, and apply into an embedded AWS.

    python -m infra.terraform_cli validate      [--outdir cdktf.out]
    python -m infra.terraform_cli deploy-local  [--outdir cdktf.out] [--workdir .local-aws]

Offline, providers come from a filesystem mirror (``$TF_PROVIDER_MIRROR``, default
/opt/tf-plugins) through a generated Terraform CLI config; without a mirror the normal
registry is used. ``deploy-local`` copies each stack to a work directory, adds a provider
override that points at moto, and applies the stacks in deployment order.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_MIRROR = "/opt/tf-plugins"
MIRROR_ENV = "TF_PROVIDER_MIRROR"

# Services the stacks call, routed to the embedded AWS.
EMBEDDED_ENDPOINT_SERVICES = (
    "cloudtrail",
    "cloudwatch",
    "dynamodb",
    "events",
    "iam",
    "kms",
    "lambda",
    "logs",
    "s3",
    "sagemaker",
    "sns",
    "sqs",
    "sts",
)

# Resource types the embedded AWS (moto 5.2) cannot create, each with the reason.
# They are left out of deploy-local on purpose and listed in its report; synth, validate
# and the checkov scan still cover them.
EMBEDDED_AWS_EXCLUSIONS: Mapping[str, str] = {
    "aws_sagemaker_monitoring_schedule": "moto has no CreateMonitoringSchedule",
    "aws_sagemaker_model_package_group_policy": "moto has no PutModelPackageGroupPolicy",
}


class TerraformError(RuntimeError):
    pass


def terraform_binary() -> str | None:
    return shutil.which(os.environ.get("TERRAFORM", "terraform"))


def provider_mirror() -> Path | None:
    path = Path(os.environ.get(MIRROR_ENV, DEFAULT_MIRROR))
    return path if path.is_dir() else None


def write_cli_config(directory: Path) -> Path | None:
    """A Terraform CLI config that installs providers from the mirror only; None when there is no mirror."""
    mirror = provider_mirror()
    if mirror is None:
        return None
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "terraform-offline.tfrc"
    config.write_text(
        "provider_installation {\n"
        f'  filesystem_mirror {{\n    path    = "{mirror}"\n    include = ["registry.terraform.io/*/*"]\n  }}\n'
        '  direct {\n    exclude = ["registry.terraform.io/*/*"]\n  }\n'
        "}\n"
    )
    return config


def stack_dirs(outdir: Path, order: Sequence[str]) -> list[Path]:
    stacks = outdir / "stacks"
    missing = [name for name in order if not (stacks / name / "cdk.tf.json").is_file()]
    if missing:
        raise TerraformError(f"{stacks} has no synthesized stack(s) {', '.join(missing)}: run `make synth` first")
    return [stacks / name for name in order]


def _run(args: Sequence[str], cwd: Path, env: Mapping[str, str], timeout: int = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), cwd=cwd, env=dict(env), capture_output=True, text=True, timeout=timeout, check=False)


def _tf_env(cli_config: Path | None, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {**os.environ, "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1", "TF_INPUT": "0"}
    if cli_config is not None:
        env["TF_CLI_CONFIG_FILE"] = str(cli_config)
    env.update(extra or {})
    return env


@dataclass
class StackResult:
    stack: str
    ok: bool
    detail: str = ""
    seconds: float = 0.0
    applied: list[str] = field(default_factory=list)
    excluded: dict[str, str] = field(default_factory=dict)


def validate(outdir: Path, order: Sequence[str]) -> list[StackResult]:
    terraform = terraform_binary()
    if terraform is None:
        raise TerraformError("terraform is not on PATH")
    outdir = outdir.resolve()
    cli_config = write_cli_config(outdir / ".terraform-cli")
    env = _tf_env(cli_config)
    results = []
    for stack_dir in stack_dirs(outdir, order):
        start = time.monotonic()
        init = _run([terraform, "init", "-backend=false", "-input=false", "-no-color"], stack_dir, env)
        if init.returncode != 0:
            results.append(StackResult(stack_dir.name, False, init.stderr.strip() or init.stdout.strip()))
            continue
        check = _run([terraform, "validate", "-json", "-no-color"], stack_dir, env)
        report = json.loads(check.stdout or "{}")
        problems = [
            f"{d.get('severity')}: {d.get('summary')} {d.get('detail', '')}".strip()
            for d in report.get("diagnostics", [])
            if d.get("severity") == "error"
        ]
        results.append(
            StackResult(stack_dir.name, bool(report.get("valid")) and not problems, "\n".join(problems), time.monotonic() - start)
        )
    return results


def resource_addresses(config: Mapping[str, Any]) -> list[str]:
    return [f"{rtype}.{name}" for rtype, items in config.get("resource", {}).items() for name in items]


def local_override(config: Mapping[str, Any], endpoint: str, state_path: str) -> dict[str, Any]:
    """Provider settings that send every provider block (aliases included) to the embedded AWS."""
    providers = []
    for block in config.get("provider", {}).get("aws", []):
        override: dict[str, Any] = {
            "access_key": "testing",
            "secret_key": "testing",
            "skip_credentials_validation": True,
            "skip_metadata_api_check": True,
            "skip_requesting_account_id": True,
            "skip_region_validation": True,
            "s3_use_path_style": True,
            "max_retries": 2,
            "endpoints": [{service: endpoint for service in EMBEDDED_ENDPOINT_SERVICES}],
        }
        if "alias" in block:
            override["alias"] = block["alias"]
        providers.append(override)
    return {"provider": {"aws": providers}, "terraform": {"backend": {"local": {"path": state_path}}}}


def _apply_stack(source: Path, workdir: Path, endpoint: str, *, terraform: str, env: Mapping[str, str], log: Any) -> StackResult:
    start = time.monotonic()
    target = workdir / source.name
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(".terraform", ".terraform.lock.hcl", "*.tfstate*"))
    config = json.loads((target / "cdk.tf.json").read_text())
    (target / "embedded_aws_override.tf.json").write_text(
        json.dumps(local_override(config, endpoint, "terraform.tfstate"), indent=2)
    )
    addresses = resource_addresses(config)
    excluded = {a: EMBEDDED_AWS_EXCLUSIONS[a.split(".")[0]] for a in addresses if a.split(".")[0] in EMBEDDED_AWS_EXCLUSIONS}
    applied = [a for a in addresses if a not in excluded]
    if log:
        print(f"[deploy-local] {source.name}: applying {len(applied)} resources, excluding {len(excluded)}", file=log, flush=True)
    init = _run([terraform, "init", "-input=false", "-no-color"], target, env)
    if init.returncode != 0:
        return StackResult(source.name, False, init.stderr.strip(), time.monotonic() - start)
    targets: Iterable[str] = [f"-target={a}" for a in applied] if excluded else []
    apply = _run(
        [terraform, "apply", "-auto-approve", "-input=false", "-no-color", "-parallelism=20", *targets], target, env, timeout=1800
    )
    ok = apply.returncode == 0
    detail = "" if ok else _error_summary(apply.stdout + apply.stderr)
    return StackResult(source.name, ok, detail, time.monotonic() - start, applied if ok else [], excluded)


def deploy_local(
    outdir: Path, waves: Sequence[Sequence[str]], workdir: Path, endpoint: str, *, log: Any = None
) -> list[StackResult]:
    """Apply every stack into the embedded AWS at ``endpoint``, wave by wave (stacks of a wave at once)."""
    terraform = terraform_binary()
    if terraform is None:
        raise TerraformError("terraform is not on PATH")
    stacks_root = outdir.resolve()
    stack_dirs(stacks_root, [name for wave in waves for name in wave])
    workdir = workdir.resolve()
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    cli_config = write_cli_config(workdir / ".terraform-cli")
    env = _tf_env(cli_config, {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})
    results: list[StackResult] = []
    for wave in waves:
        with ThreadPoolExecutor(max_workers=len(wave)) as pool:
            futures = [
                pool.submit(_apply_stack, stacks_root / "stacks" / name, workdir, endpoint, terraform=terraform, env=env, log=log)
                for name in wave
            ]
            wave_results = [f.result() for f in futures]
        results += wave_results
        if not all(r.ok for r in wave_results):
            break
    return results


def _error_summary(output: str) -> str:
    lines = output.splitlines()
    errors = [i for i, line in enumerate(lines) if line.startswith("Error:")]
    if not errors:
        return "\n".join(lines[-20:])
    return "\n".join("\n".join(lines[i : i + 8]) for i in errors)


def _print_results(results: Sequence[StackResult], verb: str) -> bool:
    ok = all(r.ok for r in results)
    for r in results:
        status = "ok" if r.ok else "FAILED"
        extra = f", {len(r.applied)} resources applied" if r.applied else ""
        print(f"  {r.stack:<16} {status} ({r.seconds:.1f} s{extra})")
        for address, reason in sorted(r.excluded.items()):
            print(f"      excluded {address}: {reason}")
        if r.detail:
            print("      " + r.detail.replace("\n", "\n      "))
    print(f"{verb}: {'all stacks ok' if ok else 'FAILED'}")
    return ok


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.terraform_cli")
    parser.add_argument("command", choices=["validate", "deploy-local"])
    parser.add_argument("--outdir", default="cdktf.out", type=Path)
    parser.add_argument("--workdir", default=".local-aws", type=Path)
    args = parser.parse_args(argv)

    from infra.stack_order import DEPLOY_WAVES, STACK_NAMES

    if terraform_binary() is None:
        print("terraform is not on PATH: install Terraform >= 1.6 to validate or deploy", file=sys.stderr)
        return 2
    try:
        if args.command == "validate":
            mirror = provider_mirror()
            print(f"terraform validate ({'offline, providers from ' + str(mirror) if mirror else 'providers from the registry'})")
            return 0 if _print_results(validate(args.outdir, STACK_NAMES), "validate") else 1

        from infra.embedded_aws import embedded_aws
        from policies.loader import load_policy

        policy = load_policy()
        args.workdir.mkdir(parents=True, exist_ok=True)
        with embedded_aws(policy.regions.home, log_path=args.workdir.parent / f"{args.workdir.name}-moto.log") as aws:
            print(f"deploy-local: embedded AWS (moto) at {aws.endpoint}")
            results = deploy_local(args.outdir, DEPLOY_WAVES, args.workdir, aws.endpoint, log=sys.stdout)
            ok = _print_results(results, "deploy-local")
            if ok:
                from infra.readback import EMBEDDED_AWS_GAPS, verify_deployment

                problems = verify_deployment(aws, policy, unverifiable=EMBEDDED_AWS_GAPS)
                for problem in problems:
                    print(f"  guarantee violated: {problem}")
                for gap, reason in EMBEDDED_AWS_GAPS.items():
                    print(f"  not verifiable in the embedded AWS: {gap}: {reason}")
                print(f"read-back of deployed resources: {'all guarantees hold' if not problems else 'FAILED'}")
                ok = not problems
            return 0 if ok else 1
    except TerraformError as exc:
        print(exc, file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
