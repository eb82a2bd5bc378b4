"""The policy as packaged with the enforcement handlers: ``policy.json`` and the digest that vouches for it.

At synth the policy is validated (``policies.loader``) and written as ``policy.json``, the normalized
model. Beside it goes ``policy.json.sha256``: the SHA-256 of those bytes together with the source of
the model that validated them (``policies/terms.py`` and ``policies/model/``). A handler that finds
the digest matching its own ``policy.json`` and its own model source knows it holds exactly what that
model accepted, and can build the policy without validating it again
(``policies.model.packaged.validated_policy``); any other file, or a file that does not match, is
validated in full. Nothing here imports pydantic.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

DIGEST_SUFFIX = ".sha256"
POLICIES = Path(__file__).resolve().parent


def model_sources() -> list[Path]:
    """The files that decide how a policy is read: the vocabulary and the model, in a stable order."""
    return [POLICIES / "terms.py", *sorted((POLICIES / "model").glob("*.py"))]


def packaged_digest(policy_json: bytes) -> str:
    """The digest written beside ``policy.json`` at synth: its bytes and the model source that validated them."""
    digest = hashlib.sha256(b"policy.json\0" + hashlib.sha256(policy_json).digest())
    for source in model_sources():
        digest.update(f"\0{source.relative_to(POLICIES.parent).as_posix()}\0".encode())
        digest.update(hashlib.sha256(source.read_bytes()).digest())
    return digest.hexdigest()


def digest_file(policy_file: Path) -> Path:
    return policy_file.with_name(policy_file.name + DIGEST_SUFFIX)


def vouched_for(policy_file: Path, policy_json: bytes) -> bool:
    """Whether the digest beside ``policy_file`` vouches for these bytes under this model."""
    try:
        recorded = digest_file(policy_file).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return False
    return recorded == packaged_digest(policy_json)
