"""Is a SageMaker resource in a Region the policy allows?"""

from __future__ import annotations

from typing import TYPE_CHECKING

from policies.rules.outcome import Action, Decision, RuleSet, Verdict, Violation, enforcement_action
from policies.rules.resources import ResourceFacts, ResourceKind

if TYPE_CHECKING:
    from policies.model import GovernancePolicy


def remedy(kind: ResourceKind) -> Action:
    if kind.is_job:
        return Action.STOP_JOB
    if kind is ResourceKind.ENDPOINT:
        return Action.DELETE_ENDPOINT
    return Action.REPORT_ONLY


def allowed_regions(policy: GovernancePolicy) -> list[str]:
    """Where SageMaker work may exist; event routing and ``decide_region`` both judge by this list."""
    return list(policy.regions.allowed)


def decide_region(policy: GovernancePolicy, resource: ResourceFacts) -> Decision:
    allowed = allowed_regions(policy)
    found: tuple[Violation, ...] = ()
    if resource.region not in allowed:
        found = (
            Violation(
                "region-restriction",
                f"{resource.kind.value} {resource.name} was created in {resource.region}; the policy allows {', '.join(allowed)}",
            ),
        )
    mode = policy.enforcement.region_restriction
    return Decision(
        rule_set=RuleSet.REGION_RESTRICTION,
        subject=resource.arn,
        verdict=Verdict.DENY if found else Verdict.ALLOW,
        action=enforcement_action(mode, found, remedy(resource.kind)),
        mode=mode,
        violations=found,
        evidence={
            "kind": resource.kind.value,
            "region": resource.region,
            "allowed": list(allowed),
            "created_by": resource.created_by,
        },
    )
