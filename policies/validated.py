"""A policy file validated once per content: the synth reads it again, unchanged, without pydantic.

The first synth of a policy file validates it in full (``policies.loader``) and keeps what the handlers are packaged
with (``policy.json``, the model's shape and their digest; ``policies/packaged.py``) in a store under the build
directory, keyed by the file's bytes and by everything that decides how they are validated: the Python version, the
Python sources of the ``policies`` package, and what the libraries that parse and validate it (pydantic, its core,
PyYAML...) installed. A later synth of the same bytes under the same code finds the entry, checks its digest, and reads the policy
through the packaged view: the same fields and derived views, the same synthesized JSON
(tests/infra/test_synth_from_store.py), without importing pydantic or the model. Anything else (another byte of the
file, of the package's sources or of a library; an entry missing, unreadable or not matching its digest; a source
that cannot be read) is validated in full again, and a refusal is never stored. Pydantic plugins installed by other
packages are not in the key. The digest detects damage, not forgery: the store is trusted as the rest of the
build directory is (the staged Lambda code beside it).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from policies.packaged import PartView, view_files, vouched_view
from policies.terms import MAX_POLICY_BYTES

if TYPE_CHECKING:
    from policies.model import GovernancePolicy

POLICIES = Path(__file__).resolve().parent
DEFAULT_POLICY_PATH = POLICIES / "governance.yaml"
POLICY_PATH_ENV = "GOVERNANCE_POLICY"
VALIDATING_LIBRARIES = {  # module: its distribution
    "pydantic": "pydantic",
    "pydantic_core": "pydantic_core",
    "annotated_types": "annotated_types",
    "typing_inspection": "typing_inspection",
    "typing_extensions": "typing_extensions",
    "yaml": "pyyaml",
}
KEPT_ENTRIES = 16  # the most recently used; a synth writes at most one
WRITING = ".writing-"  # an entry being written


def policy_path() -> Path:
    """The policy file in use: ``$GOVERNANCE_POLICY`` if set, else ``policies/governance.yaml``."""
    return Path(os.environ.get(POLICY_PATH_ENV) or DEFAULT_POLICY_PATH)


def validation_identity() -> bytes:
    """What decides how a policy file is validated, as a digest: the interpreter, the Python sources of ``policies``,
    the validating libraries (each distribution's ``RECORD``, which holds every installed file's SHA-256) and
    ``PYDANTIC_DISABLE_PLUGINS``. Raises ``OSError`` when a source cannot be read."""
    digest = hashlib.sha256(f"{sys.version}\0{os.environ.get('PYDANTIC_DISABLE_PLUGINS', '')}".encode())
    for root, dirs, files in os.walk(POLICIES):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(f for f in files if f.endswith(".py")):
            path = Path(root, name)
            digest.update(f"\0{path.relative_to(POLICIES).as_posix()}\0".encode() + hashlib.sha256(path.read_bytes()).digest())
    for module, distribution in VALIDATING_LIBRARIES.items():
        digest.update(f"\0{module}\0".encode() + _installed(module, distribution))
    return digest.digest()


def _installed(module: str, distribution: str) -> bytes:
    """What identifies the installed ``module``: its distribution's RECORD (the SHA-256 of every file it installed),
    else, for a copy installed without one, the content of its files; nothing if it is not installed. Found without
    importing it."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.origin:
        return b""
    origin = Path(spec.origin)
    package = origin.parent if spec.submodule_search_locations else None
    site = (package or origin).parent
    prefix = distribution.lower() + "-"
    with os.scandir(site) as listing:
        for entry in listing:
            name = entry.name.lower()
            if name.startswith(prefix) and name.endswith(".dist-info") and "-" not in name[len(prefix) : -len(".dist-info")]:
                with contextlib.suppress(OSError):
                    return hashlib.sha256(Path(entry.path, "RECORD").read_bytes()).digest()
    files = [origin] if package is None else sorted(p for p in package.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    return hashlib.sha256(b"".join(hashlib.sha256(p.read_bytes()).digest() for p in files)).digest()


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
    try:
        entry: Path | None = store_entry(raw, store)
    except OSError:  # a source that cannot be read: validated, not stored
        entry = None
    stored = _read(entry) if entry is not None else None
    if stored is not None:
        return stored
    from policies.loader import parse_policy
    from policies.policy_yaml import decode

    policy = parse_policy(decode(raw, str(path)), str(path))  # the bytes the key was made of, not a second read
    if entry is not None:
        _write(entry, packaged_policy(policy))
    return policy


def packaged_policy(policy: GovernancePolicy) -> dict[str, bytes]:
    """The files the handlers are packaged with (``policies/packaged.py``), for the model or its view alike: the same
    bytes for the same policy; made once per policy object (the store's entry and the handlers' package)."""
    known = _PACKAGED.get(id(policy))
    if known is not None and known[0] is policy:
        return known[1]
    if isinstance(policy, PartView):
        files = view_files(policy)
    else:
        from policies.model.packaged import packaged_files

        files = packaged_files(policy)
    _PACKAGED[id(policy)] = (policy, files)  # the entry keeps the policy alive: its id is not reused
    return files


_PACKAGED: dict[int, tuple[GovernancePolicy, dict[str, bytes]]] = {}


def _read(entry: Path) -> GovernancePolicy | None:
    policy_file = entry / "policy.json"
    try:
        policy_json = policy_file.read_bytes()
    except OSError:
        return None
    view: GovernancePolicy | None = vouched_view(policy_file, policy_json)
    if view is None:
        return None
    with contextlib.suppress(OSError):
        os.utime(entry)  # recently used: kept when the store is pruned
    return view


def _write(entry: Path, files: dict[str, bytes]) -> None:
    """Written whole or not at all (a directory renamed into place); a store that cannot be written is left as it is."""
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=WRITING, dir=entry.parent))
    except OSError:
        return
    try:
        for name, body in files.items():
            (staging / name).write_bytes(body)
        staging.chmod(0o755)  # as the build directory's others: mkdtemp makes it private
        shutil.rmtree(entry, ignore_errors=True)  # an entry that did not match its digest
        staging.rename(entry)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
        return
    _prune(entry.parent)


def _prune(store: Path) -> None:
    """The ``KEPT_ENTRIES`` most recently used entries are kept, and what an interrupted write left for an hour."""
    try:
        found = [(p, p.stat().st_mtime) for p in store.iterdir() if p.is_dir()]
    except OSError:
        return
    entries = sorted((f for f in found if not f[0].name.startswith(WRITING)), key=lambda f: f[1], reverse=True)
    abandoned = [f for f in found if f[0].name.startswith(WRITING) and f[1] < time.time() - 3600]
    for stale, _ in [*entries[KEPT_ENTRIES:], *abandoned]:
        shutil.rmtree(stale, ignore_errors=True)
