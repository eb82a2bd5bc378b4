"""The governance policy as packaged with the function (policy.json, the normalized model written at synth).

Handlers never read the YAML policy: parsing and its error reporting happen once, at synth. The
policy.json that synth wrote comes with the model's shape and a digest of both and of the model that
validated them (``policies/packaged.py``); when the digest matches, the handler reads the policy through
a view built from the shape, without pydantic or the model (a cold start does not pay for them). Any
other file, or one that does not match its digest, is validated in full by the model, as is a
policy.json that is not exactly a dump of it.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from policies.packaged import vouched_view

if TYPE_CHECKING:
    from policies.model import GovernancePolicy

POLICY_FILE_ENV = "GOVERNANCE_POLICY_FILE"
PACKAGED_POLICY = Path(__file__).resolve().parents[2] / "policy.json"


@cache
def _load(path: str) -> GovernancePolicy:
    raw = Path(path).read_bytes()
    view: GovernancePolicy | None = vouched_view(Path(path), raw)  # the same fields and derived views
    if view is not None:
        return view
    from policies.model import GovernancePolicy  # validated in full

    return GovernancePolicy.model_validate_json(raw)


def governance_policy() -> GovernancePolicy:
    return _load(os.environ.get(POLICY_FILE_ENV) or str(PACKAGED_POLICY))


def reset() -> None:
    _load.cache_clear()
