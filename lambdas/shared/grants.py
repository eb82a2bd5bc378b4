"""What the shared runtime calls on every decision, as IAM grants (the handler table adds them to every role).

Kept apart from the modules that make the calls (audit.py, notify.py, idempotency.py) so that reading
the table never imports Powertools.
"""

from __future__ import annotations

from iam.grants import Grant, On

RUNTIME_GRANTS: tuple[Grant, ...] = (
    Grant("WriteAuditRecords", ("s3:PutObject",), (On.AUDIT_RECORDS,)),  # audit.write_record
    Grant("EncryptAuditRecords", ("kms:GenerateDataKey",), (On.AUDIT_KEY,)),  # SSE-KMS of that write
    Grant("PublishAlerts", ("sns:Publish",), (On.ALERTS_TOPIC,)),  # notify.publish
    Grant("UseLedger", ("dynamodb:GetItem", "dynamodb:PutItem"), (On.IDEMPOTENCY_TABLE,)),  # ledger: facts, alerts sent
)
# idempotency.once_per_event (Powertools' DynamoDB persistence layer), for handlers EventBridge delivers at least once.
IDEMPOTENCY_GRANTS: tuple[Grant, ...] = (
    Grant("UseIdempotencyTable", ("dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:UpdateItem"), (On.IDEMPOTENCY_TABLE,)),
)
