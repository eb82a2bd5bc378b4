"""Stage the enforcement Lambdas: one code package for every handler and one dependencies layer.

The code package holds only what the handlers run: ``lambdas/``, the pure parts of
``policies`` (model, naming and rules; no YAML loader), ``iam/grants.py`` and ``policy.json``,
the normalized policy they enforce. Each function of the handler table (``lambdas/table.py``)
runs it with its own entry point. Third-party code (Powertools, pydantic, the X-Ray SDK) goes
into one layer, installed by uv from the exact versions in uv.lock for the Lambda platform.
Both are staged once per content hash: a synth with unchanged sources copies nothing.

Both ship their bytecode for the Lambda runtime (``__pycache__/*.cpython-311.pyc``, unchecked-hash): Lambda's
file system is read-only, so a package without it is compiled again on every cold start (the approval
gate is ready for its first event in 252 ms with it, 657 ms without: docs/benchmarks.md). Bytecode is built only by a Python of the runtime's
version; any other interpreter stages sources alone, which run the same, only slower to start.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from importlib.util import MAGIC_NUMBER, cache_from_source, source_hash
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, TypeVar, cast

from infra.tooling import uv_binary
from policies.validated import packaged_policy

if TYPE_CHECKING:
    from policies.model import GovernancePolicy

REPO = Path(__file__).resolve().parents[1]
BUILD = Path(os.environ.get("GOVERNANCE_BUILD_DIR") or REPO / "build")

LAMBDA_RUNTIME = "python3.11"
LAMBDA_PYTHON = "3.11"
LAMBDA_PLATFORM = "x86_64-manylinux2014"
LAMBDA_ARCHITECTURE = "x86_64"

# What the handlers import beyond the Lambda runtime (which provides boto3, botocore, jmespath). pydantic and its
# companions serve one path: a policy.json that its digest does not vouch for is validated in full by the model.
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
# Authoring-time modules of the core that the handlers never import (they read policy.json).
AUTHORING_ONLY = ("loader.py", "policy_yaml.py", "schema.py", "descriptions.py", "validated.py")


_Staged = TypeVar("_Staged", Path, bytes)


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


# Where Lambda puts the code package and the layers: the paths the shipped bytecode names in tracebacks.
LAMBDA_CODE_ROOT = "/var/task"
LAMBDA_LAYER_ROOT = "/opt"
BYTECODE_TAG = "cpython-" + LAMBDA_PYTHON.replace(".", "")
UNCHECKED_HASH = 0b01  # PEP 552 flags: hash-based, source not checked


def ships_bytecode() -> bool:
    """Whether this interpreter writes bytecode the Lambda runtime loads (same version: same magic number)."""
    return sys.implementation.cache_tag == BYTECODE_TAG


def compile_for_lambda(staged: Path, lambda_path: str) -> None:
    """Bytecode beside every source of ``staged``, naming ``lambda_path`` as its location (as Lambda mounts it).

    unchecked-hash (PEP 552): the runtime loads it without comparing it to the source's modification time (the
    archive's times are not the files' times), and the bytes depend only on the source and the interpreter, so
    an unchanged package archives to the same bytes. A fresh interpreter compiles: the bytes then do not depend on
    what this process has imported.
    """
    command = [
        sys.executable,
        "-I",
        "-m",
        "compileall",
        "-q",
        "--invalidation-mode",
        "unchecked-hash",
        "-d",
        lambda_path,
        str(staged),
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise PackagingError(f"compiling {staged} for the Lambda runtime failed:\n{(result.stdout + result.stderr).strip()}")


_OWN_BYTECODE = f".{BYTECODE_TAG}.pyc"


def _shipped(pyc: os.DirEntry[str]) -> bool:
    """Whether ``pyc`` is bytecode the staging wrote: this version's, not optimized, with STABLE_MTIME as every file
    the staging writes (read without opening the file: a synth checks the layers' thousand files); any other is kept
    only if its header says this version's unchecked-hash bytecode, as the staging writes it."""
    if not ships_bytecode():
        return False
    try:
        if (
            pyc.name.endswith(_OWN_BYTECODE)
            and ".opt-" not in pyc.name
            and pyc.stat(follow_symlinks=False).st_mtime == STABLE_MTIME
        ):
            return True
        with open(pyc.path, "rb") as file:
            header = file.read(8)
    except OSError:
        return False
    return header[:4] == MAGIC_NUMBER and int.from_bytes(header[4:8], "little") == UNCHECKED_HASH


def _as_staged(staged: Path) -> Path:
    """``staged`` as it was staged: without the bytecode an interpreter importing from it may have written since
    (another version, ``-O``, or a source it could not load from ours); the archive is the directory as it is. A
    ``__pycache__`` still at the staging's modification time holds what was staged (a file added, removed or renamed
    there would have changed it, and Python writes bytecode by renaming), so only the others are read; one cleaned
    gets that time back."""
    for root, dirs, _ in os.walk(staged):
        if "__pycache__" in dirs:
            dirs.remove("__pycache__")
            cache = Path(root, "__pycache__")
            if cache.stat().st_mtime == STABLE_MTIME and ships_bytecode():
                continue
            with os.scandir(cache) as listing:
                for pyc in listing:
                    if not _shipped(pyc):
                        Path(pyc.path).unlink(missing_ok=True)
            if next(cache.iterdir(), None) is None:
                cache.rmdir()
            else:
                os.utime(cache, (STABLE_MTIME, STABLE_MTIME))
    return staged


@contextmanager
def _building(target: Path) -> Iterator[bool]:
    """Whether ``target`` must be built, holding a lock on it meanwhile: two synths (or test sessions) staging the
    same content wait for each other instead of writing into the same directory; the ``.complete`` marker is
    written last, so an interrupted build is started over."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.with_suffix(".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = target.with_suffix(".complete").exists() and target.is_dir()
        if not done and target.exists():
            shutil.rmtree(target)
        yield not done


# Within ``staged_once()``: what each staging and each listing gave, by its inputs (None outside the block).
_STAGED: ContextVar[dict[tuple[object, ...], tuple[object, Path | bytes]] | None] = ContextVar("staged", default=None)


@contextmanager
def staged_once() -> Iterator[None]:
    """Within the block, each package is staged and each staged directory listed once, then reused: ``python -m
    infra.app`` stages the packages while the Node kernel starts (``stage_for_synth``) and its stacks find them
    staged. Outside it every call checks the directories again (a staging damaged between two calls is staged anew)."""
    token = _STAGED.set({})
    try:
        yield
    finally:
        _STAGED.reset(token)


def _once(key: tuple[object, ...], owner: object, make: Callable[[], _Staged]) -> _Staged:
    """``make()``, or within ``staged_once()`` what it gave for ``key`` before (``owner`` is kept with it: a key
    holding its ``id`` is not reused)."""
    staged = _STAGED.get()
    if staged is None:
        return make()
    known = staged.get(key)
    if known is None or known[0] is not owner:
        known = staged[key] = (owner, make())
    return cast(_Staged, known[1])


def stage_for_synth(policy: GovernancePolicy) -> None:
    """Stage and list, within ``staged_once()``, what a synth of ``policy`` packages: the handlers' code with the
    policy and both dependency layers (the enforcement stack's and a workload account's packages; a package asked
    for that is not here is staged when asked)."""
    for staged in (stage_dependencies(), stage_numeric_dependencies(), stage_code(policy)):
        staged_listing(staged)


def staged_listing(staged: Path) -> bytes:
    """Every entry under ``staged``: its path, mode, size, modification time and link target, one line each in
    name order (what ``infra/constructs/staged_asset.py`` keys an archive by)."""
    return _once(("listing", str(staged)), None, lambda: _listing(staged))


def _listing(staged: Path) -> bytes:
    lines: list[bytes] = []

    def walk(directory: str, relative: str) -> None:
        with os.scandir(directory) as found:
            entries = sorted(found, key=lambda e: e.name)
        for entry in entries:
            info = entry.stat(follow_symlinks=False)
            link = str(Path(entry.path).readlink()) if entry.is_symlink() else ""
            path = f"{relative}{entry.name}"
            lines.append(f"{path}\0{info.st_mode}\0{info.st_size}\0{info.st_mtime_ns}\0{link}\n".encode())
            if entry.is_dir(follow_symlinks=False):
                walk(entry.path, f"{path}/")

    walk(str(staged), "")
    return b"".join(lines)


def stage_code(policy: GovernancePolicy) -> Path:
    """Directory with the handlers' code and the policy they enforce (zipped by TerraformAsset at synth). The code and
    its bytecode are linked from the code's own staging (``_compiled_code``): a policy's change compiles nothing."""
    return _once(("code", id(policy)), policy, lambda: _stage_code(policy))


def _stage_code(policy: GovernancePolicy) -> Path:
    code = [(relative, source.read_bytes()) for relative, source in _code_files()]
    # policy.json, the model's shape and the digest that lets the handlers read it without pydantic (policies/packaged.py).
    policy_files = list(packaged_policy(policy).items())
    target = BUILD / "lambda" / _content_digest([*code, *policy_files])
    with _building(target) as needed:
        if not needed:
            return _as_staged(target)
        directories = _link_tree(_compiled_code(code), target)
        for relative, body in policy_files:
            (target / relative).write_bytes(body)
        # stable archive content regardless of checkout time; the linked files carry it already (their times are
        # the code staging's: set here they would be set for every package that links them)
        for path in [*directories, *(target / relative for relative, _ in policy_files)]:
            os.utime(path, (STABLE_MTIME, STABLE_MTIME))
        target.with_suffix(".complete").write_text("")
    return target


def _content_digest(files: list[tuple[str, bytes]]) -> str:
    digest = hashlib.sha256(sys.implementation.cache_tag.encode() if ships_bytecode() else b"sources")
    for relative, body in files:
        digest.update(relative.encode() + b"\0" + hashlib.sha256(body).digest())
    return digest.hexdigest()[:16]


def _compiled_code(code: list[tuple[str, bytes]]) -> Path:
    """The handlers' code alone and its bytecode for Lambda, staged once per content of the code (build/lambda-code/):
    what every policy's package holds besides the policy. Checked before each new package links it: a source that
    differs from ``code`` or bytecode that is missing or not its source's is staged again."""
    base = BUILD / "lambda-code" / _content_digest(code)
    with _building(base) as needed:
        if not needed and _intact(_as_staged(base), code):
            return base
        shutil.rmtree(base, ignore_errors=True)
        for relative, body in code:
            path = base / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(body)
        if ships_bytecode():
            compile_for_lambda(base, LAMBDA_CODE_ROOT)
        for path in base.rglob("*"):
            os.utime(path, (STABLE_MTIME, STABLE_MTIME))
        base.with_suffix(".complete").write_text("")
    return base


def _intact(base: Path, code: list[tuple[str, bytes]]) -> bool:
    """Whether ``base`` holds exactly ``code``'s sources, at the staging's time, and (when this interpreter ships
    bytecode) each source's unchecked-hash bytecode."""
    try:
        for relative, body in code:
            path = base / relative
            if path.stat().st_mtime != STABLE_MTIME or path.read_bytes() != body:
                return False
            if ships_bytecode() and relative.endswith(".py"):
                with open(cache_from_source(str(path)), "rb") as pyc:
                    header = pyc.read(16)
                flags = int.from_bytes(header[4:8], "little")
                if header[:4] != MAGIC_NUMBER or flags != UNCHECKED_HASH or header[8:16] != source_hash(body):
                    return False
    except OSError:
        return False
    return True


def _link_tree(source: Path, target: Path) -> list[Path]:
    """``source``'s files in ``target``, hard-linked (nothing in a staged directory is written in place: bytecode an
    interpreter adds is written beside, and ``_as_staged`` removes it), copied with their times across file systems;
    returns the directories it made."""
    directories = []
    for root, _, names in os.walk(source):
        into = target / Path(root).relative_to(source)
        into.mkdir(parents=True, exist_ok=True)
        directories.append(into)
        for name in names:
            try:
                os.link(Path(root, name), into / name)
            except OSError:
                shutil.copy2(Path(root, name), into / name)
    return directories


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
    import tomllib  # only when the lock changed: importing it is about 10 ms of a synth

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


LAYER_RECIPE = 2  # how a layer is staged; a new value builds every layer again (2: no console scripts)


def stage_dependencies(pins: Mapping[str, str] | None = None, *, name: str = "lambda-layer") -> Path:
    """A layer directory (``python/`` inside), built once per set of versions (default: the locked handler dependencies)."""
    key = ("layer", name, None if pins is None else tuple(sorted(pins.items())))
    return _once(key, None, lambda: _stage_dependencies(pins, name))


def stage_numeric_dependencies() -> Path:
    """The drift monitor's layer: numpy at ``NUMERIC_LAYER_PINS`` (``stage_dependencies``)."""
    return stage_dependencies(NUMERIC_LAYER_PINS, name=NUMERIC_LAYER)


def _stage_dependencies(pins: Mapping[str, str] | None, name: str) -> Path:
    pins = dict(pins) if pins is not None else locked_versions()
    requirements = "".join(f"{name}=={version}\n" for name, version in sorted(pins.items()))
    bytecode = sys.implementation.cache_tag if ships_bytecode() else "sources"
    recipe = f"{LAYER_RECIPE}|{LAMBDA_PYTHON}|{LAMBDA_PLATFORM}|{bytecode}|{requirements}"
    digest = hashlib.sha256(recipe.encode()).hexdigest()[:16]
    target = BUILD / name / digest
    with _building(target) as needed:
        if not needed:
            return _as_staged(target)
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
        # console scripts (numpy's f2py): nothing in Lambda runs them, and their first line names the Python that
        # built the layer, so the archive would differ by the machine that built it
        shutil.rmtree(site / "bin", ignore_errors=True)
        if ships_bytecode():
            compile_for_lambda(site, f"{LAMBDA_LAYER_ROOT}/python")
        for path in target.rglob("*"):
            os.utime(path, (STABLE_MTIME, STABLE_MTIME))
        target.with_suffix(".complete").write_text(requirements)
    return target
