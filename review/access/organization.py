"""Access across the accounts of the policy's ``accounts`` section, proven from the synthesized stacks.

    python -m review.access.organization [--outdir cdktf.out]   (GOVERNANCE_POLICY names a policy with accounts)

Each account's roles and resource policies are read from its own stacks (``review.access.terraform.read_account``
with the stacks of the account), the SCPs and their attachments from the ``organization`` stack. A principal of a
workload account carries the SCP levels AWS applies to it: the root, the stage's OU, the account; AWS's
FullAWSAccess is taken to be attached at each level (it is by default), the guardrails at the OUs the stack
attaches them to. Requests across accounts are decided with both sides' documents (the evaluator's cross-account
logic); ``aws:PrincipalOrgID`` is the organization's id for every principal of the policy's accounts.

The promises (``ORGANIZATION_INVARIANTS``) cover what a boundary cannot: an account's administrator (a role with
AdministratorAccess and no boundary) stays in the allowed Regions and cannot switch governance off; the prod deploy
role cannot read dev data; only the hub's handler roles are trusted by the workload accounts' enforcement roles; the
registry, artifact keys, bus and clearances open exactly to the roles of the stages that use them.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from iam.organizations import FULL_AWS_ACCESS
from lambdas.routing import SAGEMAKER_EVENTS
from lambdas.table import HANDLERS
from policies.model import GovernancePolicy, Project
from policies.naming import APPROVAL_GATE, DEPLOYMENT_GUARD, Names
from review.access.evaluator import ContextValue, Evaluation, LabelledPolicy, Principal, Request, ScpLevel, evaluate
from review.access.terraform import SynthesizedAccount, read_account

ORGANIZATION_STACK = "organization"
ADMINISTRATOR_ACCESS: Mapping[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}
WORKLOAD_ADMIN = "workload-admin"
"""A role the review adds to every account: AdministratorAccess and no boundary, what an account's administrator has."""
TLS: dict[str, ContextValue] = {"aws:SecureTransport": True, "s3:TlsVersion": "1.3"}


@dataclass(frozen=True)
class Organization:
    """The SCPs of the organization stack and where they are attached."""

    policies: Mapping[str, LabelledPolicy]
    """Terraform resource name -> the SCP."""
    attachments: Mapping[str, tuple[str, ...]]
    """Target (OU or account id) -> the resource names of the SCPs attached there."""

    def attached(self, target: str) -> tuple[LabelledPolicy, ...]:
        return tuple(self.policies[name] for name in self.attachments.get(target, ()))


def read_organization(outdir: Path, stack: str = ORGANIZATION_STACK) -> Organization:
    config = json.loads((outdir / "stacks" / stack / "cdk.tf.json").read_text())
    resources = config.get("resource", {})
    policies = {
        name: LabelledPolicy(f"{stack}:aws_organizations_policy.{name}", json.loads(body["content"]))
        for name, body in resources.get("aws_organizations_policy", {}).items()
        if body.get("type") == "SERVICE_CONTROL_POLICY"
    }
    attachments: dict[str, list[str]] = {}
    for body in resources.get("aws_organizations_policy_attachment", {}).values():
        reference = str(body["policy_id"]).removeprefix("${aws_organizations_policy.").removesuffix(".id}")
        if reference not in policies:
            raise ValueError(f"{stack}: an attachment names {body['policy_id']}, not an SCP of the stack")
        attachments.setdefault(str(body["target_id"]), []).append(reference)
    return Organization(policies, {target: tuple(names) for target, names in attachments.items()})


@dataclass
class OrganizationReview:
    """Every account's synthesized IAM, the SCPs, and how to ask a request of any principal of any account."""

    policy: GovernancePolicy
    organization: Organization
    accounts: dict[str, SynthesizedAccount] = field(default_factory=dict)

    @property
    def section(self) -> Any:
        assert self.policy.accounts is not None
        return self.policy.accounts

    def names(self, account: str) -> Names:
        return Names(self.policy, account=account, partition=self.accounts[account].partition)

    @property
    def hub(self) -> Names:
        return self.names(self.section.hub)

    def ou_of(self, account: str) -> str | None:
        if account == self.section.hub:
            return self.section.hub_ou  # type: ignore[no-any-return]
        return next((s.ou for s in self.section.stages if s.account == account), None)

    def scp_levels(self, account: str) -> tuple[ScpLevel, ...]:
        full = LabelledPolicy("aws:FullAWSAccess", FULL_AWS_ACCESS)
        ou = self.ou_of(account)
        levels = [ScpLevel("root", (full,))]
        if ou is not None:
            levels.append(ScpLevel(ou, (full, *self.organization.attached(ou))))
        return (*levels, ScpLevel(account, (full, *self.organization.attached(account))))

    def role(self, account: str, name: str, *, scps: bool = True) -> Principal:
        role = self.accounts[account].role(name)
        return role.principal(scps=self.scp_levels(account) if scps else ())

    def unbounded(self, account: str, name: str) -> Principal:
        """A role of ``account`` with AdministratorAccess and no boundary (the administrator, the deployment role)."""
        arn = f"arn:{self.accounts[account].partition}:iam::{account}:role/{name}"
        return Principal(
            arn,
            identity_policies=(LabelledPolicy(f"{account}:{name}/AdministratorAccess", ADMINISTRATOR_ACCESS),),
            scp_levels=self.scp_levels(account),
        )

    def admin(self, account: str) -> Principal:
        return self.unbounded(account, WORKLOAD_ADMIN)

    def deployment_role(self, account: str) -> Principal:
        return self.unbounded(account, self.section.deployment_role)

    def every_principal(self) -> Iterable[Principal]:
        """Every synthesized role of every account, and each account's administrator."""
        for account, found in self.accounts.items():
            for name in sorted(found.roles):
                yield self.role(account, name)
            yield self.admin(account)

    def ask(
        self,
        principal: Principal,
        action: str,
        resource: str,
        *,
        account: str,
        context: Mapping[str, ContextValue] | None = None,
        resource_policy: LabelledPolicy | None = None,
    ) -> Evaluation:
        """Decide ``action`` on ``resource`` of ``account`` (resource policy looked up there unless given)."""
        owner = self.accounts[account]
        policy = resource_policy if resource_policy is not None else _resource_policy(owner, resource)
        region = resource.split(":")[3] if resource.count(":") >= 5 and resource.split(":")[3] else self.policy.regions.home
        ctx: dict[str, ContextValue] = {"aws:RequestedRegion": region, **TLS}
        if principal.account in self.accounts:
            ctx["aws:PrincipalOrgID"] = self.section.organization_id
        ctx.update(context or {})
        return evaluate(Request(principal, action, resource, ctx), resource_policy=policy, resource_account=account)


def _resource_policy(account: SynthesizedAccount, resource: str) -> LabelledPolicy | None:
    found = account.policy_for(resource)
    if found is None and ":role/" in resource and resource.startswith(f"arn:{account.partition}:iam::"):
        role = account.roles.get(resource.rsplit("/", 1)[-1])
        return role.trust if role else None
    return found


def read_organization_review(outdir: Path, policy: GovernancePolicy) -> OrganizationReview:
    """Every account of ``policy.accounts`` read from its stacks under ``outdir``."""
    from infra.stack_order import stacks_of_account

    accounts = policy.accounts
    if accounts is None:
        raise ValueError("the policy has no accounts section: review one account with review.access.matrix")
    review = OrganizationReview(policy, read_organization(outdir))
    for account in [accounts.hub, *accounts.workload_accounts]:
        review.accounts[account] = read_account(outdir, account=account, stacks=stacks_of_account(policy, account))
    return review


# ---- the promises ------------------------------------------------------------------------------------------
def _who(review: OrganizationReview, principals: Iterable[Principal], ask: Callable[[Principal], Evaluation]) -> set[str]:
    return {p.arn for p in principals if ask(p).allowed}


def admins_stay_in_allowed_regions(review: OrganizationReview) -> list[str]:
    """An account's administrator cannot work outside the allowed Regions (it can inside them)."""
    policy, out = review.policy, []
    outside = [r for r in policy.regions.watched if r not in policy.regions.allowed]
    for account in review.accounts:
        if review.ou_of(account) is None:
            continue  # no guardrail SCP is attached above the account (the hub without hub_ou)
        admin = review.admin(account)
        for region in [policy.regions.home, *outside[:3]]:
            job = f"arn:aws:sagemaker:{region}:{account}:training-job/escape"
            verdict = review.ask(admin, "sagemaker:CreateTrainingJob", job, account=account)
            if region in policy.regions.allowed and not verdict.allowed:
                out.append(f"{account}: its administrator cannot train in {region} ({verdict.reason})")
            if region not in policy.regions.allowed and verdict.decision != "explicit-deny":
                out.append(f"{account}: its administrator may train in {region}, outside the allowed Regions")
    return out


def tamper_requests(review: OrganizationReview, account: str) -> list[tuple[str, str, str, dict[str, ContextValue], bool]]:
    """(label, action, resource, context, whether the deployment role may do it) that would switch governance off."""
    names = review.names(account)
    found = review.accounts[account]
    handler = next(s.name for s in HANDLERS if not s.region_bound)
    home = review.policy.regions.home
    key = found.key_arns[names.key_alias("data")]
    enforcement_role = names.role_arn(names.handler_role(handler))
    deployment_role = names.role_arn(review.policy.accounts.deployment_role) if review.policy.accounts else names.role_arn("none")
    return [
        (
            "disable a forwarding rule",
            "events:DisableRule",
            f"arn:aws:events:{home}:{account}:rule/{names.forwarding_rule(SAGEMAKER_EVENTS)}",
            {},
            True,
        ),
        (
            "retarget a handler rule",
            "events:PutTargets",
            f"arn:aws:events:{home}:{account}:rule/{names.handler_rule(handler)}",
            {},
            True,
        ),
        ("replace a handler's code", "lambda:UpdateFunctionCode", names.handler_function_arn(handler), {}, True),
        ("stop the trail", "cloudtrail:StopLogging", names.trail_arn, {}, True),
        ("replace the audit bucket policy", "s3:PutBucketPolicy", names.bucket_arn(names.audit_bucket), {}, True),
        (
            "delete an audit record",
            "s3:DeleteObject",
            f"{names.bucket_arn(names.audit_bucket)}/{names.audit_records_prefix}/x.json",
            {},
            False,
        ),
        (
            "schedule the data key's deletion",
            "kms:ScheduleKeyDeletion",
            key,
            {"kms:ResourceAliases": [names.key_alias("data")]},
            True,
        ),
        (
            "drop a persona's boundary",
            "iam:DeleteRolePermissionsBoundary",
            names.role_arn(names.persona_role("ml-engineer")),
            {},
            True,
        ),
        (
            "create a role without the boundary",
            "iam:CreateRole",
            names.role_arn("unbounded"),
            {"iam:PermissionsBoundary": f"arn:aws:iam::{account}:policy/other"},
            True,
        ),
        ("rewrite an enforcement role's trust", "iam:UpdateAssumeRolePolicy", enforcement_role, {}, True),
        (
            "run a function of one's own as an enforcement role",
            "iam:PassRole",
            enforcement_role,
            {"iam:PassedToService": "lambda.amazonaws.com"},
            True,
        ),
        ("set a handler's retries to none", "lambda:PutFunctionEventInvokeConfig", names.handler_function_arn(handler), {}, True),
        (
            "delete a dead letter",
            "sqs:DeleteMessage",
            f"arn:aws:sqs:{home}:{account}:{names.dead_letter_queue(handler)}",
            {},
            True,
        ),
        ("delete the alerts topic", "sns:DeleteTopic", f"arn:aws:sns:{home}:{account}:{names.alerts_topic}", {}, True),
        (
            "silence a handler's error alarm",
            "cloudwatch:DisableAlarmActions",
            f"arn:aws:cloudwatch:{home}:{account}:alarm:{names.handler_function(handler)}-errors",
            {},
            True,
        ),
        (
            "revoke a service's grant on the data key",
            "kms:RevokeGrant",
            key,
            {"kms:ResourceAliases": [names.key_alias("data")]},
            True,
        ),
        ("widen an enforcement role's policy", "iam:PutRolePolicy", enforcement_role, {}, True),
        (
            "swap a governance role's boundary for the other one",
            "iam:PutRolePermissionsBoundary",
            names.role_arn(names.event_forwarding_role),
            {"iam:PermissionsBoundary": names.enforcement_boundary_policy_arn},
            True,
        ),
        *(
            [
                (
                    "cut the workload accounts off the hub's bus",
                    "events:RemovePermission",
                    f"arn:aws:events:{home}:{account}:event-bus/default",
                    {},
                    True,
                ),
                (
                    "open a project's registry group",
                    "sagemaker:PutModelPackageGroupPolicy",
                    f"arn:aws:sagemaker:{home}:{account}:model-package-group/x",
                    {},
                    True,
                ),
                ("forge a promotion record", "dynamodb:PutItem", names.idempotency_table_arn, {}, True),
                ("forge a promotion record with PartiQL", "dynamodb:PartiQLInsert", names.idempotency_table_arn, {}, True),
                ("turn the governance table's expiry off", "dynamodb:UpdateTimeToLive", names.idempotency_table_arn, {}, True),
            ]
            if account == review.section.hub
            else []
        ),
        # The guardrails exempt the deployment role: whoever could rewrite its trust would be exempt too.
        ("take over the deployment role (its trust)", "iam:UpdateAssumeRolePolicy", deployment_role, {}, True),
        ("widen the deployment role's policy", "iam:AttachRolePolicy", deployment_role, {}, True),
        ("leave the organization", "organizations:LeaveOrganization", "*", {}, False),
        (
            "bypass governance retention",
            "s3:BypassGovernanceRetention",
            f"{names.bucket_arn(names.audit_bucket)}/{names.audit_records_prefix}/x.json",
            {},
            False,
        ),
    ]


def admins_cannot_switch_governance_off(review: OrganizationReview) -> list[str]:
    """An account's administrator is denied by an SCP every change that would switch governance off; the
    deployment role is exempt where it must deploy (not from leaving the organization or bypassing retention)."""
    out = []
    for account in review.accounts:
        if review.ou_of(account) is None:
            continue
        admin, deployer = review.admin(account), review.deployment_role(account)
        for label, action, resource, context, deployer_may in tamper_requests(review, account):
            verdict = review.ask(admin, action, resource, account=account, context=context)
            if verdict.decision != "explicit-deny" or not any(
                ref.policy.startswith(f"{ORGANIZATION_STACK}:") for ref in verdict.deciding
            ):
                out.append(f"{account}: its administrator may {label} ({verdict.decision}: {verdict.reason})")
            exempt = review.ask(deployer, action, resource, account=account, context=context)
            scp_denies = (
                [ref for ref in exempt.deciding if ref.policy.startswith(f"{ORGANIZATION_STACK}:")] if not exempt.allowed else []
            )
            if deployer_may and scp_denies:
                out.append(f"{account}: the deployment role may not {label}: {scp_denies[0]} denies it")
            if not deployer_may and exempt.allowed:
                out.append(f"{account}: the deployment role may {label}")
    return out


def prod_cannot_read_dev_data(review: OrganizationReview) -> list[str]:
    """No role of a later stage's account reads an earlier stage's lineage data or its key (data stays in its stage)."""
    section, out = review.section, []
    for later in section.stages:
        for earlier in section.stages:
            if earlier.account == later.account or section.stage_names.index(earlier.name) >= section.stage_names.index(
                later.name
            ):
                continue
            source = review.names(earlier.account)
            key = review.accounts[earlier.account].key_arns[source.key_alias("data")]
            for project in section.projects_in(earlier.name, [p.name for p in review.policy.projects]):
                data = f"{source.bucket_arn(source.lineage_bucket)}/{source.lineage_training_data(project, 'train.csv')}"
                readers = [review.role(later.account, n) for n in sorted(review.accounts[later.account].roles)]
                readers.append(review.admin(later.account))
                for principal in readers:
                    for action, resource in (("s3:GetObject", data), ("kms:Decrypt", key)):
                        if review.ask(principal, action, resource, account=earlier.account).allowed:
                            out.append(f"{principal.arn} ({later.name}) may {action} {resource} ({earlier.name} data)")
    return out


def only_the_hub_assumes_enforcement_roles(review: OrganizationReview) -> list[str]:
    """A workload account's enforcement role trusts exactly the hub's role of its name (in the organization, with
    the hub's external id): no other role of any account, and no account's administrator, may assume it."""
    hub, out = review.hub, []
    external = {"sts:ExternalId": hub.hub_external_id(hub.account)}
    everyone = list(review.every_principal())
    for account in review.section.workload_accounts:
        names = review.names(account)
        for spec in HANDLERS:
            if spec.region_bound:
                continue
            role = names.role_arn(names.handler_role(spec.name))
            namesake = hub.role_arn(hub.handler_role(spec.name))
            allowed = _who(review, everyone, _assumes(review, role, account, external))
            if intruders := sorted(allowed - {namesake}):
                out.append(f"{role} may be assumed by {intruders}")
            # the trust itself admits the hub's role (were the hub's own policies to allow the call)
            trusting = Principal(namesake, identity_policies=(LabelledPolicy("any", ADMINISTRATOR_ACCESS),))
            if not review.ask(trusting, "sts:AssumeRole", role, account=account, context=external).allowed:
                out.append(f"{role} does not trust the hub's {spec.name} role")
            for context in ({}, {"aws:PrincipalOrgID": "o-otherorg000"}):
                if review.ask(trusting, "sts:AssumeRole", role, account=account, context=context).allowed:
                    out.append(f"{role} may be assumed without the hub's external id or from outside the organization")
    return out


def _assumes(
    review: OrganizationReview, role: str, account: str, context: Mapping[str, ContextValue]
) -> Callable[[Principal], Evaluation]:
    return lambda p: review.ask(p, "sts:AssumeRole", role, account=account, context=context)


def hub_handlers_reach_workload_roles(review: OrganizationReview) -> list[tuple[str, Evaluation]]:
    """Each hub handler role's full decision on assuming its namesake in each workload account (for the report)."""
    hub = review.hub
    external = {"sts:ExternalId": hub.hub_external_id(hub.account)}
    found = []
    for account in review.section.workload_accounts:
        names = review.names(account)
        for spec in HANDLERS:
            if not spec.region_bound:
                role = names.role_arn(names.handler_role(spec.name))
                principal = review.role(hub.account, hub.handler_role(spec.name))
                found.append((role, review.ask(principal, "sts:AssumeRole", role, account=account, context=external)))
    return found


def registry_opens_to_its_stages(review: OrganizationReview) -> list[str]:
    """The hub's groups: the entry stages' pipelines register (never Approved); the deployers of the stages a project
    runs in describe its versions; nobody else of any account does either."""
    workload = [p for p in review.every_principal() if p.account != review.hub.account]
    return [problem for project in review.policy.projects for problem in _registry_problems(review, project, workload)]


def _registry_problems(review: OrganizationReview, project: Project, workload: list[Principal]) -> list[str]:
    section, hub, out = review.section, review.hub, []
    stages = section.stages_of(project.name)
    registrants = {
        review.names(section.account_of(s)).role_arn(hub.execution_role(project)) for s in stages if s in section.entry_stages
    }
    deployers = {review.names(section.account_of(s)).role_arn(hub.deployer_role) for s in stages}
    version = f"{hub.model_package_group_arn(project).replace('model-package-group', 'model-package')}/1"

    def register(p: Principal, status: str) -> Evaluation:
        context: dict[str, ContextValue] = {"sagemaker:ModelApprovalStatus": status}
        return review.ask(p, "sagemaker:CreateModelPackage", version, account=hub.account, context=context)

    who = _who(review, workload, lambda p: register(p, "PendingManualApproval"))
    if who != registrants:
        out.append(f"{project.name}: registered from {sorted(who)}, must be {sorted(registrants)}")
    if approved := _who(review, workload, lambda p: register(p, "Approved")):
        out.append(f"{project.name}: registered pre-approved by {sorted(approved)}")
    described = _who(review, workload, lambda p: review.ask(p, "sagemaker:DescribeModelPackage", version, account=hub.account))
    if not deployers <= described:
        out.append(f"{project.name}: the deployers of {sorted(deployers - described)} cannot describe its versions")
    if extra := described - deployers:
        out.append(f"{project.name}: versions described from {sorted(extra)}")
    return out


def artifact_keys_open_to_their_stages(review: OrganizationReview) -> list[str]:
    """A project's artifact key decrypts for the roles its stages serve it with (the execution role the deployer passes
    to CreateModel, which SageMaker loads the artifacts with) and nobody else: no deployer, administrator or other stage."""
    section, hub, out = review.section, review.hub, []
    hub_account = review.accounts[hub.account]
    everyone = list(review.every_principal())
    for project in review.policy.projects:
        key = hub_account.key_arns[hub.artifact_key_alias(project.name)]
        wanted = set()
        for stage in section.stages_of(project.name):
            names = review.names(section.account_of(stage))
            wanted.add(names.role_arn(names.execution_role(project)))
        who = _who(review, everyone, lambda p: review.ask(p, "kms:Decrypt", key, account=hub.account))  # noqa: B023
        if who != wanted:
            out.append(f"{project.name}'s artifact key decrypts for {sorted(who)}, must be {sorted(wanted)}")
    return out


def artifact_versions_are_checked(review: OrganizationReview) -> list[str]:
    """A project's artifacts in the hub's store: written only by its entry stages' execution roles (and the hub's
    administrator, who owns the bucket); their object versions listed by the hub's approval gate (which pins them),
    read by the hub's deployment guard and by the deployer of every stage the project runs in (which check the pins)."""
    section, hub, out = review.section, review.hub, []
    hub_account = review.accounts[hub.account]
    everyone = list(review.every_principal())
    for project in review.policy.projects:
        store, prefix = hub.model_store(project.name)
        artifact = f"{hub.bucket_arn(store)}/{prefix}/{project.name}-train-1/output/model.tar.gz"
        key = hub_account.key_arns[hub.artifact_key_alias(project.name)]
        put: dict[str, ContextValue] = {
            "s3:x-amz-server-side-encryption": "aws:kms",
            "s3:x-amz-server-side-encryption-aws-kms-key-id": key,
        }
        writers = _who(review, everyone, lambda p: review.ask(p, "s3:PutObject", artifact, account=hub.account, context=put))  # noqa: B023
        entry = [s for s in section.stages_of(project.name) if s in section.entry_stages]
        wanted = {review.names(section.account_of(s)).role_arn(hub.execution_role(project)) for s in entry}
        if writers - {review.admin(hub.account).arn} != wanted:
            out.append(f"{project.name}'s artifacts are written by {sorted(writers)}, must be {sorted(wanted)}")
        # what else a training and evaluation of the pipeline need: the key checked by SageMaker (Encrypt) and the
        # trained model listed by prefix (the evaluation step's input)
        listing = {"s3:prefix": f"{prefix}/{project.name}-train-1/output/model.tar.gz"}
        for stage in entry:
            pipeline = review.role(section.account_of(stage), hub.execution_role(project))
            for action, resource, context in (
                ("kms:Encrypt", key, {}),
                ("s3:ListBucket", hub.bucket_arn(store), listing),
            ):
                if not review.ask(pipeline, action, resource, account=hub.account, context=context).allowed:
                    out.append(f"{project.name}'s pipeline in {stage} may not {action} {resource}, which its training needs")
        readers = _who(review, everyone, lambda p: review.ask(p, "s3:GetObject", artifact, account=hub.account))  # noqa: B023
        checkers = {hub.role_arn(hub.handler_role(DEPLOYMENT_GUARD))}
        checkers |= {review.names(section.account_of(s)).role_arn(hub.deployer_role) for s in section.stages_of(project.name)}
        if missing := sorted(checkers - readers):
            out.append(f"{project.name}'s artifact versions cannot be read by {missing}, which pin or check them")
        gate = review.role(hub.account, hub.handler_role(APPROVAL_GATE))
        listing = {"s3:prefix": artifact.split(":::", 1)[1].split("/", 1)[1]}
        if not review.ask(gate, "s3:ListBucketVersions", hub.bucket_arn(store), account=hub.account, context=listing).allowed:
            out.append(f"the hub's approval gate cannot list the object versions of {project.name}'s artifacts")
    return out


def only_forwarders_reach_the_hub_bus(review: OrganizationReview) -> list[str]:
    """The hub's bus takes events from the workload accounts' forwarding roles, from no other principal of theirs."""
    hub = review.hub
    bus = hub.event_bus_arn(hub.account)
    workload = [p for p in review.every_principal() if p.account != hub.account]
    wanted = {review.names(a).role_arn(hub.event_forwarding_role) for a in review.section.workload_accounts}
    who = _who(review, workload, lambda p: review.ask(p, "events:PutEvents", bus, account=hub.account))
    return [] if who == wanted else [f"the hub bus takes events from {sorted(who)}, must be {sorted(wanted)}"]


def deployers_read_only_clearances(review: OrganizationReview) -> list[str]:
    """The stages' deployers (only they) assume the clearance reader, which reads clearance and promotion items only."""
    hub, out = review.hub, []
    reader = hub.role_arn(hub.clearance_reader_role)
    workload = [p for p in review.every_principal() if p.account != hub.account]
    wanted = {review.names(a).role_arn(hub.deployer_role) for a in review.section.workload_accounts}
    who = _who(review, workload, lambda p: review.ask(p, "sts:AssumeRole", reader, account=hub.account))
    if who != wanted:
        out.append(f"the clearance reader is assumed by {sorted(who)}, must be {sorted(wanted)}")
    principal = review.role(hub.account, hub.clearance_reader_role)
    for keys, expected in (
        (["cleared#arn:aws:sagemaker:x"], True),
        (["promoted#prod#arn:aws:sagemaker:x"], True),
        (["facts#event"], False),
    ):
        verdict = review.ask(
            principal, "dynamodb:GetItem", hub.idempotency_table_arn, account=hub.account, context={"dynamodb:LeadingKeys": keys}
        )
        if verdict.allowed != expected:
            out.append(f"the clearance reader {'cannot' if expected else 'may'} read {keys[0].split('#')[0]} items")
    return out


@dataclass(frozen=True)
class OrganizationInvariant:
    name: str
    promise: str
    check: Callable[[OrganizationReview], list[str]]


ORGANIZATION_INVARIANTS: tuple[OrganizationInvariant, ...] = (
    OrganizationInvariant(
        "admins-stay-in-allowed-regions",
        "an account's administrator works only in the allowed Regions",
        admins_stay_in_allowed_regions,
    ),
    OrganizationInvariant(
        "admins-cannot-switch-governance-off",
        "an account's administrator cannot disable enforcement; only the deployment role changes it",
        admins_cannot_switch_governance_off,
    ),
    OrganizationInvariant(
        "data-stays-in-its-stage", "no role of a later stage reads an earlier stage's data", prod_cannot_read_dev_data
    ),
    OrganizationInvariant(
        "only-the-hub-assumes-enforcement-roles",
        "the workload accounts' enforcement roles are assumable only by the hub's handler roles",
        only_the_hub_assumes_enforcement_roles,
    ),
    OrganizationInvariant(
        "registry-opens-to-its-stages", "entry stages register, stages' deployers describe", registry_opens_to_its_stages
    ),
    OrganizationInvariant(
        "artifact-keys-open-to-their-stages",
        "a project's artifact key decrypts only for the roles its stages serve it with",
        artifact_keys_open_to_their_stages,
    ),
    OrganizationInvariant(
        "artifact-versions-are-checked",
        "a project's artifacts are written only by its entry stages' pipelines (which encrypt with its key and list"
        " what they trained); the hub's gate lists their object versions, its guard and the stages' deployers read them",
        artifact_versions_are_checked,
    ),
    OrganizationInvariant(
        "only-forwarders-reach-the-hub-bus",
        "the hub bus takes events only from forwarding roles",
        only_forwarders_reach_the_hub_bus,
    ),
    OrganizationInvariant(
        "deployers-read-only-clearances",
        "the deployers read the hub's clearances and nothing else of its table",
        deployers_read_only_clearances,
    ),
)


def check_organization_invariants(review: OrganizationReview) -> list[str]:
    return [f"{inv.name}: {problem}" for inv in ORGANIZATION_INVARIANTS for problem in inv.check(review)]


def main(argv: Iterable[str] | None = None) -> int:
    from policies.errors import PolicyError
    from policies.loader import load_policy

    parser = argparse.ArgumentParser(prog="python -m review.access.organization")
    parser.add_argument("--outdir", type=Path, default=Path("cdktf.out"))
    args = parser.parse_args(list(argv) if argv is not None else None)
    try:
        review = read_organization_review(args.outdir, load_policy())
    except (PolicyError, FileNotFoundError, ValueError) as exc:
        print(exc, file=sys.stderr)
        return 2
    violations = []
    for inv in ORGANIZATION_INVARIANTS:
        problems = inv.check(review)
        print(f"{'ok    ' if not problems else 'FAILED'} {inv.name}: {inv.promise}")
        violations += [f"  {p}" for p in problems]
    blocked: dict[str, list[str]] = {}
    for role, verdict in hub_handlers_reach_workload_roles(review):
        if not verdict.allowed:
            blocked.setdefault(verdict.reason, []).append(role)
    for reason, roles in blocked.items():
        print(f"note   the hub's handlers cannot assume {len(roles)} workload enforcement roles yet: {reason}")
    if violations:
        print("\n".join(violations))
    return 1 if violations else 0


if __name__ == "__main__":
    raise SystemExit(main())
