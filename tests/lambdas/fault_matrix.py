"""Fault injection at every external call of the approval gate, with EventBridge's retries.

    .venv/bin/python -m tests.lambdas.fault_matrix [--write docs/fault-matrix.md]

Each case: a model version (compliant, or violating its project's thresholds) is approved; one AWS
call the gate makes fails once (then succeeds) or always; the event is delivered, redelivered on
every failure (the Lambda async retries and the rule's retry policy) up to ``DELIVERIES`` times, and
once more after success (at-least-once delivery). What must hold in every case:

- a violating version never ends Approved;
- at most one record of the final decision, and one alert per non-allow record when alerting works;
- every hold-back is recorded (when recording works), and the approver recorded is the person, never the gate;
- when the gate never finishes, the last delivery raises: the event goes to the dead-letter queue (alarm).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lambdas.approval_gate import handler as gate
from tests.events import approval_event
from tests.lambdas.world import APPROVER, World, fail_calls

DELIVERIES = 4
# (client Region, service, operation): the calls the gate makes, through which client.
GATE_CALLS: tuple[tuple[str | None, str, str], ...] = (
    ("eu-west-1", "sagemaker", "DescribeModelPackage"),
    ("eu-west-1", "sagemaker", "DescribeModelPackageGroup"),
    ("eu-west-1", "sagemaker", "ListTags"),
    ("eu-west-1", "s3", "GetObject"),
    ("eu-west-1", "s3", "ListObjectVersions"),
    ("eu-west-1", "sagemaker", "UpdateModelPackage"),
    (None, "dynamodb", "GetItem"),
    (None, "dynamodb", "PutItem"),
    (None, "dynamodb", "UpdateItem"),
    (None, "s3", "PutObject"),
    (None, "sns", "Publish"),
)
VERSIONS = {"compliant": {"auc": 0.91, "accuracy": 0.88}, "violating": {"auc": 0.61, "accuracy": 0.88}}


class _LaterRetries:
    """The Lambda context with no time left: the in-progress lock of a failed delivery has expired by the next one,
    as it has in AWS, where EventBridge and Lambda space their retries by a minute or more."""

    def __init__(self, context: Any) -> None:
        self._context = context

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)

    def get_remaining_time_in_millis(self) -> int:
        return 1


@dataclass(frozen=True)
class Outcome:
    call: str
    fault: str
    version: str
    final_status: str
    deliveries: int
    dead_lettered: bool
    decision_records: Counter[str]
    holds: int
    alerts: int
    approvers: tuple[str | None, ...]

    def problems(self) -> list[str]:
        out = []
        status_write_down = self.call == "sagemaker:UpdateModelPackage" and self.fault == "always"
        if self.version == "violating" and self.final_status == "Approved" and not (status_write_down and self.dead_lettered):
            # the one case no code can fix: the safe write itself always fails; the dead-letter alarm is the signal
            out.append("a violating version stayed Approved")
        if any(n > 1 for n in self.decision_records.values()):
            out.append(f"a decision recorded more than once: {dict(self.decision_records)}")
        if any(a not in (APPROVER, None) for a in self.approvers):
            out.append(f"recorded approver is not the person: {self.approvers}")
        if not self.dead_lettered and not self.decision_records:
            out.append("the gate finished without recording its decision")
        if self.call == "sns:Publish" and self.fault == "always":
            return out
        denies = sum(n for d, n in self.decision_records.items() if d != "allow") + self.holds
        if not self.dead_lettered and self.alerts != denies:
            out.append(f"{denies} non-allow records but {self.alerts} alerts")
        return out


def run_case(world: World, context: Any, call: tuple[str | None, str, str], fault: str, version: str) -> Outcome:
    arn = world.register("credit-risk", metrics=VERSIONS[version])
    event = approval_event(arn, event_id=f"{call[1]}-{call[2]}-{fault}-{version}")
    event["detail"]["LastModifiedBy"] = {"IamIdentity": {"Arn": APPROVER, "SourceIdentity": "alice"}}
    region, service, operation = call
    fail_calls(region, service, operation, "InternalError", times=1 if fault == "once" else None)
    context = _LaterRetries(context)
    deliveries, dead_lettered = 0, False
    for deliveries in range(1, DELIVERIES + 1):
        try:
            gate.handler(json.loads(json.dumps(event)), context)
            break
        except Exception:  # noqa: BLE001 - EventBridge sees a failed invocation and redelivers
            dead_lettered = deliveries == DELIVERIES
    if not dead_lettered:
        gate.handler(json.loads(json.dumps(event)), context)  # at-least-once: one more redelivery after success
    records = [r for r in world.audit_records() if r["what"] == arn]
    return Outcome(
        call=f"{service}:{operation}",
        fault=fault,
        version=version,
        final_status=world.status(arn),
        deliveries=deliveries,
        dead_lettered=dead_lettered,
        decision_records=Counter(r["decision"] for r in records if r["decision"] != "undecidable"),
        holds=sum(r["decision"] == "undecidable" for r in records),
        alerts=sum(1 for n in world.notifications() if n.get("what") == arn),
        approvers=tuple(r["who"] for r in records if r["decision"] != "undecidable"),
    )


HEADER = """# Fault-injection matrix of the approval gate

Generated by `.venv/bin/python -m tests.lambdas.fault_matrix --write docs/fault-matrix.md` (the same cases run in
`tests/lambdas/test_fault_matrix.py`). Each row: a model version of credit-risk, compliant or under its AUC
minimum, is approved by a person; one AWS call the gate makes fails once (then succeeds) or always; the event
is delivered up to 4 times (EventBridge and Lambda retries), and once more after a success (at-least-once
delivery). *holds* are undecidable records of a hold-back (the version set to PendingManualApproval);
*decision records* are the gate's allow/deny records; *alerts* are messages on the alerts topic.

Reading it: a single failure never leaves a violating version Approved and never records a decision twice; a
compliant version that met a failure is held (PendingManualApproval) and must be approved again, which is
what failing closed costs. The one row where a violating version stays Approved is the status write itself
failing on every attempt: no code can change a status AWS refuses to change, so the event is dead-lettered
and the dead-letter alarm fires. When the alert ledger (DynamoDB) is down, alerts may repeat: at least once,
never silent.

"""


def render(outcomes: list[Outcome]) -> str:
    lines = [
        "| failing call | fault | version | final status | deliveries | dead-lettered | decision records | holds | alerts | problems |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for o in outcomes:
        records = ", ".join(f"{d} x{n}" for d, n in sorted(o.decision_records.items())) or "none"
        lines.append(
            f"| `{o.call}` | {o.fault} | {o.version} | {o.final_status} | {o.deliveries} | {'yes' if o.dead_lettered else 'no'} "
            f"| {records} | {o.holds} | {o.alerts} | {'; '.join(o.problems()) or 'none'} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    import logging
    import os
    import tempfile

    import pytest
    from moto import mock_aws

    from infra.embedded_extensions import install_missing_sagemaker_operations
    from policies.loader import load_policy
    from tests.conftest import OFFLINE_ENV
    from tests.lambdas.world import LambdaContext, build_world, reset_handler_state

    os.environ["POWERTOOLS_LOG_LEVEL"] = "CRITICAL"  # the injected failures are logged as errors by design
    logging.disable(logging.CRITICAL)
    parser = argparse.ArgumentParser(prog="python -m tests.lambdas.fault_matrix")
    parser.add_argument("--write", type=Path)
    args = parser.parse_args(argv)
    install_missing_sagemaker_operations()
    outcomes = []
    for call in GATE_CALLS:
        for fault in ("once", "always"):
            for version in VERSIONS:
                with mock_aws(), tempfile.TemporaryDirectory() as tmp:
                    patch = pytest.MonkeyPatch()
                    for key, value in OFFLINE_ENV.items():
                        patch.setenv(key, value)
                    try:
                        world = build_world(load_policy(), Path(tmp), patch)
                        outcomes.append(run_case(world, LambdaContext(), call, fault, version))
                    finally:
                        reset_handler_state()
                        patch.undo()
    table = render(outcomes)
    if args.write:
        args.write.write_text(HEADER + table)
    sys.stdout.write(table)
    return 1 if any(o.problems() for o in outcomes) else 0


if __name__ == "__main__":
    raise SystemExit(main())
