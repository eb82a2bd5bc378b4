"""Ensure S3 buckets and SageMaker resources are encrypted with customer-managed KMS keys."""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from policies.rules.infrastructure import customer_managed_keys
from review.checkov._adapter import governance_policy, to_result, unwrap


class EnsureCustomerManagedKmsKeys(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure S3 buckets and SageMaker resources are encrypted with customer-managed KMS keys",
            id="CKV_MLGOV_2",
            categories=[CheckCategories.GENERAL_SECURITY],
            supported_resources=[
                "aws_s3_bucket_server_side_encryption_configuration",
                "aws_sagemaker_data_quality_job_definition",
                "aws_sagemaker_endpoint_configuration",
                "aws_sagemaker_notebook_instance",
                "aws_sagemaker_domain",
            ],
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        return to_result(self, customer_managed_keys(governance_policy(), self.entity_type, unwrap(conf)))


check = EnsureCustomerManagedKmsKeys()
