"""Approval gate: on "SageMaker Model Package State Change" to Approved, check the approval rules.

parse -> gather evidence (remembered for the event) -> decide (policies.rules.approval) -> act -> record.
A violation sets the version back to Rejected with every violated rule in its ApprovalDescription
(enforce mode) or only records and notifies (report mode).

Fail closed: whenever the gate cannot finish (an unreadable policy, an AWS error, the idempotency
store, the audit write, the alert), the version is set to PendingManualApproval, the hold is
recorded, and the event is raised to be retried, then dead-lettered with an alarm. A retry decides
on the facts the first attempt gathered (and on what it found the event asks: a promotion into a stage,
or the approval), so it completes the record and the alert of the same decision instead of judging a
version its own update changed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, replace
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths

from lambdas.actions import HoldModelVersion, SetApprovalStatus
from lambdas.approval_gate.evidence import (
    gather,
    identity,
    lineage_of,
    model_artifacts,
    person,
    registered_at,
)
from lambdas.shared import clearance, ledger
from lambdas.shared.events import MalformedEvent, find_arn, parse_model_package_event
from lambdas.shared.idempotency import EventInProgress, once_per_event
from lambdas.shared.policy import governance_policy
from lambdas.shared.runtime import METRICS_NAMESPACE, conclude, event_time
from lambdas.shared.sagemaker_resources import describe_package
from lambdas.shared.settings import TRACED_MODULES
from lambdas.table import handler_spec
from policies.naming import APPROVAL_GATE
from policies.rules.approval import ModelVersionFacts, decide_approval, undecidable_approval
from policies.rules.artifacts import ArtifactRead, ModelData, pins
from policies.rules.outcome import Action, Decision
from policies.rules.provenance import EvidenceFile
from policies.rules.resources import ResourceFacts, ResourceKind

if TYPE_CHECKING:
    from policies.model import GovernancePolicy
    from policies.rules.promotion import PromotionFacts

SPEC = handler_spec(APPROVAL_GATE)
logger = Logger(service=SPEC.name)
tracer = Tracer(service=SPEC.name, patch_modules=TRACED_MODULES)
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SPEC.name)

# A complete model package ARN inside JSON text: it must end where its string ends.
ARN_IN_TEXT = r'arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:model-package/[A-Za-z0-9](?:-*[A-Za-z0-9])*/\d+(?=")'
FACTS = "facts"
PROMOTION = "promotion"  # in the facts of an event that asked for a promotion


class GateUndecided(RuntimeError):
    """The gate could not decide; the version was held back and the event will be retried."""


def model_version(arn: str, region: str) -> ResourceFacts:
    return ResourceFacts(kind=ResourceKind.MODEL_PACKAGE, name=arn, arn=arn, region=region)


def act(decision: Decision, region: str, current_status: str) -> str:
    """Act on a version that is still Approved; a version already in the target status counts as done
    (an earlier attempt of this event got there), any other status set by a person stands."""
    if decision.allowed and current_status != "Approved":  # a retry after a hold, or a person changed it since
        return f"none: compliant but not cleared, the version is {current_status} now; approving it again has it judged"
    if decision.action in (Action.NONE, Action.REPORT_ONLY):
        return SPEC.act(decision, model_version(decision.subject, region))
    remedy = SPEC.remedy_for(decision.action)
    if issubclass(remedy, SetApprovalStatus) and current_status == remedy.status:
        return f"set to {current_status}"
    if current_status != "Approved":
        return f"none: the version is already {current_status}"
    return SPEC.act(decision, model_version(decision.subject, region))


def approver_from(event: dict[str, Any], package: dict[str, Any], policy: GovernancePolicy) -> tuple[str | None, str | None]:
    """Who approved (identity, person): from the triggering event, else the package's last modifier, never the gate itself."""
    detail: dict[str, Any] = event["detail"] if isinstance(event.get("detail"), dict) else {}
    context = detail.get("LastModifiedBy") if identity(detail.get("LastModifiedBy")) else package.get("LastModifiedBy")
    found = identity(context)
    own_role = f"/{policy.organization.name}-{APPROVAL_GATE}/"
    if found and own_role in found.replace(":role/", "/").replace(":assumed-role/", "/"):
        return None, None
    return found, person(context)


def first_look(event: dict[str, Any], package: dict[str, Any], policy: GovernancePolicy, region: str) -> dict[str, Any]:
    """What the event asks (a promotion into a stage, or the approval itself) and the facts to judge it on."""
    if (asked := promotion_look(package, policy)) is not None:  # a promotion into a stage, not an approval
        return asked
    data, reads = model_artifacts(package, policy, region)
    gathered = replace(gather(package, region, *lineage_of(package, policy)), model_data=tuple(data), artifact_reads=tuple(reads))
    approver, approver_person = approver_from(event, package, policy)
    return asdict(gathered) | {"approved_by": approver, "approved_by_person": approver_person}


def promotion_look(package: dict[str, Any], policy: GovernancePolicy) -> dict[str, Any] | None:
    """The facts of the promotion into a stage the version's update asks for; None when it asks none."""
    if policy.accounts is None:  # no stages to promote into (promotion rules are read only when there are)
        return None
    from lambdas.approval_gate.promotion import promotion_asked, promotion_facts

    if (stage := promotion_asked(package, policy)) is None:
        return None
    return {PROMOTION: asdict(promotion_facts(package, policy, stage)), "asked_by": identity(package.get("LastModifiedBy"))}


def facts_for(
    event: dict[str, Any], package: dict[str, Any], policy: GovernancePolicy, region: str
) -> tuple[ModelVersionFacts | PromotionFacts, str | None]:
    """The facts and who asked, as the first attempt for this event found them; every retry judges the same: a
    promotion the first attempt recorded is not judged again as an approval by the promoter."""
    stored = ledger.remembered(FACTS, str(event["id"]), lambda: first_look(event, package, policy, region))
    if PROMOTION in stored:
        from policies.rules.promotion import PromotionFacts

        asked = stored[PROMOTION] | {k: tuple(stored[PROMOTION][k]) for k in ("approvers", "artifact_changes")}
        return PromotionFacts(**asked), stored.get("asked_by")
    reads_then = stored.get("artifact_reads") or []
    if "model_data" not in stored or "registered_at" not in stored or any("versions" not in r for r in reads_then):
        # remembered before the artifact pins (or before their checks): read the artifacts now
        fresh, fresh_reads = model_artifacts(package, policy, region)
        stored |= {"model_data": [asdict(d) for d in fresh], "artifact_reads": [asdict(r) for r in fresh_reads]}
        stored["registered_at"] = registered_at(package)
    files = tuple(EvidenceFile(**f) for f in stored.pop("evidence_files"))
    data = tuple(ModelData(**d) for d in stored.pop("model_data", ()))
    reads = tuple(ArtifactRead(**r) for r in stored.pop("artifact_reads", ()))
    facts = ModelVersionFacts(**stored, evidence_files=files, model_data=data, artifact_reads=reads)
    return facts, facts.approved_by


def gate(event: dict[str, Any], context: Any) -> dict[str, Any]:
    parsed = parse_model_package_event(event)
    arn, region = parsed.detail.ModelPackageArn, parsed.region
    try:
        policy = governance_policy()
        package = describe_package(arn, region)
        facts, actor = facts_for(event, package, policy, region)
        if isinstance(facts, ModelVersionFacts):
            decision = decide_approval(policy, facts, lineage_bucket=lineage_of(package, policy)[0])
            status = str(package.get("ModelApprovalStatus"))
            result = act(decision, region, status)
        else:
            from lambdas.approval_gate.promotion import withdrawn
            from policies.rules.promotion import decide_promotion

            decision = decide_promotion(policy, facts)
            changed = withdrawn(facts, package, policy)
            if changed is not None:  # a retry, and the world moved on: the same decision, nothing done
                result = f"none: {changed}; asking for {facts.stage} again has it judged"
            else:
                result = SPEC.act(decision, model_version(arn, region))
    except Exception as exc:
        reason = f"{type(exc).__name__}: {exc}"
        hold_back(arn, region, reason, event, context)
        raise GateUndecided(reason) from exc
    outcome = conclude(
        decision,
        event=event,
        event_time=parsed.time,
        actor=actor,
        action_result=result,
        context=context,
        logger=logger,
        metrics=metrics,
    )
    if not isinstance(facts, ModelVersionFacts):
        if decision.allowed and changed is None:  # the stage's deployer deploys only what the hub recorded as promoted
            from lambdas.approval_gate.promotion import keep as keep_promotion

            keep_promotion(facts, str(outcome["audit_record"]))
    elif decision.allowed and status == "Approved":  # the deployer deploys only what the gate cleared; failing here holds it back
        clearance.clear(
            arn,
            audit_record=str(outcome["audit_record"]),
            policy_version=policy.version,
            approved_by_person=facts.approved_by_person,
            artifacts=pins(facts.model_data, {r.uri: r for r in facts.artifact_reads}),
        )
    return outcome


def hold_back(arn: str, region: str, reason: str, event: dict[str, Any], context: Any) -> None:
    """Undecidable: take the version out of Approved (enforce mode, or when the policy itself is unreadable), record, notify.

    When even its status cannot be read, the version is set to PendingManualApproval anyway:
    at worst a rejected version becomes pending, never approved.
    """
    try:
        policy: GovernancePolicy | None = governance_policy()
    except Exception:  # noqa: BLE001 - an unreadable policy is itself a reason to hold back
        policy = None
    decision = undecidable_approval(policy, arn, reason)
    result = "none: report mode, recorded and notified only"
    package: dict[str, Any] | None = None
    held = False
    if decision.action is Action.REVERT_TO_PENDING:
        try:
            try:
                package = describe_package(arn, region)
                status = str(package.get("ModelApprovalStatus", "unknown"))
            except Exception:  # noqa: BLE001 - fail closed: an unreadable status is held back too
                status = "unknown"
            if status in {"Approved", "unknown"}:
                result = HoldModelVersion.perform(decision, model_version(arn, region))
                held = True
            else:
                result = f"none: the version is already {status}"
        except Exception as exc:
            logger.exception("could not hold back the model version", extra={"model_package": arn})
            result = f"failed: {type(exc).__name__}: {exc}"
    try:
        conclude(
            decision,
            event=event,
            event_time=event_time(event),
            actor=None,
            action_result=result,
            context=context,
            logger=logger,
            metrics=metrics,
        )
    except Exception:
        logger.exception("could not record the undecided event; it goes to the dead-letter queue")
    if held and package is not None and policy is not None:  # after the hold and its record, never before them
        remember_a_promotion(event, package, policy)


def remember_a_promotion(event: dict[str, Any], package: dict[str, Any], policy: GovernancePolicy) -> None:
    """Store, for an event whose attempt held the version back before it stored its facts, the promotion the version
    (as read before the hold) asks for, if any: its retry finds the version no longer Approved, so no promotion to
    judge, and would judge an approval by the promoter. Only when the version as read is the event's (not changed
    since the event's ``LastModifiedTime``: a later update's request is that update's event's to judge). After the
    hold and its record; best effort: a retry that finds nothing judges as before, as it does when the deployment
    guard, seeing the hold, revoked the clearance before this read it (the promotion is then no longer asked)."""
    try:
        if not _unchanged_since(event, package):
            return
        if (asked := promotion_look(package, policy)) is not None:
            ledger.remembered(FACTS, str(event["id"]), lambda: asked)
    except Exception:
        logger.exception(
            "could not store the promotion the held event asked for", extra={"model_package": package.get("ModelPackageArn")}
        )


def _unchanged_since(event: dict[str, Any], package: dict[str, Any]) -> bool:
    """Whether the version as read was last changed no later than the event says (to the second); False when
    either time is missing or unreadable."""
    from datetime import datetime

    detail = event.get("detail")
    changed = package.get("LastModifiedTime")
    if not isinstance(detail, dict) or not isinstance(detail.get("LastModifiedTime"), str) or not isinstance(changed, datetime):
        return False
    try:
        told = datetime.fromisoformat(detail["LastModifiedTime"])
        return changed.replace(microsecond=0) <= told
    except (TypeError, ValueError):  # an unreadable time, or one without a time zone
        return False


def _fallback_event(event: Any) -> dict[str, Any]:
    fallback = dict(event) if isinstance(event, dict) else {"raw": str(event)[:2000]}
    fallback.setdefault(
        "id", "malformed-" + hashlib.sha256(json.dumps(event, sort_keys=True, default=str).encode()).hexdigest()[:32]
    )
    return fallback


@logger.inject_lambda_context(correlation_id_path=correlation_paths.EVENT_BRIDGE, clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        parsed = parse_model_package_event(event)
    except MalformedEvent as exc:
        logger.error("rejected a malformed event", extra={"reason": str(exc)})
        found = find_arn(event, ARN_IN_TEXT)
        if found is not None:
            hold_back(found, found.split(":")[3], f"malformed event: {exc}", _fallback_event(event), context)
        raise
    if parsed.detail.ModelApprovalStatus != "Approved":
        logger.info("not an approval: nothing to check", extra={"status": parsed.detail.ModelApprovalStatus})
        return {"decision": "skipped", "subject": parsed.detail.ModelPackageArn}
    try:
        return once_per_event(gate, event, context)
    except (GateUndecided, EventInProgress):  # held back already / another delivery of this event is deciding
        raise
    except Exception as exc:  # the idempotency store, the audit write or the alert: nothing may stay Approved
        hold_back(parsed.detail.ModelPackageArn, parsed.region, f"{type(exc).__name__}: {exc}", event, context)
        raise
