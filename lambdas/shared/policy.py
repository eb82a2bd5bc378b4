"""The governance policy as packaged with the function (policy.json, the normalized model written at synth).

Handlers never read the YAML policy: parsing and its error reporting happen once, at synth.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from policies.model import GovernancePolicy

POLICY_FILE_ENV = "GOVERNANCE_POLICY_FILE"
PACKAGED_POLICY = Path(__file__).resolve().parents[2] / "policy.json"


@cache
def _load(path: str) -> GovernancePolicy:
    return GovernancePolicy.model_validate_json(Path(path).read_text(encoding="utf-8"))


def governance_policy() -> GovernancePolicy:
    return _load(os.environ.get(POLICY_FILE_ENV) or str(PACKAGED_POLICY))


def reset() -> None:
    _load.cache_clear()
