"""CDK Terrain app: the policy is loaded once and every stack is built from it.

``python -m infra.app`` is the ``app`` command in cdktf.json (``cdktn synth``) and what
``make synth`` runs. The policy file is ``$GOVERNANCE_POLICY`` or policies/governance.yaml.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import infra.node  # noqa: F401  (selects the bundled Node.js before cdktn starts jsii)
from cdktn import App
from constructs import Construct

from infra.stack_order import STACK_NAMES
from infra.stacks.base import BackendSettings, GovernanceStack
from infra.stacks.foundation import FoundationStack
from infra.stacks.identity import IdentityStack
from infra.stacks.monitoring import MonitoringStack
from infra.stacks.registry import ModelRegistryStack
from policies.errors import PolicyError
from policies.loader import load_policy
from policies.model import GovernancePolicy

StackFactory = Callable[..., GovernanceStack]

# Deployment order: each stack only looks up what the stacks before it created.
STACKS: tuple[tuple[str, StackFactory], ...] = (
    ("foundation", FoundationStack),
    ("identity", IdentityStack),
    ("model-registry", ModelRegistryStack),
    ("monitoring", MonitoringStack),
)
assert tuple(name for name, _ in STACKS) == STACK_NAMES, "infra/stack_order.py is out of step with STACKS"


def build(scope: Construct, policy: GovernancePolicy, backend: BackendSettings | None = None) -> dict[str, GovernanceStack]:
    backend = backend or BackendSettings.from_env()
    return {name: factory(scope, name, policy=policy, backend=backend) for name, factory in STACKS}


def synth(policy: GovernancePolicy, outdir: str | Path, backend: BackendSettings | None = None) -> Path:
    """Synthesize every stack into ``outdir``; returns the directory holding ``stacks/<name>/cdk.tf.json``."""
    app = App(outdir=str(outdir), skip_validation=False)
    build(app, policy, backend)
    app.synth()
    return Path(outdir)


def main() -> int:
    try:
        policy = load_policy()
    except PolicyError as exc:
        print(exc, file=sys.stderr)
        return 2
    app = App()
    try:
        build(app, policy)
    except PolicyError as exc:
        print(exc, file=sys.stderr)
        return 2
    app.synth()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
