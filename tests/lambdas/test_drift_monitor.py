"""The drift monitor end to end in moto: a deployed endpoint serving a registered version whose baseline was built
from scikit-learn's breast-cancer rows, and SageMaker data-capture files of its traffic in the lineage bucket.

Metrics are CloudWatch embedded metric format (Powertools) printed by the function, which CloudWatch Logs turns
into metrics; moto never sees them, so the tests read the EMF documents the handler printed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from botocore.exceptions import ClientError

from drift.baseline import build_baseline
from lambdas.drift_monitor import handler as drift
from lambdas.drift_monitor.run import scheduler_input
from lambdas.shared import aws
from lambdas.shared.events import MalformedEvent
from lambdas.shared.settings import METRICS_NAMESPACE
from policies.model import GovernancePolicy
from policies.naming import Names
from policies.rules.drift import BASELINE_SHA256_KEY, BASELINE_URI_KEY
from tests.conftest import policy_variant
from tests.drift.helpers import breast_cancer, capture_line, columns, csv_row
from tests.lambdas.sagemaker_fixtures import ROLE
from tests.lambdas.world import REGION, World

PROJECT, ENDPOINT, VARIANT = "credit-risk", "credit-risk-scoring", "AllTraffic"
RUN_TIME = datetime(2026, 11, 20, 10, tzinfo=UTC)
SHIFTED = (0, 7, 20)  # mean radius, mean concave points, worst radius
MIN_SAMPLES = 150


def drift_policy(policy: GovernancePolicy, **drift_settings: Any) -> GovernancePolicy:
    projects = [p.model_dump(mode="json") for p in policy.projects]
    for project in projects:
        for endpoint in project["endpoints"]:
            if endpoint["name"] == ENDPOINT:
                endpoint["drift"] = {"min_samples": MIN_SAMPLES, **drift_settings}
            else:
                endpoint["engine"] = "model-monitor"
    return policy_variant(policy, projects=projects)


class Data:
    """The breast-cancer rows split once: 369 for the baseline, 200 held out as live traffic."""

    def __init__(self) -> None:
        self.names, x = breast_cancer()
        order = np.random.default_rng(7).permutation(len(x))
        self.train, self.held_out = x[order[:369]], x[order[369:]]

    def shifted(self) -> np.ndarray[Any, Any]:
        rows = self.held_out.copy()
        for index in SHIFTED:
            rows[:, index] += self.train[:, index].std()
        return rows


DATA = Data()


class Deployed:
    """A version registered with its baseline, deployed behind the endpoint; capture written per hour."""

    def __init__(self, world: World, *, tamper_baseline: bool = False, baseline: bytes | None = None) -> None:
        self.world = world
        baseline = (
            baseline or build_baseline(columns(DATA.names, DATA.train), metadata={"dataset": "breast-cancer"}).to_json().encode()
        )
        key = Names.lineage_run_report(PROJECT, "pipeline-run-1", "baseline")  # where the governed pipeline writes it
        uri = world.put_lineage(key, baseline + (b" " if tamper_baseline else b""))
        self.version = world.register(PROJECT)
        sagemaker = world.sagemaker()
        sagemaker.update_model_package(
            ModelPackageArn=self.version,
            CustomerMetadataProperties={BASELINE_URI_KEY: uri, BASELINE_SHA256_KEY: hashlib.sha256(baseline).hexdigest()},
        )
        sagemaker.create_model(
            ModelName=f"{ENDPOINT}-v1", ExecutionRoleArn=ROLE, PrimaryContainer={"ModelPackageName": self.version}
        )
        sagemaker.create_endpoint_config(
            EndpointConfigName=f"{ENDPOINT}-v1",
            ProductionVariants=[
                {"VariantName": VARIANT, "ModelName": f"{ENDPOINT}-v1", "InstanceType": "ml.m5.large", "InitialInstanceCount": 1}
            ],
        )
        sagemaker.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName=f"{ENDPOINT}-v1")

    def capture(self, rows: np.ndarray[Any, Any], *, hours: int = 3, per_file: int = 40) -> None:
        """Rows as one-row CSV requests, spread over the last ``hours`` hours before the run, ``per_file`` lines a file."""
        prefix = f"projects/{PROJECT}/capture/{ENDPOINT}/{ENDPOINT}/{VARIANT}"
        for start in range(0, len(rows), per_file):
            chunk = rows[start : start + per_file]
            moment = RUN_TIME - timedelta(hours=1 + (start // per_file) % hours, minutes=-(start % 60))
            lines = [
                capture_line(csv_row(row), time=(moment + timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%SZ"))
                for i, row in enumerate(chunk)
            ]
            key = f"{prefix}/{moment:%Y/%m/%d/%H}/{moment:%M-%S}-{start:05d}.jsonl"
            self.world.put_lineage(key, "\n".join(lines) + "\n")


def capture_lines(world: World, lines: list[str]) -> None:
    """Capture records (one request each) as one file of the hour before the run."""
    moment = RUN_TIME - timedelta(minutes=30)
    key = f"projects/{PROJECT}/capture/{ENDPOINT}/{ENDPOINT}/{VARIANT}/{moment:%Y/%m/%d/%H}/30-00-lines.jsonl"
    world.put_lineage(key, "\n".join(lines) + "\n")


def run_event(world: World, *, execution: str = "d32c5kddcf5bb8c3", time: datetime = RUN_TIME) -> dict[str, Any]:
    """What the endpoint's schedule delivers: its input with Scheduler's context attributes filled in."""
    text = json.dumps(scheduler_input(world.names, PROJECT, ENDPOINT))
    text = text.replace("<aws.scheduler.execution-id>", execution).replace("<aws.scheduler.attempt-number>", "1")
    event: dict[str, Any] = json.loads(text.replace("<aws.scheduler.scheduled-time>", time.strftime("%Y-%m-%dT%H:%M:%SZ")))
    return event


def emitted_metrics(out: str) -> list[dict[str, Any]]:
    """The CloudWatch embedded-metric-format documents among the printed lines."""
    found = []
    for line in out.splitlines():
        try:
            doc = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(doc, dict) and "_aws" in doc:
            found.append(doc)
    return found


def feature_metrics(out: str) -> dict[str, dict[str, Any]]:
    docs = [d for d in emitted_metrics(out) if "Feature" in d]
    for doc in docs:
        (directive,) = doc["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == METRICS_NAMESPACE
        assert directive["Dimensions"] == [["Endpoint", "Variant", "Feature", "service"]]
        assert doc["Endpoint"] == ENDPOINT and doc["Variant"] == VARIANT
    return {d["Feature"]: d for d in docs}


@pytest.fixture
def quarantining(world_for: Any, policy: GovernancePolicy) -> Iterator[World]:
    yield world_for(drift_policy(policy, on_breach="quarantine"))


def test_held_out_traffic_is_no_drift(quarantining: World, lambda_context: Any, capsys: pytest.CaptureFixture[str]) -> None:
    deployed = Deployed(quarantining)
    deployed.capture(DATA.held_out)
    result = drift.handler(run_event(quarantining), lambda_context)
    assert result["decision"] == "allow"
    (record,) = quarantining.audit_records()
    assert record["rule_set"] == "data-drift"
    assert record["decision"] == "allow"
    assert record["what"] == f"arn:aws:sagemaker:{REGION}:123456789012:endpoint/{ENDPOINT}"
    assert record["event"]["id"] == "drift-credit-risk-scoring-20261120T100000Z"
    (variant,) = record["evidence"]["variants"]
    assert variant == variant | {"variant": VARIANT, "model_package": deployed.version, "status": "no-drift", "rows": 200}
    assert quarantining.notifications() == []
    assert quarantining.status(deployed.version) == "Approved"
    per_feature = feature_metrics(capsys.readouterr().out)
    assert sorted(per_feature) == sorted(DATA.names)
    assert all(0 <= d["PSI"][0] < 0.2 and 0 < d["PValue"][0] <= 1 for d in per_feature.values())


def test_three_shifted_features_are_named_alerted_and_the_version_sent_back(
    quarantining: World, lambda_context: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    deployed = Deployed(quarantining)
    deployed.capture(DATA.shifted())
    result = drift.handler(run_event(quarantining), lambda_context)
    assert result["decision"] == "deny"
    (record,) = quarantining.audit_records()
    drifted = [DATA.names[i] for i in SHIFTED]
    assert sorted(v["message"].split(" ", 1)[0] for v in record["violations"]) == sorted(drifted)
    assert {v["rule"] for v in record["violations"]} == {"data-drift"}
    for violation in record["violations"]:
        assert f"variant {VARIANT} (model version {deployed.version})" in violation["message"]
        assert "PSI" in violation["message"] and "KS p-value" in violation["message"]
    assert record["action"] == record["action"] | {"kind": "revert-to-pending", "mode": "enforce"}
    assert record["action"]["result"] == f"{deployed.version}: set to PendingManualApproval"
    assert quarantining.status(deployed.version) == "PendingManualApproval"
    assert quarantining.description(deployed.version).startswith(
        "Sent back by the drift monitor: data-drift: mean_radius drifted on variant AllTraffic"
    )
    (alert,) = quarantining.notifications()
    assert alert["subject"] == f"[data-drift] deny: {ENDPOINT}"
    per_feature = feature_metrics(capsys.readouterr().out)
    assert {name for name, d in per_feature.items() if d["PSI"][0] > 0.2} == set(drifted)
    report = json.loads(
        quarantining.s3.get_object(Bucket=quarantining.names.lineage_bucket, Key=result["report"].split("/", 3)[3])["Body"].read()
    )
    assert report["variants"][0]["report"]["breached_features"] == drifted


def test_notify_leaves_the_version_approved(world_for: Any, policy: GovernancePolicy, lambda_context: Any) -> None:
    world = world_for(drift_policy(policy, on_breach="notify"))
    deployed = Deployed(world)
    deployed.capture(DATA.shifted())
    assert drift.handler(run_event(world), lambda_context)["decision"] == "deny"
    assert world.status(deployed.version) == "Approved"
    (record,) = world.audit_records()
    assert record["action"]["result"] == "none: on_breach is notify, recorded and notified only"
    assert len(world.notifications()) == 1


def test_report_mode_never_sends_a_version_back(world_for: Any, policy: GovernancePolicy, lambda_context: Any) -> None:
    variant = drift_policy(policy, on_breach="quarantine")
    world = world_for(policy_variant(variant, enforcement={"approval_gate": "report"}))
    deployed = Deployed(world)
    deployed.capture(DATA.shifted())
    drift.handler(run_event(world), lambda_context)
    assert world.status(deployed.version) == "Approved"
    assert world.audit_records()[0]["action"]["kind"] == "report-only"


def test_a_hundred_rows_are_insufficient_data_never_a_pass(
    quarantining: World, lambda_context: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    deployed = Deployed(quarantining)
    deployed.capture(DATA.shifted()[:100])  # even drifted traffic: too little to judge
    result = drift.handler(run_event(quarantining), lambda_context)
    assert result["decision"] == "undecidable"
    (record,) = quarantining.audit_records()
    (violation,) = record["violations"]
    assert violation["rule"] == "undecidable"
    assert violation["message"].startswith(
        f"insufficient data: variant {VARIANT} captured 100 rows in the 24 h before 2026-11-20T10:00:00Z; {MIN_SAMPLES} are needed"
    )
    assert record["action"]["kind"] == "report-only"
    assert quarantining.status(deployed.version) == "Approved"
    assert len(quarantining.notifications()) == 1
    (summary,) = [d for d in emitted_metrics(capsys.readouterr().out) if "WindowRows" in d]
    assert summary["WindowRows"] == [100.0]


def test_a_baseline_that_does_not_match_its_registered_digest_is_undecidable(quarantining: World, lambda_context: Any) -> None:
    deployed = Deployed(quarantining, tamper_baseline=True)
    deployed.capture(DATA.shifted())
    assert drift.handler(run_event(quarantining), lambda_context)["decision"] == "undecidable"
    (record,) = quarantining.audit_records()
    (violation,) = record["violations"]
    assert "does not match its registered SHA-256" in violation["message"]
    assert quarantining.status(deployed.version) == "Approved"


def test_a_version_without_a_baseline_is_undecidable(quarantining: World, lambda_context: Any) -> None:
    deployed = Deployed(quarantining)
    quarantining.sagemaker().update_model_package(
        ModelPackageArn=deployed.version, CustomerMetadataPropertiesToRemove=[BASELINE_URI_KEY]
    )
    drift.handler(run_event(quarantining), lambda_context)
    (record,) = quarantining.audit_records()
    assert (
        record["violations"][0]["message"] == f"variant {VARIANT}: the model version names no drift baseline ({BASELINE_URI_KEY})"
    )


def test_redelivery_and_scheduler_retries_make_one_record(quarantining: World, lambda_context: Any) -> None:
    deployed = Deployed(quarantining)
    deployed.capture(DATA.shifted())
    event = run_event(quarantining)
    first = drift.handler(event, lambda_context)
    assert drift.handler(event, lambda_context) == first
    drift.handler(run_event(quarantining, execution="a-retry-of-the-same-run"), lambda_context)
    assert len(quarantining.audit_records()) == 1
    assert quarantining.audit_versions() == 1
    assert len(quarantining.notifications()) == 1
    assert quarantining.status(deployed.version) == "PendingManualApproval"


def test_a_missing_endpoint_is_undecidable(quarantining: World, lambda_context: Any) -> None:
    assert drift.handler(run_event(quarantining), lambda_context)["decision"] == "undecidable"
    (record,) = quarantining.audit_records()
    assert record["violations"][0]["message"] == f"endpoint {ENDPOINT} does not exist in {REGION}"


def test_an_endpoint_the_drift_job_does_not_watch_is_malformed(quarantining: World, lambda_context: Any) -> None:
    event = run_event(quarantining)
    event["detail"]["endpoint"] = "churn-forecast-live"  # a model-monitor endpoint
    with pytest.raises(MalformedEvent, match="not watched by the drift job"):
        drift.handler(event, lambda_context)
    (record,) = quarantining.audit_records()
    assert record["decision"] == "undecidable"


def test_capture_outside_the_window_is_not_read(quarantining: World, lambda_context: Any) -> None:
    deployed = Deployed(quarantining)
    deployed.capture(DATA.held_out)
    later = RUN_TIME - timedelta(hours=2)  # a run two hours earlier sees only the first of the three hours
    result = drift.handler(run_event(quarantining, time=later), lambda_context)
    assert result["decision"] == "undecidable"
    (record,) = quarantining.audit_records()
    assert record["evidence"]["variants"][0]["rows"] < MIN_SAMPLES


def test_a_retry_after_the_record_failed_says_what_the_first_attempt_did(quarantining: World, lambda_context: Any) -> None:
    """Not "none, already PendingManualApproval": the first attempt sent the version back (review of 2026-11-26)."""
    deployed = Deployed(quarantining)
    deployed.capture(DATA.shifted())
    event = run_event(quarantining)
    failed = []

    def audit_write_fails_once(params: dict[str, Any], **_: Any) -> None:
        if params["Bucket"] == quarantining.names.audit_bucket and not failed:
            failed.append(params["Key"])
            raise ClientError({"Error": {"Code": "SlowDown", "Message": "injected"}}, "PutObject")

    aws.client("s3").meta.events.register("before-parameter-build.s3.PutObject", audit_write_fails_once)
    with pytest.raises(ClientError):
        drift.handler(event, lambda_context)
    assert quarantining.status(deployed.version) == "PendingManualApproval"
    drift.handler(event, lambda_context)
    (record,) = quarantining.audit_records()
    assert record["action"]["result"] == f"{deployed.version}: set to PendingManualApproval"


def test_a_feature_that_stops_arriving_sends_the_version_back(quarantining: World, lambda_context: Any) -> None:
    """Three requests in four no longer carry mean_radius; the values that do arrive are ordinary held-out traffic."""
    deployed = Deployed(quarantining)
    lines = []
    for i, row in enumerate(np.concatenate([DATA.held_out, DATA.held_out])):
        cells = csv_row(row).split(",")
        if i % 4:
            cells[0] = ""
        lines.append(capture_line(",".join(cells), time="2026-11-20T09:40:00Z"))
    capture_lines(quarantining, lines)
    assert drift.handler(run_event(quarantining), lambda_context)["decision"] == "deny"
    (record,) = quarantining.audit_records()
    (violation,) = record["violations"]
    assert violation["message"].startswith(f"mean_radius drifted on variant {VARIANT}")
    assert "missing values 75.0% of the window against 0.0% of the baseline (more than 5 points up)" in violation["message"]
    assert quarantining.status(deployed.version) == "PendingManualApproval"


def test_traffic_the_job_cannot_read_is_never_a_pass(quarantining: World, lambda_context: Any) -> None:
    """600 of 800 requests come from a client that appends a field (and are shifted); the other 200 look ordinary."""
    deployed = Deployed(quarantining)
    lines = [capture_line(csv_row(row), time="2026-11-20T09:40:00Z") for row in DATA.held_out]
    lines += [capture_line(csv_row(row) + ",v2", time="2026-11-20T09:41:00Z") for row in DATA.shifted()] * 3
    capture_lines(quarantining, lines)
    assert drift.handler(run_event(quarantining), lambda_context)["decision"] == "undecidable"
    (record,) = quarantining.audit_records()
    (violation,) = record["violations"]
    assert violation["rule"] == "undecidable"
    assert violation["message"].startswith(
        f"variant {VARIANT}: 600 of the 800 captured lines in the window cannot be read as the baseline's features "
        "(wrong-field-count 600), more than 1.0%"
    )
    assert record["evidence"]["variants"][0]["status"] == "unreadable-capture"
    assert quarantining.status(deployed.version) == "Approved" and len(quarantining.notifications()) == 1


def test_a_baseline_with_a_feature_that_has_no_values_is_undecidable_not_a_crash(
    quarantining: World, lambda_context: Any
) -> None:
    doc = json.loads(build_baseline(columns(DATA.names, DATA.train)).to_json())
    doc["features"].append(
        {"name": "segment", "kind": "categorical", "count": 0, "missing": 369, "categories": [], "counts": [], "other_count": 0}
    )
    deployed = Deployed(quarantining, baseline=json.dumps(doc).encode())
    deployed.capture(DATA.shifted())
    assert drift.handler(run_event(quarantining), lambda_context)["decision"] == "undecidable"
    (record,) = quarantining.audit_records()
    assert "is not a drift baseline" in record["violations"][0]["message"]
    assert "count must be positive" in record["violations"][0]["message"]


def test_capture_the_function_may_not_read_is_undecidable_with_one_record(quarantining: World, lambda_context: Any) -> None:
    """SageMaker wrote the capture with a KMS key the function may not use: S3 answers AccessDenied on every attempt."""
    deployed = Deployed(quarantining)
    deployed.capture(DATA.shifted())

    def deny_capture(params: dict[str, Any], **_: Any) -> None:
        if "/capture/" in params.get("Key", ""):
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "kms:Decrypt denied"}}, "GetObject")

    aws.client("s3").meta.events.register("before-parameter-build.s3.GetObject", deny_capture)
    assert drift.handler(run_event(quarantining), lambda_context)["decision"] == "undecidable"
    (record,) = quarantining.audit_records()
    (violation,) = record["violations"]
    assert violation["message"].startswith(f"variant {VARIANT}: the capture s3://{quarantining.names.lineage_bucket}/projects/")
    assert violation["message"].endswith("cannot be read (AccessDenied)")
    assert quarantining.status(deployed.version) == "Approved"
