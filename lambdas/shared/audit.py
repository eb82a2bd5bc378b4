"""One immutable JSON record per decision in the Object-Locked audit bucket.

The key is derived from the event id and the decision's content, and the write is
conditional (``If-None-Match: *``): a redelivered event that reaches the same decision
cannot add a second record, while a retry that decides differently adds its own.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from lambdas.shared import aws
from policies.naming import AUDIT_RECORDS_PREFIX
from policies.rules.outcome import Decision

AUDIT_SCHEMA = "ml-governance-audit/1"
AUDIT_PREFIX = AUDIT_RECORDS_PREFIX


def audit_key(decision: Decision, event_id: str, event_time: datetime) -> str:
    day = event_time.astimezone(UTC).strftime("%Y/%m/%d")
    return f"{AUDIT_PREFIX}/{decision.rule_set.value}/{day}/{event_id}/{decision.digest()}.json"


def build_record(
    decision: Decision,
    *,
    event: dict[str, Any],
    actor: str | None,
    action_result: str,
    policy_version: str,
    function: str | None,
    request_id: str | None,
) -> dict[str, Any]:
    return {
        "schema": AUDIT_SCHEMA,
        "recorded_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "event": {key: event.get(key) for key in ("id", "source", "detail-type", "time", "region", "account")},
        "who": actor,
        "what": decision.subject,
        "rule_set": decision.rule_set.value,
        "decision": decision.verdict.value,
        "violations": [{"rule": v.rule, "message": v.message} for v in decision.violations],
        "evidence": dict(decision.evidence),
        "action": {
            "kind": decision.action.value,
            "mode": decision.mode.value,
            "result": action_result,
            "remediation": dict(decision.remediation),
        },
        "policy_version": policy_version,
        "handler": {"function": function, "request_id": request_id},
        "decision_digest": decision.digest(),
    }


def write_record(bucket: str, key: str, record: dict[str, Any]) -> bool:
    """Write once. Returns False when the record already exists (a redelivery)."""
    s3 = aws.client("s3")
    body = json.dumps(record, sort_keys=True, default=str).encode()
    try:
        s3.put_object(
            Bucket=bucket,
            Key=key,
            Body=body,
            ContentType="application/json",
            ServerSideEncryption="aws:kms",
            IfNoneMatch="*",
        )
    except Exception as exc:
        if aws.error_code(exc) in {"PreconditionFailed", "412", "ConditionalRequestConflict"}:
            return False
        raise
    return True
