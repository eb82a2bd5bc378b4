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


def test_the_role_kind_tag_cannot_be_a_standard_tag() -> None:
    """Provider default tags reach every role: a standard ml-governance-role: pipeline would tag the personas as
    execution roles, which the lineage bucket trusts (review of 2026-11-26)."""
    from tests.policies.test_loader_hardening import only_problem

    problem = only_problem(("    cost-center: ml-platform\n", "    cost-center: ml-platform\n    ml-governance-role: pipeline\n"))
    assert problem.startswith("organization.standard_tags.ml-governance-role")
    assert "the blueprint sets tag 'ml-governance-role' on each resource itself" in problem


def test_no_project_is_named_like_another_projects_resources() -> None:
    """A session tagged `churn` reaches training jobs named `churn-*`, project churn-forecast's among them."""
    from tests.policies.test_loader_hardening import only_problem

    problem = only_problem(
        (
            "  - name: churn-forecast\n",
            "  - name: churn\n    owner_team: growth\n    classification: internal\n  - name: churn-forecast\n",
        )
    )
    assert "'churn-forecast' starts with project 'churn' and a hyphen" in problem


@pytest.mark.parametrize("call", ["TagRole", "UntagRole", "CreateRole"])
def test_the_tamper_watch_reports_tagging_or_creating_a_governance_role(policy: GovernancePolicy, call: str) -> None:
    from policies.rules.outcome import Verdict
    from policies.rules.tampering import CallFacts, decide_tampering

    handlers = [h.name for h in HANDLERS]
    ours = CallFacts("iam.amazonaws.com", call, "acme-credit-risk-sagemaker-execution", "eu-west-1", actor="admin")
    theirs = CallFacts("iam.amazonaws.com", call, "team-etl", "eu-west-1", actor="admin")
    assert decide_tampering(policy, ours, handlers=handlers).verdict is Verdict.DENY
    assert decide_tampering(policy, theirs, handlers=handlers).verdict is Verdict.ALLOW
