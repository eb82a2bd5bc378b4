"""Approval gate: on "SageMaker Model Package State Change" to Approved, check the approval rules.

parse -> gather evidence -> decide (policies.rules.approval) -> act -> record.
A violation sets the version back to Rejected with every violated rule in its
ApprovalDescription (enforce mode) or only records and notifies (report mode). When the
gate cannot decide, the version is set to PendingManualApproval and the event is retried,
then lands in the dead-letter queue: a model never stays Approved on an undecided event.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths

from lambdas.actions import HoldModelVersion
from lambdas.approval_gate.evidence import describe_package, gather
from lambdas.shared.events import MODEL_PACKAGE_ARN, MalformedEvent, parse_model_package_event
from lambdas.shared.idempotency import once_per_event
from lambdas.shared.policy import governance_policy
from lambdas.shared.runtime import METRICS_NAMESPACE, conclude
from lambdas.shared.settings import settings
from lambdas.table import handler_spec
from policies.naming import APPROVAL_GATE
from policies.rules.approval import decide_approval, undecidable_approval
from policies.rules.outcome import Action, Decision
from policies.rules.resources import ResourceFacts, ResourceKind

SPEC = handler_spec(APPROVAL_GATE)
logger = Logger(service=SPEC.name)
tracer = Tracer(service=SPEC.name)
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SPEC.name)

# A complete model package ARN inside JSON text: it must end where its string ends.
ARN_IN_TEXT = r'arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:model-package/[A-Za-z0-9](?:-*[A-Za-z0-9])*/\d+(?=")'


class GateUndecided(RuntimeError):
    """The gate could not decide; the version was held back and the event will be retried."""


def model_version(arn: str, region: str) -> ResourceFacts:
    return ResourceFacts(kind=ResourceKind.MODEL_PACKAGE, name=arn, arn=arn, region=region)


def act(decision: Decision, region: str, current_status: str) -> str:
    """The gate acts only on a version that is still Approved: a later status change by a person stands."""
    if decision.action not in (Action.NONE, Action.REPORT_ONLY) and current_status != "Approved":
        return f"none: the version is already {current_status}"
    return SPEC.act(decision, model_version(decision.subject, region))


def _event_time(event: dict[str, Any]) -> datetime:
    raw = event.get("time")
    try:
        return datetime.fromisoformat(str(raw).replace("Z", "+00:00")) if raw else datetime.now(UTC)
    except ValueError:
        return datetime.now(UTC)


def _hold_back(arn: str, region: str, reason: str, event: dict[str, Any], context: Any) -> None:
    """Undecidable: take the version out of Approved (enforce mode), record, notify.

    When even its status cannot be read, the version is set to PendingManualApproval anyway:
    at worst a rejected version becomes pending, never approved.
    """
    decision = undecidable_approval(governance_policy(), arn, reason)
    result = "none: report mode, recorded and notified only"
    if decision.action is Action.REVERT_TO_PENDING:
        try:
            try:
                status = str(describe_package(arn, region).get("ModelApprovalStatus", "unknown"))
            except Exception:  # noqa: BLE001 - fail closed: an unreadable status is held back too
                status = "unknown"
            if status in {"Approved", "unknown"}:
                result = HoldModelVersion.perform(decision, model_version(arn, region))
            else:
                result = f"none: the version is already {status}"
        except Exception as exc:
            logger.exception("could not hold back the model version", extra={"model_package": arn})
            result = f"failed: {type(exc).__name__}: {exc}"
    try:
        conclude(
            decision,
            event=event,
            event_time=_event_time(event),
            actor=None,
            action_result=result,
            context=context,
            logger=logger,
            metrics=metrics,
        )
    except Exception:
        logger.exception("could not record the undecided event; it goes to the dead-letter queue")


def gate(event: dict[str, Any], context: Any) -> dict[str, Any]:
    parsed = parse_model_package_event(event)
    arn, region = parsed.detail.ModelPackageArn, parsed.region
    config = settings()
    try:
        package = describe_package(arn, region)
        facts = gather(package, region, config.lineage_bucket)
        decision = decide_approval(governance_policy(), facts, lineage_bucket=config.lineage_bucket)
        result = act(decision, region, str(package.get("ModelApprovalStatus")))
    except Exception as exc:
        reason = f"{type(exc).__name__}: {exc}"
        _hold_back(arn, region, reason, event, context)
        raise GateUndecided(reason) from exc
    return conclude(
        decision,
        event=event,
        event_time=parsed.time,
        actor=facts.approved_by,
        action_result=result,
        context=context,
        logger=logger,
        metrics=metrics,
    )


def _package_in_unparsed(event: Any) -> tuple[str, str] | None:
    """Best effort on an event that failed validation: which model version, in which Region?

    Looks in the fields where the version belongs, then anywhere in the event's text (a
    truncated or mangled event may still name it).
    """
    candidates: list[Any] = []
    if isinstance(event, dict):
        detail, resources = event.get("detail"), event.get("resources")
        candidates.append(detail.get("ModelPackageArn") if isinstance(detail, dict) else None)
        candidates += resources if isinstance(resources, list) else []
    for candidate in candidates:
        if isinstance(candidate, str) and re.match(MODEL_PACKAGE_ARN, candidate):
            return candidate, candidate.split(":")[3]
    text = (
        event.decode(errors="replace")
        if isinstance(event, bytes)
        else event
        if isinstance(event, str)
        else json.dumps(event, default=str)
    )
    found = re.search(ARN_IN_TEXT, text)
    if found:
        return found.group(0), found.group(0).split(":")[3]
    return None


@logger.inject_lambda_context(correlation_id_path=correlation_paths.EVENT_BRIDGE, clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        parsed = parse_model_package_event(event)
    except MalformedEvent as exc:
        logger.error("rejected a malformed event", extra={"reason": str(exc)})
        found = _package_in_unparsed(event)
        if found is not None:
            fallback = dict(event) if isinstance(event, dict) else {"raw": str(event)[:2000]}
            fallback.setdefault(
                "id", "malformed-" + hashlib.sha256(json.dumps(event, sort_keys=True, default=str).encode()).hexdigest()[:32]
            )
            _hold_back(found[0], found[1], f"malformed event: {exc}", fallback, context)
        raise
    if parsed.detail.ModelApprovalStatus != "Approved":
        logger.info("not an approval: nothing to check", extra={"status": parsed.detail.ModelApprovalStatus})
        return {"decision": "skipped", "subject": parsed.detail.ModelPackageArn}
    return once_per_event(gate, event, context)
