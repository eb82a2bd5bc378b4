"""Does a SageMaker resource carry a classification tag at least as strict as its project's?"""

from __future__ import annotations

from policies.model import PROJECT_TAG_KEY, GovernancePolicy, Remediation
from policies.rules.outcome import Action, Decision, RuleSet, Verdict, Violation, enforcement_action
from policies.rules.resources import ResourceFacts, attributed_project


def required_level(policy: GovernancePolicy, resource: ResourceFacts) -> tuple[str, str]:
    """The level the resource must carry, and why."""
    project = attributed_project(policy, resource)
    if project is not None:
        return project.classification, f"project {project.name}"
    tagged = resource.tags.get(PROJECT_TAG_KEY)
    if tagged is not None:
        return policy.classification.required_for_unattributed, f"unknown project {tagged!r}"
    return policy.classification.required_for_unattributed, "no governed project"


def decide_classification(policy: GovernancePolicy, resource: ResourceFacts) -> Decision:
    key = policy.classification.tag_key
    level, reason = required_level(policy, resource)
    actual = resource.tags.get(key)
    violations: list[Violation] = []
    if actual is None:
        violations.append(
            Violation(
                "classification-tag", f"{resource.kind.value} {resource.name} has no {key!r} tag ({reason} requires {level!r})"
            )
        )
    elif actual not in policy.classification.levels:
        violations.append(
            Violation(
                "classification-tag",
                f"{key}={actual!r} on {resource.name} is not a classification level ({', '.join(policy.classification.levels)})",
            )
        )
    elif policy.classification.rank(actual) < policy.classification.rank(level):
        violations.append(Violation("classification-tag", f"{key}={actual!r} on {resource.name} is below {level!r} ({reason})"))
    found = tuple(violations)
    stop = resource.kind.is_job and policy.classification.remediation is Remediation.STOP
    mode = policy.enforcement.data_classification
    return Decision(
        rule_set=RuleSet.DATA_CLASSIFICATION,
        subject=resource.arn,
        verdict=Verdict.DENY if found else Verdict.ALLOW,
        action=enforcement_action(mode, found, Action.STOP_JOB if stop else Action.TAG_RESOURCE),
        mode=mode,
        violations=found,
        evidence={
            "kind": resource.kind.value,
            "region": resource.region,
            "tags": dict(resource.tags),
            "required_level": level,
            "because": reason,
        },
        remediation={key: level} if found else {},
    )
