"""Every external call of the approval gate fails once, or always: no violating version ends Approved, no decision
is recorded twice, every hold is recorded and alerted, and an event the gate cannot finish is dead-lettered."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.lambdas.fault_matrix import GATE_CALLS, VERSIONS, render, run_case
from tests.lambdas.world import World

DOCUMENTED = Path(__file__).resolve().parents[2] / "docs" / "fault-matrix.md"


@pytest.mark.parametrize("version", sorted(VERSIONS))
@pytest.mark.parametrize("fault", ["once", "always"])
@pytest.mark.parametrize("call", GATE_CALLS, ids=[f"{s}:{o}" for _, s, o in GATE_CALLS])
def test_the_gate_fails_closed(world: World, lambda_context: Any, call: Any, fault: str, version: str) -> None:
    outcome = run_case(world, lambda_context, call, fault, version)
    assert outcome.problems() == []
    if fault == "once":
        assert not outcome.dead_lettered, "a single failure is absorbed by the retries"
        assert sum(outcome.decision_records.values()) == 1
        expected = {"Approved", "PendingManualApproval"} if version == "compliant" else {"Rejected", "PendingManualApproval"}
        assert outcome.final_status in expected
    row = render([outcome]).splitlines()[-1]
    assert row in DOCUMENTED.read_text(encoding="utf-8"), (
        f"{DOCUMENTED} does not show this case as it runs; regenerate it: "
        ".venv/bin/python -m tests.lambdas.fault_matrix --write docs/fault-matrix.md"
    )
