"""Did someone try to switch governance off? Calls that change enforcement, the boundaries, the keys, the trail
or the governance buckets are each a violation, attempted (denied by the boundaries) or done.

The boundaries deny these calls to every governed role; the calls that still happen come from
principals outside them (an administrator, the deployment role) or are attempts that failed. Both
are recorded and alerted: a reviewer wants to see the attempts as much as the changes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from policies.naming import MONITORING_OUTCOMES, PERSONAS, TAMPER_ALARMS, Names
from policies.rules.outcome import Action, Decision, RuleSet, Verdict, Violation
from policies.terms import Mode, MonitoringEngine

if TYPE_CHECKING:
    from policies.model import GovernancePolicy

RULE = "governance-tampering"
BUS_POLICY_CALLS = ("PutPermission", "RemovePermission")
DEFAULT_EVENT_BUS = "default"

# eventSource -> eventName -> what the call does. Lambda's CloudTrail event names carry their API version.
TAMPER_CALLS: Mapping[str, Mapping[str, str]] = {
    "events.amazonaws.com": {
        "DisableRule": "disabled the rule",
        "DeleteRule": "deleted the rule",
        "PutRule": "changed the rule",
        "PutTargets": "retargeted the rule",
        "RemoveTargets": "removed the targets of the rule",
        # The default bus's policy admits the forwarding of other accounts (the hub's, with many accounts).
        "PutPermission": "changed the policy of event bus",
        "RemovePermission": "removed a permission of event bus",
    },
    "lambda.amazonaws.com": {
        "UpdateFunctionCode20150331v2": "replaced the code of",
        "UpdateFunctionConfiguration20150331v2": "changed the configuration of",
        "PutFunctionConcurrency20171031": "changed the concurrency of",
        "DeleteFunctionConcurrency20171031": "removed the reserved concurrency of",
        "DeleteFunction20150331": "deleted",
        "RemovePermission20150331v2": "removed an invoke permission of",
        "AddPermission20150331v2": "added an invoke permission to",
        # How EventBridge's asynchronous invocations are retried and where failures go. Lambda's CloudTrail page
        # names these calls without a version suffix; no recorded event confirms it, so any suffix is taken too
        # (ANY_VERSION_SUFFIX).
        "PutFunctionEventInvokeConfig": "set how failed events are retried for",
        "UpdateFunctionEventInvokeConfig": "changed how failed events are retried for",
        "DeleteFunctionEventInvokeConfig": "removed the retry settings of",
    },
    # The alarms that report what reaches a dead-letter queue, a handler's errors and tampering itself, and the
    # trail's metric filters and log group they count from (CloudWatch's and CloudWatch Logs' CloudTrail pages).
    "monitoring.amazonaws.com": {
        "DeleteAlarms": "deleted the governance alarms",
        "DisableAlarmActions": "disabled the actions of the governance alarms",
        "PutMetricAlarm": "changed the governance alarm",
    },
    "logs.amazonaws.com": {
        "DeleteMetricFilter": "deleted the governance metric filter",
        "PutMetricFilter": "changed the governance metric filter",
        "DeleteLogGroup": "deleted the log group",
        # CloudWatch Logs ingests nothing into a group whose key is disabled: another key, later disabled, silences the
        # trail's metric filters and the alarms on them.
        "AssociateKmsKey": "encrypted with another key the log group",
        "DisassociateKmsKey": "removed the key of the log group",
        "PutRetentionPolicy": "changed how long it keeps the log group",
    },
    "iam.amazonaws.com": {
        "CreatePolicyVersion": "wrote a new version of the boundary",
        "SetDefaultPolicyVersion": "switched the default version of the boundary",
        "DeletePolicy": "deleted the boundary",
        "DeletePolicyVersion": "deleted a version of the boundary",
        "DeleteRolePermissionsBoundary": "removed the permissions boundary of role",
        "PutRolePermissionsBoundary": "replaced the permissions boundary of role",
        # A governance role (or the deployment role the guardrails exempt) taken over or widened.
        "UpdateAssumeRolePolicy": "rewrote the trust of governance role",
        "AttachRolePolicy": "attached a policy to governance role",
        "PutRolePolicy": "wrote an inline policy of governance role",
        "DetachRolePolicy": "detached a policy from governance role",
        "DeleteRolePolicy": "deleted an inline policy of governance role",
        "DeleteRole": "deleted governance role",
        "UpdateRole": "changed governance role",
        # The lineage bucket knows execution roles by their ml-governance-role tag and <org>- name.
        "TagRole": "tagged governance role",
        "UntagRole": "untagged governance role",
        "CreateRole": "created a role named like the governance roles,",
    },
    "kms.amazonaws.com": {
        "DisableKey": "disabled the governance key",
        "ScheduleKeyDeletion": "scheduled the deletion of the governance key",
        "PutKeyPolicy": "replaced the key policy of the governance key",
        "DisableKeyRotation": "disabled rotation of the governance key",
        "RevokeGrant": "revoked a grant on the governance key",
        # Governance keys are known by alias: removing or repointing one hides the key from the checks keyed on it.
        "DeleteAlias": "deleted the governance key alias",
        "UpdateAlias": "pointed another key at the governance key alias",
        "CreateAlias": "created the governance key alias",
    },
    "s3.amazonaws.com": {
        "PutBucketObjectLockConfiguration": "changed Object Lock of",
        "PutBucketPolicy": "replaced the bucket policy of",
        "DeleteBucketPolicy": "deleted the bucket policy of",
        "PutBucketVersioning": "changed versioning of",
        "PutBucketLifecycle": "changed the lifecycle of",
        "PutBucketEncryption": "changed the default encryption of",
    },
    # Where every alert goes (the tamper watch's own too): the alerts topic and its subscriptions.
    "sns.amazonaws.com": {
        "Unsubscribe": "unsubscribed from the alerts topic:",
        "SetSubscriptionAttributes": "changed a subscription of the alerts topic:",
        "SetTopicAttributes": "changed the alerts topic",
        "RemovePermission": "removed a permission of the alerts topic",
        "DeleteTopic": "deleted the alerts topic",
    },
    "sqs.amazonaws.com": {
        "DeleteQueue": "deleted the dead-letter queue",
        "PurgeQueue": "purged the dead-letter queue",
        "SetQueueAttributes": "changed the dead-letter queue",
    },
    "scheduler.amazonaws.com": {
        "DeleteSchedule": "deleted a drift schedule in",
        "UpdateSchedule": "changed a drift schedule in",
        "DeleteScheduleGroup": "deleted the drift schedule group",
    },
    "cloudtrail.amazonaws.com": {
        "StopLogging": "stopped the trail",
        "DeleteTrail": "deleted the trail",
        "UpdateTrail": "changed the trail",
        "PutEventSelectors": "changed the event selectors of the trail",
    },
}


# Calls matched with or without an API-version suffix (UpdateFunctionConfiguration20150331v2 is how Lambda's records
# name that call; for these, the suffix, if any, is not known).
ANY_VERSION_SUFFIX = frozenset(
    {"PutFunctionEventInvokeConfig", "UpdateFunctionEventInvokeConfig", "DeleteFunctionEventInvokeConfig"}
)
_VERSION_SUFFIX = re.compile(r"\d{8}(?:v\d+)?$")


def call_name(event_source: str, event_name: str) -> str:
    """The name ``TAMPER_CALLS`` knows the call by: without its API-version suffix for ``ANY_VERSION_SUFFIX``."""
    plain = _VERSION_SUFFIX.sub("", event_name)
    return plain if plain in ANY_VERSION_SUFFIX and event_name not in TAMPER_CALLS.get(event_source, {}) else event_name


def _function_name(target: str) -> str:
    """The function a Lambda call names: by name, ARN or partial ARN, with or without a qualifier (``:$LATEST``)."""
    parts = target.split(":")
    if "function" in parts[:-1]:
        return parts[parts.index("function") + 1]
    return parts[0]


def _log_group(target: str) -> str:
    """The log group a CloudWatch Logs call names: by name, or by ARN (``resourceIdentifier``, ``...:log-group:<name>[:*]``)."""
    if target.startswith("arn:") and ":log-group:" in target:
        return target.split(":log-group:", 1)[1].removesuffix(":*")
    return target


@dataclass(frozen=True)
class CallFacts:
    """A CloudTrail record of one call, as the tamper watch sees it."""

    event_source: str
    event_name: str
    target: str
    """The resource the call names: a rule, function, policy ARN, role, key, bucket or trail name."""
    region: str
    actor: str | None = None
    error_code: str | None = None
    key_aliases: Sequence[str] = field(default_factory=tuple)
    """For KMS calls: the aliases of the key (governance keys are known by alias)."""
    targets: Sequence[str] = field(default_factory=tuple)
    """Every resource the call names when it names several (DeleteAlarms); empty: ``target`` alone."""


def governed_target(policy: GovernancePolicy, facts: CallFacts, handlers: Sequence[str]) -> bool:
    """Whether the call names one of the blueprint's own governance resources."""
    return any(_governed(policy, facts, target, handlers) for target in facts.targets or (facts.target,))


def _governed(policy: GovernancePolicy, facts: CallFacts, target: str, handlers: Sequence[str]) -> bool:
    names = Names(policy, account="*")
    target = target.rsplit("/", 1)[-1] if facts.event_source == "events.amazonaws.com" else target
    match facts.event_source:
        case "events.amazonaws.com":
            if facts.event_name in BUS_POLICY_CALLS:
                return target == DEFAULT_EVENT_BUS
            rules = {names.handler_rule(h) for h in handlers} | {names.handler_schedule_rule(h) for h in handlers}
            return target in rules or target.startswith(names.forwarding_rule_prefix)
        case "lambda.amazonaws.com":
            return _function_name(target) in {names.handler_function(h) for h in handlers}
        case "iam.amazonaws.com":
            if facts.event_name.endswith("PermissionsBoundary"):
                return True  # any role: dropping or swapping a boundary is the escape hatch itself
            if "Role" in facts.event_name:  # the blueprint's roles by name, and the deployment role where it has one
                deployer = policy.accounts.deployment_role if policy.accounts is not None else None
                return target in governance_roles(policy, names, handlers) or target == deployer
            return target.rsplit("/", 1)[-1] in {names.boundary_policy, names.enforcement_boundary_policy}
        case "kms.amazonaws.com":
            prefix = names.key_alias_pattern.removesuffix("*")
            if facts.event_name.endswith("Alias"):
                return target.startswith(prefix)
            return any(alias.startswith(prefix) for alias in facts.key_aliases)
    named = {  # the services whose calls name their resource plainly: is it the governance one?
        "s3.amazonaws.com": lambda: names.is_bucket("audit", target) or names.is_bucket("lineage", target),
        "cloudtrail.amazonaws.com": lambda: target.rsplit("/", 1)[-1] == names.trail,
        "sqs.amazonaws.com": lambda: target.rstrip("/").rsplit("/", 1)[-1] in {names.dead_letter_queue(h) for h in handlers},
        "scheduler.amazonaws.com": lambda: target == names.drift_schedule_group,
        # a topic ARN, or a subscription's (<topic ARN>:<id>)
        "sns.amazonaws.com": lambda: target.split(":")[5:6] == [names.alerts_topic],
        # by the names the stacks give them (a team's own <org>-... alarm or log group is not the blueprint's)
        "monitoring.amazonaws.com": lambda: target in governance_alarms(policy, names, handlers),
        "logs.amazonaws.com": lambda: (  # a log group, or a metric filter (its call names both)
            _log_group(target) in {names.trail_log_group, *(names.handler_log_group(h) for h in handlers)}
            or target in {names.tamper_alarm(alarm) for alarm in TAMPER_ALARMS}
        ),
    }
    check = named.get(facts.event_source)
    return check is not None and check()


def governance_roles(policy: GovernancePolicy, names: Names, handlers: Sequence[str]) -> set[str]:
    """Every role the stacks create: the personas', the handlers' (in a workload account too, by the same names),
    each project's execution and experiment roles, and the trail's, the forwarding's, the drift scheduler's and the
    clearance reader's."""
    return {
        *(names.persona_role(persona) for persona in PERSONAS),
        *(names.handler_role(h) for h in handlers),
        *(role for project in policy.projects for role in (names.execution_role(project), names.experiment_role(project))),
        names.trail_delivery_role,
        names.event_forwarding_role,
        names.drift_scheduler_role,
        names.clearance_reader_role,
    }


def governance_alarms(policy: GovernancePolicy, names: Names, handlers: Sequence[str]) -> set[str]:
    """Every alarm the stacks create: the trail's tamper alarms, each handler's dead-letter and errors alarms, and
    each Model Monitor endpoint's alarms on its runs."""
    monitored = [e.name for p in policy.projects for e in p.endpoints if e.engine is MonitoringEngine.MODEL_MONITOR]
    return {
        *(names.tamper_alarm(alarm) for alarm in TAMPER_ALARMS),
        *(alarm for h in handlers for alarm in (names.dead_letter_alarm(h), names.handler_errors_alarm(h))),
        *(names.monitoring_alarm(endpoint, outcome) for endpoint in monitored for outcome in MONITORING_OUTCOMES),
    }


def decide_tampering(policy: GovernancePolicy, facts: CallFacts, *, handlers: Sequence[str]) -> Decision:
    what = TAMPER_CALLS.get(facts.event_source, {}).get(call_name(facts.event_source, facts.event_name))
    governed = what is not None and governed_target(policy, facts, handlers)
    found: tuple[Violation, ...] = ()
    if governed:
        outcome = f"attempt denied ({facts.error_code})" if facts.error_code else "done"
        who = facts.actor or "an unknown principal"
        found = (Violation(RULE, f"{who} {what} {facts.target} in {facts.region}: {outcome}"),)
    return Decision(
        rule_set=RuleSet.TAMPER_DETECTION,
        subject=facts.target,
        verdict=Verdict.DENY if found else Verdict.ALLOW,
        action=Action.REPORT_ONLY if found else Action.NONE,
        mode=Mode.ENFORCE,  # detection only: there is nothing to switch to report mode
        violations=found,
        evidence={
            "event_source": facts.event_source,
            "event_name": facts.event_name,
            "region": facts.region,
            "actor": facts.actor,
            "error_code": facts.error_code,
            "key_aliases": list(facts.key_aliases),
        },
    )
