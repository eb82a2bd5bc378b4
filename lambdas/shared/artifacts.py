"""Read a model artifact's current S3 object version, and compare a clearance's pins with it (policies.rules.artifacts)."""

from __future__ import annotations

from typing import Any

from lambdas.shared import aws
from policies.rules.artifacts import ArtifactRead, changed_artifacts, model_data


def read_artifact(uri: str, s3: Any) -> ArtifactRead:
    """The object's current version. Without ``s3:ListBucket`` S3 answers a missing object with 403: both count as
    not found, which every rule refuses."""
    location = aws.split_s3_uri(uri)
    if location is None:
        return ArtifactRead(uri, found=False)
    bucket, key = location
    try:
        head = s3.head_object(Bucket=bucket, Key=key)
    except Exception as exc:
        if aws.error_code(exc) in {*aws.S3_NOT_FOUND, "403", "AccessDenied", "Forbidden"}:
            return ArtifactRead(uri, found=False)
        raise
    return _found(uri, head)


def list_artifact(uri: str, s3: Any) -> ArtifactRead:
    """The object's current version with the number of versions its key has (ListObjectVersions: no bytes). A key
    whose latest version is a delete marker is not found."""
    location = aws.split_s3_uri(uri)
    if location is None:
        return ArtifactRead(uri, found=False)
    bucket, key = location
    versions: list[dict[str, Any]] = []
    latest_deleted = False
    pages = s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=key)
    for page in pages:
        versions += [v for v in page.get("Versions", []) if v.get("Key") == key]
        latest_deleted |= any(m.get("Key") == key and m.get("IsLatest") for m in page.get("DeleteMarkers", []))
    latest = next((v for v in versions if v.get("IsLatest")), None)
    if latest is None or latest_deleted:
        return ArtifactRead(uri, found=False, versions=len(versions))
    return _found(uri, latest, versions=len(versions))


def _found(uri: str, version: dict[str, Any], versions: int | None = None) -> ArtifactRead:
    """An object version as HeadObject or ListObjectVersions describes it (VersionId, ETag, LastModified)."""
    modified: Any = version.get("LastModified")
    return ArtifactRead(
        uri,
        found=True,
        version_id=version.get("VersionId"),
        etag=str(version.get("ETag", "")).strip('"') or None,
        last_modified=modified.isoformat() if hasattr(modified, "isoformat") else None,
        versions=versions,
    )


def artifact_changes(
    cleared: dict[str, Any] | None, package: dict[str, Any], region: str, *, model: dict[str, Any] | None = None
) -> tuple[str, ...]:
    """Why a cleared version's model artifacts are not the object versions its clearance pins, or why the model data
    the version (``package``: DescribeModelPackage) names now, or the deployed model's container (``model``: one of
    DescribeModel's containers) adds, is not what was pinned: none when they are, or when the version is not cleared
    (the other rules refuse that)."""
    if cleared is None:
        return ()
    pinned = cleared.get("artifacts")
    s3 = aws.client("s3", region)
    now = {pin["uri"]: read_artifact(pin["uri"], s3) for pin in pinned or ()}
    named = model_data(package.get("InferenceSpecification")) + model_data({"Containers": [model or {}]})
    changes = changed_artifacts(pinned, now, named)
    if model and model.get("InferenceSpecificationName"):  # an additional specification: not what the gate judged
        changes.append(
            f"the model serves its inference specification {model['InferenceSpecificationName']}, not the approved one"
        )
    return tuple(changes)
