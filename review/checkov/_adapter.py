"""What every custom check shares: the policy the scan hands over, checkov's conf unwrapped, results mapped.

The scan (``review/scan.py``) writes the already-parsed policy as JSON and names the file in
``$GOVERNANCE_POLICY_JSON``; checks never parse the YAML policy themselves.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any

from policies.model import GovernancePolicy
from policies.rules.infrastructure import Finding, Outcome

POLICY_JSON_ENV = "GOVERNANCE_POLICY_JSON"


@cache
def governance_policy() -> GovernancePolicy:
    """The policy the scan was started with (the normalized JSON of the parsed model)."""
    path = os.environ.get(POLICY_JSON_ENV)
    if not path:
        raise RuntimeError(f"${POLICY_JSON_ENV} is not set: run the organization checks through `make scan` (review/scan.py)")
    return GovernancePolicy.model_validate_json(Path(path).read_text(encoding="utf-8"))


def unwrap(value: Any) -> Any:
    """checkov wraps every Terraform JSON value in a list and adds line markers; give the plain body back."""
    if isinstance(value, dict):
        return {k: unwrap(v) for k, v in value.items() if not k.startswith("__") and k != "//"}
    if isinstance(value, list):
        return unwrap(value[0]) if len(value) == 1 else [unwrap(v) for v in value]
    return value


def to_result(check: Any, finding: Finding) -> Any:
    from checkov.common.models.enums import CheckResult

    if finding.outcome is Outcome.NOT_APPLICABLE:
        return CheckResult.UNKNOWN
    if finding.outcome is Outcome.FAILED:
        check.details.append(finding.reason)
        return CheckResult.FAILED
    return CheckResult.PASSED
