"""Where synth waits on the jsii Node kernel: every request the shipped policy's build and synth send, timed.

    .venv/bin/python -m tests.benchmarks.kernel_requests

One process, after one untimed build (the provider import and the Lambda archives are not counted). Timing each
request adds its own cost, so the total is above the synth benchmark's. Prints the total, the time waiting on the
kernel, the costliest kinds of request and how many attribute reads repeat one the same object answered before.
"""

from __future__ import annotations

import collections
import tempfile
import time
from typing import Any


def main() -> None:
    import infra.node  # noqa: F401, I001  (the bundled Node.js must be chosen before cdktn loads)
    from jsii._kernel.providers import process

    from infra.app import build
    from infra.stacks.base import GovernanceApp
    from policies.loader import load_policy

    policy = load_policy()

    def build_and_synth() -> float:
        started = time.perf_counter()
        with tempfile.TemporaryDirectory() as outdir:
            app = GovernanceApp(outdir=outdir)
            build(app, policy)
            app.synth()
        return time.perf_counter() - started

    build_and_synth()
    spent: collections.Counter[tuple[str, str]] = collections.Counter()
    sent: collections.Counter[tuple[str, str]] = collections.Counter()
    reads: collections.Counter[tuple[str, str]] = collections.Counter()
    send = process._NodeProcess.send

    def timed_send(self: Any, request: Any, response_type: Any) -> Any:
        started = time.perf_counter()
        try:
            return send(self, request, response_type)
        finally:
            what = getattr(request, "fqn", None) or getattr(request, "property", None) or getattr(request, "method", None)
            kind = (type(request).__name__.removesuffix("Request"), str(what))
            spent[kind] += time.perf_counter() - started
            sent[kind] += 1
            if kind[0] == "Get":
                reads[(request.objref.ref, request.property)] += 1

    process._NodeProcess.send = timed_send  # type: ignore[method-assign]
    try:
        total = build_and_synth()
    finally:
        process._NodeProcess.send = send  # type: ignore[method-assign]
    print(f"build + synth {total:.3f} s, {sum(sent.values())} kernel requests, {sum(spent.values()):.3f} s waiting on them")
    for kind, seconds in spent.most_common(12):
        print(f"  {seconds * 1000:7.1f} ms  {sent[kind]:4d} x {kind[0]} {kind[1]}")
    repeated = sum(reads.values()) - len(reads)
    print(f"attribute reads: {sum(reads.values())}, {repeated} of them repeat one the same object answered before")


if __name__ == "__main__":
    main()
