"""Promotions into a stage (the policy's ``accounts`` section), asked with SageMaker's stage construct in the hub.

A person sets ``ModelLifeCycle={"Stage": "<stage>", "StageStatus": "Approved"}`` on an Approved version; SageMaker
sends the same "Model Package State Change" event as for an approval. The gate then judges the promotion
(``policies.rules.promotion``) instead of the approval, and keeps ``promoted#<stage>#<version>`` with who asked:
the record the stage's deployer reads through the hub's clearance reader (``lambdas/model_deployer/hub.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lambdas.approval_gate.evidence import person
from lambdas.shared import ledger
from lambdas.shared.artifacts import artifact_changes
from lambdas.shared.clearance import approvers, clearance
from policies.naming import PROMOTED
from policies.rules.promotion import PromotionFacts, requested_stage

if TYPE_CHECKING:
    from policies.model import GovernancePolicy


def promotion_asked(package: dict[str, Any], policy: GovernancePolicy) -> str | None:
    """The stage an Approved version's ModelLifeCycle asks to enter, unless the hub already recorded that promotion.

    Only for a version the gate cleared: an approval that asks a stage in the same call (or a stage asked while the
    version was pending) is judged as an approval first; the stage is judged when it is asked again.
    """
    if package.get("ModelApprovalStatus") != "Approved":
        return None
    stage = requested_stage(policy, package.get("ModelLifeCycle"))
    arn = str(package["ModelPackageArn"])
    if stage is None or recorded(stage, arn) is not None or clearance(arn) is None:
        return None
    return stage


def recorded(stage: str, package_arn: str) -> dict[str, Any] | None:
    return ledger.lookup(PROMOTED, f"{stage}#{package_arn}")


def promotion_facts(package: dict[str, Any], policy: GovernancePolicy, stage: str) -> PromotionFacts:
    """The promotion's facts; a version whose model artifacts are not the pinned ones is not promoted (every later
    stage's deployer would refuse it anyway)."""
    arn = str(package["ModelPackageArn"])
    cleared = clearance(arn)
    # Every other stage's record (``promotion_asked`` found none for ``stage`` itself).
    stages = [s for s in (policy.accounts.stage_names if policy.accounts is not None else []) if s != stage]
    promoted_by = {s: str(found.get("by")) for s in stages if (found := recorded(s, arn)) is not None}
    return PromotionFacts(
        package_arn=arn,
        stage=stage,
        promoter=person(package.get("LastModifiedBy")),
        cleared=cleared is not None,
        approvers=approvers(cleared),
        promoted_by=promoted_by,
        artifact_changes=_artifact_changes(cleared, package, arn.split(":")[3]),
    )


def _artifact_changes(cleared: dict[str, Any] | None, package: dict[str, Any], region: str) -> tuple[str, ...]:
    """``artifact_changes``; artifacts that cannot be read now refuse the promotion (the version's approval stands:
    an undecided promotion must not hold the version back, which would quarantine it in every stage)."""
    try:
        return artifact_changes(cleared, package, region)
    except Exception as exc:  # noqa: BLE001 - fail closed for the promotion only
        return (f"its model artifacts could not be read ({type(exc).__name__}: {exc}); ask for the promotion again",)


def keep(facts: PromotionFacts, audit_record: str) -> None:
    """The record a stage's deployer needs (no expiry; the version's own status still gates every deployment)."""
    ledger.keep(PROMOTED, f"{facts.stage}#{facts.package_arn}", {"by": facts.promoter, "audit_record": audit_record})


def withdrawn(facts: PromotionFacts, package: dict[str, Any], policy: GovernancePolicy) -> str | None:
    """Why a promotion judged on the facts an earlier attempt stored no longer stands as asked (None: it does): the
    version left Approved (the gate's own hold after that attempt failed), its stage request changed, or its
    clearance was revoked or names other approvers than the facts (revoked and cleared again: the facts' approvers
    are no longer the version's). A retry then records the same decision and neither keeps the promotion nor
    refuses the newer request."""
    status = package.get("ModelApprovalStatus")
    if status != "Approved":
        return f"the version is {status} now"
    if requested_stage(policy, package.get("ModelLifeCycle")) != facts.stage:
        return f"the request to enter {facts.stage} was changed since"
    cleared = clearance(facts.package_arn)
    if cleared is None:
        return "its clearance was revoked since"
    if (now := approvers(cleared)) != tuple(facts.approvers):
        return f"its approvers changed since (now {', '.join(now) or 'none recorded'})"
    return None
