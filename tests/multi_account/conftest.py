"""Multi-account fixtures: the example policy, a small team's variant, and their synthesized stacks (one process,
one App per policy: the provider import is paid once per session, as for the single-account stacks)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from policies.loader import load_policy
from policies.model import GovernancePolicy
from tests.conftest import BackgroundDeployment, in_the_background, policy_variant, terraform_tests_selected

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "multi-account" / "governance.yaml"
HUB, DEV, STAGING, PROD, ADMIN = "111111111111", "222222222222", "333333333333", "444444444444", "999999999999"
ORGANIZATION_ID = "o-a1b2c3d4e5"


@dataclass
class SynthesizedAccounts:
    policy: GovernancePolicy
    outdir: Path
    stacks: dict[str, dict[str, Any]]

    def resources(self, rtype: str, stack: str | None = None) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for name, config in self.stacks.items():
            if stack is None or name == stack:
                found.update(config.get("resource", {}).get(rtype, {}))
        return found


SynthesizeAccountsFn = Callable[[GovernancePolicy], SynthesizedAccounts]


@pytest.fixture(scope="session")
def example_policy() -> GovernancePolicy:
    return load_policy(EXAMPLE)


def small_team(policy: GovernancePolicy) -> GovernancePolicy:
    """The example for a small team: dev and staging share one account; three watched Regions (a faster apply)."""
    return policy_variant(
        policy,
        regions={"watched": ["eu-central-1", "eu-west-1", "us-east-1"]},
        accounts={
            "stages": [
                {"name": "dev", "account": DEV, "ou": "ou-a1b2-nonprodwl"},
                {"name": "staging", "account": DEV, "ou": "ou-a1b2-nonprodwl"},
                {"name": "prod", "account": PROD, "ou": "ou-a1b2-prodwkld"},
            ]
        },
    )


@pytest.fixture(scope="session")
def synthesize_accounts(tmp_path_factory: pytest.TempPathFactory) -> SynthesizeAccountsFn:
    from infra.multi_account import stack_names, synth

    cache: dict[str, SynthesizedAccounts] = {}

    def _synth(policy: GovernancePolicy) -> SynthesizedAccounts:
        if policy.version not in cache:
            # a directory that does not exist yet, two levels deep: synth creates it, as the command does
            outdir = synth(policy, tmp_path_factory.mktemp("accounts") / "out" / "cdktf-accounts.out")
            stacks = {name: json.loads((outdir / "stacks" / name / "cdk.tf.json").read_text()) for name in stack_names(policy)}
            cache[policy.version] = SynthesizedAccounts(policy, outdir, stacks)
        return cache[policy.version]

    return _synth


@pytest.fixture(scope="session")
def example(synthesize_accounts: SynthesizeAccountsFn, example_policy: GovernancePolicy) -> SynthesizedAccounts:
    return synthesize_accounts(example_policy)


@pytest.fixture(scope="session")
def small_team_policy(example_policy: GovernancePolicy) -> GovernancePolicy:
    return small_team(example_policy)


@pytest.fixture(scope="session")
def small(synthesize_accounts: SynthesizeAccountsFn, small_team_policy: GovernancePolicy) -> SynthesizedAccounts:
    return synthesize_accounts(small_team_policy)


# ---- the multi-account apply runs in the background from this directory's first test on -------------------------


@pytest.fixture(scope="session", autouse=True)
def accounts_deployment(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BackgroundDeployment | None]:
    """Started when this directory's terraform tests are selected and terraform is installed (they wait for it)."""
    if not terraform_tests_selected(request, Path(__file__).parent):
        yield None
        return
    small_team_synth: SynthesizedAccounts = request.getfixturevalue("small")
    from infra.multi_account import deploy_local

    background = BackgroundDeployment(
        "the multi-account deploy",
        small_team_synth.policy.regions.home,
        tmp_path_factory.mktemp("deploy-accounts"),
        lambda aws, workdir: deploy_local(small_team_synth.outdir, small_team_synth.policy, workdir / "stacks", aws),
        # Not niced: its waves wait on AWS's settling times (lifecycle rules, queues) one after the other, the
        # suite's longest path; niced, it finished well after every other test.
        niced=False,
    )
    yield background
    background.stop()


@pytest.fixture(scope="session", autouse=True)
def example_validation(request: pytest.FixtureRequest) -> Future[list[Any]] | None:
    """The example's stacks, validated from this directory's first test on, one stack per core."""
    if not terraform_tests_selected(request, Path(__file__).parent):
        return None
    example_synth: SynthesizedAccounts = request.getfixturevalue("example")
    from infra.multi_account import stack_names
    from infra.terraform_cli import validate

    names = stack_names(example_synth.policy)
    return in_the_background(lambda: validate(example_synth.outdir, names, workers=os.cpu_count() or 1))
