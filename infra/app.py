"""CDK Terrain app: the policy is loaded once and every stack is built from it.

``python -m infra.app`` is the ``app`` command in cdktf.json (``cdktn synth``) and what
``make synth`` runs. The policy file is ``$GOVERNANCE_POLICY`` or policies/governance.yaml.
The policy is validated (and the Lambda packages staged) while cdktn starts its Node kernel on
another thread: a bad policy fails in a fraction of a second and nothing is written; a file
validated before (the same bytes, the same validating code) is read from build/validated-policies
without pydantic (policies/validated.py).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from infra.stack_order import STACK_NAMES, monitoring_notice, stack_dependencies
from policies.errors import PolicyError
from policies.validated import policy_path, validated_policy

if TYPE_CHECKING:
    from collections.abc import Callable

    from constructs import Construct

    from infra.stacks.base import BackendSettings, GovernanceStack
    from policies.model import GovernancePolicy


def stack_classes() -> dict[str, type[GovernanceStack]]:
    """Stacks in deployment order: each only looks up what the stacks before it created."""
    import_cdktn()
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


# Imported before cdktn's thread starts, so that the thread starts the Node kernel at once and the two threads never
# import the same module (tests/infra/test_synth_process.py lists what each imports): the bundled Node.js, jsii, what
# cdktn's modules import before they load their assemblies, and what both cdktn and a policy's validation import
# (pydantic's plugin discovery reads the installed distributions' metadata, as cdktn reads typeguard's version).
BEFORE_THE_KERNEL = (
    "infra.node",
    "jsii",
    "typeguard",
    "publication",
    "pkgutil",
    "typing_extensions",
    "csv",
    "difflib",
    "importlib.metadata",
    "email.parser",
    "socket",
    "infra.lambda_packaging",
)
# The stacks' modules that import no cdktn (IAM documents, plain Terraform JSON, the handler table): imported while
# the kernel starts.
PLAIN_MODULES = (
    "iam.boundary",
    "iam.documents",
    "iam.personas",
    "iam.resource_policies",
    "iam.roles",
    "iam.trust",
    "infra.constructs.alarms",
    "infra.constructs.drift_schedule",
    "infra.constructs.encrypted_bucket",
    "infra.constructs.event_forwarding",
    "infra.constructs.managed_key",
    "infra.constructs.role",
    "infra.plain_resources",
    "infra.sagemaker_images",
    "lambdas.shared.settings",
    "lambdas.table",
)


def prepare_to_synthesize(path: Path | None = None) -> GovernancePolicy:
    """The policy, read and validated, the Lambda packages staged and the stacks' modules imported, for a process that
    synthesizes next (``main``; within ``infra.lambda_packaging.staged_once()``, where the stacks find the packages
    staged).

    cdktn is imported on a thread of its own (``import_cdktn``) while this one reads the policy, stages the packages
    and imports ``PLAIN_MODULES``: the Node kernel starts and loads cdktn's assemblies, about 0.13 s this process
    would otherwise only wait for. What each step leaves (pydantic, the model and the policy; cdktn and the stacks'
    modules) is moved out of the garbage collector's view once it is done: the full collections of the steps that
    follow no longer walk it (about 60 ms of a 100-project synth here); the young collections are fewer meanwhile
    (9 ms). Its garbage stays until the process ends."""
    import gc

    threshold = gc.get_threshold()
    gc.set_threshold(50_000, *threshold[1:])  # few young collections while the imports and the read build objects
    try:
        import_all(BEFORE_THE_KERNEL)
        kernel = Background(import_cdktn)
        try:
            policy = read_and_stage(path or policy_path())
        except BaseException:
            # The policy's refusal (or the staging's failure) is what the user reads, at once: the kernel is not waited
            # for (a Node that never answers would hold it back), and jsii's clean-up of a kernel left half-started
            # when the process ends is not reported.
            sys.unraisablehook = _not_the_abandoned_kernel
            raise
        kernel.result()
        stack_classes()
        gc.freeze()
    finally:
        gc.set_threshold(*threshold)
    return policy


def read_and_stage(path: Path) -> GovernancePolicy:
    """The policy in ``path`` (validated once per content of the file and of the code that validates it; read
    unchanged without pydantic), the Lambda packages staged for it and ``PLAIN_MODULES`` imported."""
    import gc

    from infra.lambda_packaging import BUILD, stage_for_synth

    policy = validated_policy(path, BUILD / "validated-policies")
    gc.freeze()
    stage_for_synth(policy)
    import_all(PLAIN_MODULES)
    return policy


def import_all(names: tuple[str, ...]) -> None:
    import importlib

    for name in names:
        importlib.import_module(name)


def import_cdktn() -> None:
    """cdktn and constructs imported with the bundled Node.js: the Node kernel started and their assemblies loaded.
    A kernel that cannot start (Node missing or not runnable, or a program that does not answer as the jsii kernel
    does) raises ``KernelStartError``."""
    import infra.node  # noqa: F401  (selects the bundled Node.js before cdktn starts jsii)

    try:
        import cdktn  # noqa: F401
    except (OSError, ValueError, AssertionError) as exc:  # the process, its first answer, its runtime's version
        sys.unraisablehook = _not_the_abandoned_kernel
        raise KernelStartError(f"the Node.js kernel did not start: {exc}") from exc


class KernelStartError(RuntimeError):
    """cdktn's Node.js kernel could not be started (``main`` reports it in one line)."""


def _not_the_abandoned_kernel(unraisable: sys.UnraisableHookArgs) -> None:
    """Every unraisable error but jsii's, from a kernel that did not start or was left starting: its process object's
    ``__del__`` and its exit hook ``stop`` fail on a process that never answered (an attribute missing, a broken
    pipe), after the failure that left it was reported."""
    if getattr(unraisable.object, "__qualname__", "") not in ("_NodeProcess.__del__", "_NodeProcess.stop"):
        sys.__unraisablehook__(unraisable)


class Background:
    """``work`` run on a thread of its own (a daemon: a process that ends meanwhile does not wait for it)."""

    def __init__(self, work: Callable[[], None]) -> None:
        import threading

        self._failed: list[BaseException] = []
        self._thread = threading.Thread(target=self._run, args=(work,), name=work.__name__, daemon=True)
        self._thread.start()

    def _run(self, work: Callable[[], None]) -> None:
        try:
            work()
        except BaseException as exc:  # noqa: BLE001 - raised again by result()
            self._failed.append(exc)

    def result(self) -> None:
        """Waits for the work; raises what it raised."""
        self._thread.join()
        if self._failed:
            raise self._failed[0]


def main() -> int:
    from infra.lambda_packaging import staged_once

    with staged_once():
        try:
            policy = prepare_to_synthesize()
            from infra.stacks.base import GovernanceApp

            app = GovernanceApp()
            build(app, policy)
            app.synth()
        except PolicyError as exc:
            print(exc, file=sys.stderr)
            return 2
        except (RuntimeError, OSError) as exc:  # uv or Node.js missing, the layer build failed, jsii could not write
            message = str(exc).strip().splitlines()
            print(f"synth failed: {message[0] if message else type(exc).__name__}", file=sys.stderr)
            if len(message) > 1:  # a failed layer build: uv's own lines say which package
                print("\n".join(message[1:20]), file=sys.stderr)
            return 1
    notice = monitoring_notice(policy)
    if notice:  # on stdout: the cdktn CLI shows the app's stderr as errors
        print(notice)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
