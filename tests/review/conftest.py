from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from policies.model import GovernancePolicy
from tests.review.bad_stack import BAD_STACK, synth_bad_stack


@pytest.fixture(scope="session")
def bad_stack_outdir(policy: GovernancePolicy, tmp_path_factory: pytest.TempPathFactory) -> Path:
    outdir = tmp_path_factory.mktemp("bad-stack")
    synth_bad_stack(policy, outdir)
    return outdir


@pytest.fixture(scope="session")
def bad_stack(bad_stack_outdir: Path) -> dict[str, Any]:
    config: dict[str, Any] = json.loads((bad_stack_outdir / "stacks" / BAD_STACK / "cdk.tf.json").read_text())
    return config
