"""Checks that need the whole policy: metric names and ranges, AWS limits on derived names and tags.

``GovernancePolicy``'s model validator calls ``limit_issues`` once every field is valid. Each issue
names the field to change. The names checked are the ones ``policies.naming`` derives, built for a
12-digit account in the policy's home Region, so a policy that passes here synthesizes names AWS accepts.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from collections.abc import Iterator

from policies.errors import Loc, PolicyIssue, format_loc
from policies.model import KNOWN_METRICS, OWNER_TAG_KEY, PROJECT_TAG_KEY, GovernancePolicy, MetricRange
from policies.model.accounts import account_issues
from policies.naming import (
    APPROVAL_GATE,
    BUCKET_PURPOSES,
    CLASSIFICATION_TAGS,
    KEY_PURPOSES,
    PERSONAS,
    REGION_GUARD,
    STACK_TAG_KEY,
    Names,
)
from policies.terms import ROLE_KIND_TAG_KEY

SAMPLE_ACCOUNT = "123456789012"  # every account id has 12 digits, so every account gives names of this length
HANDLERS = (APPROVAL_GATE, CLASSIFICATION_TAGS, REGION_GUARD)
MAX_TAGS_PER_RESOURCE = 50
ORG: Loc = ("organization", "name")

# kind of name -> (longest name AWS accepts, characters it accepts)
NAME_RULES: dict[str, tuple[int, str]] = {
    "IAM role": (64, r"[A-Za-z0-9_+=,.@-]+"),
    "IAM policy": (128, r"[A-Za-z0-9_+=,.@-]+"),
    "Lambda function": (64, r"[a-zA-Z0-9_-]+"),
    "SQS queue": (80, r"[a-zA-Z0-9_-]+"),
    "SNS topic": (256, r"[a-zA-Z0-9_-]+"),
    "EventBridge rule": (64, r"[a-zA-Z0-9._-]+"),
    "CloudTrail trail": (128, r"[a-zA-Z0-9][a-zA-Z0-9._-]*[a-zA-Z0-9]"),
    "DynamoDB table": (255, r"[a-zA-Z0-9_.-]{3,}"),
    "KMS alias": (256, r"alias/[a-zA-Z0-9/_-]+"),
    "model package group": (63, r"[a-zA-Z0-9](-*[a-zA-Z0-9])*"),
}
BUCKET_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
BUCKET_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def limit_issues(policy: GovernancePolicy) -> list[PolicyIssue]:
    issues = consistency_issues(policy) + metric_issues(policy) + name_issues(policy) + tag_issues(policy)
    if policy.accounts is not None:  # many accounts: stages, projects per stage, promotion rules
        issues += account_issues(policy.accounts, [p.name for p in policy.projects])
    return issues


def consistency_issues(policy: GovernancePolicy) -> list[PolicyIssue]:
    """Fields that must agree: home in allowed, levels that exist, unique projects and endpoints, floors."""
    issues: list[PolicyIssue] = []
    levels = policy.classification.levels
    if policy.regions.home not in policy.regions.allowed:
        issues.append(
            PolicyIssue(
                ("regions", "home"),
                f"home Region {policy.regions.home!r} is not in regions.allowed ({', '.join(policy.regions.allowed)}); add it there or pick one of them",
            )
        )
    unattributed = policy.classification.unattributed_level
    if unattributed is not None and unattributed not in levels:
        issues.append(
            PolicyIssue(
                ("classification", "unattributed_level"),
                f"{unattributed!r} is not a classification level; allowed: {', '.join(levels)}",
            )
        )
    seen_projects: dict[str, int] = {}
    seen_endpoints: dict[str, Loc] = {}
    for i, project in enumerate(policy.projects):
        loc: Loc = ("projects", i)
        if project.name in seen_projects:
            issues.append(
                PolicyIssue(
                    loc + ("name",),
                    f"duplicate project {project.name!r} (also projects[{seen_projects[project.name]}]); project names must be unique",
                )
            )
        seen_projects.setdefault(project.name, i)
        if project.classification not in levels:
            issues.append(
                PolicyIssue(
                    loc + ("classification",),
                    f"{project.classification!r} is not a classification level; allowed: {', '.join(levels)} (classification.levels)",
                )
            )
        for metric, threshold in project.metric_thresholds.items():
            floor = policy.approval.metric_minimums.get(metric)
            if floor is None:
                continue
            if threshold.minimum is None:
                issues.append(
                    PolicyIssue(
                        loc + ("metric_thresholds", metric),
                        f"approval.metric_minimums sets a minimum of {floor:g} for {metric!r}; give this project a minimum too (>= {floor:g})",
                    )
                )
            elif threshold.minimum < floor:
                issues.append(
                    PolicyIssue(
                        loc + ("metric_thresholds", metric, "minimum"),
                        f"{threshold.minimum:g} is below the organization minimum {floor:g} (approval.metric_minimums.{metric}); raise it or remove it to inherit {floor:g}",
                    )
                )
        for j, endpoint in enumerate(project.endpoints):
            if endpoint.name in seen_endpoints:
                issues.append(
                    PolicyIssue(
                        loc + ("endpoints", j, "name"),
                        f"endpoint {endpoint.name!r} is already monitored at {format_loc(seen_endpoints[endpoint.name])}",
                    )
                )
            seen_endpoints.setdefault(endpoint.name, loc + ("endpoints", j, "name"))
    return issues


# ---- metrics -------------------------------------------------------------------------------------
def metric_issues(policy: GovernancePolicy) -> list[PolicyIssue]:
    """Thresholds name a metric the evaluation reports, within the values that metric can take."""
    issues: list[PolicyIssue] = []
    for name in policy.approval.custom_metrics:
        if name in KNOWN_METRICS:
            message = f"{name!r} is a governed metric ({KNOWN_METRICS[name].describe()}); remove it from custom_metrics"
            issues.append(PolicyIssue(("approval", "custom_metrics", name), message))
    entries: list[tuple[Loc, str, dict[str, float | None]]] = [
        (("approval", "metric_minimums", name), name, {"": floor}) for name, floor in policy.approval.metric_minimums.items()
    ]
    for i, project in enumerate(policy.projects):
        for name, bound in project.metric_thresholds.items():
            entries.append(
                (("projects", i, "metric_thresholds", name), name, {"minimum": bound.minimum, "maximum": bound.maximum})
            )
    for loc, name, values in entries:
        known = policy.metric_range(name)
        if known is None:
            issues.append(PolicyIssue(loc, _unknown_metric(policy, name)))
            continue
        for side, value in values.items():
            if value is not None and not known.contains(value):
                issues.append(PolicyIssue(loc + ((side,) if side else ()), _out_of_range(name, value, known)))
    return issues


def _unknown_metric(policy: GovernancePolicy, name: str) -> str:
    custom = sorted(policy.approval.custom_metrics)
    close = difflib.get_close_matches(name, sorted(KNOWN_METRICS) + custom, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    declared = f"; approval.custom_metrics declares {', '.join(custom)}" if custom else ""
    return (
        f"{name!r} is not a metric the governed evaluation step reports: {hint}it reports {', '.join(sorted(KNOWN_METRICS))}"
        f"{declared}; declare a metric your own evaluation reports under approval.custom_metrics"
    )


def _out_of_range(name: str, value: float, known: MetricRange) -> str:
    message = f"{value:g} is outside the range of {name} ({known.describe()})"
    if (known.lowest, known.highest) == (0.0, 1.0) and 1 < value <= 100:
        message += f": {name} is a fraction, not a percentage; write {value / 100:g} for {value:g} %"
    return message


# ---- names ---------------------------------------------------------------------------------------
def bucket_name_problem(name: str) -> str | None:
    """Why S3 refuses ``name`` as a general purpose bucket name, or None if it accepts it."""
    if not 3 <= len(name) <= 63:
        return f"is {len(name)} characters; S3 allows 3 to 63"
    if not re.fullmatch(r"[a-z0-9][a-z0-9.-]*[a-z0-9]", name):
        return "may hold only lowercase letters, digits, dots and hyphens, and must start and end with a letter or digit"
    if ".." in name:
        return "has two adjacent dots"
    for prefix in BUCKET_PREFIXES:
        if name.startswith(prefix):
            return f"starts with {prefix!r}, a prefix S3 reserves"
    for suffix in BUCKET_SUFFIXES:
        if name.endswith(suffix):
            return f"ends with {suffix!r}, a suffix S3 reserves"
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        return None
    return "is formatted as an IP address"


def name_problem(kind: str, name: str) -> str | None:
    """Why AWS refuses ``name`` for a resource of ``kind`` (a key of NAME_RULES), or None."""
    longest, allowed = NAME_RULES[kind]
    if len(name) > longest:
        return f"is {len(name)} characters; AWS allows at most {longest}"
    if not re.fullmatch(allowed, name):
        return f"has characters a {kind} name may not hold (allowed: {allowed})"
    return None


def derived_names(policy: GovernancePolicy) -> Iterator[tuple[str, str, Loc]]:
    """(kind, name, field that decides it) for every name the blueprint derives from the policy."""
    names = Names(policy, account=SAMPLE_ACCOUNT)
    for purpose in BUCKET_PURPOSES:
        yield "S3 bucket", names.bucket(purpose), ORG
    for persona in PERSONAS:
        yield "IAM role", names.persona_role(persona), ORG
    for handler in HANDLERS:
        yield "IAM role", names.handler_role(handler), ORG
        yield "Lambda function", names.handler_function(handler), ORG
        yield "SQS queue", names.dead_letter_queue(handler), ORG
        yield "EventBridge rule", names.handler_rule(handler), ORG
    yield "IAM role", names.event_forwarding_role, ORG
    yield "IAM role", names.trail_delivery_role, ORG
    yield "IAM policy", names.boundary_policy, ORG
    yield "SNS topic", names.alerts_topic, ORG
    yield "CloudTrail trail", names.trail, ORG
    yield "DynamoDB table", names.idempotency_table, ORG
    for purpose in KEY_PURPOSES:
        yield "KMS alias", names.key_alias(purpose), ORG
    for i, project in enumerate(policy.projects):
        yield "IAM role", names.execution_role(project), ("projects", i, "name")
        yield "IAM role", names.experiment_role(project), ("projects", i, "name")
        yield "model package group", names.model_package_group(project), ("projects", i, "name")
    if policy.accounts is not None:
        yield "S3 bucket", names.artifacts_bucket, ORG
        yield "IAM role", names.clearance_reader_role, ORG
        for i, project in enumerate(policy.projects):
            yield "KMS alias", names.artifact_key_alias(project.name), ("projects", i, "name")


def name_issues(policy: GovernancePolicy) -> list[PolicyIssue]:
    found: dict[tuple[Loc, str], PolicyIssue] = {}
    for kind, name, loc in derived_names(policy):
        problem = bucket_name_problem(name) if kind == "S3 bucket" else name_problem(kind, name)
        if problem is None or (loc, kind) in found:
            continue  # one issue per kind and field: the first name shows the problem
        field = "organization.name" if loc == ORG else "the project name"
        region = f" in {policy.regions.home}" if kind == "S3 bucket" else ""
        found[loc, kind] = PolicyIssue(loc, f"the {kind} name {name!r}{region} {problem}; choose a different {field}")
    return [*found.values(), *prefix_issues(policy)]


def prefix_issues(policy: GovernancePolicy) -> list[PolicyIssue]:
    """A project's people reach the jobs and models named ``<project>-*``: no project may be named like that."""
    names = [p.name for p in policy.projects]
    first_index: dict[str, int] = {}
    for i, name in enumerate(names):
        first_index.setdefault(name, i)
    issues = []
    for i, name in enumerate(names):
        # the owners are the other names that end where ``name`` has a hyphen; the first in the policy is named
        owners = [name[:end] for end, char in enumerate(name) if char == "-" and name[:end] in first_index]
        if owner := min(owners, key=first_index.__getitem__, default=None):
            message = (
                f"{name!r} starts with project {owner!r} and a hyphen: {owner!r}'s people may act on resources named "
                f"'{owner}-*', {name!r}'s among them; choose a name that does not"
            )
            issues.append(PolicyIssue(("projects", i, "name"), message))
    return issues


# ---- tags ----------------------------------------------------------------------------------------
def tag_issues(policy: GovernancePolicy) -> list[PolicyIssue]:
    issues: list[PolicyIssue] = []
    standard = policy.organization.standard_tags
    blueprint_keys = {
        policy.classification.tag_key: "classification.tag_key",
        PROJECT_TAG_KEY: "the project name",
        OWNER_TAG_KEY: "the project's owner_team",
        STACK_TAG_KEY: "the stack name",
        ROLE_KIND_TAG_KEY: "what a project role is for, which the lineage bucket trusts",
    }
    for key in standard:
        if key in blueprint_keys:
            message = (
                f"the blueprint sets tag {key!r} on each resource itself (to {blueprint_keys[key]}); remove it from standard_tags"
            )
            issues.append(PolicyIssue(("organization", "standard_tags", key), message))
    if policy.classification.tag_key in (PROJECT_TAG_KEY, OWNER_TAG_KEY, STACK_TAG_KEY, ROLE_KIND_TAG_KEY):
        message = f"{policy.classification.tag_key!r} is a tag the blueprint sets for another purpose; choose another key"
        issues.append(PolicyIssue(("classification", "tag_key"), message))
    count = len(set(standard) | set(blueprint_keys))
    if count > MAX_TAGS_PER_RESOURCE:
        issues.append(
            PolicyIssue(
                ("organization", "standard_tags"),
                f"a project's resources would carry {count} tags ({len(standard)} standard tags plus "
                f"{', '.join(sorted(set(blueprint_keys) - set(standard)))}); AWS allows {MAX_TAGS_PER_RESOURCE} per resource: "
                f"remove {count - MAX_TAGS_PER_RESOURCE} standard tag{'s' if count - MAX_TAGS_PER_RESOURCE > 1 else ''}",
            )
        )
    return issues
