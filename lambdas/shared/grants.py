"""What the shared runtime calls on every decision, as IAM grants (the handler table adds them to every role).

Kept apart from the modules that make the calls (audit.py, notify.py, idempotency.py) so that reading
the table never imports Powertools.
"""

from __future__ import annotations

from iam.grants import Grant, On
from policies.naming import Names

RUNTIME_GRANTS: tuple[Grant, ...] = (
    Grant("WriteAuditRecords", ("s3:PutObject",), (On.AUDIT_RECORDS,)),  # audit.write_record
    Grant("EncryptAuditRecords", ("kms:GenerateDataKey",), (On.AUDIT_KEY,)),  # SSE-KMS of that write
    Grant("PublishAlerts", ("sns:Publish",), (On.ALERTS_TOPIC,)),  # notify.publish
    Grant("UseLedger", ("dynamodb:GetItem", "dynamodb:PutItem"), (On.IDEMPOTENCY_TABLE,)),  # ledger: facts, alerts sent
)
# idempotency.once_per_event, for handlers EventBridge delivers at least once.
IDEMPOTENCY_GRANTS: tuple[Grant, ...] = (
    Grant(
        "UseIdempotencyTable",
        ("dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"),
        (On.IDEMPOTENCY_TABLE,),
    ),
)
# lambdas.shared.artifacts: HeadObject is authorized by s3:GetObject; it returns the object's metadata and no bytes (the roles that check
# versions cannot decrypt the artifacts).
READ_ARTIFACT_VERSIONS = Grant("ReadModelArtifactVersions", ("s3:GetObject",), (On.MODEL_ARTIFACTS,))
# ListObjectVersions, for the gate: a key written more than once is not pinned.
LIST_ARTIFACT_VERSIONS = Grant(
    "ListModelArtifactVersions",
    ("s3:ListBucketVersions",),
    (On.MODEL_STORE_BUCKETS,),
    condition=(("StringLike", "s3:prefix", f"{Names.artifacts_prefix('*')}/*"),),
)
