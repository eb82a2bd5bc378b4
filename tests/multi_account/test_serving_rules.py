"""The deployment guard in a workload account: only versions of the hub's registry may serve there."""

from __future__ import annotations

from dataclasses import replace

import pytest

from policies.model import GovernancePolicy
from policies.rules.deployment import ServedVersion, StageFacts, decide_deployment_request, endpoint_stage, serving_problem

HUB, DEV = "111111111111", "222222222222"


def _cleared(promoted_into: tuple[str, ...] = (), *, registry: str = HUB) -> ServedVersion:
    """A cleared credit-risk version of ``registry``'s model registry."""
    return ServedVersion(
        variant="AllTraffic",
        model="credit-risk-m",
        model_package=f"arn:aws:sagemaker:eu-west-1:{registry}:model-package/credit-risk/3",
        status="Approved",
        cleared=True,
        project="credit-risk",
        promoted_into=promoted_into,
    )


def test_a_version_of_a_workload_accounts_own_registry_may_not_serve_there(example_policy: GovernancePolicy) -> None:
    """A workload account's administrator may approve versions of its own registry (no guardrail covers it outside
    the hub); the deployer refuses them, and so must the guard for an endpoint made outside the deployer, even when
    the hub's ledger names that version as cleared and promoted."""
    local = _cleared(("staging", "prod"), registry=DEV)
    problem = serving_problem(example_policy, "credit-risk-scoring", local, account_stages=["prod"])
    assert problem == (
        f"variant AllTraffic (model credit-risk-m) serves {local.model_package}: {local.model_package} is not a version "
        f"of the hub's registry (account {HUB})"
    )
    hubs = replace(local, model_package=f"arn:aws:sagemaker:eu-west-1:{HUB}:model-package/credit-risk/3")
    assert serving_problem(example_policy, "credit-risk-scoring", hubs, account_stages=["prod"]) is None


# ---- stages sharing an account: the endpoint's name says which stage it serves -----------------------------------
@pytest.mark.parametrize(
    ("endpoint", "promoted_into", "problem"),
    [
        ("credit-risk-dev-scoring", (), None),
        ("credit-risk-staging-scoring", (), "which has not been promoted into staging"),
        ("credit-risk-staging-scoring", ("staging",), None),
        ("credit-risk-scoring", ("staging",), "names none of the stages sharing this account"),
    ],
)
def test_in_an_account_shared_by_dev_and_staging_the_guard_judges_the_stage_the_endpoint_is_named_for(
    small_team_policy: GovernancePolicy, endpoint: str, promoted_into: tuple[str, ...], problem: str | None
) -> None:
    """Before, any cleared version could serve in the account dev shares with staging, on any endpoint: dev needs no
    promotion, and the guard asked whether one of the account's stages would take the version."""
    found = serving_problem(small_team_policy, endpoint, _cleared(promoted_into), account_stages=["dev", "staging"])
    assert (found is None) if problem is None else (found is not None and problem in found)


@pytest.mark.parametrize(
    ("stage", "endpoint", "allowed"),
    [
        ("dev", "credit-risk-dev-scoring", True),
        ("dev", "credit-risk-staging-scoring", False),
        ("dev", "credit-risk-scoring", False),
        ("staging", "credit-risk-staging-scoring", True),
    ],
)
def test_in_a_shared_account_the_deployer_deploys_only_into_an_endpoint_named_for_its_stage(
    small_team_policy: GovernancePolicy, stage: str, endpoint: str, allowed: bool
) -> None:
    """A version never promoted into staging was deployed "as dev" into the endpoint staging serves from."""
    decision = decide_deployment_request(small_team_policy, _cleared(("staging",)), endpoint, StageFacts(stage, promoted=True))
    assert decision.allowed is allowed, decision.violations
    if not allowed:
        assert any(f"name it for stage {stage} (credit-risk-{stage}-...)" in v.message for v in decision.violations)


def test_an_account_running_one_stage_keeps_its_endpoint_names(example_policy: GovernancePolicy) -> None:
    assert serving_problem(example_policy, "credit-risk-scoring", _cleared(("staging", "prod")), account_stages=["prod"]) is None
    decision = decide_deployment_request(example_policy, _cleared(), "credit-risk-scoring", StageFacts("dev"))
    assert decision.allowed, decision.violations


@pytest.mark.parametrize(
    ("endpoint", "stage"),
    [
        ("credit-risk-dev-eu", "dev-eu"),
        ("credit-risk-dev-eu-scoring", "dev-eu"),
        ("credit-risk-dev", "dev"),
        ("credit-risk-dev-scoring", "dev"),
        ("credit-risk-deve", None),
        ("credit-risk-scoring", None),
    ],
)
def test_an_endpoint_named_exactly_for_a_stage_is_that_stages(endpoint: str, stage: str | None) -> None:
    """``credit-risk-dev-eu`` was judged dev's endpoint (it starts with ``credit-risk-dev-``), so a version never
    promoted into dev-eu served there (review of 2026-11-26)."""
    assert endpoint_stage(endpoint, "credit-risk", ["dev", "dev-eu"]) == stage
