"""Stage the enforcement Lambdas: one directory per handler and one dependencies layer.

A handler package holds only what it runs: ``lambdas/shared``, its own package, the pure
parts of ``policies`` (model and rules, no YAML loader) and ``policy.json``, the normalized
policy it enforces. Third-party code (Powertools, pydantic, the X-Ray SDK) goes into one
layer, installed by uv from the exact versions in uv.lock for the Lambda platform.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tomllib
from pathlib import Path

from infra.tooling import uv_binary
from policies.model import GovernancePolicy

REPO = Path(__file__).resolve().parents[1]
BUILD = Path(os.environ.get("GOVERNANCE_BUILD_DIR") or REPO / "build")

LAMBDA_RUNTIME = "python3.11"
LAMBDA_PYTHON = "3.11"
LAMBDA_PLATFORM = "x86_64-manylinux2014"
LAMBDA_ARCHITECTURE = "x86_64"

# handler name (as in policies.naming) -> Python package under lambdas/
HANDLER_PACKAGES: dict[str, str] = {
    "approval-gate": "approval_gate",
    "classification-tags": "classification_tags",
    "region-guard": "region_guard",
}

# What the handlers import beyond the Lambda runtime (which provides boto3, botocore, jmespath).
LAYER_PACKAGES: tuple[str, ...] = (
    "aws-lambda-powertools",
    "aws-xray-sdk",
    "wrapt",
    "pydantic",
    "pydantic-core",
    "annotated-types",
    "typing-extensions",
    "typing-inspection",
)

STABLE_MTIME = 315_532_800  # 1980-01-01, the earliest time a zip entry can carry
POLICY_MODULES = ("__init__.py", "errors.py", "model.py", "naming.py", "regions.py")


class PackagingError(RuntimeError):
    pass


def handler_entrypoint(handler: str) -> str:
    return f"lambdas.{HANDLER_PACKAGES[handler]}.handler.handler"


def _copy_py(source: Path, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for path in sorted(source.glob("*.py")):
        shutil.copy2(path, target / path.name)


def stage_handler(handler: str, policy: GovernancePolicy) -> Path:
    """Directory with the handler's code and the policy it enforces (zipped by TerraformAsset at synth)."""
    package = HANDLER_PACKAGES[handler]
    target = BUILD / "lambda" / policy.fingerprint / handler
    if target.exists():
        shutil.rmtree(target)
    (target / "lambdas").mkdir(parents=True)
    shutil.copy2(REPO / "lambdas" / "__init__.py", target / "lambdas" / "__init__.py")
    _copy_py(REPO / "lambdas" / "shared", target / "lambdas" / "shared")
    _copy_py(REPO / "lambdas" / package, target / "lambdas" / package)
    (target / "policies").mkdir()
    for module in POLICY_MODULES:
        shutil.copy2(REPO / "policies" / module, target / "policies" / module)
    _copy_py(REPO / "policies" / "rules", target / "policies" / "rules")
    (target / "policy.json").write_text(policy.model_dump_json(indent=2) + "\n")
    for path in target.rglob("*"):
        os.utime(path, (STABLE_MTIME, STABLE_MTIME))  # stable archive content regardless of checkout time
    return target


def locked_versions(packages: tuple[str, ...] = LAYER_PACKAGES, lockfile: Path = REPO / "uv.lock") -> dict[str, str]:
    lock = tomllib.loads(lockfile.read_text())
    versions = {p["name"]: p["version"] for p in lock["package"]}
    missing = [name for name in packages if name not in versions]
    if missing:
        raise PackagingError(f"uv.lock does not pin {', '.join(missing)}; run `uv lock`")
    return {name: versions[name] for name in packages}


def stage_dependencies() -> Path:
    """The layer directory (``python/`` inside), built once per set of locked versions."""
    pins = locked_versions()
    requirements = "".join(f"{name}=={version}\n" for name, version in sorted(pins.items()))
    digest = hashlib.sha256(f"{LAMBDA_PYTHON}|{LAMBDA_PLATFORM}|{requirements}".encode()).hexdigest()[:16]
    target = BUILD / "lambda-layer" / digest
    marker = target / ".complete"
    if marker.exists():
        return target
    if target.exists():
        shutil.rmtree(target)
    site = target / "python"
    site.mkdir(parents=True)
    requirements_file = target.parent / f"{digest}.requirements.txt"
    requirements_file.write_text(requirements)
    command = [
        uv_binary(),
        "pip",
        "install",
        "--quiet",
        "--no-deps",
        "--only-binary",
        ":all:",
        "--python-version",
        LAMBDA_PYTHON,
        "--python-platform",
        LAMBDA_PLATFORM,
        "--target",
        str(site),
        "-r",
        str(requirements_file),
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        shutil.rmtree(target, ignore_errors=True)
        raise PackagingError(f"building the Lambda layer failed:\n{result.stderr.strip()}")
    for cache in site.rglob("__pycache__"):
        shutil.rmtree(cache)
    for path in target.rglob("*"):
        os.utime(path, (STABLE_MTIME, STABLE_MTIME))
    marker.write_text(requirements)
    return target
