"""A Lambda layer built from a staged directory (infra/lambda_packaging.py), pinned by the hash of its archive.

The archive is built once per content (infra/constructs/staged_asset.py), not on every synth."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from infra.constructs.staged_asset import lambda_archive
from infra.lambda_packaging import LAMBDA_ARCHITECTURE, LAMBDA_RUNTIME
from infra.plain_resources import PlainResource, PlainResources

if TYPE_CHECKING:
    from infra.stacks.base import GovernanceStack


def dependency_layer(
    stack: GovernanceStack, plain: PlainResources, construct_id: str, *, staged: Path, layer_name: str, description: str
) -> PlainResource:
    """The layer ``<construct_id>-layer`` (a plain resource) from the archive of ``staged`` (asset ``<construct_id>``
    of ``stack``)."""
    code = lambda_archive(stack, construct_id, staged)
    return plain.add(
        "aws_lambda_layer_version",
        (f"{construct_id}-layer",),
        {
            "layer_name": layer_name,
            "description": description,
            "filename": code.path,
            "source_code_hash": code.source_code_hash,
            "compatible_runtimes": [LAMBDA_RUNTIME],
            "compatible_architectures": [LAMBDA_ARCHITECTURE],
        },
    )
