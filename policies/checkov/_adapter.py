"""What every custom check shares: the policy (loaded once), checkov's conf unwrapped, results mapped."""

from __future__ import annotations

from functools import cache
from typing import Any

from checkov.common.models.enums import CheckResult

from policies.loader import load_policy
from policies.model import GovernancePolicy
from policies.rules.infrastructure import Finding, Outcome


@cache
def governance_policy() -> GovernancePolicy:
    """The policy file in use ($GOVERNANCE_POLICY or policies/governance.yaml), parsed once per scan."""
    return load_policy()


def unwrap(value: Any) -> Any:
    """checkov wraps every Terraform JSON value in a list and adds line markers; give the plain body back."""
    if isinstance(value, dict):
        return {k: unwrap(v) for k, v in value.items() if not k.startswith("__") and k != "//"}
    if isinstance(value, list):
        return unwrap(value[0]) if len(value) == 1 else [unwrap(v) for v in value]
    return value


def to_result(check: Any, finding: Finding) -> CheckResult:
    if finding.outcome is Outcome.NOT_APPLICABLE:
        return CheckResult.UNKNOWN
    if finding.outcome is Outcome.FAILED:
        check.details.append(finding.reason)
        return CheckResult.FAILED
    return CheckResult.PASSED
