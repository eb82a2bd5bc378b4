"""Ensure every IAM role carries the organization's permissions boundary."""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from policies.rules.infrastructure import permissions_boundary
from review.checkov._adapter import governance_policy, to_result, unwrap


class EnsureRolesCarryThePermissionsBoundary(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure every IAM role carries the organization's permissions boundary",
            id="CKV_MLGOV_3",
            categories=[CheckCategories.GENERAL_SECURITY],
            supported_resources=["aws_iam_role"],
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        return to_result(self, permissions_boundary(governance_policy(), self.entity_type, unwrap(conf)))


check = EnsureRolesCarryThePermissionsBoundary()
