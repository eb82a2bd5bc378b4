"""A local run and the credit-risk definition, built once for the pipeline tests."""

from __future__ import annotations

from typing import Any

import pytest

from pipelines.local_run import LocalRun, run_locally
from policies.model import GovernancePolicy


@pytest.fixture(scope="session")
def local_run(tmp_path_factory: pytest.TempPathFactory) -> LocalRun:
    return run_locally(tmp_path_factory.mktemp("pipeline"))


@pytest.fixture(scope="session")
def credit_risk(policy: GovernancePolicy) -> dict[str, Any]:
    from pipelines.cli import offline_definition

    project = policy.project("credit-risk")
    assert project is not None
    return offline_definition(policy, project)
