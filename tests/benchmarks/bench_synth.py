"""Synth wall time and peak memory for 1, 10 and 100 governed projects, next to the floor.

    make bench        (or: python -m tests.benchmarks.bench_synth [--repeat N])

Each measurement is a fresh process (the provider import and the jsii Node kernel are part
of the cost). "floor" imports the AWS provider and synthesizes an empty stack.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from policies.loader import load_policy
from policies.model import GovernancePolicy

REPO = Path(__file__).resolve().parents[2]


def policy_with_projects(count: int) -> GovernancePolicy:
    base = load_policy().model_dump(mode="json")
    template = base["projects"][0]
    projects = []
    for i in range(count):
        project = json.loads(json.dumps(template))
        project["name"] = f"project-{i:03d}"
        project["endpoints"] = [{"name": f"project-{i:03d}-live", "schedule": "cron(0 * ? * * *)"}]
        projects.append(project)
    base["projects"] = projects
    return GovernancePolicy.model_validate(base)


def measure(mode: str, projects: int) -> dict[str, float]:
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "tests.benchmarks._probe", mode, str(projects)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    result["wall_s"] = round(time.perf_counter() - start, 2)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.bench_synth")
    parser.add_argument("--repeat", type=int, default=3, help="runs per row; the median is reported")
    args = parser.parse_args(argv)
    rows = [("floor", 0), ("blueprint", 1), ("blueprint", 10), ("blueprint", 100)]
    print(
        f"synth benchmark: {args.repeat} fresh processes per row, median reported (python {sys.version.split()[0]}, {os.cpu_count()} CPUs)"
    )
    print("| case | resources | wall time (s) | import (s) | build + synth (s) | peak RSS python (MiB) | peak RSS node (MiB) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for mode, projects in rows:
        runs = [measure(mode, projects) for _ in range(args.repeat)]

        def median(key: str, runs: list[dict[str, float]] = runs) -> float:
            return statistics.median(r[key] for r in runs)

        label = (
            "floor (provider import + empty stack)"
            if mode == "floor"
            else f"blueprint, {projects} project{'s' if projects > 1 else ''}"
        )
        print(
            f"| {label} | {int(median('resources'))} | {median('wall_s'):.2f} | {median('import_s'):.2f} | "
            f"{median('synth_s'):.2f} | {median('python_peak_mib'):.0f} | {median('node_peak_mib'):.0f} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
