"""What a governed model version is registered with, spelled once for the pipeline and the local run.

``customer_metadata`` maps each CustomerMetadataProperties key to its value, given how to name a
run artifact and how to read a digest: the pipeline definition passes functions that return
pipeline expressions (``Join`` of the run prefix, ``JsonGet`` on a step's property file),
the local run passes functions that return the strings those expressions evaluate to. The keys
are the approval gate's (policies.rules.approval); the values:

    lineage:training-data-uri           the validated copy of the training data, runs/<id>/data/train.csv
    lineage:training-data-sha256        SHA-256 of that file's bytes (validation report, data_sha256)
    lineage:validation-report-uri       runs/<id>/validation/validation.json
    lineage:validation-report-sha256    SHA-256 of its bytes (validation/digest.json)
    lineage:evaluation-report-sha256    SHA-256 of the bytes of the report in ModelMetrics (evaluation/digest.json)
    monitoring:baseline-uri             runs/<id>/baseline/baseline.json, the drift baseline of the training split
    monitoring:baseline-sha256          SHA-256 of its bytes (baseline/digest.json)
    lineage:code-version                the source bundle's content hash (pipelines.bundle)
    governance:data-classification      the project's classification

The evaluation report's URI is ModelMetrics.ModelQuality.Statistics.S3Uri, where the gate reads
it. MetadataProperties.GeneratedBy holds the pipeline execution ARN (whose last segment is the
``<id>`` of the run prefix); unlike CustomerMetadataProperties it cannot be changed by
UpdateModelPackage.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pipelines.evidence import BASELINE, DATA, EVALUATION, VALIDATION, Evidence
from policies.naming import Names
from policies.rules.approval import (
    BASELINE_SHA256_KEY,
    BASELINE_URI_KEY,
    CODE_VERSION_KEY,
    EVALUATION_REPORT_SHA256_KEY,
    TRAINING_DATA_SHA256_KEY,
    TRAINING_DATA_URI_KEY,
    VALIDATION_REPORT_SHA256_KEY,
    VALIDATION_REPORT_URI_KEY,
)

CLASSIFICATION_METADATA_KEY = "governance:data-classification"
TRAINING_DATA_SHA256_FIELD = "data_sha256"
"""Where the validation report holds the SHA-256 of the data it validated."""
DIGEST_SHA256_FIELD = "sha256"
"""Where a digest.json holds the SHA-256 of its report."""
MODEL_QUALITY_CONTENT_TYPE = "application/json"

V = TypeVar("V")


def customer_metadata(
    *,
    uri: Callable[[Evidence], V],
    sha256: Callable[[Evidence], V],
    training_data_sha256: V,
    code_version: str,
    classification: str,
) -> dict[str, V | str]:
    """The CustomerMetadataProperties of a version: ``uri(e)`` names a run artifact, ``sha256(e)`` reads its digest."""
    return {
        TRAINING_DATA_URI_KEY: uri(DATA),
        TRAINING_DATA_SHA256_KEY: training_data_sha256,
        VALIDATION_REPORT_URI_KEY: uri(VALIDATION),
        VALIDATION_REPORT_SHA256_KEY: sha256(VALIDATION),
        EVALUATION_REPORT_SHA256_KEY: sha256(EVALUATION),
        BASELINE_URI_KEY: uri(BASELINE),
        BASELINE_SHA256_KEY: sha256(BASELINE),
        CODE_VERSION_KEY: code_version,
        CLASSIFICATION_METADATA_KEY: classification,
    }


def model_metrics(evaluation_uri: str) -> dict[str, Any]:
    """CreateModelPackage's ModelMetrics: the evaluation report as model quality statistics."""
    return {"ModelQuality": {"Statistics": {"ContentType": MODEL_QUALITY_CONTENT_TYPE, "S3Uri": evaluation_uri}}}


def run_prefix_uri(lineage_bucket: str, project: str, run_id: str) -> str:
    """``s3://<lineage bucket>/projects/<project>/runs/<run id>``: where a run's evidence lands."""
    return f"s3://{lineage_bucket}/{Names.lineage_project_prefix(project)}/runs/{run_id}"
