"""CDK Terrain app: the policy is loaded once and every stack is built from it.

``python -m infra.app`` is the ``app`` command in cdktf.json (``cdktn synth``) and what
``make synth`` runs. The policy file is ``$GOVERNANCE_POLICY`` or policies/governance.yaml.
The policy is validated before cdktn is imported, so a bad policy fails in a fraction of a
second and nothing is written; a file validated before (the same bytes, the same validating code) is read from
build/validated-policies without pydantic (policies/validated.py).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from infra.stack_order import STACK_NAMES, stack_dependencies
from policies.errors import PolicyError
from policies.validated import policy_path, validated_policy

if TYPE_CHECKING:
    from constructs import Construct

    from infra.stacks.base import BackendSettings, GovernanceStack
    from policies.model import GovernancePolicy


def stack_classes() -> dict[str, type[GovernanceStack]]:
    """Stacks in deployment order: each only looks up what the stacks before it created."""
    import infra.node  # noqa: F401  (selects the bundled Node.js before cdktn starts jsii)
    from infra.stacks.audit_trail import AuditTrailStack
    from infra.stacks.enforcement import EnforcementStack
    from infra.stacks.foundation import FoundationStack
    from infra.stacks.identity import IdentityStack
    from infra.stacks.monitoring import MonitoringStack
    from infra.stacks.registry import ModelRegistryStack

    classes: dict[str, type[GovernanceStack]] = {
        "foundation": FoundationStack,
        "identity": IdentityStack,
        "audit-trail": AuditTrailStack,
        "model-registry": ModelRegistryStack,
        "monitoring": MonitoringStack,
        "enforcement": EnforcementStack,
    }
    assert tuple(classes) == STACK_NAMES, "infra/stack_order.py is out of step with the stacks"
    return classes


def build(scope: Construct, policy: GovernancePolicy, backend: BackendSettings | None = None) -> dict[str, GovernanceStack]:
    from infra.stacks.base import BackendSettings

    if policy.accounts is not None:  # many accounts: organization, hub-* and spoke-* stacks (docs/multi-account.md)
        from infra.multi_account import build as build_accounts

        return build_accounts(scope, policy, backend)
    backend = backend or BackendSettings.from_env()
    stacks = {name: cls(scope, name, policy=policy, backend=backend) for name, cls in stack_classes().items()}
    # Later stacks look up what earlier waves create (keys by alias, roles by name): say so, so that
    # manifest.json carries the order and `cdktn deploy` never applies a stack before its dependencies.
    for name, dependencies in stack_dependencies().items():
        for dependency in dependencies:
            stacks[name].add_dependency(stacks[dependency])
    return stacks


def synth(policy: GovernancePolicy, outdir: str | Path, backend: BackendSettings | None = None) -> Path:
    """Synthesize every stack into ``outdir``; returns the directory holding ``stacks/<name>/cdk.tf.json``."""
    stack_classes()
    from infra.stacks.base import GovernanceApp

    Path(outdir).mkdir(parents=True, exist_ok=True)  # the kernel creates only the last directory of the path
    app = GovernanceApp(outdir=str(outdir))
    build(app, policy, backend)
    app.synth()
    return Path(outdir)


def prepare_to_synthesize(path: Path | None = None) -> GovernancePolicy:
    """The policy, read and validated, and the stacks' modules imported, for a process that synthesizes next
    (``main``). What each step leaves (pydantic, the model and the policy; cdktn and the stacks' modules) is moved
    out of the garbage collector's view once it is done: the full collections of the steps that follow no longer walk
    it (about 60 ms of a 100-project synth here); the young collections are fewer meanwhile (9 ms). Its garbage stays
    until the process ends."""
    import gc

    threshold = gc.get_threshold()
    gc.set_threshold(50_000, *threshold[1:])  # few young collections while the imports and the read build objects
    try:
        from infra.lambda_packaging import BUILD

        # Validated once per content of the file (and of the code that validates it); read unchanged without pydantic.
        policy = validated_policy(path or policy_path(), BUILD / "validated-policies")
        gc.freeze()
        stack_classes()
        gc.freeze()
    finally:
        gc.set_threshold(*threshold)
    return policy


def main() -> int:
    try:
        policy = prepare_to_synthesize()
    except PolicyError as exc:
        print(exc, file=sys.stderr)
        return 2
    from infra.stacks.base import GovernanceApp

    app = GovernanceApp()
    try:
        build(app, policy)
        app.synth()
    except PolicyError as exc:
        print(exc, file=sys.stderr)
        return 2
    except RuntimeError as exc:  # uv missing, the Lambda layer build failed, or jsii could not write the output
        message = str(exc).strip().splitlines()
        print(f"synth failed: {message[0] if message else type(exc).__name__}", file=sys.stderr)
        if len(message) > 1:  # a failed layer build: uv's own lines say which package
            print("\n".join(message[1:20]), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
