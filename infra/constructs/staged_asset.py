"""A Terraform asset for a staged directory (infra/lambda_packaging.py), archived once per content, not on every synth.

A ``TerraformAsset`` of type ARCHIVE hashes its whole directory when it is constructed and zips it
(deflate level 9, in the jsii Node kernel) on every synth: for the two dependency layers that is
most of a synth. Here the archive is built once by that same ``TerraformAsset`` code, in an app of
its own, and kept in ``build/assets/`` with the hash cdktn gave it; later synths hand the finished
archive to a FILE asset with that hash. The synthesized Terraform is the same (``assets/<id>/<hash>/
archive.zip``, the same hash) and so is the archive, byte for byte.

The cache is keyed by the staged directory and every entry's path, type, size, mode and
modification time: a file added, removed or rewritten (a ``__pycache__`` a probe wrote, say)
builds a new archive.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cdktn import App, AssetType, Fn, TerraformAsset, TerraformStack
from constructs import Construct

from infra.lambda_packaging import BUILD, staged_listing

if TYPE_CHECKING:
    from infra.stacks.base import GovernanceStack

CANONICAL_ASSET_HASHES = "canonicalAssetHashes"  # cdktn's feature flag for its asset hash scheme
ARCHIVE_NAME = "archive.zip"  # the name cdktn gives an ARCHIVE asset's file


@dataclass(frozen=True)
class Archived:
    path: Path
    """The archive, as cdktn's ARCHIVE asset would write it."""
    asset_hash: str
    """The hash cdktn gives the directory's ARCHIVE asset (the path segment in the synthesized Terraform)."""


def _fingerprint(staged: Path, canonical: object) -> str:
    prefix = f"{staged.resolve()}\0{canonical!r}\0".encode()
    return hashlib.sha256(prefix + staged_listing(staged)).hexdigest()[:32]


def archived(staged: Path, *, canonical: object = None) -> Archived:
    """The archive of ``staged`` and its asset hash, built (by cdktn) the first time this content is seen."""
    entry = BUILD / "assets" / _fingerprint(staged, canonical)
    archive, recorded = entry / ARCHIVE_NAME, entry / "asset-hash"
    if archive.is_file() and recorded.is_file():
        return Archived(archive, recorded.read_text())
    entry.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=entry.parent, prefix=".building-") as tmp:
        app = App(outdir=str(Path(tmp, "out")), context={} if canonical is None else {CANONICAL_ASSET_HASHES: canonical})
        stack = TerraformStack(app, "archive")
        asset = TerraformAsset(stack, "archive", path=str(staged), type=AssetType.ARCHIVE)
        app.synth()
        built = Path(tmp, "entry")
        built.mkdir()
        shutil.move(Path(tmp, "out", "stacks", "archive", asset.path), built / ARCHIVE_NAME)
        (built / "asset-hash").write_text(asset.asset_hash)
        if entry.exists():  # an incomplete entry (interrupted, or another synth won the race)
            shutil.rmtree(entry, ignore_errors=True)
        try:
            built.rename(entry)
        except OSError:  # another process finished the same entry first: theirs is the same archive
            if not (archive.is_file() and recorded.is_file()):
                raise
    return Archived(archive, recorded.read_text())


def staged_asset(scope: Construct, construct_id: str, staged: Path) -> TerraformAsset:
    """The asset ``TerraformAsset(scope, construct_id, path=staged, type=ARCHIVE)`` would be, without rebuilding it."""
    found = archived(staged, canonical=scope.node.try_get_context(CANONICAL_ASSET_HASHES))
    return TerraformAsset(scope, construct_id, path=str(found.path), type=AssetType.FILE, asset_hash=found.asset_hash)


@dataclass(frozen=True)
class LambdaArchive:
    """A staged asset as a Lambda function or layer names it, each read once from the kernel."""

    path: str
    """``filename``: the archive's path in the synthesized stack."""
    source_code_hash: str
    """``source_code_hash``: ``filebase64sha256`` of that path."""


def lambda_archive(stack: GovernanceStack, construct_id: str, staged: Path) -> LambdaArchive:
    """``staged_asset``, read for a function's or a layer's ``filename`` and ``source_code_hash``. In a GovernanceApp
    the archive is placed beside the stack's JSON after synth (``PlainResources.add_asset``: the same path, linked
    instead of copied by the kernel), its hash written as ``Fn.filebase64sha256`` writes it."""
    if stack.governance_app is None:
        path = staged_asset(stack, construct_id, staged).path
        return LambdaArchive(path, Fn.filebase64sha256(path))
    found = archived(staged, canonical=stack.governance_app.context_value(CANONICAL_ASSET_HASHES))
    path = stack.plain.add_asset(construct_id, found.path, found.asset_hash)
    return LambdaArchive(path, f'${{filebase64sha256("{path}")}}')
