"""Ensure every governed SageMaker resource carries a valid data-classification tag at its project's level."""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from policies.rules.infrastructure import GOVERNED_SAGEMAKER_TYPES, classification_tag
from review.checkov._adapter import governance_policy, to_result, unwrap


class EnsureGovernedSageMakerResourcesCarryClassification(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure every governed SageMaker resource carries a valid data-classification tag at its project's level",
            id="CKV_MLGOV_1",
            categories=[CheckCategories.GENERAL_SECURITY],
            supported_resources=list(GOVERNED_SAGEMAKER_TYPES),
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        return to_result(self, classification_tag(governance_policy(), self.entity_type, unwrap(conf)))


check = EnsureGovernedSageMakerResourcesCarryClassification()
