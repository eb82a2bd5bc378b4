"""Ensure the audit bucket has S3 Object Lock with at least the policy's retention and mode."""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from policies.rules.infrastructure import audit_object_lock
from review.checkov._adapter import governance_policy, to_result, unwrap


class EnsureAuditBucketHasObjectLockRetention(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure the audit bucket has S3 Object Lock with at least the policy's retention and mode",
            id="CKV_MLGOV_7",
            categories=[CheckCategories.GENERAL_SECURITY],
            supported_resources=["aws_s3_bucket", "aws_s3_bucket_object_lock_configuration"],
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        return to_result(self, audit_object_lock(governance_policy(), self.entity_type, unwrap(conf)))


check = EnsureAuditBucketHasObjectLockRetention()
