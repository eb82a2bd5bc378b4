from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.review.bad_stack import BAD_STACK


@pytest.fixture(scope="session")
def bad_stack(bad_stack_outdir: Path) -> dict[str, Any]:
    config: dict[str, Any] = json.loads((bad_stack_outdir / "stacks" / BAD_STACK / "cdk.tf.json").read_text())
    return config
