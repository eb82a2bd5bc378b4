"""Tamper watch: on CloudTrail records of calls that change enforcement, boundaries, keys, the trail or the
governance buckets (AWS API Call via CloudTrail, forwarded from every watched Region), record and alert.

parse -> facts (the key's aliases for KMS calls, remembered for the event) -> decide (policies.rules.tampering) -> record + notify.
Nothing is undone automatically: the boundaries already deny these calls to governed roles, and an
administrator's change is for a person to review.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths

from lambdas.shared import aws, ledger
from lambdas.shared.api_call_handler import handle_event
from lambdas.shared.events import parse_tamper_event
from lambdas.shared.policy import governance_policy
from lambdas.shared.runtime import METRICS_NAMESPACE, conclude
from lambdas.shared.settings import TRACED_MODULES
from lambdas.table import HANDLERS, handler_spec
from policies.naming import TAMPER_WATCH
from policies.rules.outcome import RuleSet
from policies.rules.tampering import CallFacts, decide_tampering

SPEC = handler_spec(TAMPER_WATCH)
logger = Logger(service=SPEC.name)
tracer = Tracer(service=SPEC.name, patch_modules=TRACED_MODULES)
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SPEC.name)
FACTS = "facts"


def key_aliases(key: str, region: str, account: str) -> list[str]:
    """Aliases of a KMS key (id or ARN) in the account of the call; the governance keys are known by alias."""
    if not key:
        return []
    key_id = key.rsplit("/", 1)[-1]
    page = aws.client("kms", region, account=aws.account_of(key) or account).list_aliases(KeyId=key_id)
    return [str(a["AliasName"]) for a in page.get("Aliases", [])]


def key_call(call: Any) -> bool:
    """A KMS call that names a key (an alias call names its alias, which is what it is judged by)."""
    return bool(call.eventSource == "kms.amazonaws.com" and not call.eventName.endswith("Alias"))


def remembered_aliases(event: dict[str, Any], key: str, region: str, account: str) -> list[str]:
    """The key's aliases as the first attempt for this event read them: a retry judges the same key, even when its
    alias was removed in between."""
    found = ledger.remembered(FACTS, str(event["id"]), lambda: {"key_aliases": key_aliases(key, region, account)})
    return [str(a) for a in found["key_aliases"]]


def watch(event: dict[str, Any], context: Any) -> dict[str, Any]:
    parsed = parse_tamper_event(event)
    call = parsed.detail
    facts = CallFacts(
        event_source=call.eventSource,
        event_name=call.eventName,
        target=parsed.target,
        region=call.awsRegion,
        actor=parsed.actor,
        error_code=call.errorCode,
        key_aliases=remembered_aliases(event, parsed.target, call.awsRegion, parsed.account) if key_call(call) else (),
        targets=parsed.targets,
    )
    decision = decide_tampering(governance_policy(), facts, handlers=[spec.name for spec in HANDLERS])
    return conclude(
        decision,
        event=event,
        event_time=parsed.time,
        actor=facts.actor,
        action_result="none: recorded and alerted for review",
        context=context,
        logger=logger,
        metrics=metrics,
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.EVENT_BRIDGE, clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle_event(
        event,
        context,
        check=parse_tamper_event,
        process=watch,
        rule_set=RuleSet.TAMPER_DETECTION,
        logger=logger,
        metrics=metrics,
    )
