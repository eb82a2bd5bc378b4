"""The handler table: every enforcement handler, what triggers it, what it reads and what it may do.

Naming, packaging (``infra/lambda_packaging.py``), the enforcement stack and the permission
tests read this table. Adding a handler is one entry here plus its package under ``lambdas/``
(recipe in docs/architecture.md). What a handler reads is declared in its package's ``grants`` module,
what it may do by its remedies (``lambdas/actions.py``); both are read when synth or the access review asks
for the grants, so a cold start, which reads its own entry, never imports ``iam.grants``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

from lambdas import actions, routing
from policies.naming import (
    APPROVAL_GATE,
    CLASSIFICATION_TAGS,
    DEPLOYMENT_GUARD,
    DRIFT_MONITOR,
    MODEL_DEPLOYER,
    REGION_GUARD,
    TAMPER_WATCH,
)
from policies.rules.outcome import Action, Decision
from policies.rules.resources import ResourceFacts

if TYPE_CHECKING:
    from iam.grants import Grant
    from policies.model import GovernancePolicy

Route = Callable[["GovernancePolicy"], routing.Pattern]
Schedule = Callable[["GovernancePolicy"], str]


class HandlerSpec(NamedTuple):
    """One handler's entry (a named tuple: every handler builds the table on its cold start, and a named tuple is
    cheaper to define there than a dataclass)."""

    name: str
    """The handler's name in the policy's words; function, role, rule and queue names derive from it (policies/naming.py)."""
    package: str
    """Python package under lambdas/ holding ``handler.handler``."""
    description: str
    route: Route | None
    """The EventBridge pattern of the rule that invokes it; None for a handler people invoke directly."""
    remedies: tuple[type[actions.RemediationAction], ...]
    """The actions it may take, one per decision action."""
    schedule: Schedule | None = None
    """An EventBridge schedule expression that also invokes it (a sweep), from the policy."""
    region_bound: bool = False
    """Carries the ML boundary (only the allowed Regions) instead of the enforcement boundary (every Region)."""
    at_least_once: bool = True
    """Invoked by EventBridge (at least once): processes each event id once (``lambdas.shared.idempotency``)."""
    numeric: bool = False
    """Needs numpy (the numeric layer)."""
    memory_mb: int = 512
    timeout_seconds: int = 60

    @property
    def entrypoint(self) -> str:
        return f"lambdas.{self.package}.handler.handler"

    @property
    def reads(self) -> tuple[Grant, ...]:
        """What gathering the facts needs: ``READS`` of the handler's ``grants`` module."""
        declared: tuple[Grant, ...] = importlib.import_module(f"lambdas.{self.package}.grants").READS
        return declared

    @property
    def grants(self) -> tuple[Grant, ...]:
        """Everything the handler's role allows, in statement order."""
        from lambdas.shared.grants import IDEMPOTENCY_GRANTS, PLATFORM_GRANTS, RUNTIME_GRANTS

        remedies = tuple(g for remedy in self.remedies for g in remedy.grants())
        idempotency = IDEMPOTENCY_GRANTS if self.at_least_once else ()
        # Once each: remedies may share a grant (every approval-status remedy updates the model package).
        return tuple(dict.fromkeys((*RUNTIME_GRANTS, *idempotency, *PLATFORM_GRANTS, *self.reads, *remedies)))

    def remedy_for(self, action: Action) -> type[actions.RemediationAction]:
        for remedy in self.remedies:
            if remedy.performs is action:
                return remedy
        raise ValueError(f"the {self.name} handler cannot perform {action}")

    def act(self, decision: Decision, target: ResourceFacts, *, once_per: str | None = None) -> str:
        """Carry out the decision: nothing when compliant or in report mode, else the action's remedy. ``once_per``
        (the event, and the target when an event has several): a retry reports what the first attempt did."""
        if decision.action is Action.NONE:
            return "none: compliant"
        if decision.action is Action.REPORT_ONLY:
            return "none: report mode, recorded and notified only"
        remedy = self.remedy_for(decision.action)
        if once_per is None:
            return remedy.perform(decision, target)
        from lambdas.shared.ledger import acted_once

        return acted_once(f"{self.name}:{once_per}", decision, lambda: remedy.perform(decision, target))


HANDLERS: tuple[HandlerSpec, ...] = (
    HandlerSpec(
        name=APPROVAL_GATE,
        package="approval_gate",
        description="Rejects model versions approved against the governance policy",
        route=routing.approvals,
        remedies=(actions.RejectModelVersion, actions.HoldModelVersion, actions.RejectPromotion),
    ),
    HandlerSpec(
        name=CLASSIFICATION_TAGS,
        package="classification_tags",
        description="Keeps data-classification tags on SageMaker resources at their project's level",
        route=routing.create_and_tag_calls_in_allowed_regions,
        remedies=(actions.TagResource, actions.StopJobOrTagIfEnded),
    ),
    HandlerSpec(
        name=REGION_GUARD,
        package="region_guard",
        description="Stops or deletes SageMaker work created outside the allowed Regions",
        route=routing.create_calls_outside_allowed_regions,
        remedies=(actions.StopJob, actions.DeleteEndpoint),
    ),
    HandlerSpec(
        name=TAMPER_WATCH,
        package="tamper_watch",
        description="Records and alerts on calls that would switch governance off, attempted or done",
        route=routing.tamper_calls,
        remedies=(),
    ),
    HandlerSpec(
        name=MODEL_DEPLOYER,
        package="model_deployer",
        description="Deploys model versions the approval gate cleared; the one role allowed to create models and endpoints",
        route=None,
        remedies=(actions.DeployModelVersion,),
        region_bound=True,
        at_least_once=False,
    ),
    HandlerSpec(
        name=DEPLOYMENT_GUARD,
        package="deployment_guard",
        description="Quarantines endpoints serving model versions the approval gate has not cleared",
        route=routing.deployment_changes,
        remedies=(actions.DeleteEndpoint, actions.QuarantineVariants),
        schedule=lambda policy: policy.deployment.sweep_schedule,
    ),
    HandlerSpec(
        name=DRIFT_MONITOR,
        package="drift_monitor",
        description="Compares each drift-job endpoint's captured traffic with its model version's baseline, on the endpoint's schedule",
        route=None,  # one EventBridge Scheduler schedule per endpoint, in the monitoring stack (docs/drift.md)
        remedies=(actions.QuarantineDriftingVersion,),
        numeric=True,
        memory_mb=1769,  # one full vCPU
        timeout_seconds=300,
    ),
)


def handler_spec(name: str) -> HandlerSpec:
    for spec in HANDLERS:
        if spec.name == name:
            return spec
    raise KeyError(f"no enforcement handler named {name!r}; handlers: {', '.join(s.name for s in HANDLERS)}")
