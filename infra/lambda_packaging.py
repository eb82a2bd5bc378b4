"""Stage the enforcement Lambdas: one code package for every handler and one dependencies layer.

The code package holds only what the handlers run: ``lambdas/``, the pure parts of
``policies`` (model, naming and rules; no YAML loader), ``iam/grants.py`` and ``policy.json``,
the normalized policy they enforce. Each function of the handler table (``lambdas/table.py``)
runs it with its own entry point. Third-party code (Powertools, pydantic, the X-Ray SDK) goes
into one layer, installed by uv from the exact versions in uv.lock for the Lambda platform.
Both are staged once per content hash: a synth with unchanged sources copies nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import MappingProxyType

from infra.tooling import uv_binary
from policies.model import GovernancePolicy
from policies.packaged import DIGEST_SUFFIX, packaged_digest

REPO = Path(__file__).resolve().parents[1]
BUILD = Path(os.environ.get("GOVERNANCE_BUILD_DIR") or REPO / "build")

LAMBDA_RUNTIME = "python3.11"
LAMBDA_PYTHON = "3.11"
LAMBDA_PLATFORM = "x86_64-manylinux2014"
LAMBDA_ARCHITECTURE = "x86_64"

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
# Authoring-time modules of the core that the handlers never import (they read policy.json). Without the
# loader beside it, the model skips reading field descriptions from its source (policies/model/base.py).
AUTHORING_ONLY = ("loader.py", "policy_yaml.py", "schema.py")


class PackagingError(RuntimeError):
    pass


def _code_files() -> Iterator[tuple[str, Path]]:
    """(path inside the package, source file) of everything the handlers run, in a stable order."""
    for path in sorted((REPO / "lambdas").rglob("*.py")):
        yield str(path.relative_to(REPO)), path
    for path in sorted((REPO / "drift").rglob("*.py")):  # the drift monitor's statistics (numpy, from its layer)
        yield str(path.relative_to(REPO)), path
    for path in sorted((REPO / "policies").rglob("*.py")):
        if path.parent.name == "policies" and path.name in AUTHORING_ONLY:
            continue
        yield str(path.relative_to(REPO)), path
    for name in ("__init__.py", "grants.py"):
        yield f"iam/{name}", REPO / "iam" / name


def _without_bytecode(staged: Path) -> Path:
    """``staged`` as it was staged: without the ``__pycache__`` an interpreter importing from it may have written
    since (the archive is the directory as it is; bytecode would change its hash and ship a local build)."""
    for root, dirs, _ in os.walk(staged):
        if "__pycache__" in dirs:
            shutil.rmtree(Path(root, "__pycache__"), ignore_errors=True)
            dirs.remove("__pycache__")
    return staged


def stage_code(policy: GovernancePolicy) -> Path:
    """Directory with the handlers' code and the policy they enforce (zipped by TerraformAsset at synth)."""
    files = [(relative, source.read_bytes()) for relative, source in _code_files()]
    policy_json = (policy.model_dump_json(indent=2) + "\n").encode()
    # The digest that lets the handlers read policy.json without validating it again (policies/packaged.py).
    files += [("policy.json", policy_json), ("policy.json" + DIGEST_SUFFIX, (packaged_digest(policy_json) + "\n").encode())]
    digest = hashlib.sha256()
    for relative, body in files:
        digest.update(relative.encode() + b"\0" + hashlib.sha256(body).digest())
    target = BUILD / "lambda" / digest.hexdigest()[:16]
    marker = target.with_suffix(".complete")
    if marker.exists() and target.is_dir():
        return _without_bytecode(target)
    if target.exists():
        shutil.rmtree(target)
    for relative, body in files:
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
    for path in target.rglob("*"):
        os.utime(path, (STABLE_MTIME, STABLE_MTIME))  # stable archive content regardless of checkout time
    marker.write_text("")
    return target


def _lock_versions(lockfile: Path) -> dict[str, str]:
    """Every package's version in ``lockfile``, parsed once per content of the lock (kept in build/locked/):
    parsing uv.lock is a tenth of a second of every synth otherwise."""
    raw = lockfile.read_bytes()
    cached = BUILD / "locked" / f"{hashlib.sha256(raw).hexdigest()[:32]}.json"
    try:
        found: dict[str, str] = json.loads(cached.read_text())
        return found
    except (OSError, ValueError):
        pass
    lock = tomllib.loads(raw.decode())
    versions = {p["name"]: p["version"] for p in lock["package"]}
    cached.parent.mkdir(parents=True, exist_ok=True)
    partial = cached.with_name(f".{cached.name}.{os.getpid()}")
    partial.write_text(json.dumps(versions, sort_keys=True))
    partial.replace(cached)
    return versions


def locked_versions(packages: tuple[str, ...] = LAYER_PACKAGES, lockfile: Path = REPO / "uv.lock") -> dict[str, str]:
    versions = _lock_versions(lockfile)
    missing = [name for name in packages if name not in versions]
    if missing:
        raise PackagingError(f"uv.lock does not pin {', '.join(missing)}; run `uv lock`")
    return {name: versions[name] for name in packages}


# numpy for the drift monitor, in a layer of its own: the last numpy with manylinux2014 wheels for CPython 3.11
# (the Lambda python3.11 runtime runs on Amazon Linux 2, glibc 2.26; newer numpy wheels need glibc 2.28).
NUMERIC_LAYER_PINS: Mapping[str, str] = MappingProxyType({"numpy": "2.2.6"})
NUMERIC_LAYER = "lambda-numeric-layer"  # its build directory under build/


def stage_dependencies(pins: Mapping[str, str] | None = None, *, name: str = "lambda-layer") -> Path:
    """A layer directory (``python/`` inside), built once per set of versions (default: the locked handler dependencies)."""
    pins = dict(pins) if pins is not None else locked_versions()
    requirements = "".join(f"{name}=={version}\n" for name, version in sorted(pins.items()))
    digest = hashlib.sha256(f"{LAMBDA_PYTHON}|{LAMBDA_PLATFORM}|{requirements}".encode()).hexdigest()[:16]
    target = BUILD / name / digest
    marker = target.with_suffix(".complete")
    if marker.exists() and target.is_dir():
        return _without_bytecode(target)
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
