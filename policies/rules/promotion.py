"""May a model version move into a stage? The promotion rules of the policy's ``accounts`` section, as a decision.

A person asks for a promotion in the hub's registry with SageMaker's stage construct
(``UpdateModelPackage(ModelLifeCycle={"Stage": "<stage>", "StageStatus": "Approved"})``); the approval gate
decides here and either keeps the record the stage's deployer reads (``promoted#<stage>#<version>``) or sets
the stage status back to Rejected with the reasons.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from policies.rules.artifacts import RULE as ARTIFACT_RULE
from policies.rules.outcome import Action, Decision, RuleSet, Verdict, Violation
from policies.terms import Mode

if TYPE_CHECKING:
    from policies.model import GovernancePolicy

RULE = "promotion"
REQUESTED = "Approved"
"""The ModelLifeCycle StageStatus that asks for a promotion into its Stage."""
REFUSED = "Rejected"
"""The StageStatus the gate sets when it refuses one."""


@dataclass(frozen=True)
class PromotionFacts:
    package_arn: str
    stage: str
    promoter: str | None
    """The person who asked (the session's sts:SourceIdentity on LastModifiedBy); None when not recorded."""
    cleared: bool
    """Whether the gate cleared the version when it was approved."""
    approvers: tuple[str, ...]
    """The people who approved the version (recorded with its clearance: whoever the gate judged as approving it)."""
    promoted_by: Mapping[str, str] = field(default_factory=dict)
    """Stage -> the person who promoted the version into it, for the promotions the hub recorded."""
    artifact_changes: tuple[str, ...] = ()
    """How its model artifacts differ from the object versions its clearance pins (``policies.rules.artifacts``)."""


def requested_stage(policy: GovernancePolicy, life_cycle: object) -> str | None:
    """The stage a version's ModelLifeCycle asks to be promoted into, if it is one with a promotion rule."""
    if policy.accounts is None or not isinstance(life_cycle, Mapping):
        return None
    stage = life_cycle.get("Stage")
    if life_cycle.get("StageStatus") != REQUESTED or stage not in policy.accounts.rules():
        return None
    return str(stage)


def decide_promotion(policy: GovernancePolicy, facts: PromotionFacts) -> Decision:
    accounts = policy.accounts
    problems = [] if facts.promoter else ["who asked for the promotion is not recorded (no person on the session)"]
    if accounts is None:
        problems.append("the policy has no accounts section: there are no stages to promote into")
    else:
        problems += accounts.promotion_problems(
            facts.stage,
            approved=True,
            cleared=facts.cleared,
            promoted_by=dict(facts.promoted_by),
            approvers=facts.approvers,
            promoter=facts.promoter or "",
        )
    found = [Violation(RULE, p) for p in problems]
    found += [Violation(ARTIFACT_RULE, f"{facts.package_arn} is not as approved: {c}") for c in facts.artifact_changes]
    violations = tuple(found)
    return Decision(
        rule_set=RuleSet.APPROVAL_GATE,
        subject=facts.package_arn,
        verdict=Verdict.DENY if violations else Verdict.ALLOW,
        action=Action.REJECT_PROMOTION if violations else Action.NONE,
        mode=Mode.ENFORCE,
        violations=violations,
        evidence={
            "stage": facts.stage,
            "promoter": facts.promoter,
            "approvers": list(facts.approvers),
            "promoted_by": dict(facts.promoted_by),
            "cleared": facts.cleared,
            "artifact_changes": list(facts.artifact_changes),
        },
    )
