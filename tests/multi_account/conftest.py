"""Multi-account fixtures: the example policy, a small team's variant, and their synthesized stacks (one process,
one App per policy: the provider import is paid once per session, as for the single-account stacks)."""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from policies.loader import load_policy
from policies.model import GovernancePolicy
from tests.conftest import policy_variant, yield_to_the_tests

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
            outdir = synth(policy, tmp_path_factory.mktemp("cdktf-accounts.out"))
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


class BackgroundAccountsDeployment:
    """terraform apply of a layout into an embedded AWS, on a thread; the AWS stays up until the session ends."""

    def __init__(self, synthesized: SynthesizedAccounts, workdir: Path) -> None:
        self._ready, self._release = threading.Event(), threading.Event()
        self.aws: Any = None
        self.results: list[Any] = []
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(synthesized, workdir), daemon=True, name="deploy-accounts")
        self._thread.start()

    def _run(self, synthesized: SynthesizedAccounts, workdir: Path) -> None:
        from infra.embedded_aws import embedded_aws
        from infra.multi_account import deploy_local

        yield_to_the_tests()
        try:
            with embedded_aws(synthesized.policy.regions.home, log_path=workdir / "moto.log") as aws:
                self.aws = aws
                self.results = deploy_local(synthesized.outdir, synthesized.policy, workdir / "stacks", aws)
                self._ready.set()
                self._release.wait()
        except BaseException as exc:  # noqa: BLE001 - surfaced to the tests that wait for the deploy
            self.error = exc
        finally:
            self._ready.set()

    def wait(self, timeout: float = 2400) -> tuple[Any, list[Any]]:
        if not self._ready.wait(timeout):
            raise TimeoutError(f"the multi-account deploy did not finish within {timeout} s")
        if self.error is not None:
            raise RuntimeError(f"the multi-account deploy failed: {self.error!r}") from self.error
        return self.aws, self.results

    def stop(self) -> None:
        self._release.set()
        self._thread.join(timeout=60)


@pytest.fixture(scope="session", autouse=True)
def accounts_deployment(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BackgroundAccountsDeployment | None]:
    """Started when this directory's terraform tests are selected and terraform is installed (they wait for it)."""
    selected = any(
        item.get_closest_marker("terraform") and Path(str(item.fspath)).parent == Path(__file__).parent
        for item in request.session.items
    )
    if not selected or shutil.which("terraform") is None:
        yield None
        return
    small_team_synth: SynthesizedAccounts = request.getfixturevalue("small")
    background = BackgroundAccountsDeployment(small_team_synth, tmp_path_factory.mktemp("deploy-accounts"))
    yield background
    background.stop()
