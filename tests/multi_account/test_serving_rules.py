"""The deployment guard in a workload account: only versions of the hub's registry may serve there."""

from __future__ import annotations

from dataclasses import replace

from policies.model import GovernancePolicy
from policies.rules.deployment import ServedVersion, serving_problem

HUB, DEV = "111111111111", "222222222222"


def test_a_version_of_a_workload_accounts_own_registry_may_not_serve_there(example_policy: GovernancePolicy) -> None:
    """A workload account's administrator may approve versions of its own registry (no guardrail covers it outside
    the hub); the deployer refuses them, and so must the guard for an endpoint made outside the deployer, even when
    the hub's ledger names that version as cleared and promoted."""
    local = ServedVersion(
        variant="AllTraffic",
        model="credit-risk-m",
        model_package=f"arn:aws:sagemaker:eu-west-1:{DEV}:model-package/credit-risk/3",
        status="Approved",
        cleared=True,
        project="credit-risk",
        promoted_into=("staging", "prod"),
    )
    problem = serving_problem(example_policy, "credit-risk-scoring", local, account_stages=["prod"])
    assert problem == (
        f"variant AllTraffic (model credit-risk-m) serves {local.model_package}: {local.model_package} is not a version "
        f"of the hub's registry (account {HUB})"
    )
    hubs = replace(local, model_package=f"arn:aws:sagemaker:eu-west-1:{HUB}:model-package/credit-risk/3")
    assert serving_problem(example_policy, "credit-risk-scoring", hubs, account_stages=["prod"]) is None
