"""A policy file validated once per content: the synth reads it again, unchanged, without pydantic.

The first synth of a policy file validates it in full (``policies.loader``) and keeps what the handlers are packaged
with (``policy.json``, the model's shape and their digest; ``policies/packaged.py``) in a store under the build
directory, keyed by the file's bytes and by everything that decides how they are validated: the Python version, every
file of the ``policies`` package, and the files of the libraries that parse and validate it (pydantic, its core,
PyYAML...). A later synth of the same bytes under the same code finds the entry, checks its digest, and reads the policy
through the packaged view: the same fields and derived views, the same synthesized JSON
(tests/infra/test_synth_from_store.py), without importing pydantic or the model. Anything else (another byte of the
file, of the package or of a library; an entry missing, unreadable or not matching its digest) is validated in full
again, and a refusal is never stored. The digest detects damage, not forgery: the store is trusted as the rest of the
build directory is (the staged Lambda code beside it).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from policies.packaged import NotTheModelsDump, PartView, policy_view, view_files, vouched_shape
from policies.terms import MAX_POLICY_BYTES

if TYPE_CHECKING:
    from policies.model import GovernancePolicy

POLICIES = Path(__file__).resolve().parent
DEFAULT_POLICY_PATH = POLICIES / "governance.yaml"
POLICY_PATH_ENV = "GOVERNANCE_POLICY"
VALIDATING_LIBRARIES = ("pydantic", "pydantic_core", "annotated_types", "typing_inspection", "typing_extensions", "yaml")
KEPT_ENTRIES = 16  # the most recently used; a synth writes at most one


def policy_path() -> Path:
    """The policy file in use: ``$GOVERNANCE_POLICY`` if set, else ``policies/governance.yaml``."""
    return Path(os.environ.get(POLICY_PATH_ENV) or DEFAULT_POLICY_PATH)


def validation_identity() -> bytes:
    """What decides how a policy file is validated, as a digest: the interpreter, every file of ``policies`` (its
    content) and of the validating libraries (name, size and modification time: any reinstall changes them)."""
    digest = hashlib.sha256(sys.version.encode())
    for root, dirs, files in os.walk(POLICIES):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            path = Path(root, name)
            digest.update(f"\0{path.relative_to(POLICIES).as_posix()}\0".encode() + hashlib.sha256(path.read_bytes()).digest())
    for library in VALIDATING_LIBRARIES:
        digest.update(f"\0{library}\0".encode())
        for path in _library_files(library):
            stat = path.stat()
            digest.update(f"\0{path.name}\0{stat.st_size}\0{stat.st_mtime_ns}".encode())
    return digest.digest()


def _library_files(library: str) -> list[Path]:
    """The files of an installed module or package, found without importing it; none if it is not installed."""
    spec = importlib.util.find_spec(library)
    if spec is None or not spec.origin:
        return []
    origin = Path(spec.origin)
    if not spec.submodule_search_locations:
        return [origin]
    found = []
    for root, dirs, files in os.walk(origin.parent):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        found += [Path(root, name) for name in sorted(files)]
    return found


def store_entry(policy_bytes: bytes, store: Path) -> Path:
    """Where ``store`` keeps the validated policy of these bytes under the code validating it now."""
    return store / hashlib.sha256(hashlib.sha256(policy_bytes).digest() + validation_identity()).hexdigest()[:32]


def validated_policy(path: Path, store: Path) -> GovernancePolicy:
    """The policy in ``path``: read from ``store`` when these bytes were validated under this code before, else
    validated as ``policies.loader.load_policy`` does (the same refusals) and stored."""
    try:
        with path.open("rb") as stream:
            raw = stream.read(MAX_POLICY_BYTES + 1)
    except OSError:
        raw = b""
    if not raw or len(raw) > MAX_POLICY_BYTES:  # the loader words the refusal
        from policies.loader import load_policy

        return load_policy(path)
    entry = store_entry(raw, store)
    stored = _read(entry)
    if stored is not None:
        return stored
    from policies.loader import parse_policy
    from policies.model.packaged import packaged_files
    from policies.policy_yaml import decode

    policy = parse_policy(decode(raw, str(path)), str(path))  # the bytes the key was made of, not a second read
    _write(entry, packaged_files(policy))
    return policy


def packaged_policy(policy: GovernancePolicy) -> dict[str, bytes]:
    """The files the handlers are packaged with (``policies/packaged.py``), for the model or its view alike: the same
    bytes for the same policy."""
    if isinstance(policy, PartView):
        return view_files(policy)
    from policies.model.packaged import packaged_files

    return packaged_files(policy)


def _read(entry: Path) -> GovernancePolicy | None:
    policy_file = entry / "policy.json"
    try:
        policy_json = policy_file.read_bytes()
    except OSError:
        return None
    shape = vouched_shape(policy_file, policy_json)
    if shape is None:
        return None
    try:
        view: GovernancePolicy = policy_view(json.loads(policy_json), shape)
    except (NotTheModelsDump, ValueError, KeyError, TypeError):
        return None
    with contextlib.suppress(OSError):
        os.utime(entry)  # recently used: kept when the store is pruned
    return view


def _write(entry: Path, files: dict[str, bytes]) -> None:
    """Written whole or not at all (a directory renamed into place); a store that cannot be written is left as it is."""
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".writing-", dir=entry.parent))
    except OSError:
        return
    try:
        for name, body in files.items():
            (staging / name).write_bytes(body)
        shutil.rmtree(entry, ignore_errors=True)  # an entry that did not match its digest
        staging.rename(entry)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
        return
    _prune(entry.parent)


def _prune(store: Path) -> None:
    try:
        entries = sorted((p for p in store.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime_ns, reverse=True)
    except OSError:
        return
    for stale in entries[KEPT_ENTRIES:]:
        shutil.rmtree(stale, ignore_errors=True)
