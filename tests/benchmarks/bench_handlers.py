"""Enforcement handlers: cold start next to a minimal Powertools handler, warm per-event time, package sizes.

    .venv/bin/python -m tests.benchmarks.bench_handlers [--deployed-runs 9] [--cold-runs 5] [--sources-runs 3] [--events 2000]

Cold start: a fresh interpreter (``-I -S``) that sees only the staged package, the layer(s) and the
packages the Lambda runtime provides, with tracing on (``LAMBDA_TASK_ROOT`` set, as in Lambda), the
median of ``--deployed-runs`` (``--cold-runs``, ``--sources-runs``) processes, each handler interleaved with the baseline:

- *floor*: a minimal Powertools handler, ``Logger`` + ``Metrics`` + ``Tracer()`` (defaults) + one boto3
  client created at import; its import is all it pays. The goal (import + client creation, as Lambda pays) is the
  handler ready for its first event at or below it.
- *cold import*: importing the handler module (what the Lambda init phase runs).
- *ready for the first event*: the import, then what the first event loads before its first AWS call:
  the packaged policy, the readers of its events (and the once-per-event store for handlers
  invoked at least once), and one client (botocore's, as the handlers make them), as the floor has.
- *lower bound*: the approval gate ready for its first event with the policy read as plain JSON and no event
  read (pydantic never imported, checked): what its own modules, the once-per-event store and a client cost,
  below which no reader of the policy or the events can bring it.

Three ways: *as deployed* (``-B``: the bytecode the code package and the layer ship, the runtime's
precompiled boto3, nothing written; infra/lambda_packaging.py); *bytecode cached* (a ``-X pycache_prefix``
directory warmed by one untimed run: the import work alone); and *sources only*, what Lambda paid
before the packages shipped bytecode (the layer and the code compiled on every cold start).
Nothing is written into the staged directories: they are archived as they are.

*Instructions*: the same probes as deployed, counted by valgrind (callgrind), less what the interpreter's own start
costs: a count does not move with the machine's load, where times on a shared machine move by a tenth from run to run
(it leaves out what waits: files read). Skipped, with how to install it, when valgrind is missing.

Warm: the pure decision over ``--events`` generated inputs (no AWS), and the whole handler per event
in moto (which includes moto's own time: an upper bound for the handler's work).
"""

from __future__ import annotations

import argparse
import io
import json
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

from infra.lambda_packaging import stage_code, stage_dependencies, stage_numeric_dependencies
from lambdas.table import HANDLERS, HandlerSpec, handler_spec
from policies.loader import load_policy
from policies.model import GovernancePolicy
from policies.rules.approval import ModelVersionFacts, decide_approval
from policies.rules.classification import decide_classification
from policies.rules.region import decide_region
from policies.rules.resources import ResourceFacts, ResourceKind
from tests.benchmarks._report import Figure, machine, print_figures
from tests.lambdas.test_packaged_artifact import RUNTIME_PACKAGES

COMMAND = ".venv/bin/python -m tests.benchmarks.bench_handlers"
DEPLOYED, CACHED, SOURCES = "deployed", "cached", "sources"
FLOOR = """
import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger(service="floor")
tracer = Tracer(service="floor"{tracer_options})
metrics = Metrics(namespace="Floor", service="floor")
s3 = boto3.client("s3")


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event, context):
    return {{"ok": True}}
"""
PROBE = """
import importlib, importlib.util, json, sys, time
sys.path[:0] = {paths!r}
started = time.perf_counter()
module = importlib.import_module({module!r})
imported = time.perf_counter() - started
for name in {first_event!r}:
    if importlib.util.find_spec(name) is not None:
        importlib.import_module(name)
if {handler!r}:
    from lambdas.shared import aws
    {read_policy}
    aws.client("s3")
if {bound!r} and "pydantic" in sys.modules:
    raise SystemExit("the lower bound imported pydantic")
ready = time.perf_counter() - started
print(json.dumps({{"import_s": imported, "ready_s": ready}}))
"""
READ_POLICY = "from lambdas.shared.policy import governance_policy; governance_policy()"
# A lower bound for any handler on this design: the approval gate's modules and the once-per-event store, the packaged
# policy read as plain JSON (no model) and no event validation; pydantic is never imported (the probe checks).
BOUND = "approval-gate-bound"
READ_POLICY_AS_JSON = "from lambdas.shared.policy import PACKAGED_POLICY; json.loads(PACKAGED_POLICY.read_bytes())"
# The readers each handler's events go through (loaded by its first event, not by its import).
EVENT_READERS = {
    "approval-gate": ["lambdas.shared.approval_events"],
    "classification-tags": ["lambdas.shared.call_events"],
    "region-guard": ["lambdas.shared.call_events"],
    "tamper-watch": ["lambdas.shared.call_events"],
    "model-deployer": ["lambdas.model_deployer.request"],
}
# Where a cold start goes: self time (python -X importtime) summed per group of top-level packages.
IMPORT_GROUPS: dict[str, tuple[str, ...]] = {
    "Powertools": ("aws_lambda_powertools",),
    "X-Ray SDK": ("aws_xray_sdk", "wrapt"),
    "boto3 + botocore": ("boto3", "botocore", "s3transfer", "urllib3", "jmespath", "dateutil", "six"),
    "pydantic": ("pydantic", "pydantic_core", "annotated_types", "typing_inspection"),
    "policy model": ("policies.model", "policies.packaged"),
    "handler code": ("lambdas", "policies", "iam", "drift"),
    "numpy": ("numpy",),
}


def import_group(module: str) -> str:
    for group, prefixes in IMPORT_GROUPS.items():
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return group
    return "standard library and other"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def first_event_modules(spec: HandlerSpec) -> list[str]:
    idempotency = ["lambdas.shared.idempotency"] if spec.at_least_once else []
    return [*EVENT_READERS.get(spec.name, []), *idempotency]


class ColdStart:
    """Runs the probes: a temporary runtime directory, the floor modules and two bytecode caches."""

    def __init__(self, policy: GovernancePolicy, tmp: Path) -> None:
        self.code = stage_code(policy)
        self.layer = stage_dependencies() / "python"
        self.numeric = stage_numeric_dependencies() / "python"
        self.runtime = tmp / "runtime"
        self.runtime.mkdir()
        for name in RUNTIME_PACKAGES:
            source = Path(__import__(name).__file__ or "")
            link = self.runtime / (name if source.name == "__init__.py" else source.name)
            link.symlink_to(source.parent if source.name == "__init__.py" else source)
        self.floors = tmp / "floors"
        self.floors.mkdir()
        (self.floors / "floor_handler.py").write_text(FLOOR.format(tracer_options=""))
        (self.floors / "floor_botocore_only.py").write_text(FLOOR.format(tracer_options=', patch_modules=("botocore",)'))
        self.cached = tmp / "bytecode-cached"
        self.runtime_only = tmp / "runtime-bytecode-only"
        # Lambda's runtime ships its boto3 compiled: beside its sources (as deployed) and, for the sources-only
        # mode, in a prefix directory that holds nothing else (so the layer and the code compile on import).
        for prefix in ([], ["-X", f"pycache_prefix={self.runtime_only}"]):
            compile_runtime = [sys.executable, *prefix, "-m", "compileall", "-q", *map(str, self.runtime.iterdir())]
            subprocess.run(compile_runtime, check=True, capture_output=True)

    def env(self) -> dict[str, str]:
        return {
            "PATH": "/usr/bin:/bin",
            "AWS_DEFAULT_REGION": "eu-west-1",
            "AWS_EC2_METADATA_DISABLED": "true",
            "LAMBDA_TASK_ROOT": str(self.code),  # tracing on: Powertools enables the Tracer inside Lambda
            "GOVERNANCE_AUDIT_BUCKET": "a",
            "GOVERNANCE_LINEAGE_BUCKET": "l",
            "GOVERNANCE_ALERTS_TOPIC_ARN": "arn:aws:sns:eu-west-1:123456789012:t",
            "GOVERNANCE_IDEMPOTENCY_TABLE": "t",
        }

    def command(self, target: str, *, mode: str, extra: list[str] | None = None, first_event: bool = True) -> list[str]:
        """The probe for ``target`` (a floor module or a handler name); ``first_event=False``: the import alone."""
        if target.startswith("floor"):
            paths, module, loads, handler = [str(self.floors), str(self.layer), str(self.runtime)], target, [], False
        else:
            spec = handler_spec(target.removesuffix("-bound"))
            layers = [str(self.layer), *([str(self.numeric)] if spec.numeric else [])]
            paths, module = [str(self.code), *layers, str(self.runtime)], spec.entrypoint.rsplit(".", 1)[0]
            loads, handler = (first_event_modules(spec), True) if first_event else ([], False)
            if target == BOUND:
                loads = [m for m in loads if m not in EVENT_READERS.get(spec.name, [])]
        cache = {
            DEPLOYED: ["-B"],
            CACHED: ["-X", f"pycache_prefix={self.cached}"],
            SOURCES: ["-B", "-X", f"pycache_prefix={self.runtime_only}"],
        }[mode]
        read_policy = READ_POLICY_AS_JSON if target == BOUND else READ_POLICY
        code = PROBE.format(
            paths=paths, module=module, first_event=loads, handler=handler, read_policy=read_policy, bound=target == BOUND
        )
        return [sys.executable, *cache, *(extra or []), "-I", "-S", "-c", code]

    def run(self, target: str, *, mode: str) -> dict[str, float]:
        out = subprocess.run(self.command(target, mode=mode), env=self.env(), capture_output=True, text=True, check=True)
        result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
        return result

    def measure(self, targets: list[str], runs: int, *, mode: str) -> dict[str, dict[str, float]]:
        for target in targets:  # warm the bytecode cache (and the file system cache for every mode)
            self.run(target, mode=mode)
        samples: dict[str, list[dict[str, float]]] = {t: [] for t in targets}
        for _ in range(runs):
            for target in targets:  # interleaved: a slower moment of the machine hits every row alike
                samples[target].append(self.run(target, mode=mode))
        return {t: {k: statistics.median(s[k] for s in samples[t]) for k in ("import_s", "ready_s")} for t in targets}

    def instructions(self, target: str) -> int:
        """Instructions the probe for ``target`` runs as deployed, less those of an interpreter that runs nothing."""

        def counted(command: list[str]) -> int:
            valgrind = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"]
            out = subprocess.run(
                [*valgrind, *command], check=True, env={**self.env(), "PYTHONHASHSEED": "0"}, capture_output=True, text=True
            )
            found = re.search(r"Collected : (\d+)", out.stderr)
            if found is None:
                raise RuntimeError(f"valgrind counted nothing for {target}: {out.stderr[-500:]}")
            return int(found.group(1))

        command = self.command(target, mode=DEPLOYED)
        return counted(command) - counted([*command[:-1], "pass"])

    def import_costs(self, target: str) -> dict[str, dict[str, float]]:
        """Self time (ms) per group, for the import and for the import + first event (one process each)."""
        costs: dict[str, dict[str, float]] = {}
        for phase in ("import", "ready"):
            command = self.command(target, mode=CACHED, extra=["-X", "importtime"], first_event=phase == "ready")
            out = subprocess.run(command, env=self.env(), capture_output=True, text=True, check=True)
            found = dict.fromkeys([*IMPORT_GROUPS, "standard library and other"], 0.0)
            for line in out.stderr.splitlines():
                fields = [f.strip() for f in line.removeprefix("import time:").split("|")]
                if len(fields) == 3 and fields[0].isdigit():
                    found[import_group(fields[2])] += int(fields[0]) / 1000
            costs[phase] = found
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
    import logging
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
        logging.disable(logging.CRITICAL)
        for handler, (function, make_event) in cases.items():
            events = [make_event() for _ in range(count)]
            function(events[0], context)  # warm
            results[handler] = time_calls([lambda e=e, f=function: f(e, context) for e in events[1:]])
        monkeypatch.undo()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.bench_handlers")
    parser.add_argument("--cold-runs", type=int, default=5, help="processes per row, bytecode cached (median)")
    parser.add_argument("--deployed-runs", type=int, default=15, help="processes per row, as deployed (median)")
    parser.add_argument("--no-instructions", action="store_true", help="skip the instruction counts (valgrind)")
    parser.add_argument("--sources-runs", type=int, default=3, help="processes per row, sources only (median)")
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--handler-events", type=int, default=300)
    args = parser.parse_args(argv)
    policy = load_policy()
    handlers = sorted(spec.name for spec in HANDLERS)
    targets = ["floor_handler", "floor_botocore_only", BOUND, *handlers]
    with tempfile.TemporaryDirectory() as tmp:
        cold = ColdStart(policy, Path(tmp))
        deployed = cold.measure(targets, args.deployed_runs, mode=DEPLOYED)
        cached = cold.measure(targets, args.cold_runs, mode=CACHED) if args.cold_runs else {}
        sources = cold.measure(targets, args.sources_runs, mode=SOURCES) if args.sources_runs else {}
        costs = {t: cold.import_costs(t) for t in ["floor_handler", *handlers]}
        counts = {t: cold.instructions(t) for t in targets} if shutil.which("valgrind") and not args.no_instructions else {}
        code_zip = zipped_size(cold.code)
    runs = f"{args.deployed_runs} (deployed) / {args.cold_runs} (cached) / {args.sources_runs} (sources only)"
    print(f"handler benchmark ({machine()}); tracing on; median of {runs}")
    print("processes per row, rows interleaved; a drift-monitor figure includes numpy (its own layer)")
    print()
    modes = (
        ("as deployed, bytecode shipped in the code package and the layer", deployed),
        ("bytecode cached", cached),
        ("sources only, compiled on import (before the packages shipped bytecode)", sources),
    )
    for label, results in modes:
        if not results:
            continue
        floor = results["floor_handler"]["import_s"] * 1000
        figures = [
            Figure(
                "floor, Tracer patching botocore only (for reference)",
                results["floor_botocore_only"]["import_s"] * 1000,
                "ms",
                "floor",
                floor,
            ),
            Figure(
                "lower bound: approval-gate's modules + once-per-event store + a client, policy read as plain JSON, events not read",
                results[BOUND]["ready_s"] * 1000,
                "ms",
                "floor",
                floor,
            ),
        ]
        for handler in handlers:
            row = results[handler]
            figures.append(
                Figure(
                    f"{handler}: cold import (clients, policy and event readers deferred)",
                    row["import_s"] * 1000,
                    "ms",
                    "floor",
                    floor,
                )
            )
            figures.append(  # the floor pays import + a client; the handler's comparable is import + what the first event loads
                Figure(
                    f"{handler}: ready for the first event",
                    row["ready_s"] * 1000,
                    "ms",
                    "floor",
                    floor,
                    "≤ 1.00×",
                    goal_ratio=1.0,
                )
            )
        print_figures(f"Cold start, {label}", COMMAND, figures)
    if counts:
        floor = counts["floor_handler"] / 1e6
        rows = [
            ("floor, Tracer patching botocore only (for reference)", "floor_botocore_only", None),
            ("lower bound", BOUND, None),
        ]
        rows += [(f"{h}: ready for the first event", h, 1.0) for h in handlers]
        figures = [
            Figure(name, counts[t] / 1e6, "M instr.", "floor", floor, "≤ 1.00×" if goal else "—", goal_ratio=goal)
            for name, t, goal in rows
        ]
        print_figures("Cold start, as deployed: instructions (valgrind callgrind, deterministic)", COMMAND, figures)
    elif not args.no_instructions:
        print("Instruction counts skipped: valgrind is not installed (Debian: apt-get install valgrind).\n")

    decisions = {h: time_calls(calls) for h, calls in decision_inputs(policy, args.events).items()}
    with redirect_stdout(io.StringIO()):  # the handlers log JSON lines to stdout
        in_moto = warm_handlers(policy, args.handler_events)
    figures = []
    for handler, samples in decisions.items():
        figures.append(
            Figure(
                f"{handler}: warm decision p99 (rules only, no AWS)",
                percentile(samples, 0.99) * 1e3,
                "ms",
                goal="≤ 2 ms",
                goal_value=2.0,
            )
        )
    for handler, samples in in_moto.items():
        figures.append(Figure(f"{handler}: whole handler in moto, p99 (includes moto)", percentile(samples, 0.99) * 1e3, "ms"))
        figures.append(Figure(f"{handler}: whole handler in moto, median", statistics.median(samples) * 1e3, "ms"))
    print_figures(f"Warm ({args.events} decisions, {args.handler_events} events per handler in moto)", COMMAND, figures)
    print(
        f"code package zip: {code_zip / 1024:.0f} KiB; shared layer zip: {zipped_size(stage_dependencies()) / 1024 / 1024:.1f} MiB"
    )
    print()
    groups = [*IMPORT_GROUPS, "standard library and other"]
    print("Where the cold start goes: python -X importtime self time summed per group (ms; bytecode cached, one process):")
    print("| module | phase | " + " | ".join(groups) + " | total |")
    print("|---|---|" + "---:|" * (len(groups) + 1))
    for target, phases in costs.items():
        for phase, found in phases.items():
            if target == "floor_handler" and phase == "ready":
                continue
            cells = " | ".join(f"{found[g]:.0f}" for g in groups)
            print(f"| {target} | {phase} | {cells} | {sum(found.values()):.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
