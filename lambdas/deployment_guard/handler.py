"""Deployment guard: an endpoint serves only model versions the approval gate cleared, or it is quarantined.

Triggers (one rule, ``$or``) and a schedule:
- CloudTrail CreateEndpoint / UpdateEndpoint / CreateInferenceComponent / UpdateInferenceComponent: the endpoint
  just deployed or changed;
- "SageMaker Model Package State Change" to Rejected or PendingManualApproval: the clearance is revoked
  and every endpoint in that Region serving the version is judged again;
- the sweep schedule (``deployment.sweep_schedule``): every endpoint of every allowed Region;
- S3's "Object Created" for a key in a model store (``routing.model_artifact_writes``): when a clearance pins that key,
  an approved artifact was overwritten, so every endpoint is judged as in a sweep, at once rather than at the next
  scheduled one; any other key (a new training output) judges nothing.

Per endpoint: trace (lambdas/deployment_guard/trace.py, remembered for the event) -> decide
(policies.rules.deployment) -> quarantine per ``deployment.quarantine`` -> one record. An endpoint that cannot
be judged does not stop the others; the event is then raised, to be retried and dead-lettered.
"""

from __future__ import annotations

from dataclasses import asdict, replace
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths

from lambdas.deployment_guard.trace import endpoint_of_component, endpoints_in, trace_endpoint
from lambdas.shared import ledger
from lambdas.shared.api_call_handler import handle_event
from lambdas.shared.clearance import forget_promotions, pinned, revoke
from lambdas.shared.events import MalformedEvent
from lambdas.shared.policy import governance_policy
from lambdas.shared.runtime import METRICS_NAMESPACE, conclude, event_time
from lambdas.shared.settings import TRACED_MODULES
from lambdas.table import handler_spec
from policies.naming import DEPLOYMENT_GUARD, PROMOTED, Names
from policies.rules.deployment import CaptureFacts, EndpointFacts, ServedVersion, decide_serving
from policies.rules.outcome import RuleSet
from policies.rules.resources import MODEL_PACKAGE_STATE_CHANGE, OBJECT_CREATED, ResourceFacts, ResourceKind

if TYPE_CHECKING:
    from policies.model import GovernancePolicy

SPEC = handler_spec(DEPLOYMENT_GUARD)
logger = Logger(service=SPEC.name)
tracer = Tracer(service=SPEC.name, patch_modules=TRACED_MODULES)
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SPEC.name)
FACTS = "facts"
COMPONENT = "component:"  # an UpdateInferenceComponent trigger names its component; the endpoint is read from it


def read_trigger(event: Any) -> tuple[tuple[str, str] | None, str | None]:
    """What the event asks to judge, without calling AWS: the endpoint a deployment call names (for
    UpdateInferenceComponent, which names only its component: ``component:<name>``), or the model version whose
    clearance a state change revokes; neither is the sweep. Anything else is a malformed event."""
    if not isinstance(event, dict) or not event.get("id"):
        raise MalformedEvent("not an EventBridge event")
    detail = event.get("detail")
    if not isinstance(detail, dict):
        raise MalformedEvent("the event has no detail object")
    kind = event.get("detail-type")
    if kind == "AWS API Call via CloudTrail":
        parameters, region = detail.get("requestParameters") or {}, detail.get("awsRegion")
        name = parameters.get("endpointName")
        if name is None and detail.get("eventName") == "UpdateInferenceComponent":
            component = parameters.get("inferenceComponentName")
            name = f"{COMPONENT}{component}" if isinstance(component, str) and component else None
        if not isinstance(name, str) or not name or not isinstance(region, str) or region != event.get("region"):
            raise MalformedEvent("the deployment call names no endpoint, or its Region disagrees with the event's")
        return (name, region), None
    if kind == MODEL_PACKAGE_STATE_CHANGE:
        arn = detail.get("ModelPackageArn")
        if not isinstance(arn, str) or arn.split(":")[3:4] != [event.get("region")]:
            raise MalformedEvent("the state change names no model package of the event's Region")
        return None, arn
    if kind == "Scheduled Event":
        return None, None
    if kind == OBJECT_CREATED and event.get("source") == "aws.s3":  # written into a model store: judged as a sweep
        bucket_facts, object_facts = detail.get("bucket"), detail.get("object")
        bucket = bucket_facts.get("name") if isinstance(bucket_facts, dict) else None
        key = object_facts.get("key") if isinstance(object_facts, dict) else None
        if not isinstance(bucket, str) or not bucket or not isinstance(key, str) or not key:
            raise MalformedEvent("the S3 notification names no bucket or no object key")
        return None, None
    raise MalformedEvent(f"the deployment guard does not handle {kind!r} events")


def serving_accounts(event: dict[str, Any]) -> list[str]:
    """Where endpoints may serve the versions: this account, and with many accounts every workload account (the
    hub's handlers read them through their namesake roles, lambdas.shared.aws)."""
    accounts = governance_policy().accounts
    return list(dict.fromkeys([str(event.get("account")), *(accounts.workload_accounts if accounts else [])]))


def endpoints_to_judge(event: dict[str, Any]) -> tuple[list[tuple[str, str, str]], str | None]:
    """(endpoint, Region, account) the event is about, and the model version whose clearance it revokes, if any. A
    write into a model store is judged as a sweep when a clearance pins the key written, else it concerns nothing
    approved (a new training output, a profiler file) and judges nothing."""
    endpoint, revoked = read_trigger(event)
    if event.get("detail-type") == OBJECT_CREATED and not any(pinned(uri) for uri in _written(event)):
        return [], None
    if endpoint is not None and endpoint[0].startswith(COMPONENT):
        name = endpoint_of_component(endpoint[0].removeprefix(COMPONENT), endpoint[1], str(event.get("account")))
        return ([(name, endpoint[1], str(event.get("account")))] if name else []), None
    if endpoint is not None:
        return [(*endpoint, str(event.get("account")))], None
    regions = [revoked.split(":")[3]] if revoked is not None else governance_policy().regions.allowed
    found = [
        (name, region, account)
        for account in serving_accounts(event)
        for region in regions
        for name in endpoints_in(region, account)
    ]
    return found, revoked


def _written(event: dict[str, Any]) -> list[str]:
    """The S3 URI an "Object Created" notification reports (read_trigger checked its shape), as given and URL-decoded:
    S3's notifications URL-encode keys ("red flower.jpg" as "red+flower.jpg"), and a pin names the key itself."""
    from urllib.parse import unquote_plus

    bucket, key = event["detail"]["bucket"]["name"], event["detail"]["object"]["key"]
    return list(dict.fromkeys(f"s3://{bucket}/{k}" for k in (key, unquote_plus(key))))


def _called_config(event: dict[str, Any]) -> str | None:
    """The endpoint config a CreateEndpoint or UpdateEndpoint call names (an update may still be in progress)."""
    if event.get("detail-type") != "AWS API Call via CloudTrail":
        return None
    config = (event["detail"].get("requestParameters") or {}).get("endpointConfigName")
    return config if isinstance(config, str) and config else None


def with_promotions(found: EndpointFacts, account: str) -> EndpointFacts:
    """An endpoint of a workload account (many accounts): each served version with the stages the hub (this
    account's table) recorded its promotion into, for the stage rules of ``decide_serving``."""
    accounts = governance_policy().accounts
    if accounts is None or not accounts.rules() or account_stages(account) is None:
        return found
    served = tuple(
        replace(s, promoted_into=tuple(t for t in accounts.rules() if ledger.lookup(PROMOTED, f"{t}#{s.model_package}")))
        if s.model_package
        else s
        for s in found.served
    )
    return replace(found, served=served)


def account_stages(account: str) -> list[str] | None:
    """The stages a workload account runs (many accounts); None for the hub's and a single account's endpoints."""
    accounts = governance_policy().accounts
    return accounts.workload_accounts.get(account) if accounts is not None else None


def _facts(event: dict[str, Any], where: str, name: str, region: str, account: str) -> EndpointFacts | None:
    def trace() -> dict[str, Any]:
        found = trace_endpoint(name, region, account, also_config=_called_config(event))
        return {"endpoint": asdict(with_promotions(found, account)) if found else None}

    stored = ledger.remembered(FACTS, f"{event['id']}:{where}", trace)["endpoint"]
    if stored is None:
        return None
    # remembered before the capture rule or the artifact pins: trace again (fails closed if it cannot)
    if "captures" not in stored or any("artifact_changes" not in s for s in stored["served"]):
        found = trace_endpoint(name, region, account)
        if found is None:
            return None
        stored = asdict(with_promotions(found, account))
    served = tuple(
        ServedVersion(
            **{**s, "promoted_into": tuple(s.get("promoted_into", ())), "artifact_changes": tuple(s.get("artifact_changes", ()))}
        )
        for s in stored["served"]
    )
    captures = tuple(CaptureFacts(**{**c, "modes": tuple(c["modes"])}) for c in stored["captures"])
    facts = EndpointFacts(**{**stored, "served": served, "captures": captures})
    if any("promoted_into" not in s for s in stored["served"]):  # remembered before the stage rule: read them now
        facts = with_promotions(facts, account)
    return facts


def remembered_targets(event: dict[str, Any]) -> tuple[list[tuple[str, str, str]], str | None]:
    """``endpoints_to_judge``, listed by the first attempt for this event: a retry judges the endpoints it judged, not
    the live ones (an endpoint the first attempt deleted before its record failed is gone from the list)."""

    def listed() -> dict[str, Any]:
        targets, revoked = endpoints_to_judge(event)
        return {"targets": [list(t) for t in targets], "revoked": revoked}

    stored = ledger.remembered(FACTS, f"{event['id']}:targets", listed)
    return [(str(n), str(r), str(a)) for n, r, a in stored["targets"]], stored["revoked"]


class EndpointsUndecided(RuntimeError):
    """Some endpoints could not be judged (the others were): the event is retried, then dead-lettered."""


def _judge(
    event: dict[str, Any],
    context: Any,
    policy: GovernancePolicy,
    *,
    where: str,
    target: tuple[str, str, str],
    revoked: str | None,
) -> dict[str, Any] | None:
    """Trace, decide, quarantine and record one endpoint (name, Region, account); None when there is nothing to judge."""
    name, region, account = target
    facts = _facts(event, where, name, region, account)
    if facts is None:
        return None
    if revoked is not None and not any(s.model_package == revoked for s in facts.served):
        return None  # a revocation judges the endpoints serving that version only
    decision = decide_serving(
        policy, facts, account_stages(account), lineage_bucket=Names(policy, account=account).lineage_bucket
    )
    endpoint = ResourceFacts(kind=ResourceKind.ENDPOINT, name=name, arn=facts.arn, region=region)
    return conclude(
        decision,
        event=event,
        event_time=event_time(event),
        actor=None,
        action_result=SPEC.act(decision, endpoint, once_per=f"{event['id']}:{where}"),
        context=context,
        logger=logger,
        metrics=metrics,
    )


def guard(event: dict[str, Any], context: Any) -> dict[str, Any]:
    targets, revoked = remembered_targets(event)
    if revoked is not None and revoke(revoked):
        logger.info("clearance revoked", extra={"model_package": revoked})
    policy = governance_policy()
    if revoked is not None and policy.accounts is not None:  # on every attempt: a retry finds the clearance gone
        forget_promotions(revoked, policy.accounts.stage_names)
    results = []
    failed: list[str] = []
    for name, region, account in targets:
        where = f"{region}:{name}" if account == str(event.get("account")) else f"{account}:{region}:{name}"
        try:
            outcome = _judge(event, context, policy, where=where, target=(name, region, account), revoked=revoked)
        except Exception as exc:  # one endpoint that cannot be judged does not stop the others: retried after them
            logger.exception("could not judge the endpoint; judging the others first", extra={"endpoint": where})
            failed.append(f"{where}: {type(exc).__name__}: {exc}")
            continue
        if outcome is not None:
            results.append(outcome)
    if failed:
        raise EndpointsUndecided(f"{len(failed)} of {len(targets)} endpoints could not be judged: " + "; ".join(failed))
    return {
        "judged": len(results),
        "decisions": [r["decision"] for r in results],
        "audit_records": [r["audit_record"] for r in results],
        "revoked": revoked,
    }


@logger.inject_lambda_context(correlation_id_path=correlation_paths.EVENT_BRIDGE, clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle_event(
        event, context, check=read_trigger, process=guard, rule_set=RuleSet.DEPLOYMENT, logger=logger, metrics=metrics
    )
