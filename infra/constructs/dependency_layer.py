"""A Lambda layer built from a staged directory (infra/lambda_packaging.py), pinned by the hash of its archive.

The archive is built once per content (infra/constructs/staged_asset.py), not on every synth."""

from __future__ import annotations

from pathlib import Path

from cdktn import Fn
from cdktn_provider_aws.lambda_layer_version import LambdaLayerVersion
from constructs import Construct

from infra.constructs.staged_asset import staged_asset
from infra.lambda_packaging import LAMBDA_ARCHITECTURE, LAMBDA_RUNTIME


def dependency_layer(
    scope: Construct, construct_id: str, *, staged: Path, layer_name: str, description: str
) -> LambdaLayerVersion:
    """The layer ``<construct_id>-layer`` from the archive of ``staged`` (asset ``<construct_id>``)."""
    code = staged_asset(scope, construct_id, staged)
    return LambdaLayerVersion(
        scope,
        f"{construct_id}-layer",
        layer_name=layer_name,
        description=description,
        filename=code.path,
        source_code_hash=Fn.filebase64sha256(code.path),
        compatible_runtimes=[LAMBDA_RUNTIME],
        compatible_architectures=[LAMBDA_ARCHITECTURE],
    )
