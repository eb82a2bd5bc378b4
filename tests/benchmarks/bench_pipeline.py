"""Pipeline template: import time and time to build a definition, next to the SDK's stock config validation.

    .venv/bin/python -m tests.benchmarks.bench_pipeline [--runs 5] [--processes 3]

- import: a fresh process imports ``pipelines.definition`` (cheap: the SageMaker SDK is
  imported when a pipeline is built) and, separately, the SDK modules a build needs, the command's module with
  moto (its offline S3) and the policy;
- first build: in that fresh process, after those imports, building the offline definition once;
- warm build: the same process builds the definition again (median of --runs).

The *baseline* is the same build with the SDK as shipped: it validates its defaults config against its JSON
Schema at every config lookup, checking the schema itself each time (``sdk_config_schema_checked_once`` in
``pipelines/definition.py`` replaced by a no-op). Processes of the two kinds alternate, each kind first in turn.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Literal, TypedDict

from tests.benchmarks._report import Figure, print_figures

REPO = Path(__file__).resolve().parents[2]
COMMAND = ".venv/bin/python -m tests.benchmarks.bench_pipeline"
FIRST_BUILD_GOAL_S = 2.0  # issue 16: a definition build in at most 2 s after imports

PROBE = """
import contextlib, json, time
t0 = time.perf_counter()
import pipelines.definition
t1 = time.perf_counter()
import sagemaker.mlops.workflow.pipeline, sagemaker.train, sagemaker.serve.model_builder, sagemaker.core.processing
import boto3, moto, pipelines.bundle
from pipelines.cli import offline_definition
from policies.loader import load_policy
policy = load_policy(); project = policy.project("credit-risk")
t2 = time.perf_counter()
if {stock}:
    pipelines.definition.sdk_config_schema_checked_once = contextlib.nullcontext
offline_definition(policy, project)
t3 = time.perf_counter()
warm = []
for _ in range({runs}):
    s = time.perf_counter(); offline_definition(policy, project); warm.append(time.perf_counter() - s)
print(json.dumps({{"module_s": t1 - t0, "sdk_s": t2 - t1, "first_build_s": t3 - t2, "warm": warm}}))
"""


class Probe(TypedDict):
    module_s: float
    sdk_s: float
    first_build_s: float
    warm: list[float]


def probe(*, stock: bool, runs: int) -> Probe:
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(runs=runs, stock=stock)],
        cwd=REPO,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "AWS_DEFAULT_REGION": "eu-west-1", "HOME": str(Path.home())},
        capture_output=True,
        text=True,
        check=True,
    )
    result: Probe = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.bench_pipeline")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--processes", type=int, default=3)
    args = parser.parse_args(argv)
    governed: list[Probe] = []
    stock: list[Probe] = []
    for round_ in range(args.processes):
        for kind_is_stock in (False, True) if round_ % 2 == 0 else (True, False):
            (stock if kind_is_stock else governed).append(probe(stock=kind_is_stock, runs=args.runs))

    def median(results: list[Probe], key: Literal["module_s", "sdk_s", "first_build_s"]) -> float:
        return statistics.median(r[key] for r in results)

    def warm(results: list[Probe]) -> float:
        return statistics.median(w for r in results for w in r["warm"])

    stock_name = "the SDK checking its config schema at every lookup"
    print_figures(
        f"Pipeline definition ({args.processes} fresh processes of each kind, {args.runs} warm builds each)",
        COMMAND,
        [
            Figure("import pipelines.definition", median(governed, "module_s"), "s"),
            Figure(
                "import the SageMaker SDK modules a build uses, moto, the command; read the policy",
                median(governed, "sdk_s"),
                "s",
            ),
            Figure(
                "first definition build, after imports (offline, in-memory S3)",
                median(governed, "first_build_s"),
                "s",
                stock_name,
                median(stock, "first_build_s"),
                goal=f"≤ {FIRST_BUILD_GOAL_S:.0f} s",
                goal_value=FIRST_BUILD_GOAL_S,
            ),
            Figure("warm definition build", warm(governed), "s", stock_name, warm(stock)),
        ],
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
