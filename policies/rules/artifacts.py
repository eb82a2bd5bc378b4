"""The model bytes a version serves are the bytes that were approved: pinned at approval, checked before serving.

A model version names its model data by S3 URI, and the object behind a URI can be overwritten after the version
is approved (the pipeline's execution role writes there). The approval gate therefore pins each container's model
artifact to the S3 object version it judged, in the project's model store (``Names.model_store``: a versioned bucket
the gate can read), and keeps the pins with its clearance. The deployer refuses, and the deployment guard
quarantines, a version whose artifact is no longer the pinned object version.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

RULE = "model-artifact"


@dataclass(frozen=True)
class ModelData:
    """Where one container of a version's inference specification takes its model from."""

    container: int
    uri: str
    pinnable: bool = True
    """False for an S3 prefix (``ModelDataSource`` of type ``S3Prefix``): many objects, no one version to pin."""


@dataclass(frozen=True)
class ArtifactRead:
    """One model artifact as read now: ``found`` None when it was not read (outside the model store)."""

    uri: str
    found: bool | None
    version_id: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    """When that object version was written (ISO 8601)."""
    versions: int | None = None
    """How many object versions the key has (the gate counts them; None: not counted)."""


def model_data(inference_specification: Mapping[str, Any] | None) -> list[ModelData]:
    """The model data each container names (DescribeModelPackage's ``InferenceSpecification.Containers``, or a
    model's ``PrimaryContainer``/``Containers``): ``ModelDataUrl``, ``ModelDataSource.S3DataSource``, each
    ``AdditionalModelDataSources[].S3DataSource`` and ``AdditionalS3DataSource``; a container with none of them has
    its model in its image."""
    found = []
    containers = (inference_specification or {}).get("Containers") or []
    for index, container in enumerate(containers):
        if not isinstance(container, Mapping):
            continue
        if container.get("ModelDataUrl"):
            found.append(ModelData(index, str(container["ModelDataUrl"])))
        sources = [
            (container.get("ModelDataSource") or {}).get("S3DataSource"),
            *((extra or {}).get("S3DataSource") for extra in container.get("AdditionalModelDataSources") or []),
            container.get("AdditionalS3DataSource"),
        ]
        for source in sources:
            if isinstance(source, Mapping) and source.get("S3Uri"):
                pinnable = source.get("S3DataType", "S3Object") == "S3Object"
                found.append(ModelData(index, str(source["S3Uri"]), pinnable=pinnable))
    return found


def _root(store: tuple[str, str]) -> str:
    """``s3://<bucket>/<prefix>/`` of a model store (bucket, key prefix)."""
    bucket, prefix = store
    return f"s3://{bucket}/{prefix.rstrip('/')}/"


def in_store(uri: str, store: tuple[str, str]) -> bool:
    return uri.startswith(_root(store))


def pin_problems(
    data: Sequence[ModelData], reads: Mapping[str, ArtifactRead], store: tuple[str, str], registered_at: str | None = None
) -> list[str]:
    """Why the approval gate cannot pin a version's model artifacts (``store``: the project's (bucket, prefix);
    ``reads``: each artifact in the store, read by URI). An object version written after the version was registered
    (``registered_at``, ISO 8601) is not what the pipeline evaluated: the gate pins only bytes that were there."""
    where = _root(store)
    problems = []
    for item in data:
        what = f"container {item.container}'s model data {item.uri}"
        read = reads.get(item.uri)
        if not item.pinnable:
            problems.append(f"{what} is an S3 prefix, which cannot be pinned to one object version: name one object")
        elif not in_store(item.uri, store):
            problems.append(f"{what} is outside the project's model store {where}, where the approval gate pins it")
        elif read is None or read.found is None:
            problems.append(f"{what} was not read")
        elif read.found is False:
            problems.append(f"{what} does not exist, or may not be read")
        elif not read.version_id or read.version_id == "null":
            problems.append(f"{what} has no object version (is the bucket versioned?): it cannot be pinned")
        elif read.versions is not None and read.versions > 1:
            problems.append(
                f"{what} has {read.versions} object versions: it was overwritten after it was first written, so the "
                "bytes its pipeline evaluated cannot be told from the ones there now (a training job writes its key once)"
            )
        elif _later(read.last_modified, registered_at):
            problems.append(
                f"{what} was written at {read.last_modified}, after the version was registered at {registered_at}: "
                "not the bytes its pipeline evaluated"
            )
    return problems


def _later(written: str | None, registered: str | None) -> bool:
    if not written or not registered:
        return False
    return datetime.fromisoformat(written) > datetime.fromisoformat(registered)


def pins(data: Sequence[ModelData], reads: Mapping[str, ArtifactRead]) -> list[dict[str, str]]:
    """What the clearance keeps: each artifact's URI with the object version (and ETag) that was approved."""
    kept = []
    for item in data:
        read = reads.get(item.uri)
        if read is not None and read.version_id:
            kept.append({"uri": item.uri, "version_id": read.version_id, "etag": read.etag or ""})
    return kept


def changed_artifacts(
    pinned: Sequence[Mapping[str, str]] | None, now: Mapping[str, ArtifactRead], named: Sequence[ModelData] = ()
) -> list[str]:
    """Why a cleared version's artifacts are not the approved bytes any more (``pinned``: the clearance's pins, None
    when it kept none; ``now``: each pinned URI read now; ``named``: the model data the version names now, which
    must all have been pinned). A clearance without pins cannot vouch for any bytes."""
    if pinned is None:
        return ["its clearance pins no model artifact (kept before artifacts were pinned): approve the version again"]
    pinned_uris = {pin["uri"] for pin in pinned}
    problems = [
        f"container {d.container} names model data {d.uri}, which the approval did not pin"
        for d in named
        if d.uri not in pinned_uris
    ]
    for pin in pinned:
        uri, approved = pin["uri"], pin["version_id"]
        read = now.get(uri)
        if read is None or not read.found:
            problems.append(f"its model artifact {uri} (object version {approved}) is gone or unreadable")
        elif read.version_id != approved:
            problems.append(
                f"its model artifact {uri} was replaced after approval: object version {read.version_id}, approved {approved}"
            )
    return problems
