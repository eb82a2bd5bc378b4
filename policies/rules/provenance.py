"""Was the evidence a version is approved on produced by its project's governed pipeline, and is it unchanged?

The pipeline references each file from the version with the SHA-256 of its exact bytes, and names
the pipeline execution (``MetadataProperties.GeneratedBy``, which UpdateModelPackage cannot change).
Only a project's execution role may write its evidence prefixes (bucket policy and roles, proven by
the access matrix), so a file that matches its registered hash under that run's prefix, on a version
the project's execution role registered, was written by that run. A report edited after
registration, a file of another run or project, or a version a person registered is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from policies.rules.outcome import Violation

RULE = "evidence-provenance"


@dataclass(frozen=True)
class EvidenceFile:
    """One file a version names as evidence, as registered and as found now."""

    role: str
    """What it is: evaluation report, validation report, training data, drift baseline."""
    uri: str | None
    registered_sha256: str | None
    found: bool | None = None
    """Whether the object exists now; None when it was not looked up."""
    sha256: str | None = None
    """SHA-256 of its bytes now; None when not read."""
    version_id: str | None = None
    """The S3 version the gate read (recorded as evidence)."""


def run_prefix(lineage_bucket: str, project: str, pipeline_execution: str) -> str:
    """Where a pipeline run writes its evidence: the run id is the execution ARN's last segment."""
    return f"s3://{lineage_bucket}/projects/{project}/runs/{pipeline_execution.rsplit('/', 1)[-1]}/"


def evidence_provenance(
    *,
    project: str,
    files: Sequence[EvidenceFile],
    pipeline_execution: str | None,
    registered_by: str | None,
    execution_role: str,
    lineage_bucket: str,
) -> list[Violation]:
    """Every violation of provenance, each naming the file and what is wrong with it."""
    found: list[Violation] = []
    if not pipeline_execution:
        return [
            Violation(
                RULE,
                "the version names no pipeline execution (MetadataProperties.GeneratedBy): the governed pipeline did not register it",
            )
        ]
    if not registered_by or f"/{execution_role}/" not in registered_by.replace(":assumed-role/", "/"):
        found.append(
            Violation(
                RULE,
                f"the version was registered by {registered_by or 'an unknown identity'}, not by project {project}'s pipeline ({execution_role})",
            )
        )
    prefix = run_prefix(lineage_bucket, project, pipeline_execution)
    for file in files:
        if not file.uri:
            found.append(Violation(RULE, f"the version names no {file.role}"))
        elif not file.uri.startswith(prefix):
            found.append(Violation(RULE, f"the {file.role} {file.uri} is not from this version's pipeline run ({prefix})"))
        elif not file.registered_sha256:
            found.append(Violation(RULE, f"the {file.role} {file.uri} was registered without its SHA-256"))
        elif file.found is False:
            found.append(Violation(RULE, f"the {file.role} {file.uri} does not exist"))
        elif file.sha256 != file.registered_sha256:
            now = file.sha256[:12] if file.sha256 else "unreadable"
            found.append(
                Violation(
                    RULE,
                    f"the {file.role} {file.uri} changed after registration (SHA-256 {now}..., registered {file.registered_sha256[:12]}...)",
                )
            )
    return found
