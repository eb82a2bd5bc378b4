"""Role names the IAM documents match by pattern: the experiment roles, and nothing else, end with their suffix."""

from __future__ import annotations

from fnmatch import fnmatchcase

import pytest

from lambdas.table import HANDLERS
from policies.model import GovernancePolicy
from policies.naming import PERSONAS, Names
from tests.conftest import policy_variant


@pytest.mark.parametrize(
    ("org", "project"),
    [("acme", "credit-risk"), ("a" * 20, "p" * 40), ("abcdefghijklmnopqrst", "fraud-detection-for-card-payments-europe")],
)
def test_only_experiment_roles_match_the_pattern_people_may_pass(policy: GovernancePolicy, org: str, project: str) -> None:
    base = policy.projects[0].model_dump(mode="json")
    variant = policy_variant(policy, organization={"name": org}, projects=[{**base, "name": project, "endpoints": []}])
    names = Names(variant, account="123456789012")
    governed = variant.projects[0]
    pattern = names.experiment_roles.rsplit(":role/", 1)[1]

    experiment = names.experiment_role(governed)
    assert len(experiment) <= 64, experiment
    assert fnmatchcase(experiment, pattern)

    others = [
        names.execution_role(governed),
        *(names.persona_role(p) for p in PERSONAS),
        *(names.handler_role(h.name) for h in HANDLERS),
        names.event_forwarding_role,
        names.trail_delivery_role,
    ]
    assert [role for role in others if fnmatchcase(role, pattern)] == []
