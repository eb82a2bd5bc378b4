"""Ensure resources are created in the policy's allowed Regions (EventBridge forwarding rules may sit in watched Regions)."""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from policies.rules.infrastructure import resource_region
from review.checkov._adapter import governance_policy, to_result, unwrap


class EnsureResourcesStayInAllowedRegions(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure resources are created in the policy's allowed Regions (forwarding rules may sit in watched Regions)",
            id="CKV_MLGOV_6",
            categories=[CheckCategories.GENERAL_SECURITY],
            supported_resources=["aws_*"],
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        # Provider aliases are named after their Region (the stacks' convention), so the alias is the Region.
        return to_result(self, resource_region(governance_policy(), self.entity_type, unwrap(conf), {}))


check = EnsureResourcesStayInAllowedRegions()
