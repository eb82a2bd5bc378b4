"""One measured synth in a fresh process; prints a JSON line. Run by bench_synth.py, not by pytest."""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from contextlib import ExitStack
from pathlib import Path


def _descendant_peaks_kib() -> int:
    """Sum of peak RSS (VmHWM) of this process's live descendants: the jsii Node processes."""
    parents: dict[str, str] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[entry.name] = (entry / "stat").read_text().rsplit(")", 1)[1].split()[1]
            except (OSError, IndexError):
                continue
    mine = {str(os.getpid())}
    changed = True
    while changed:
        found = {pid for pid, ppid in parents.items() if ppid in mine} - mine
        changed = bool(found)
        mine |= found
    total = 0
    for pid in mine - {str(os.getpid())}:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


def _own_peak_kib() -> int:
    """This process's peak RSS (VmHWM): ``ru_maxrss`` keeps the peak of the process that forked it across the exec (the
    benchmark's own, which holds the 1,000-project policy it wrote)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


FLOORS = ("floor", "provider-floor", "whole-provider-floor")
PROVIDER = "cdktn_provider_aws.provider"


def provider_modules() -> list[str]:
    """The provider modules the blueprint imports (what the floor imports too)."""
    import infra.node  # noqa: F401
    from infra.app import stack_classes

    stack_classes()
    return sorted(m for m in sys.modules if m.startswith("cdktn_provider_aws."))


def main() -> None:
    """``floor <provider module,...> <outdir>`` (the modules may be none: an empty stack, with the AWS provider's
    binding when its module is listed), ``provider-floor``/``whole-provider-floor <provider module,...> <outdir>`` (the
    same with the provider's module listed; whole: loaded through its own index, every resource module at the
    kernel's start, as before infra/lazy_provider_index.cjs), ``blueprint <policy file> <outdir>`` (``shipped``:
    policies/governance.yaml), or ``modules``."""
    if sys.argv[1] == "modules":
        print(json.dumps(provider_modules()))
        return
    with ExitStack() as staging:
        _probe(sys.argv[1], staging)


def _probe(mode: str, staging: ExitStack) -> None:
    floor = mode in FLOORS
    policy_file = None if floor or sys.argv[2] == "shipped" else sys.argv[2]
    start = time.perf_counter()
    if floor:
        import infra.node  # the bundled Node.js and its options must be set before cdktn loads

        if mode == "whole-provider-floor":
            lazy = infra.node.node_preload_option(infra.node.LAZY_PROVIDER_INDEX)
            os.environ["NODE_OPTIONS"] = os.environ["NODE_OPTIONS"].replace(lazy, "").strip()
        import importlib

        from cdktn import App, TerraformStack

        modules = [name for name in sys.argv[2].split(",") if name]
        for name in modules:
            importlib.import_module(name)
    else:  # as ``python -m infra.app`` runs (its main()): the policy read and validated, then cdktn and the stacks
        from infra.app import build, prepare_to_synthesize
        from infra.lambda_packaging import staged_once

        # the packages staged while the kernel starts, found staged by the build (main() holds them the same way)
        staging.enter_context(staged_once())
        policy = prepare_to_synthesize(Path(policy_file) if policy_file else None)
        from infra.stacks.base import GovernanceApp
    imported = time.perf_counter()
    outdir = sys.argv[3]  # the caller's; it counts the resources and removes it after this process ends
    if floor:
        app = App(outdir=outdir)
        stack = TerraformStack(app, "empty")
        if PROVIDER in modules:  # the empty stack's provider, as the app's stacks had one
            from cdktn_provider_aws.provider import AwsProvider

            AwsProvider(stack, "aws", region="eu-west-1")
    else:
        app = GovernanceApp(outdir=outdir)  # what infra.app synthesizes with
        build(app, policy)
    app.synth()
    done = time.perf_counter()
    python_peak = _own_peak_kib()
    print(
        json.dumps(
            {
                "mode": mode,
                "policy": policy_file,
                "import_s": round(imported - start, 2),
                "synth_s": round(done - imported, 2),
                "python_peak_mib": round(python_peak / 1024),
                "node_peak_mib": round(_descendant_peaks_kib() / 1024),
            }
        )
    )


if __name__ == "__main__":
    main()
