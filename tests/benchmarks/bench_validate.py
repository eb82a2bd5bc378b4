"""``terraform validate`` of the synthesized stacks: with the providers served once per validation (what
``make validate`` does, ``infra/terraform_cli.py``) against Terraform starting its own provider process for every
provider configuration of every stack, measured in the same run.

    .venv/bin/python -m tests.benchmarks.bench_validate

The shipped policy's 6 stacks one after another (``make validate``), the multi-account example's 19 two at a time
(``python -m infra.multi_account validate``). CPU is the validation's child processes (terraform and the providers);
each case runs in a fresh synthesized directory, providers installed from the mirror as a user's ``init`` does.
"""

from __future__ import annotations

import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from tests.benchmarks._report import Figure, print_figures

REPO = Path(__file__).resolve().parents[2]


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measured(outdir: Path, names: Sequence[str], workers: int, served: bool) -> tuple[float, float]:
    """Wall and child CPU seconds of validating every stack (each must be valid)."""
    from infra.terraform_cli import validate

    cpu, wall = children_cpu(), time.perf_counter()
    results = validate(outdir, names, workers=workers, serve_providers=served)
    wall, cpu = time.perf_counter() - wall, children_cpu() - cpu
    failed = [r for r in results if not getattr(r, "ok", False)]
    if failed:
        raise SystemExit(f"validate failed: {failed}")
    return wall, cpu


def main() -> int:
    from infra.app import synth
    from infra.multi_account import stack_names
    from infra.stack_order import STACK_NAMES
    from infra.terraform_cli import require_terraform
    from policies.loader import load_policy

    require_terraform()
    shipped = load_policy(REPO / "policies" / "governance.yaml")
    example = load_policy(REPO / "examples" / "multi-account" / "governance.yaml")
    cases = [
        ("the shipped policy, 6 stacks", shipped, STACK_NAMES, 1),
        ("the multi-account example, 19 stacks", example, stack_names(example), 2),
    ]
    figures = []
    with tempfile.TemporaryDirectory() as scratch:
        for label, policy, names, workers in cases:
            synthesized = synth(policy, Path(scratch) / str(len(names)))
            runs = {}
            for served in (False, True):  # each in its own copy: no installation or lock file from the other
                outdir = shutil.copytree(synthesized, Path(scratch) / f"{len(names)}-{served}")
                runs[served] = measured(outdir, names, workers, served)
            for index, unit in ((1, "CPU-s"), (0, "s")):
                figures.append(
                    Figure(
                        f"validate {label}, {'CPU' if index else 'wall'}",
                        runs[True][index],
                        unit,
                        "a provider process per configuration",
                        runs[False][index],
                    )
                )
    print_figures("terraform validate", "python -m tests.benchmarks.bench_validate", figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
