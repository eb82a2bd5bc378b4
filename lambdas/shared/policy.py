"""The governance policy as packaged with the function (policy.json, the normalized model written at synth).

Handlers never read the YAML policy: parsing and its error reporting happen once, at synth. The
policy.json that synth wrote comes with a digest (``policies/packaged.py``) of its bytes and of the
model that validated them; when the digest matches, the policy is built without validating it again
(``policies.model.packaged``). Any other file, or one that does not match its digest, is validated in
full, as is a policy.json that is not exactly a dump of this model.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from policies.packaged import vouched_for

if TYPE_CHECKING:
    from policies.model import GovernancePolicy

POLICY_FILE_ENV = "GOVERNANCE_POLICY_FILE"
PACKAGED_POLICY = Path(__file__).resolve().parents[2] / "policy.json"


@cache
def _load(path: str) -> GovernancePolicy:
    raw = Path(path).read_bytes()
    if vouched_for(Path(path), raw):
        from policies.model.packaged import NotTheModelsDump, validated_policy

        try:
            return validated_policy(json.loads(raw))
        except NotTheModelsDump:
            pass  # validated in full below
    from policies.model import GovernancePolicy

    return GovernancePolicy.model_validate_json(raw)


def governance_policy() -> GovernancePolicy:
    return _load(os.environ.get(POLICY_FILE_ENV) or str(PACKAGED_POLICY))


def reset() -> None:
    _load.cache_clear()
