"""What one audit record says, read tolerantly: records written by older or newer handlers carry
more or fewer evidence fields, and a missing field is reported as missing, never guessed."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Any

from policies.model import PROJECT_TAG_KEY, GovernancePolicy
from policies.rules.resources import ResourceFacts, ResourceKind, attributed_project
from review.evidence.collect import event_time, recorded_time

UNATTRIBUTED = "(no governed project)"
MODEL_PACKAGE = re.compile(r":model-package/(?P<group>[^/]+)/(?P<version>\d+)$")
# Evidence keys the report shows in their own columns; any other key is kept under "other".
SHOWN = {
    "model_package_group",
    "metrics",
    "metrics_report",
    "evaluation_report",
    "evaluation_report_uri",
    "evaluation_report_version_id",
    "evaluation_report_sha256",
    "metrics_report_version_id",
    "metrics_report_sha256",
    "training_data",
    "training_data_uri",
    "training_data_version_id",
    "training_data_sha256",
    "created_by",
    "approved_by",
    "validation_report",
    "validation_report_uri",
    "validation_report_version_id",
    "validation_report_sha256",
    "code_version",
    "pipeline_execution_arn",
    "pipeline_execution",
    "lineage",
    "model_artifacts",
}
# CustomerMetadataProperties keys the governed pipeline writes (policies/rules/approval.py), when a record carries them.
METADATA_LINEAGE = {
    "lineage:training-data-sha256": "training_data_sha256",
    "lineage:validation-report-uri": "validation_report",
    "lineage:code-version": "code_version",
}


def iso(moment: datetime) -> str:
    """ISO 8601, UTC, seconds: 2025-03-03T09:15:00Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def evidence_of(record: dict[str, Any]) -> dict[str, Any]:
    return mapping(record.get("evidence"))


def action_of(record: dict[str, Any]) -> dict[str, Any]:
    action = mapping(record.get("action"))
    return {"kind": text(action.get("kind")) or "none", "mode": text(action.get("mode")), "result": text(action.get("result"))}


def violations_of(record: dict[str, Any]) -> list[dict[str, str]]:
    found = record.get("violations")
    if not isinstance(found, list):
        return []
    return [
        {"rule": str(v.get("rule") or "unknown"), "message": str(v.get("message") or "")} for v in found if isinstance(v, dict)
    ]


def event_fields(record: dict[str, Any], superseded_by: str | None = None) -> dict[str, Any]:
    """When and under which policy a record was taken; ``superseded_by``: the key of a later record of the same event."""
    event = mapping(record.get("event"))
    recorded = recorded_time(record)
    return {
        "event_id": text(event.get("id")),
        "event_time": iso(event_time(record)),
        "recorded_at": iso(recorded) if recorded else None,
        "audit_key": text(record.get("audit_key")),
        "policy_version": text(record.get("policy_version")),
        "superseded_by": superseded_by,
    }


def json_safe(value: Any) -> Any:
    """``value`` with every non-finite float as the string JSON has no number for: "NaN", "Infinity", "-Infinity"."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


def _artifact(evidence: dict[str, Any], *names: str) -> dict[str, str | None]:
    """uri / S3 version id / SHA-256 of an artifact, from flat keys (<name>, <name>_uri, <name>_version_id,
    <name>_sha256) or a nested object under <name>."""
    found: dict[str, str | None] = {"uri": None, "version_id": None, "sha256": None}
    for name in names:
        nested = evidence.get(name)
        if isinstance(nested, dict):
            for field, known in found.items():
                found[field] = known or text(nested.get(field)) or text(nested.get(f"s3_{field}"))
        else:
            found["uri"] = found["uri"] or text(nested)
        found["uri"] = found["uri"] or text(evidence.get(f"{name}_uri"))
        found["version_id"] = found["version_id"] or text(evidence.get(f"{name}_version_id"))
        found["sha256"] = found["sha256"] or text(evidence.get(f"{name}_sha256"))
    return found


def model_evidence(evidence: dict[str, Any]) -> dict[str, Any]:
    metrics = evidence.get("metrics")
    return {
        "metrics": {str(k): json_safe(v) for k, v in metrics.items()} if isinstance(metrics, dict) else {},
        "evaluation_report": _artifact(evidence, "evaluation_report", "metrics_report"),
        "training_data": _artifact(evidence, "training_data"),
        "model_artifacts": [
            {"uri": text(a.get("uri")), "version_id": text(a.get("version_id")), "sha256": None}
            for a in evidence.get("model_artifacts") or []
            if isinstance(a, dict)
        ],
        "other": {k: v for k, v in evidence.items() if k not in SHOWN},
    }


def lineage_of(evidence: dict[str, Any]) -> dict[str, str | None]:
    nested, metadata = mapping(evidence.get("lineage")), mapping(evidence.get("customer_metadata"))
    merged: dict[str, Any] = {**{field: metadata.get(key) for key, field in METADATA_LINEAGE.items()}, **nested, **evidence}
    validation = _artifact(merged, "validation_report")
    return {
        "training_data_sha256": text(merged.get("training_data_sha256")),
        "validation_report": validation["uri"],
        "validation_report_sha256": validation["sha256"],
        "code_version": text(merged.get("code_version")),
        "pipeline_execution_arn": text(merged.get("pipeline_execution_arn")) or text(merged.get("pipeline_execution")),
    }


def model_package(record: dict[str, Any]) -> tuple[str, int | None]:
    """(model package group, version number) of an approval-gate record."""
    subject = str(record.get("what") or "")
    found = MODEL_PACKAGE.search(subject)
    group = text(evidence_of(record).get("model_package_group")) or (found["group"] if found else None)
    return group or UNATTRIBUTED, int(found["version"]) if found else None


def resource_name(arn: str) -> str:
    return arn.split("/", 1)[1] if "/" in arn else arn


def arn_kind_and_region(arn: str) -> tuple[str | None, str | None]:
    """(resource type, Region) of an ARN such as arn:aws:sagemaker:eu-west-1:1:endpoint/name."""
    parts = arn.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        return None, None
    return text(parts[5].split("/", 1)[0]) if "/" in parts[5] else None, text(parts[3])


def project_of(record: dict[str, Any], policy: GovernancePolicy) -> str:
    """The project a decision is about: the model package group, the resource's project tag, or the
    governed project its name starts with (the rules' own attribution)."""
    if record.get("rule_set") == "approval-gate":
        return model_package(record)[0]
    evidence = evidence_of(record)
    endpoint = text(evidence.get("endpoint"))
    if record.get("rule_set") in {"deployment", "data-drift"} and endpoint:  # endpoints are named for their project
        facts = ResourceFacts(kind=ResourceKind.ENDPOINT, name=endpoint, arn=str(record.get("what") or ""), region="")
        project = attributed_project(policy, facts)
        return project.name if project is not None else UNATTRIBUTED
    tags = {str(k): str(v) for k, v in mapping(evidence.get("tags")).items()}
    tagged = text(tags.get(PROJECT_TAG_KEY))
    arn = str(record.get("what") or "")
    try:
        kind = ResourceKind(str(evidence.get("kind")))
    except ValueError:
        return tagged or UNATTRIBUTED
    facts = ResourceFacts(kind=kind, name=resource_name(arn), arn=arn, region=str(evidence.get("region") or ""), tags=tags)
    project = attributed_project(policy, facts)
    return project.name if project is not None else (tagged or UNATTRIBUTED)


def remediation_outcome(action: dict[str, Any]) -> str:
    """What happened to the resource, in one word (or two), from the recorded action result: the results the
    remediation actions write (lambdas/actions.py, lambdas/drift_monitor/handler.py, lambdas/table.py)."""
    result = (action.get("result") or "").lower()
    if "set to pendingmanualapproval" in result:  # the drift monitor: "<version arn>: set to PendingManualApproval; ..."
        return "sent back"
    for prefix, outcome in (
        ("tagged", "tagged"),
        ("stopped", "stopped"),
        ("deleted", "deleted"),
        ("set the traffic weight", "quarantined"),
        ("quarantin", "quarantined"),
        ("refused", "refused"),
        ("failed", "failed"),
        ("none: report mode", "reported"),
        ("none: on_breach is", "reported"),
        ("none: the resource no longer exists", "resource gone"),
    ):
        if result.startswith(prefix):
            return outcome
    if result.startswith("endpoint ") and result.endswith("was already gone"):
        return "resource gone"
    return "none" if action.get("kind") in (None, "none") else "other"
