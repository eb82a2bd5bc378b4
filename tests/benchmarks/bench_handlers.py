"""Enforcement handlers: cold init, warm per-event time, deployment package sizes.

    .venv/bin/python -m tests.benchmarks.bench_handlers [--events 2000] [--cold-runs 7]

- cold init: a fresh interpreter (-I -S) that sees only the staged package, the dependencies
  layer and the packages the Lambda runtime provides imports the handler module (the median of
  --cold-runs processes). The Lambda service's own init is not included.
- warm decision: the pure decision function alone, over --events generated inputs (no AWS).
- warm handler: the whole handler per event in moto (AWS calls served in-process by moto,
  so this includes moto's time; it is an upper bound for the handler's own work).
- package sizes: the zip archives Terraform uploads (code per handler, one shared layer).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from infra.lambda_packaging import stage_code, stage_dependencies
from lambdas.table import HANDLERS, handler_spec
from policies.loader import load_policy
from policies.model import GovernancePolicy
from policies.rules.approval import ModelVersionFacts, decide_approval
from policies.rules.classification import decide_classification
from policies.rules.region import decide_region
from policies.rules.resources import ResourceFacts, ResourceKind
from tests.lambdas.test_packaged_artifact import PROBE, RUNTIME_PACKAGES


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def cold_init(handler: str, policy: GovernancePolicy, runs: int, runtime: Path) -> float:
    paths = [str(stage_code(policy)), str(stage_dependencies() / "python"), str(runtime)]
    module = handler_spec(handler).entrypoint.rsplit(".", 1)[0]
    env = {"PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "eu-west-1", "POWERTOOLS_TRACE_DISABLED": "true"}
    samples = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-I", "-S", "-c", PROBE.format(paths=paths, module=module)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        samples.append(json.loads(out.stdout.strip().splitlines()[-1])["imported_s"])
    return statistics.median(samples)


IMPORT_COSTS = ("aws_xray_sdk.core", "boto3", "policies.model", "aws_lambda_powertools", "pydantic")


def import_costs(handler: str, policy: GovernancePolicy, runtime: Path) -> dict[str, float]:
    """Cumulative import time (s) of the heaviest dependencies, from ``python -X importtime``."""
    paths = [str(stage_code(policy)), str(stage_dependencies() / "python"), str(runtime)]
    module = handler_spec(handler).entrypoint.rsplit(".", 1)[0]
    code = f"import sys; sys.path[:0] = {paths!r}; import {module}"
    env = {"PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "eu-west-1", "POWERTOOLS_TRACE_DISABLED": "true"}
    out = subprocess.run(
        [sys.executable, "-I", "-S", "-X", "importtime", "-c", code], env=env, capture_output=True, text=True, check=True
    )
    costs = {}
    for line in out.stderr.splitlines():
        fields = [f.strip() for f in line.removeprefix("import time:").split("|")]
        if len(fields) == 3 and fields[2] in IMPORT_COSTS:
            costs[fields[2]] = int(fields[1]) / 1e6
    return costs


def zipped_size(directory: Path) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "a.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
            for path in sorted(directory.rglob("*")):
                if path.is_file():
                    zipped.write(path, path.relative_to(directory))
        return archive.stat().st_size


def decision_inputs(policy: GovernancePolicy, count: int) -> dict[str, list[Callable[[], Any]]]:
    rng = random.Random(7)  # noqa: S311 - reproducible benchmark inputs
    levels = [*policy.classification.levels, "bogus"]
    approvals, classifications, regions = [], [], []
    for i in range(count):
        facts = ModelVersionFacts(
            package_arn=f"arn:aws:sagemaker:eu-west-1:123456789012:model-package/credit-risk/{i}",
            group_name=rng.choice(["credit-risk", "churn-forecast", "claims-triage", "unknown"]),
            group_tags={"data-classification": rng.choice(levels)},
            metrics_report_uri="s3://acme-ml-lineage-123456789012-eu-west-1/e.json",
            metrics_report_found=True,
            metrics={"auc": rng.random(), "accuracy": rng.random(), "f1": rng.random()},
            training_data_uri="s3://acme-ml-lineage-123456789012-eu-west-1/t.csv",
            training_data_found=rng.random() > 0.1,
            created_by="arn:aws:sts::123456789012:assumed-role/a/x",
            approved_by=rng.choice(["arn:aws:sts::123456789012:assumed-role/a/x", "arn:aws:sts::123456789012:assumed-role/b/y"]),
        )
        resource = ResourceFacts(
            kind=rng.choice(list(ResourceKind)),
            name=rng.choice(["credit-risk-m", "churn-forecast-job", "adhoc"]),
            arn=f"arn:aws:sagemaker:eu-west-1:123456789012:model/m{i}",
            region=rng.choice(["eu-west-1", "us-east-1", "eu-central-1"]),
            tags={"data-classification": rng.choice(levels)},
        )
        approvals.append(lambda f=facts: decide_approval(policy, f, lineage_bucket="acme-ml-lineage-123456789012-eu-west-1"))
        classifications.append(lambda r=resource: decide_classification(policy, r))
        regions.append(lambda r=resource: decide_region(policy, r))
    return {"approval-gate": approvals, "classification-tags": classifications, "region-guard": regions}


def time_calls(calls: list[Callable[[], Any]]) -> list[float]:
    samples = []
    for call in calls:
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return samples


def warm_handlers(policy: GovernancePolicy, count: int) -> dict[str, list[float]]:
    """Whole-handler time per event with moto serving AWS in-process."""
    import os

    import pytest
    from moto import mock_aws

    from infra.embedded_extensions import install_missing_sagemaker_operations
    from lambdas.approval_gate import handler as gate
    from lambdas.classification_tags import handler as classification
    from lambdas.region_guard import handler as guard
    from tests.events import api_call_event, approval_event
    from tests.lambdas.sagemaker_fixtures import create_model
    from tests.lambdas.world import LambdaContext, build_world

    install_missing_sagemaker_operations()
    os.environ.update(
        {
            "POWERTOOLS_TRACE_DISABLED": "true",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "eu-west-1",
        }
    )
    context = LambdaContext()
    results: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp, mock_aws():
        monkeypatch = pytest.MonkeyPatch()
        world = build_world(policy, Path(tmp), monkeypatch)
        arn = world.register("credit-risk")
        create_model("credit-risk-m", {"ml-project": "credit-risk", "data-classification": "confidential"})
        create_model("credit-risk-o", {"ml-project": "credit-risk"}, region="us-east-1")
        cases: dict[str, tuple[Any, Callable[[], dict[str, Any]]]] = {
            "approval-gate": (gate.handler, lambda: approval_event(arn)),
            "classification-tags": (
                classification.handler,
                lambda: api_call_event("CreateModel", name="credit-risk-m", region="eu-west-1"),
            ),
            "region-guard": (guard.handler, lambda: api_call_event("CreateModel", name="credit-risk-o", region="us-east-1")),
        }
        import logging

        logging.disable(logging.CRITICAL)
        for handler, (function, make_event) in cases.items():
            events = [make_event() for _ in range(count)]
            function(events[0], context)  # warm
            results[handler] = time_calls([lambda e=e, f=function: f(e, context) for e in events[1:]])
        monkeypatch.undo()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.bench_handlers")
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--cold-runs", type=int, default=7)
    parser.add_argument("--handler-events", type=int, default=300)
    args = parser.parse_args(argv)
    policy = load_policy()
    with tempfile.TemporaryDirectory() as tmp:
        runtime = Path(tmp)
        for name in RUNTIME_PACKAGES:
            source = Path(__import__(name).__file__)
            link = runtime / (name if source.name == "__init__.py" else source.name)
            link.symlink_to(source.parent if source.name == "__init__.py" else source)
        cold = {h: cold_init(h, policy, args.cold_runs, runtime) for h in sorted(spec.name for spec in HANDLERS)}
        costs = {h: import_costs(h, policy, runtime) for h in sorted(spec.name for spec in HANDLERS)}
    decisions = {h: time_calls(calls) for h, calls in decision_inputs(policy, args.events).items()}
    import io
    from contextlib import redirect_stdout

    with redirect_stdout(io.StringIO()):  # the handlers log JSON lines to stdout
        handlers = warm_handlers(policy, args.handler_events)
    layer = zipped_size(stage_dependencies())
    print(f"handler benchmark (python {sys.version.split()[0]}): cold init = median of {args.cold_runs} fresh processes;")
    print(
        f"decision = pure rules over {args.events} generated inputs; handler = whole handler per event in moto ({args.handler_events} events)"
    )
    print(
        "| handler | cold init: import (ms) | decision median (µs) | decision p99 (µs) | handler in moto median (ms) | handler in moto p99 (ms) | code zip (KiB) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for handler in sorted(spec.name for spec in HANDLERS):
        d, h = decisions[handler], handlers[handler]
        code = zipped_size(stage_code(policy))
        print(
            f"| {handler} | {cold[handler] * 1000:.0f} | {statistics.median(d) * 1e6:.1f} | {percentile(d, 0.99) * 1e6:.1f} | "
            f"{statistics.median(h) * 1000:.1f} | {percentile(h, 0.99) * 1000:.1f} | {code / 1024:.0f} |"
        )
    print(f"shared dependencies layer zip: {layer / 1024 / 1024:.1f} MiB")
    print()
    print("cold import, cumulative ms per dependency (python -X importtime, one process; nested, so they overlap):")
    print("| handler | " + " | ".join(IMPORT_COSTS) + " |")
    print("|---|" + "---:|" * len(IMPORT_COSTS))
    for handler in sorted(spec.name for spec in HANDLERS):
        print(f"| {handler} | " + " | ".join(f"{costs[handler].get(m, 0) * 1000:.0f}" for m in IMPORT_COSTS) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
