"""What the shared runtime calls on every decision, as IAM grants (the handler table adds them to every role), and
the reads several handlers share.

Kept apart from the modules that make the calls (audit.py, notify.py, idempotency.py, sagemaker_resources.py) so
that reading the grants never imports Powertools, and a cold start never imports ``iam.grants``.
"""

from __future__ import annotations

from iam.grants import WATCHED, Grant, On
from policies.naming import Names

# What the Lambda platform does with the function's role: decrypt its environment and use the
# encrypted table, send failed async events to the DLQ, write logs and traces.
PLATFORM_GRANTS: tuple[Grant, ...] = (
    Grant("UseOpsKey", ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"), (On.OPS_KEY,)),
    Grant("SendFailedEventsToDeadLetterQueue", ("sqs:SendMessage",), (On.OWN_DEAD_LETTER_QUEUE,)),
    Grant("WriteOwnLogs", ("logs:CreateLogStream", "logs:PutLogEvents"), (On.OWN_LOG_GROUP,)),
    # X-Ray has no resource-level permissions for these two actions.
    Grant("SendTraces", ("xray:PutTelemetryRecords", "xray:PutTraceSegments"), (On.ANY,)),
)
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
# sagemaker_resources.tags_of: the resource's tags.
READ_TAGS = Grant("ReadTags", ("sagemaker:ListTags",), WATCHED)
# sagemaker_resources: a tag call's record names only the resource: the role it runs as is read from the resource.
READ_RUN_AS_ROLE = Grant(
    "ReadRunAsRole", ("sagemaker:DescribeModel", "sagemaker:DescribeProcessingJob", "sagemaker:DescribeTrainingJob"), WATCHED
)
