"""A code package of the enforcement functions, uploaded to the Lambda code bucket; functions pin its object version.

The AWS provider creates a function whose code is a local file under a lock held for its whole create, waiter
included: one function at a time (5 s each in the embedded apply, 35 s for the seven handlers; against AWS, the
same order plus AWS's own time). Functions whose code is an S3 object version are created at once. The key holds
the archive's hash, so a package is uploaded again only when its content changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cdktn import Fn, TerraformAsset
from cdktn_provider_aws.s3_object import S3Object
from constructs import Construct

from infra.constructs.staged_asset import staged_asset
from policies.naming import Names


@dataclass(frozen=True)
class CodePackage:
    asset: TerraformAsset
    bucket: str
    key: str
    version: str
    """The uploaded object's version id (a token): the function is created from exactly that version."""


def code_package(scope: Construct, construct_id: str, staged: Path, *, names: Names, kms_key_arn: str) -> CodePackage:
    """The archive of ``staged`` (asset ``<construct_id>``) as the object ``<construct_id>/<hash>.zip``."""
    asset = staged_asset(scope, construct_id, staged)
    key = f"{construct_id}/{asset.asset_hash}.zip"
    package = S3Object(
        scope,
        f"{construct_id}-package",
        bucket=names.lambda_code_bucket,
        key=key,
        source=asset.path,
        source_hash=Fn.filemd5(asset.path),
        server_side_encryption="aws:kms",  # the bucket policy refuses uploads without its key
        kms_key_id=kms_key_arn,
    )
    return CodePackage(asset, names.lambda_code_bucket, key, package.version_id)
