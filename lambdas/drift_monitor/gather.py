"""What one drift run looks at, read from AWS: the versions the endpoint serves, their baselines, the captured window.

endpoint -> endpoint config -> ProductionVariants[].ModelName -> model's ModelPackageName -> the version's
CustomerMetadataProperties (``monitoring:baseline-uri``, ``monitoring:baseline-sha256``) -> the baseline, whose
SHA-256 must match -> the capture objects of the window's hours under the endpoint's capture prefix -> a
``drift.capture.CaptureWindow`` -> ``drift.report.evaluate_drift``. The result is plain data for the rule
(``policies.rules.drift.DriftRunFacts``) plus the run's report document, written to the lineage bucket.

Missing evidence (an endpoint that is gone, a model that is not a registered version, no baseline or one whose bytes
do not match, too little traffic) is a fact the rule turns into an undecidable decision. AWS errors that may pass
(throttling, a 5xx) are raised: the run is retried, then dead-lettered with an alarm.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from drift.baseline import Baseline
from drift.capture import CaptureParser, CaptureWindow, capture_hour_prefixes
from drift.report import DriftReport, DriftSpec, evaluate_drift
from lambdas.shared import aws
from policies.naming import Names
from policies.rules.drift import (
    BASELINE_SHA256_KEY,
    BASELINE_URI_KEY,
    CheckFacts,
    DriftRunFacts,
    FeatureFacts,
    VariantFacts,
    baseline_problem,
    watched_features,
)

if TYPE_CHECKING:
    from policies.model import MonitoredEndpoint

RUN_SCHEMA = "ml-governance-drift-run/1"
P_VALUE_CORRECTION: Literal["bonferroni"] = "bonferroni"
"""Each run tests every watched feature; the policy's p-value thresholds are family-wise per run (drift/report.py)."""
MAX_CAPTURE_BYTES = 256 * 1024 * 1024
"""Capture bytes one run reads per variant, newest hours first; the rest of the window is left out and the report
says so (``capture.truncated``). Sized for the function's memory (see docs/drift.md)."""
# Errors reading a baseline or the capture that are facts about the evidence, not passing failures (S3 answers a
# GetObject of an object whose KMS key the caller may not use with AccessDenied).
EVIDENCE_READ_ERRORS = frozenset({"NoSuchKey", "404", "NotFound", "NoSuchBucket", "AccessDenied", "403"})


class EvidenceMissing(Exception):
    """The variant cannot be judged; the message says why (it becomes an undecidable violation)."""


@dataclass
class CaptureRead:
    prefixes: list[str]
    objects: int = 0
    objects_in_window: int = 0
    bytes: int = 0
    truncated: bool = False
    skipped_keys: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "hour_prefixes": len(self.prefixes),
            "first_prefix": self.prefixes[0] if self.prefixes else None,
            "objects_listed": self.objects_in_window,
            "objects_read": self.objects,
            "bytes_read": self.bytes,
            "truncated": self.truncated,
        }


def _not_found(exc: BaseException) -> bool:
    return aws.error_code(exc) in aws.SAGEMAKER_NOT_FOUND


def _served_version(model_name: str, region: str) -> str:
    """The registered version a model was made from (the first container naming one)."""
    try:
        model = aws.client("sagemaker", region).describe_model(ModelName=model_name)
    except Exception as exc:
        if _not_found(exc):
            raise EvidenceMissing(f"model {model_name} does not exist") from None
        raise
    for container in [model.get("PrimaryContainer"), *model.get("Containers", [])]:
        if container and container.get("ModelPackageName"):
            return str(container["ModelPackageName"])
    raise EvidenceMissing(f"model {model_name} was not made from a registered model version (no ModelPackageName)")


def _version(reference: str, region: str) -> dict[str, Any]:
    try:
        package: dict[str, Any] = aws.client("sagemaker", region).describe_model_package(ModelPackageName=reference)
    except Exception as exc:
        if _not_found(exc):
            raise EvidenceMissing(f"model version {reference} does not exist") from None
        raise
    return package


def _split(uri: str) -> tuple[str, str]:
    bucket, _, key = uri[len("s3://") :].partition("/")
    return bucket, key


def read_baseline(uri: str, sha256: str) -> Baseline:
    """The baseline, after its bytes matched the registered SHA-256."""
    bucket, key = _split(uri)
    with _evidence_read(f"the baseline {uri}"):
        body: bytes = aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    digest = hashlib.sha256(body).hexdigest()
    if digest != sha256.strip().lower():
        raise EvidenceMissing(f"the baseline {uri} does not match its registered SHA-256 (registered {sha256}, read {digest})")
    try:
        return Baseline.from_json(body)
    except ValueError as exc:  # json.JSONDecodeError is a ValueError
        raise EvidenceMissing(f"the baseline {uri} is not a drift baseline: {exc}") from None


def _list(bucket: str, prefix: str) -> list[tuple[str, int]]:
    s3, found, token = aws.client("s3"), [], None
    while True:
        page = s3.list_objects_v2(Bucket=bucket, Prefix=prefix, **({"ContinuationToken": token} if token else {}))
        found += [(str(item["Key"]), int(item.get("Size", 0))) for item in page.get("Contents", [])]
        token = page.get("NextContinuationToken")
        if not page.get("IsTruncated") or not token:
            return found


def read_window(
    bucket: str, capture_prefix: str, endpoint: str, variant: str, baseline: Baseline, *, start: datetime, end: datetime
) -> tuple[CaptureWindow, CaptureRead]:
    """The captured inputs of [start, end), in the baseline's feature order (the model's input order)."""
    prefixes = capture_hour_prefixes(capture_prefix, endpoint, variant, start, end)
    read = CaptureRead(prefixes)
    categorical = [f.name for f in baseline.features if f.kind == "categorical"]
    parser = CaptureParser(baseline.names, categorical=categorical, start=start, end=end)
    s3 = aws.client("s3")
    for prefix in reversed(prefixes):  # newest hour first: if the window is too large, the oldest hours are left out
        with _evidence_read(f"the capture under s3://{bucket}/{prefix}"):
            listed = sorted(_list(bucket, prefix))
        for key, size in listed:
            read.objects_in_window += 1
            if read.bytes + size > MAX_CAPTURE_BYTES:
                read.truncated = True
                continue
            with _evidence_read(f"the capture s3://{bucket}/{key}"):
                body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            parser.feed(body, source=key)
            read.objects += 1
            read.bytes += size
    return parser.window(), read


@contextmanager
def _evidence_read(what: str) -> Iterator[None]:
    """An error that says the evidence cannot be read (not one that may pass) makes the variant undecidable."""
    try:
        yield
    except Exception as exc:
        if aws.error_code(exc) in EVIDENCE_READ_ERRORS:
            raise EvidenceMissing(f"{what} cannot be read ({aws.error_code(exc)})") from None
        raise


def _facts_of(variant: str, package: str | None, report: DriftReport, uri: str, sha256: str) -> VariantFacts:
    features = tuple(
        FeatureFacts(
            name=f.name,
            status=f.status,
            window_count=f.window_count,
            checks=tuple(
                CheckFacts(c.statistic, c.value, c.threshold, c.breached, c.p_value, c.effective_threshold, c.baseline_value)
                for c in f.checks
            ),
        )
        for f in report.features
    )
    return VariantFacts(
        variant=variant,
        model_package=package,
        status=report.status,
        reason=_unreadable(report) if report.status == "unreadable-capture" else None,
        rows=report.rows,
        min_samples=report.min_samples,
        features=features,
        baseline_uri=uri,
        baseline_sha256=sha256,
    )


def _unreadable(report: DriftReport) -> str:
    window = report.window
    judged = int(window.get("lines", 0)) - int(window.get("out_of_window", 0))
    reasons = ", ".join(f"{reason} {count}" for reason, count in dict(window.get("skip_reasons", {})).items())
    return (
        f"{window.get('skipped_lines')} of the {judged} captured lines in the window cannot be read as the baseline's "
        f"features ({reasons}), more than {report.max_unreadable_share:.1%}: the traffic they carry was not judged; "
        "fix what the clients send, or the baseline if the model's inputs changed"
    )


@dataclass
class Run:
    names: Names
    project: str
    endpoint: MonitoredEndpoint
    time: datetime
    lineage_bucket: str
    region: str

    @property
    def start(self) -> datetime:
        return self.time - timedelta(hours=self.endpoint.drift.window_hours)

    def spec(self, watched: list[str]) -> DriftSpec:
        settings = self.endpoint.drift
        return DriftSpec.watching(
            watched,
            min_samples=settings.min_samples,
            p_value_correction=P_VALUE_CORRECTION,
            max_unreadable_share=settings.max_unreadable_share,
            psi_threshold=settings.psi_threshold,
            ks_p_value=settings.ks_p_value,
            chi2_p_value=settings.chi2_p_value,
            max_missing_increase=settings.max_missing_increase,
        )

    def judge_variant(self, variant: str, model_name: str) -> tuple[VariantFacts, dict[str, Any]]:
        """The variant's facts and its part of the run's report."""
        doc: dict[str, Any] = {"variant": variant, "model": model_name}
        package: str | None = None
        try:
            if not model_name:
                raise EvidenceMissing("the variant names no model (inference components are not judged by the drift job)")
            reference = _served_version(model_name, self.region)
            version = _version(reference, self.region)
            package = str(version.get("ModelPackageArn") or reference)
            doc["model_package"] = package
            metadata = version.get("CustomerMetadataProperties") or {}
            uri, sha256 = metadata.get(BASELINE_URI_KEY), metadata.get(BASELINE_SHA256_KEY)
            doc |= {"baseline_uri": uri, "baseline_sha256": sha256}
            problem = baseline_problem(uri, sha256, lineage_bucket=self.lineage_bucket, project=self.project)
            if problem:
                raise EvidenceMissing(problem)
            assert uri is not None and sha256 is not None
            baseline = read_baseline(uri, sha256)
            watched, unknown = watched_features(self.endpoint, baseline.names)
            if unknown:
                raise EvidenceMissing(f"the policy watches {', '.join(unknown)}, which the baseline {uri} does not have")
            capture_prefix = self.names.lineage_capture_prefix(self.project, self.endpoint.name)
            window, read = read_window(
                self.lineage_bucket, capture_prefix, self.endpoint.name, variant, baseline, start=self.start, end=self.time
            )
            doc["capture"] = {"prefix": f"s3://{self.lineage_bucket}/{capture_prefix}/", **read.summary()}
            try:
                report = evaluate_drift(baseline, window, self.spec(watched))
            except ValueError as exc:  # a baseline or settings the statistics refuse: no retry would change that
                raise EvidenceMissing(f"the drift report cannot be computed against the baseline {uri}: {exc}") from None
        except EvidenceMissing as exc:
            doc |= {"status": "undecidable", "reason": str(exc)}
            return VariantFacts(variant=variant, model_package=package, reason=str(exc)), doc
        doc |= {"status": report.status, "report": json.loads(report.to_json())}
        return _facts_of(variant, package, report, uri, sha256), doc

    def facts(self) -> tuple[DriftRunFacts, dict[str, Any]]:
        """The run's facts and report document (the report is not written here)."""
        sagemaker = aws.client("sagemaker", self.region)
        label = self.time.strftime("%Y-%m-%dT%H:%M:%SZ")
        arn = f"arn:{self.names.partition}:sagemaker:{self.region}:{self.names.account}:endpoint/{self.endpoint.name.lower()}"
        hours = self.endpoint.drift.window_hours
        window = {"start": self.start.strftime("%Y-%m-%dT%H:%M:%SZ"), "end": label, "hours": hours}
        doc: dict[str, Any] = {
            "schema": RUN_SCHEMA,
            "endpoint": self.endpoint.name,
            "project": self.project,
            "run_time": label,
            "window": window,
            "variants": [],
        }

        def facts(endpoint_arn: str, variants: tuple[VariantFacts, ...] = (), reason: str | None = None) -> DriftRunFacts:
            return DriftRunFacts(self.endpoint.name, endpoint_arn, self.project, label, hours, variants, reason)

        try:
            described = sagemaker.describe_endpoint(EndpointName=self.endpoint.name)
        except Exception as exc:
            if not _not_found(exc):
                raise
            reason = f"endpoint {self.endpoint.name} does not exist in {self.region}"
            return facts(arn, reason=reason), doc | {"reason": reason}
        arn = str(described.get("EndpointArn") or arn)
        config = sagemaker.describe_endpoint_config(EndpointConfigName=described["EndpointConfigName"])
        doc |= {"endpoint_arn": arn, "endpoint_config": described["EndpointConfigName"]}
        variants = []
        for production in config.get("ProductionVariants", []):
            judged, part = self.judge_variant(str(production["VariantName"]), str(production.get("ModelName") or ""))
            variants.append(judged)
            doc["variants"].append(part)
        return facts(arn, tuple(variants)), doc


def write_report(bucket: str, key: str, doc: dict[str, Any]) -> str:
    """Write the run's report once (a retry of the same run finds it and keeps the first)."""
    body = json.dumps(doc, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()
    try:
        aws.client("s3").put_object(
            Bucket=bucket, Key=key, Body=body, ContentType="application/json", ServerSideEncryption="aws:kms", IfNoneMatch="*"
        )
    except Exception as exc:
        if aws.error_code(exc) not in {"PreconditionFailed", "412", "ConditionalRequestConflict"}:
            raise
    return f"s3://{bucket}/{key}"
