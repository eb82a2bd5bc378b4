"""Pipeline template: import time and time to build a definition.

    .venv/bin/python -m tests.benchmarks.bench_pipeline [--runs 5]

- import: a fresh process imports ``pipelines.definition`` (cheap: the SageMaker SDK is
  imported when a pipeline is built) and, separately, the SDK modules a build needs;
- first build: in a fresh process, SDK import + building the offline definition once;
- warm build: the same process builds the definition again (median of --runs).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

PROBE = """
import json, time
t0 = time.perf_counter()
import pipelines.definition
t1 = time.perf_counter()
import sagemaker.mlops.workflow.pipeline, sagemaker.train, sagemaker.serve.model_builder, sagemaker.core.processing
t2 = time.perf_counter()
from pipelines.cli import offline_definition
from policies.loader import load_policy
policy = load_policy(); project = policy.project("credit-risk")
offline_definition(policy, project)
t3 = time.perf_counter()
warm = []
for _ in range({runs}):
    s = time.perf_counter(); offline_definition(policy, project); warm.append(time.perf_counter() - s)
print(json.dumps({{"module_s": t1 - t0, "sdk_s": t2 - t1, "first_build_s": t3 - t2, "warm": warm}}))
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.bench_pipeline")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--processes", type=int, default=3)
    args = parser.parse_args(argv)
    results = []
    for _ in range(args.processes):
        out = subprocess.run(
            [sys.executable, "-c", PROBE.format(runs=args.runs)],
            cwd=REPO,
            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "AWS_DEFAULT_REGION": "eu-west-1", "HOME": str(Path.home())},
            capture_output=True,
            text=True,
            check=True,
        )
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
        time.sleep(0.1)

    def median(key: str) -> float:
        return statistics.median(r[key] for r in results)

    warm = statistics.median(w for r in results for w in r["warm"])
    print(f"pipeline benchmark: {args.processes} fresh processes, {args.runs} warm builds each (python {sys.version.split()[0]})")
    print("| measure | median (s) |")
    print("|---|---:|")
    print(f"| import pipelines.definition | {median('module_s'):.3f} |")
    print(f"| import the SageMaker SDK modules a build uses | {median('sdk_s'):.2f} |")
    print(f"| first definition build (offline, in-memory S3) | {median('first_build_s'):.2f} |")
    print(f"| warm definition build | {warm:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
