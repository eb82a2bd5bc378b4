"""Synth wall time and peak memory: the shipped policy, 1, 100 and 1,000 projects, next to the floor, in one run.

    make bench        (or: python -m tests.benchmarks.bench_synth [--repeat N] [--projects 1,100,1000])

Each measurement is a fresh process (the provider import and the jsii Node kernel are part of the
cost), synthesizing into a directory the benchmark then reads (the resources counted) and removes, outside the
process's wall time (since 2026-11-27 14:00 UTC; before, the count, 12 MB of JSON for 1,000 projects, and the
removal were inside it); rows are interleaved, each repeat runs every row once, the median is reported. The *floor*
imports the provider modules the blueprint imports (issue 16's definition) and synthesizes an empty stack: since
2026-11-27 19:40 UTC the stacks import none (their providers are plain JSON; only Model Monitor's bindings load the
AWS provider), so it is cdktn and an empty stack. The *provider floor* is the floor until then: the AWS provider's
module imported and an empty stack with its provider's binding, the kernel loading the provider's resource modules
as they are used (infra/lazy_provider_index.cjs); the *whole-provider floor* is the same with the kernel loading all
of them at its start, as it did before that. The blueprint
rows synthesize every stack for the shipped policy or for N projects with one monitored endpoint
each, read from a YAML file as ``make synth`` reads the policy (since 2026-11-27 17:10 UTC; before, the N-project
policies were built in the probe's process, unparsed, unvalidated until the build), in the order ``python -m
infra.app`` takes (the policy read and validated, then cdktn imported; since 2026-11-27 19:00 UTC; before, cdktn
first: the *import* column holds the policy's read since). Every row runs once untimed first: the Lambda archives are built once per content
(infra/constructs/staged_asset.py), and the timed runs are the synths that follow.

Each blueprint row is measured both ways ``python -m infra.app`` reads a policy (policies/validated.py; since
2026-11-27 20:47 UTC): *validated*, the file's bytes not in the store of validated policies (its entry removed before the
run, outside its time), and *from the store*, the same bytes synthesized before (read without pydantic). Both find the
handler package of the policy built: a change of what the policy says also stages and archives a new one (not a row).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from infra.lambda_packaging import BUILD
from policies.loader import load_policy
from policies.model import GovernancePolicy
from policies.validated import DEFAULT_POLICY_PATH, store_entry
from tests.benchmarks._probe import PROVIDER
from tests.benchmarks._report import Figure, machine, print_figures

REPO = Path(__file__).resolve().parents[2]
COMMAND = ".venv/bin/python -m tests.benchmarks.bench_synth"
GOALS = {0: 1.1, 100: 1.5, 1000: 3.0}  # wall time, × the floor (issue 16)
STORE = BUILD / "validated-policies"  # where python -m infra.app keeps the policies it validated (policies/validated.py)
MEMORY_GOAL_MIB = 1536  # python + node peak


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


def write_policy_with_projects(count: int, path: Path) -> Path:
    """``policy_with_projects(count)`` as a policy file: YAML, every value written out (no anchors, which the loader
    refuses)."""
    import yaml

    path.write_text(yaml.safe_dump(json.loads(json.dumps(policy_with_projects(count).model_dump(mode="json"))), sort_keys=False))
    return path


def probe(*args: str) -> dict[str, float]:
    """One synth in a fresh process, into a directory of its own; the resources are counted and the directory
    removed after the process ended, outside its wall time (a user's synth does neither)."""
    with tempfile.TemporaryDirectory() as outdir:
        start = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-m", "tests.benchmarks._probe", *args, outdir],
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            capture_output=True,
            text=True,
            check=False,
        )
        if out.returncode != 0:  # a policy the loader refuses (over 1 MiB: about 1,680 projects written out), say
            raise SystemExit(f"the probe {' '.join(args)} failed:\n{out.stderr.strip()[-3000:]}")
        wall = time.perf_counter() - start
        stacks = Path(outdir) / "stacks"
        resources = sum(
            len(named)
            for stack_json in (json.loads(path.read_text()) for path in stacks.glob("*/cdk.tf.json"))
            for named in stack_json.get("resource", {}).values()
        )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return {**result, "wall_s": wall, "resources": resources}


WHOLE_PROVIDER = -1  # the row of the whole-provider floor
PROVIDER_FLOOR = -2  # the row of the floor with the AWS provider's module and binding
FLOOR = -3
Row = tuple[int, bool]  # (projects: 0 the shipped policy, or a floor; validated: the store emptied first)


def label(row: Row) -> str:
    projects, validated = row
    if projects == FLOOR:
        return "floor (the provider modules the app imports + empty stack)"
    if projects == PROVIDER_FLOOR:
        return "floor with the AWS provider's module and binding (the floor until 2026-11-27 19:40)"
    if projects == WHOLE_PROVIDER:
        return "floor with the AWS provider, the kernel loading all of it (as before 2026-11-27)"
    policy = "shipped policy" if projects == 0 else f"{projects} project{'s' if projects > 1 else ''}"
    return f"{policy}, {'validated (not in the store)' if validated else 'from the store (these bytes synthesized before)'}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.bench_synth")
    parser.add_argument("--repeat", type=int, default=3, help="runs per row; the median is reported")
    parser.add_argument("--projects", default="1,100,1000", help="project counts besides the shipped policy")
    args = parser.parse_args(argv)
    modules = ",".join(
        json.loads(
            subprocess.run(
                [sys.executable, "-m", "tests.benchmarks._probe", "modules"],
                cwd=REPO,
                env={**os.environ, "PYTHONPATH": str(REPO)},
                capture_output=True,
                text=True,
                check=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
    )
    counts = [0, *(int(n) for n in args.projects.split(",") if int(n))]
    floors: list[Row] = [(FLOOR, False), (PROVIDER_FLOOR, False), (WHOLE_PROVIDER, False)]
    blueprints: list[Row] = [(n, validated) for n in counts for validated in (True, False)]
    rows = floors + blueprints
    with tempfile.TemporaryDirectory(prefix="bench-policies-") as policies:
        policy_files = {  # the floors and the shipped policy (its own file) need none
            projects: str(write_policy_with_projects(projects, Path(policies, f"{projects}-projects.yaml")))
            for projects in counts
            if projects > 0
        }

        def run(row: Row) -> dict[str, float]:
            projects, validated = row
            if projects == FLOOR:
                return probe("floor", modules)
            if projects == PROVIDER_FLOOR:
                return probe("provider-floor", PROVIDER)
            if projects == WHOLE_PROVIDER:
                return probe("whole-provider-floor", PROVIDER)
            policy_file = policy_files[projects] if projects else str(DEFAULT_POLICY_PATH)
            if validated:  # the first synth after a change: the file's entry removed outside the timed run
                shutil.rmtree(store_entry(Path(policy_file).read_bytes(), STORE), ignore_errors=True)
            return probe("blueprint", policy_file)

        for row in rows:  # untimed: archives built for new content, caches warm
            run(row)
        samples: dict[Row, list[dict[str, float]]] = {r: [] for r in rows}
        for _ in range(args.repeat):
            for row in rows:  # a store row follows its validated row: the entry it reads is the one stored there
                samples[row].append(run(row))

    def median(row: Row, key: str) -> float:
        return statistics.median(s[key] for s in samples[row])

    def memory(row: Row) -> float:
        return statistics.median(s["python_peak_mib"] + s["node_peak_mib"] for s in samples[row])

    print(f"synth benchmark: {args.repeat} fresh processes per row, interleaved, median reported ({machine()})")
    print("| case | resources | wall time (s) | import (s) | build + synth (s) | peak RSS python (MiB) | peak RSS node (MiB) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        print(
            f"| {label(row)} | {median(row, 'resources'):.0f} | {median(row, 'wall_s'):.2f} | "
            f"{median(row, 'import_s'):.2f} | {median(row, 'synth_s'):.2f} | "
            f"{median(row, 'python_peak_mib'):.0f} | {median(row, 'node_peak_mib'):.0f} |"
        )
    print()
    floor_row = (FLOOR, False)
    floor, floor_memory = median(floor_row, "wall_s"), memory(floor_row)
    figures = [
        Figure(
            f"synth wall time, {label((0, True))}, against {against}",
            median((0, True), "wall_s"),
            "s",
            name,
            median((row, False), "wall_s"),
        )
        for against, name, row in (
            ("the floor with the AWS provider", "provider floor", PROVIDER_FLOOR),
            ("the floor of a kernel loading the whole provider", "whole-provider floor", WHOLE_PROVIDER),
        )
    ]
    for row in blueprints:
        goal = GOALS.get(row[0])
        figures.append(
            Figure(
                f"synth wall time, {label(row)}",
                median(row, "wall_s"),
                "s",
                "floor",
                floor,
                f"≤ {goal:.2f}× floor" if goal else "—",
                goal_ratio=goal,
            )
        )
    for row in blueprints:
        if row[1]:  # validated: the larger peak of the two
            figures.append(
                Figure(
                    f"synth peak memory (python + node), {label(row)}",
                    memory(row),
                    "MiB",
                    "floor",
                    floor_memory,
                    f"≤ {MEMORY_GOAL_MIB} MiB",
                    goal_value=MEMORY_GOAL_MIB,
                )
            )
    print_figures("Synth", COMMAND, figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
