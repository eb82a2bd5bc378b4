"""The shape the CloudTrail-driven handlers share: parse the create call, look at the resource, decide, act, record.

Fail closed: a malformed event is recorded as undecidable and raised (retried, then dead-lettered
with an alarm); the facts a decision is made on are remembered for the event (``ledger``), so a
retry after a partial failure completes the record and the alert with the same decision.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics

from lambdas.shared import ledger
from lambdas.shared.events import MalformedEvent, actor, find_arn, parse_api_call_event, resource_from_call
from lambdas.shared.idempotency import once_per_event
from lambdas.shared.policy import governance_policy
from lambdas.shared.runtime import conclude, event_time
from lambdas.shared.sagemaker_resources import current_role, current_tags
from policies.rules.outcome import Action, Decision, RuleSet, Verdict, undecidable
from policies.rules.resources import SAGEMAKER_TAG_CALLS, ResourceFacts
from policies.terms import Mode

if TYPE_CHECKING:
    from policies.model import GovernancePolicy

Decide = Callable[["GovernancePolicy", ResourceFacts], Decision]
Act = Callable[[Decision, ResourceFacts], str]
Process = Callable[[dict[str, Any], Any], dict[str, Any]]
FACTS = "facts"


def handle_event(
    event: dict[str, Any],
    context: Any,
    *,
    check: Callable[[Any], object],
    process: Process,
    rule_set: RuleSet,
    logger: Logger,
    metrics: Metrics,
) -> dict[str, Any]:
    """The entry of an event-driven handler: ``check`` reads the event's shape without calling AWS; a malformed
    event is recorded as undecidable and raised; any other is processed once per event id."""
    try:
        check(event)
    except MalformedEvent as exc:
        logger.error("rejected a malformed event", extra={"reason": str(exc)})
        record_malformed(event, str(exc), rule_set=rule_set, context=context, logger=logger, metrics=metrics)
        raise
    return once_per_event(process, event, context)


def handle_api_call_event(
    event: dict[str, Any], context: Any, *, process: Process, rule_set: RuleSet, logger: Logger, metrics: Metrics
) -> dict[str, Any]:
    """The entry of a CloudTrail-driven handler (``handle_event`` with the create call's shape)."""
    return handle_event(
        event,
        context,
        check=lambda e: resource_from_call(parse_api_call_event(e)),
        process=process,
        rule_set=rule_set,
        logger=logger,
        metrics=metrics,
    )


def record_malformed(event: Any, reason: str, *, rule_set: RuleSet, context: Any, logger: Logger, metrics: Metrics) -> None:
    """One undecidable record for an event no rule can judge; a record that cannot be written is logged (the event
    still goes to the dead-letter queue, whose alarm is the signal)."""
    envelope = event if isinstance(event, dict) else {"raw": str(event)[:2000]}
    subject = find_arn(event) or f"event {envelope.get('id', 'without id')}"
    decision = undecidable(rule_set, subject, f"malformed event: {reason}", Mode.ENFORCE)
    try:
        conclude(
            decision,
            event=envelope,
            event_time=event_time(envelope),
            actor=None,
            action_result="none: the event cannot be judged; retried, then sent to the dead-letter queue",
            context=context,
            logger=logger,
            metrics=metrics,
        )
    except Exception:
        logger.exception("could not record the malformed event")


def handle_create_call(
    event: dict[str, Any],
    context: Any,
    *,
    decide: Decide,
    act: Act,
    logger: Logger,
    metrics: Metrics,
    tags_required: bool = True,
) -> dict[str, Any]:
    """``tags_required=False``: the rule does not depend on the resource's tags (the Region rule), so a failed tag
    read does not keep the handler from acting."""
    parsed = parse_api_call_event(event)
    resource = resource_from_call(parsed)
    tag_call = parsed.detail.eventName in SAGEMAKER_TAG_CALLS

    def snapshot() -> dict[str, Any]:
        try:
            # a tag call's record names only the resource: the role it runs as is read from it
            return {"tags": current_tags(resource), **({"role": current_role(resource)} if tag_call else {})}
        except Exception:
            if tags_required:
                raise
            logger.warning("tags unreadable; deciding on the event's tags", extra={"resource": resource.arn})
            return {"tags": {}}

    facts = ledger.remembered(FACTS, str(event.get("id")), snapshot)
    tags = facts["tags"]
    exists = tags is not None
    if exists:
        resource = replace(resource, tags={**resource.tags, **tags}, role=facts.get("role") or resource.role)
    decision = decide(governance_policy(), resource)
    if not exists and tag_call:  # nothing is left whose tags could be wrong (a create call is judged on its own tags)
        decision = replace(decision, verdict=Verdict.ALLOW, action=Action.NONE, violations=(), remediation={})
    if not exists:
        result = "none: the resource no longer exists"
    else:  # a retry after the record or the alert failed reports what the first attempt did
        result = ledger.acted_once(f"{decision.rule_set.value}:{event.get('id')}", decision, lambda: act(decision, resource))
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
