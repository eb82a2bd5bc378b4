"""Service control policies for the accounts the blueprint governs: the boundary's guardrails, for everyone.

A permissions boundary caps only the roles that carry it; an account's administrator (AdministratorAccess and
no boundary) is capped by nothing but SCPs. These SCPs, attached to the stages' OUs (and the hub's), deny in
every account below them:

- requests outside the allowed Regions (the policy's global-service exemptions apart), except for the
  deployment role (forwarding rules live in every watched Region) and the enforcement roles (the region guard
  stops work wherever it appears);
- every guardrail of ``iam.boundary.governance_guardrails``: dropping a boundary, changing the trail, the
  governance buckets, keys, enforcement rules, functions and queues, touching a written audit record;
- changing a governance role (its trust, policies or tags) or passing an enforcement role to a function, rule or
  schedule of one's own, leaving the organization, and ``s3:BypassGovernanceRetention`` on anything;
- switching alerts off: the alerts topic and its subscriptions, the handlers' and the trail's alarms, the trail's
  metric filters;
- in the hub, writing the governance table (items, PartiQL statements, the table itself) except by the handlers.

Each deny except the last two is scoped with ``ArnNotLike aws:PrincipalArn`` so the named deployment role,
which Terraform assumes, can still deploy and change the blueprint. Names are those of any account (``*``):
one set of SCPs serves every account of an OU.

SCPs hold at most 5,120 characters (AWS counts the policy as submitted; these are minified) and an OU takes
at most five, one of which is usually FullAWSAccess: ``service_control_policies`` packs the statements into as
few documents as fit, splitting a statement's resources when one alone is too large, and refuses more than four.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from iam.boundary import TAMPERING_ALARMS, governance_guardrails
from iam.documents import Document, document, statement
from policies.naming import Names

if TYPE_CHECKING:
    from policies.model import GovernancePolicy

SCP_MAX_CHARACTERS = 5120
MAX_SCPS_PER_TARGET = 5
# AWS attaches FullAWSAccess to every root, OU and account by default; it takes one of the five places.
FREE_SCP_PLACES = MAX_SCPS_PER_TARGET - 1
FULL_AWS_ACCESS: Document = document({"Effect": "Allow", "Action": "*", "Resource": "*"})
"""AWS's managed FullAWSAccess SCP (p-FullAWSAccess): the allow every level needs for a deny-list strategy."""
ANY_ACCOUNT = "*"
# What would take over or break a governance role (and the deployment role the guardrails exempt): its trust, its
# policies, its boundary (swapped for the other blueprint boundary, which the boundaries' own deny still allows).
ROLE_TAMPERING_ACTIONS: tuple[str, ...] = (
    "iam:AttachRolePolicy",
    "iam:DeleteRole",
    "iam:DeleteRolePermissionsBoundary",
    "iam:DeleteRolePolicy",
    "iam:DetachRolePolicy",
    "iam:PutRolePermissionsBoundary",
    "iam:PutRolePolicy",
    "iam:TagRole",
    "iam:UntagRole",
    "iam:UpdateAssumeRolePolicy",
    "iam:UpdateRole",
    "iam:UpdateRoleDescription",
)
# In the hub: what would cut the workload accounts off (its bus policy), open the registry (the groups' policies) or
# forge a clearance or a promotion (the governance table), for anyone but the deployment role and the handlers.
HUB_POLICY_ACTIONS: tuple[str, ...] = (
    "events:PutPermission",
    "events:RemovePermission",
    "sagemaker:DeleteModelPackageGroupPolicy",
    "sagemaker:PutModelPackageGroupPolicy",
)
# A dead letter read with a long visibility timeout, or deleted, no longer shows in its queue's alarm: reading and
# redriving dead letters is the deployment role's. (Boundaried roles have no grant on the queues; the boundary has no
# room left for these in IAM's managed-policy quota.)
DEAD_LETTER_ACTIONS: tuple[str, ...] = ("sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:ReceiveMessage")
# Where every alert goes and what raises them: the alerts topic and its subscriptions, the handlers' and the trail's
# alarms, the trail's metric filters and its log group (another key, later disabled, stops what the filters count).
# Switched off, every later alert (the tamper watch's too) reaches nobody.
ALERT_TAMPERING_ACTIONS: tuple[str, ...] = (
    "cloudwatch:DeleteAlarms",
    "cloudwatch:DisableAlarmActions",
    "cloudwatch:PutMetricAlarm",
    "logs:AssociateKmsKey",
    "logs:DeleteLogGroup",
    "logs:DeleteMetricFilter",
    "logs:DisassociateKmsKey",
    "logs:PutMetricFilter",
    "logs:PutRetentionPolicy",
    "sns:DeleteTopic",
    "sns:RemovePermission",
    "sns:SetTopicAttributes",
    # Whether AWS authorizes these two against the subscription's ARN (<topic ARN>:<id>) or only against "*" could not
    # be confirmed offline: if only "*", this deny does not reach them, and the tamper watch's report is what remains.
    "sns:SetSubscriptionAttributes",
    "sns:Unsubscribe",
)
LEDGER_WRITE_ACTIONS: tuple[str, ...] = (
    "dynamodb:BatchWriteItem",
    "dynamodb:DeleteItem",
    "dynamodb:DeleteTable",
    "dynamodb:PartiQLDelete",  # ExecuteStatement's INSERT, UPDATE and DELETE are authorized as these
    "dynamodb:PartiQLInsert",
    "dynamodb:PartiQLUpdate",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:UpdateTable",
    "dynamodb:UpdateTimeToLive",
)
_NEGATED_EXACT = {"StringNotEquals": "StringNotLike", "ArnNotEquals": "ArnNotLike"}


def minified(doc: Mapping[str, Any]) -> str:
    """The SCP as submitted: JSON without whitespace (what the size limit counts)."""
    return json.dumps(doc, separators=(",", ":"))


def scp_size(doc: Mapping[str, Any]) -> int:
    return len(minified(doc))


def any_account_names(policy: GovernancePolicy, partition: str = "aws") -> Names:
    return Names(policy, account=ANY_ACCOUNT, partition=partition)


def deployment_role_pattern(policy: GovernancePolicy, partition: str = "aws") -> str:
    role = policy.accounts.deployment_role if policy.accounts else "governance-deployer"
    return f"arn:{partition}:iam::{ANY_ACCOUNT}:role/{role}"


def enforcement_role_patterns(names: Names, handlers: Sequence[str]) -> list[str]:
    """The enforcement handlers' roles in any account: in the hub, their functions' roles; in a workload account,
    the roles of the same name the hub's handlers assume (``iam.cross_account``)."""
    return [names.role_arn(names.handler_role(h)) for h in handlers]


def _exempt(stmt: dict[str, Any], principals: Sequence[str]) -> dict[str, Any]:
    """``stmt`` with ``ArnNotLike aws:PrincipalArn`` added, and exact negated matches on wildcard ARNs made Like."""
    condition: dict[str, Any] = {}
    for operator, tests in stmt.get("Condition", {}).items():
        wildcard = any("*" in str(v) for values in tests.values() for v in (values if isinstance(values, list) else [values]))
        condition[_NEGATED_EXACT.get(operator, operator) if wildcard else operator] = dict(tests)
    condition.setdefault("ArnNotLike", {})["aws:PrincipalArn"] = list(principals)
    return {**stmt, "Condition": condition}


def guardrail_statements(
    policy: GovernancePolicy, handlers: Sequence[str], everywhere: Sequence[str], *, partition: str = "aws"
) -> list[dict[str, Any]]:
    """Every statement the guardrail SCPs carry, in order. ``handlers``: every enforcement handler (whose rules,
    functions and queues are protected); ``everywhere``: those that act in every Region (not region-bound)."""
    names = any_account_names(policy, partition)
    deployer = deployment_role_pattern(policy, partition)
    region_deny = {
        "Sid": "DenyOutsideAllowedRegions",
        "Effect": "Deny",
        "NotAction": sorted(policy.regions.global_service_actions),
        "Resource": "*",
        "Condition": {"StringNotEquals": {"aws:RequestedRegion": list(policy.regions.allowed)}},
    }
    guardrails = governance_guardrails(names, handlers)
    # The deployment role is exempt from every guardrail: a workload account's administrator who could rewrite its
    # trust would be too. Only the deployment role itself (and the management account) may change it.
    role_tampering = statement(
        "DenyGovernanceRoleTampering", ROLE_TAMPERING_ACTIONS, [names.role_arn(f"{names.org}-*"), deployer], effect="Deny"
    )
    # A function (or rule, schedule, trail) of one's own running as an enforcement role acts with its grants: in the
    # hub, writing clearances and promotions; everywhere, what the handlers may do. Only Terraform passes these roles.
    governance_roles = [
        *(names.handler_role(h) for h in handlers),
        names.event_forwarding_role,
        names.drift_scheduler_role,
        names.trail_delivery_role,
        names.clearance_reader_role,
    ]
    role_passing = statement(
        "DenyPassingGovernanceRoles", ["iam:PassRole"], [names.role_arn(r) for r in governance_roles], effect="Deny"
    )
    # Silencing without switching off: dead letters read, hidden or deleted (their alarm clears), a handler's runtime
    # pinned, the alerts topic, its subscriptions, the handlers' and the trail's alarms and the trail's metric filters
    # (every later alert, the tamper watch's too, would reach nobody). One statement: an action applies only to its
    # own resource type, and the SCPs keep room (an OU takes five).
    silencing = statement(
        "DenySilencingEnforcement",
        [*DEAD_LETTER_ACTIONS, "lambda:PutRuntimeManagementConfig", *ALERT_TAMPERING_ACTIONS],
        [
            *(f"arn:{partition}:sqs:*:*:{names.dead_letter_queue(h)}" for h in handlers),
            *(f"arn:{partition}:lambda:*:*:function:{names.handler_function(h)}" for h in handlers),
            f"arn:{partition}:sns:*:*:{names.alerts_topic}*",  # the topic and its subscriptions (<topic arn>:<id>)
            # a handler's errors and dead-letter alarms (<function>-errors, <function>-dlq-not-empty); the trail's
            *(f"arn:{partition}:cloudwatch:*:*:alarm:{names.handler_function(h)}-*" for h in handlers),
            *(f"arn:{partition}:cloudwatch:*:*:alarm:{names.tamper_alarm(alarm)}" for alarm in TAMPERING_ALARMS),
            f"arn:{partition}:logs:*:*:log-group:{names.trail_log_group}",
        ],
        effect="Deny",
    )
    in_the_hub = {"StringEquals": {"aws:PrincipalAccount": policy.accounts.hub}} if policy.accounts else {}
    hub_policies = statement(
        "DenyHubPolicyTampering",
        HUB_POLICY_ACTIONS,
        [
            f"arn:{partition}:events:*:*:event-bus/default",
            f"arn:{partition}:sagemaker:*:*:model-package-group/*",
        ],
        effect="Deny",
        condition=in_the_hub,
    )
    ledger_writes = statement(
        "DenyHubLedgerWrites",
        LEDGER_WRITE_ACTIONS,
        f"arn:{partition}:dynamodb:*:*:table/{names.idempotency_table}",
        effect="Deny",
        condition=in_the_hub,
    )
    return [
        _exempt(region_deny, [deployer, *enforcement_role_patterns(names, everywhere)]),
        *(_exempt(s, [deployer]) for s in [*guardrails, role_tampering, role_passing, silencing]),
        *(
            [_exempt(hub_policies, [deployer]), _exempt(ledger_writes, [deployer, *enforcement_role_patterns(names, handlers)])]
            if in_the_hub
            else []
        ),
        statement("DenyLeavingTheOrganization", ["organizations:LeaveOrganization"], "*", effect="Deny"),
        statement("DenyGovernanceRetentionBypass", ["s3:BypassGovernanceRetention"], "*", effect="Deny"),
    ]


def _split(stmt: dict[str, Any], limit: int) -> list[dict[str, Any]]:
    """``stmt`` as one or more statements that each fit an SCP of ``limit`` characters (resources halved)."""
    if scp_size(document(stmt)) <= limit:
        return [stmt]
    resources = stmt.get("Resource")
    if not isinstance(resources, list) or len(resources) < 2:
        raise ValueError(f"SCP statement {stmt.get('Sid')} alone is {scp_size(document(stmt))} characters (limit {limit})")
    half = len(resources) // 2
    parts = [{**stmt, "Resource": resources[:half]}, {**stmt, "Resource": resources[half:]}]
    out = [piece for part in parts for piece in _split(part, limit)]
    return [{**piece, "Sid": f"{stmt['Sid']}{i + 1}"} for i, piece in enumerate(out)]


def service_control_policies(
    policy: GovernancePolicy,
    handlers: Sequence[str],
    everywhere: Sequence[str],
    *,
    partition: str = "aws",
    limit: int = SCP_MAX_CHARACTERS,
    places: int = FREE_SCP_PLACES,
) -> list[Document]:
    """The guardrail statements packed into as few SCPs of at most ``limit`` characters as fit (order kept), at most
    ``places`` of them (what an OU has left beside FullAWSAccess)."""
    docs: list[list[dict[str, Any]]] = [[]]
    statements_ = guardrail_statements(policy, handlers, everywhere, partition=partition)
    for stmt in (piece for s in statements_ for piece in _split(s, limit)):
        if docs[-1] and scp_size(document(*docs[-1], stmt)) > limit:
            docs.append([])
        docs[-1].append(stmt)
    if len(docs) > places:
        raise ValueError(
            f"the guardrails need {len(docs)} SCPs; an OU takes {MAX_SCPS_PER_TARGET}, one of them FullAWSAccess: "
            "shorten organization.name or regions.global_service_actions"
        )
    return [document(*statements) for statements in docs]
