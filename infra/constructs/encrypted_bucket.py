"""An S3 bucket the way the policy wants every bucket: private, versioned, encrypted, TLS-only, logged."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cdktn_provider_aws.s3_bucket import S3Bucket
from cdktn_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfiguration,
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload,
    S3BucketLifecycleConfigurationRuleExpiration,
    S3BucketLifecycleConfigurationRuleFilter,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
    S3BucketLifecycleConfigurationRuleTransition,
)
from cdktn_provider_aws.s3_bucket_logging import S3BucketLoggingA
from cdktn_provider_aws.s3_bucket_notification import S3BucketNotification
from cdktn_provider_aws.s3_bucket_object_lock_configuration import (
    S3BucketObjectLockConfigurationA,
    S3BucketObjectLockConfigurationRuleA,
    S3BucketObjectLockConfigurationRuleDefaultRetentionA,
)
from cdktn_provider_aws.s3_bucket_ownership_controls import S3BucketOwnershipControls, S3BucketOwnershipControlsRule
from cdktn_provider_aws.s3_bucket_policy import S3BucketPolicy
from cdktn_provider_aws.s3_bucket_public_access_block import S3BucketPublicAccessBlock
from cdktn_provider_aws.s3_bucket_server_side_encryption_configuration import (
    S3BucketServerSideEncryptionConfigurationA,
    S3BucketServerSideEncryptionConfigurationRuleA,
    S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA,
)
from cdktn_provider_aws.s3_bucket_versioning import S3BucketVersioningA, S3BucketVersioningVersioningConfiguration
from constructs import Construct

from iam.documents import render
from iam.resource_policies import bucket_policy
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


class EncryptedBucket(Construct):
    """Private, versioned bucket with default encryption, TLS-only policy, access logging and lifecycle.

    ``kms_key_arn=None`` means SSE-S3: only for the access-log bucket, because S3 server access
    logging cannot deliver to a bucket whose default encryption is SSE-KMS.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        names: Names,
        purpose: str,
        kms_key_arn: str | None,
        retention: Retention,
        access_logs_bucket: str | None,
        object_lock: ObjectLock | None = None,
        extra_policy_statements: Sequence[dict[str, Any]] = (),
        depends_on: Sequence[Any] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        name = names.bucket(purpose)
        self.name = name
        self.bucket = S3Bucket(
            self,
            "bucket",
            bucket=name,
            object_lock_enabled=object_lock is not None,
            depends_on=list(depends_on) or None,
        )
        bucket_id = self.bucket.id
        self.arn = names.bucket_arn(name)
        S3BucketOwnershipControls(
            self, "ownership", bucket=bucket_id, rule=S3BucketOwnershipControlsRule(object_ownership="BucketOwnerEnforced")
        )
        self.public_access_block = S3BucketPublicAccessBlock(
            self,
            "public-access-block",
            bucket=bucket_id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
        )
        self.versioning = S3BucketVersioningA(
            self,
            "versioning",
            bucket=bucket_id,
            versioning_configuration=S3BucketVersioningVersioningConfiguration(status="Enabled"),
        )
        if kms_key_arn is not None:
            by_default = S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                sse_algorithm="aws:kms", kms_master_key_id=kms_key_arn
            )
        else:
            by_default = S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(sse_algorithm="AES256")
        S3BucketServerSideEncryptionConfigurationA(
            self,
            "encryption",
            bucket=bucket_id,
            rule=[
                S3BucketServerSideEncryptionConfigurationRuleA(
                    apply_server_side_encryption_by_default=by_default,
                    bucket_key_enabled=kms_key_arn is not None,
                )
            ],
        )
        if access_logs_bucket is not None:
            S3BucketLoggingA(self, "access-logging", bucket=bucket_id, target_bucket=access_logs_bucket, target_prefix=f"{name}/")
        if object_lock is not None:
            S3BucketObjectLockConfigurationA(
                self,
                "object-lock",
                bucket=bucket_id,
                rule=S3BucketObjectLockConfigurationRuleA(
                    default_retention=S3BucketObjectLockConfigurationRuleDefaultRetentionA(
                        mode=object_lock.mode, years=object_lock.years
                    )
                ),
                depends_on=[self.versioning],
            )
        S3BucketLifecycleConfiguration(
            self, "lifecycle", bucket=bucket_id, rule=[self._lifecycle_rule(retention)], depends_on=[self.versioning]
        )
        S3BucketNotification(self, "events", bucket=bucket_id, eventbridge=True)
        self.policy = S3BucketPolicy(
            self,
            "policy",
            bucket=bucket_id,
            policy=render(bucket_policy(self.arn, kms_key_arn, extra_policy_statements)),
            depends_on=[self.public_access_block],
        )

    @staticmethod
    def _lifecycle_rule(retention: Retention) -> S3BucketLifecycleConfigurationRule:
        transitions = []
        if retention.transition_to_infrequent_access is not None:
            transitions.append(
                S3BucketLifecycleConfigurationRuleTransition(
                    days=retention.transition_to_infrequent_access, storage_class="STANDARD_IA"
                )
            )
        if retention.transition_to_glacier is not None:
            transitions.append(
                S3BucketLifecycleConfigurationRuleTransition(days=retention.transition_to_glacier, storage_class="GLACIER")
            )
        return S3BucketLifecycleConfigurationRule(
            id="governed-retention",
            status="Enabled",
            filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
            abort_incomplete_multipart_upload=[
                S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(
                    days_after_initiation=retention.abort_incomplete_uploads
                )
            ],
            noncurrent_version_expiration=[
                S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(noncurrent_days=retention.expire_noncurrent)
            ],
            transition=transitions or None,
            expiration=(
                [S3BucketLifecycleConfigurationRuleExpiration(days=retention.expire_current)]
                if retention.expire_current is not None
                else None
            ),
        )
