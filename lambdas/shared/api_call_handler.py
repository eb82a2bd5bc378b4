"""The shape both CloudTrail-driven handlers share: parse the create call, look at the resource, decide, act, record."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from aws_lambda_powertools import Logger, Metrics

from lambdas.shared.events import MalformedEvent, actor, parse_api_call_event, resource_from_call
from lambdas.shared.idempotency import once_per_event
from lambdas.shared.policy import governance_policy
from lambdas.shared.runtime import conclude
from lambdas.shared.sagemaker_resources import current_tags
from policies.model import GovernancePolicy
from policies.rules.outcome import Decision
from policies.rules.resources import ResourceFacts

Decide = Callable[[GovernancePolicy, ResourceFacts], Decision]
Act = Callable[[Decision, ResourceFacts], str]
Process = Callable[[dict[str, Any], Any], dict[str, Any]]


def handle_api_call_event(event: dict[str, Any], context: Any, *, process: Process, logger: Logger) -> dict[str, Any]:
    """The entry of a CloudTrail-driven handler: a malformed event is logged and rejected with no
    action; any other is processed once per event id."""
    try:
        parse_api_call_event(event)
    except MalformedEvent as exc:
        logger.error("rejected a malformed event", extra={"reason": str(exc)})
        raise
    return once_per_event(process, event, context)


def handle_create_call(
    event: dict[str, Any], context: Any, *, decide: Decide, act: Act, logger: Logger, metrics: Metrics
) -> dict[str, Any]:
    parsed = parse_api_call_event(event)
    resource = resource_from_call(parsed)
    tags = current_tags(resource)
    exists = tags is not None
    if exists:
        resource = replace(resource, tags={**resource.tags, **(tags or {})})
    decision = decide(governance_policy(), resource)
    result = act(decision, resource) if exists else "none: the resource no longer exists"
    return conclude(
        decision,
        event=event,
        event_time=parsed.time,
        actor=actor(parsed.detail),
        action_result=result,
        context=context,
        logger=logger,
        metrics=metrics,
    )
