"""Lambda archives are built once per content: only ``infra/constructs/staged_asset.py`` makes an ARCHIVE asset.

An ``AssetType.ARCHIVE`` ``TerraformAsset`` anywhere else zips its directory in the jsii kernel on every
synth (the multi-account example's three workload stacks once spent 3.6 s of a 7.2 s synth on it); the
stacks take ``staged_asset(...)``, which hands cdktn the archive built for that content.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HOME = "infra/constructs/staged_asset.py"


def _archive_assets(path: Path) -> list[int]:
    """Lines where ``AssetType.ARCHIVE`` is used."""
    tree = ast.parse(path.read_text(), filename=str(path))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr == "ARCHIVE" and getattr(node.value, "id", None) == "AssetType"
    ]


def test_only_the_staged_asset_construct_builds_archives() -> None:
    found = {
        f"{path.relative_to(REPO).as_posix()}:{line}"
        for path in sorted((REPO / "infra").rglob("*.py"))
        for line in _archive_assets(path)
        if path.relative_to(REPO).as_posix() != HOME
    }
    assert not found, f"use infra.constructs.staged_asset.staged_asset instead of an ARCHIVE asset at {sorted(found)}"
    assert _archive_assets(REPO / HOME), "the staged asset construct builds its archive with cdktn's ARCHIVE asset"
