"""Does a resource carry a classification tag at least as strict as required? One check, three callers.

``classification_problem`` is the rule itself; the approval gate (model package groups), the
run-time classification handler (SageMaker resources) and the infrastructure check (synthesized
Terraform) all call it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING

from policies.rules.outcome import Action, Decision, RuleSet, Verdict, Violation, enforcement_action
from policies.rules.resources import ResourceFacts, attributed_project
from policies.terms import PROJECT_TAG_KEY, Remediation

if TYPE_CHECKING:
    from policies.model import GovernancePolicy

RULE = "classification-tag"


def classification_problem(
    policy: GovernancePolicy, tags: Mapping[str, str], *, required: str | None, subject: str, because: str
) -> str | None:
    """What is wrong with ``subject``'s classification tag, or None when it carries ``required`` or stricter."""
    key = policy.classification.tag_key
    levels = policy.classification.levels
    actual = tags.get(key)
    if actual is None:
        return f"{subject} has no {key!r} tag" + (f" ({because} requires {required!r})" if required else "")
    if actual not in levels:
        return f"{key}={actual!r} on {subject} is not a classification level ({', '.join(levels)})"
    if required is not None and policy.classification.rank(actual) < policy.classification.rank(required):
        return f"{key}={actual!r} on {subject} is below {required!r} ({because})"
    return None


def _claims(policy: GovernancePolicy, resource: ResourceFacts) -> list[tuple[str, str]]:
    """(level, why) for each thing that ties the resource to a project: its project tag, its name, the project role it
    runs as. Each is the caller's to choose (a data scientist tags its job with a less strict project, a project's
    execution role names its job after another), so none may lower what another requires."""
    from policies.naming import Names

    found: list[tuple[str, str]] = []
    tagged = resource.tags.get(PROJECT_TAG_KEY)
    if tagged is not None:
        project = policy.project(tagged)
        found.append(
            (project.classification, f"project {project.name}")
            if project
            else (policy.classification.required_for_unattributed, f"unknown project {tagged!r}")
        )
    named = attributed_project(policy, replace(resource, tags={}))
    if named is not None:
        found.append((named.classification, f"project {named.name}, by its name"))
    if resource.role:
        names, role = Names(policy, account="*"), resource.role.rsplit("/", 1)[-1]
        for project in policy.projects:
            if role in (names.execution_role(project), names.experiment_role(project)):
                found.append((project.classification, f"project {project.name}, whose role {role} it runs as"))
    return found


def required_level(policy: GovernancePolicy, resource: ResourceFacts) -> tuple[str, str]:
    """The level the resource must carry, and why: the strictest its project tag, its name and its role claim."""
    claims = _claims(policy, resource)
    if not claims:
        return policy.classification.required_for_unattributed, "no governed project"
    return max(claims, key=lambda claim: policy.classification.rank(claim[0]))


def decide_classification(policy: GovernancePolicy, resource: ResourceFacts) -> Decision:
    key = policy.classification.tag_key
    level, reason = required_level(policy, resource)
    problem = classification_problem(
        policy, resource.tags, required=level, subject=f"{resource.kind.value} {resource.name}", because=reason
    )
    found = (Violation(RULE, problem),) if problem else ()
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
