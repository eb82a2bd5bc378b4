"""Ensure no IAM statement allows '*' actions or iam:PassRole on '*'."""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from policies.rules.infrastructure import IAM_POLICY_TYPES, no_wildcard_grants
from review.checkov._adapter import governance_policy, to_result, unwrap


class EnsureNoWildcardActionsOrPassRoleOnAnyRole(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure no IAM statement allows '*' actions or iam:PassRole on '*'",
            id="CKV_MLGOV_4",
            categories=[CheckCategories.GENERAL_SECURITY],
            supported_resources=list(IAM_POLICY_TYPES),
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        return to_result(self, no_wildcard_grants(governance_policy(), self.entity_type, unwrap(conf)))


check = EnsureNoWildcardActionsOrPassRoleOnAnyRole()
