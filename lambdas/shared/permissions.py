"""IAM statements every enforcement handler needs, declared beside the code that uses them.

``tests/lambdas/test_permissions.py`` records every AWS call the handlers make in the
tests and fails when one is not granted here (or in the handler's own permissions.py), or
when a grant is never used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from policies.naming import Names


@dataclass(frozen=True)
class HandlerResources:
    """ARNs a handler's role refers to."""

    names: Names
    data_key_arn: str
    audit_key_arn: str
    ops_key_arn: str
    dead_letter_queue_arn: str
    log_group_arn: str
    idempotency_table_arn: str


def statement(sid: str, actions: list[str], resources: list[str] | str) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": sorted(actions), "Resource": resources}


def shared_statements(r: HandlerResources) -> list[dict[str, Any]]:
    names = r.names
    return [
        statement("WriteAuditRecords", ["s3:PutObject"], [f"{names.bucket_arn(names.audit_bucket)}/decisions/*"]),
        statement("EncryptAuditRecords", ["kms:GenerateDataKey"], [r.audit_key_arn]),
        statement("PublishAlerts", ["sns:Publish"], [names.alerts_topic_arn]),
        statement(
            "UseIdempotencyTable",
            ["dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
            [r.idempotency_table_arn],
        ),
        statement("UseOpsKey", ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"], [r.ops_key_arn]),
        statement("SendFailedEventsToDeadLetterQueue", ["sqs:SendMessage"], [r.dead_letter_queue_arn]),
        statement("WriteOwnLogs", ["logs:CreateLogStream", "logs:PutLogEvents"], [f"{r.log_group_arn}:*"]),
        # X-Ray has no resource-level permissions for these two actions.
        statement("SendTraces", ["xray:PutTelemetryRecords", "xray:PutTraceSegments"], "*"),
    ]


def sagemaker_arn(names: Names, kind: str, name: str = "*") -> str:
    return f"arn:{names.partition}:sagemaker:*:{names.account}:{kind}/{name}"


WATCHED_KINDS = ("model-package-group", "model", "endpoint", "training-job", "processing-job", "transform-job")
