"""Ensure the AWS provider is pinned to the home Region and aliases target only allowed or watched Regions."""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.provider.base_check import BaseProviderCheck

from policies.rules.infrastructure import provider_region
from review.checkov._adapter import governance_policy, to_result, unwrap


class EnsureProvidersStayInPolicyRegions(BaseProviderCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure the AWS provider is pinned to the home Region and aliases stay in allowed or watched Regions",
            id="CKV_MLGOV_5",
            categories=[CheckCategories.GENERAL_SECURITY],
            supported_provider=["aws"],
        )

    def scan_provider_conf(self, conf: dict[str, Any]) -> CheckResult:
        return to_result(self, provider_region(governance_policy(), unwrap(conf)))


check = EnsureProvidersStayInPolicyRegions()
