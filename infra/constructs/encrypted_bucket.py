"""An S3 bucket the way the policy wants every bucket: private, versioned, encrypted, TLS-only, logged."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from iam.documents import render
from iam.resource_policies import bucket_policy
from infra.plain_resources import PlainResource, PlainResources
from policies.naming import Names


@dataclass(frozen=True)
class Retention:
    """Lifecycle of a bucket's objects, in days."""

    transition_to_infrequent_access: int | None = None
    transition_to_glacier: int | None = None
    expire_current: int | None = None
    expire_noncurrent: int = 90
    abort_incomplete_uploads: int = 7


@dataclass(frozen=True)
class ObjectLock:
    mode: str
    years: int


class EncryptedBucket:
    """Private, versioned bucket with default encryption, TLS-only policy, access logging and lifecycle: plain
    Terraform JSON (infra/plain_resources.py) at the construct paths ``<id>/<part>`` it had as bindings.

    ``kms_key_arn=None`` means SSE-S3: only for the access-log bucket, because S3 server access
    logging cannot deliver to a bucket whose default encryption is SSE-KMS.
    """

    def __init__(
        self,
        plain: PlainResources,
        construct_id: str,
        *,
        names: Names,
        purpose: str,
        kms_key_arn: str | None,
        retention: Retention,
        access_logs_bucket: str | None,
        object_lock: ObjectLock | None = None,
        extra_policy_statements: Sequence[dict[str, Any]] = (),
        depends_on: Sequence[PlainResource] = (),
    ) -> None:
        def add(resource_type: str, part: str, arguments: dict[str, Any]) -> PlainResource:
            return plain.add(resource_type, (construct_id, part), arguments)

        name = names.bucket(purpose)
        self.name = name
        self.bucket = add(
            "aws_s3_bucket",
            "bucket",
            {
                "bucket": name,
                "object_lock_enabled": object_lock is not None,
                "depends_on": [resource.address for resource in depends_on] or None,
            },
        )
        bucket_id = self.bucket.ref("id")
        self.arn = names.bucket_arn(name)
        add(
            "aws_s3_bucket_ownership_controls",
            "ownership",
            {"bucket": bucket_id, "rule": {"object_ownership": "BucketOwnerEnforced"}},
        )
        public_access_block = add(
            "aws_s3_bucket_public_access_block",
            "public-access-block",
            {
                "bucket": bucket_id,
                "block_public_acls": True,
                "block_public_policy": True,
                "ignore_public_acls": True,
                "restrict_public_buckets": True,
            },
        )
        versioning = add(
            "aws_s3_bucket_versioning", "versioning", {"bucket": bucket_id, "versioning_configuration": {"status": "Enabled"}}
        )
        by_default = (
            {"sse_algorithm": "aws:kms", "kms_master_key_id": kms_key_arn} if kms_key_arn else {"sse_algorithm": "AES256"}
        )
        add(
            "aws_s3_bucket_server_side_encryption_configuration",
            "encryption",
            {
                "bucket": bucket_id,
                "rule": [{"apply_server_side_encryption_by_default": by_default, "bucket_key_enabled": kms_key_arn is not None}],
            },
        )
        if access_logs_bucket is not None:
            add(
                "aws_s3_bucket_logging",
                "access-logging",
                {"bucket": bucket_id, "target_bucket": access_logs_bucket, "target_prefix": f"{name}/"},
            )
        if object_lock is not None:
            add(
                "aws_s3_bucket_object_lock_configuration",
                "object-lock",
                {
                    "bucket": bucket_id,
                    "rule": {"default_retention": {"mode": object_lock.mode, "years": object_lock.years}},
                    "depends_on": [versioning.address],
                },
            )
        add(
            "aws_s3_bucket_lifecycle_configuration",
            "lifecycle",
            {"bucket": bucket_id, "rule": [self._lifecycle_rule(retention)], "depends_on": [versioning.address]},
        )
        add("aws_s3_bucket_notification", "events", {"bucket": bucket_id, "eventbridge": True})
        add(
            "aws_s3_bucket_policy",
            "policy",
            {
                "bucket": bucket_id,
                "policy": render(bucket_policy(self.arn, kms_key_arn, extra_policy_statements)),
                "depends_on": [public_access_block.address],
            },
        )

    @staticmethod
    def _lifecycle_rule(retention: Retention) -> dict[str, Any]:
        transitions = [
            {"days": days, "storage_class": storage_class}
            for days, storage_class in (
                (retention.transition_to_infrequent_access, "STANDARD_IA"),
                (retention.transition_to_glacier, "GLACIER"),
            )
            if days is not None
        ]
        return {
            "id": "governed-retention",
            "status": "Enabled",
            "filter": [{"prefix": ""}],
            "abort_incomplete_multipart_upload": [{"days_after_initiation": retention.abort_incomplete_uploads}],
            "noncurrent_version_expiration": [{"noncurrent_days": retention.expire_noncurrent}],
            "transition": transitions or None,
            "expiration": [{"days": retention.expire_current}] if retention.expire_current is not None else None,
        }
