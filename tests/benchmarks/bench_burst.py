"""Burst and redelivery through the approval gate against the embedded AWS (moto server on 127.0.0.1).

    .venv/bin/python -m tests.benchmarks.bench_burst [--events 1000]

The gate's real handler runs in this process; every AWS call it makes goes over HTTP to a moto
server on a loopback port (AWS_ENDPOINT_URL), as in the demo. Two bursts:

- ``--events`` distinct approvals (half compliant, half under the AUC minimum): one record each, nothing lost;
- the same approval delivered ``--events`` times: one record, one alert.

Prints throughput (events per second, one invocation at a time, as one Lambda instance) and the
checks; exits non-zero when a count is off.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import socket
import sys
import tempfile
import time
import warnings
from contextlib import redirect_stdout
from pathlib import Path

os.environ["POWERTOOLS_LOG_LEVEL"] = "CRITICAL"
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.bench_burst")
    parser.add_argument("--events", type=int, default=1000)
    args = parser.parse_args(argv)
    logging.disable(logging.CRITICAL)
    warnings.filterwarnings("ignore", message="No application metrics to publish")  # a redelivery adds no metric

    import pytest
    from moto.server import ThreadedMotoServer

    from infra.embedded_extensions import install_missing_sagemaker_operations
    from lambdas.approval_gate import handler as gate
    from policies.loader import load_policy
    from tests.conftest import OFFLINE_ENV
    from tests.events import approval_event
    from tests.lambdas.world import APPROVER, LambdaContext, build_world, reset_handler_state

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    patch = pytest.MonkeyPatch()
    rows: list[tuple[str, str, str]] = []
    ok = True
    try:
        for key, value in OFFLINE_ENV.items():
            patch.setenv(key, value)
        patch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
        install_missing_sagemaker_operations()
        with tempfile.TemporaryDirectory() as tmp:
            world = build_world(load_policy(), Path(tmp), patch)
            context = LambdaContext()
            started = time.perf_counter()
            versions = [
                world.register("credit-risk", metrics=None if i % 2 == 0 else {"auc": 0.6, "accuracy": 0.9})
                for i in range(args.events)
            ]
            registered = time.perf_counter() - started

            def approved(arn: str, event_id: str) -> dict[str, object]:
                event = approval_event(arn, event_id=event_id)
                event["detail"]["LastModifiedBy"] = {"IamIdentity": {"Arn": APPROVER, "SourceIdentity": "alice"}}
                return event

            started = time.perf_counter()
            with redirect_stdout(io.StringIO()):  # Powertools prints a full metric set even when metrics are disabled
                for i, arn in enumerate(versions):
                    gate.handler(approved(arn, f"distinct-{i}"), context)
            distinct = time.perf_counter() - started
            records = world.audit_records()
            statuses = [world.status(arn) for arn in versions]
            compliant_kept = sum(s == "Approved" for s in statuses[0::2])
            violating_rejected = sum(s == "Rejected" for s in statuses[1::2])
            good = len(records) == args.events and compliant_kept + violating_rejected == args.events
            ok &= good
            rows.append(
                (
                    f"{args.events} distinct approvals",
                    f"{args.events / distinct:.0f} events/s ({distinct:.1f} s)",
                    f"{len(records)} records, {compliant_kept} kept Approved, {violating_rejected} rejected: {'ok' if good else 'WRONG'}",
                )
            )
            world.notifications()  # drain

            event = approved(versions[1], "redelivered")
            started = time.perf_counter()
            with redirect_stdout(io.StringIO()):
                for _ in range(args.events):
                    gate.handler(json.loads(json.dumps(event)), context)
            redelivered = time.perf_counter() - started
            new_records = len(world.audit_records()) - len(records)
            alerts = len(world.notifications())
            good = new_records == 1 and alerts == 1
            ok &= good
            rows.append(
                (
                    f"one approval delivered {args.events} times",
                    f"{args.events / redelivered:.0f} events/s ({redelivered:.1f} s)",
                    f"{new_records} record, {alerts} alert: {'ok' if good else 'WRONG'}",
                )
            )
            rows.append(("registering the versions (setup)", f"{args.events / registered:.0f} versions/s", ""))
    finally:
        reset_handler_state()
        patch.undo()
        server.stop()
    print("| burst | throughput | result |")
    print("|---|---|---|")
    for row in rows:
        print(f"| {row[0]} | {row[1]} | {row[2]} |")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
