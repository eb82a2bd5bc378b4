"""Many accounts: the stacks of the policy's ``accounts`` section, their deployment order, and a local apply.

    python -m infra.multi_account layout                            (the policy: $GOVERNANCE_POLICY)
    python -m infra.multi_account synth|validate  [--outdir cdktf.out]
    python -m infra.multi_account deploy-local    [--outdir cdktf.out] [--workdir .local-aws-accounts]

Stacks, each deployable on its own by the team that owns the account (every provider assumes
``accounts.deployment_role`` in its account and refuses any other, ``infra.constructs.account_provider``):

- ``organization`` (organization admin account): the guardrail SCPs and their attachments;
- ``hub-foundation``, ``hub-identity``, ``hub-audit-trail``, ``hub-enforcement`` (the single-account stacks, in the
  hub), ``hub-registry`` and ``hub-cross-account`` (``infra.stacks.hub``);
- per workload account ``spoke-<stages>-foundation``, ``-identity``, ``-audit-trail`` (the single-account stacks,
  with the projects that run there) and ``spoke-<stages>-workload`` (``infra.stacks.workload_account``), where
  ``<stages>`` are the stages sharing the account (``spoke-dev``, or ``spoke-dev-staging``).

``deploy_local`` applies them into an embedded AWS (moto server), each account reached the way Terraform reaches
it for real: the provider assumes the deployment role there (moto's AssumeRole hands out credentials of the role's
account). ``read_back`` then checks the cross-account guarantees moto can show.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from infra.stack_order import (
    HUB,
    ORGANIZATION,
    StackPlan,
    account_prefix,
    deploy_waves,
    layout,
    monitoring_notice,
    stack_names,
    stacks_of_account,
)

__all__ = [
    "HUB",
    "MULTI_ACCOUNT_EXCLUSIONS",
    "MULTI_ACCOUNT_GAPS",
    "ORGANIZATION",
    "StackPlan",
    "account_client",
    "account_prefix",
    "build",
    "deploy_local",
    "deploy_waves",
    "deployment_role_arn",
    "layout",
    "read_back",
    "stack_names",
    "stacks_of_account",
    "synth",
]

if TYPE_CHECKING:
    from constructs import Construct

    from infra.embedded_aws import EmbeddedAws
    from infra.stacks.base import BackendSettings, GovernanceStack
    from infra.terraform_cli import StackResult
    from policies.model import GovernancePolicy

# Role ARNs in provider blocks cannot read a data source: the commercial partition, as in the SCPs.
PARTITION = "aws"
SINGLE_ACCOUNT_PARTS = ("foundation", "identity", "audit-trail")


def deployment_role_arn(policy: GovernancePolicy, account: str) -> str:
    """The role Terraform (and the read-back) assumes in ``account``."""
    assert policy.accounts is not None
    return f"arn:{PARTITION}:iam::{account}:role/{policy.accounts.deployment_role}"


# Resource types of the multi-account layout the embedded AWS (moto 5.2.5) cannot create, each with the reason
# (besides infra.terraform_cli.EMBEDDED_AWS_EXCLUSIONS). tests/multi_account checks each is still unsupported.
MULTI_ACCOUNT_EXCLUSIONS: Mapping[str, str] = {
    "aws_sagemaker_model_package_group_policy": "moto has no PutModelPackageGroupPolicy",
}
# Guarantees applied into the embedded AWS that it cannot show (read-back reports them, not checks them).
MULTI_ACCOUNT_GAPS: Mapping[str, str] = {
    "cross-account-registry": "moto resolves SageMaker calls in the caller's account: a workload account cannot "
    "register into or describe the hub's model package groups (AWS allows it through the group policy)",
    "bus-policy-enforced": "moto stores the hub bus policy but delivers cross-account events whatever it says",
    "forwarded-event-origin": "moto re-puts a forwarded event from its source, detail-type and detail only: the "
    "hub's rules see no account and the hub's Region (AWS keeps the workload account's account and region)",
    "lambda-targets": "moto cannot deliver an event to a Lambda target (the sender's PutEvents fails with a 500) and "
    "matches every event against a schedule-only rule: the hub's rules are retargeted to queues to watch the routing",
    "scp-enforced": "moto's Organizations stores and attaches SCPs but never enforces them (the offline IAM evaluator does)",
}


def account_policy(policy: GovernancePolicy, account: str) -> GovernancePolicy:
    """The policy as the reused single-account stacks of ``account`` see it: only the projects that run there."""
    accounts = policy.accounts
    assert accounts is not None
    if account == accounts.hub:
        return policy
    stages = set(accounts.workload_accounts[account])
    projects = [p for p in policy.projects if stages & set(accounts.stages_of(p.name))]
    return policy.model_copy(update={"projects": projects})


# ---- synth ---------------------------------------------------------------------------------------------------
def build(scope: Construct, policy: GovernancePolicy, backend: BackendSettings | None = None) -> dict[str, GovernanceStack]:
    """Every stack of the layout, in one app, each provider pointed at its account."""
    from infra.app import stack_classes
    from infra.constructs.account_provider import assume_account
    from infra.stacks.base import BackendSettings
    from infra.stacks.hub import HubCrossAccountStack, HubRegistryStack
    from infra.stacks.organization import OrganizationStack
    from infra.stacks.workload_account import WorkloadAccountStack

    backend = backend or BackendSettings.from_env()
    single = stack_classes()
    stacks: dict[str, GovernanceStack] = {}
    for plan in layout(policy):
        part = plan.kind.split("-", 1)[-1]
        if plan.kind == ORGANIZATION:
            stack: GovernanceStack = OrganizationStack(scope, plan.name, policy=policy, backend=backend)
        elif plan.kind == "hub-registry":
            stack = HubRegistryStack(scope, plan.name, policy=policy, backend=backend)
        elif plan.kind == "hub-cross-account":
            stack = HubCrossAccountStack(scope, plan.name, policy=policy, backend=backend)
        elif plan.kind == "spoke-workload":
            stack = WorkloadAccountStack(scope, plan.name, policy=policy, backend=backend, account=plan.account)
        else:  # a single-account stack, reused as it is
            stack = single[part](scope, plan.name, policy=account_policy(policy, plan.account), backend=backend)
        assume_account(stack, policy, plan.account)
        stacks[plan.name] = stack
    earlier: list[str] = []
    for wave in deploy_waves(policy):
        for name in wave:
            for dependency in earlier:
                stacks[name].add_dependency(stacks[dependency])
        earlier += wave
    return stacks


def synth(policy: GovernancePolicy, outdir: str | Path, backend: BackendSettings | None = None) -> Path:
    """``infra.app.synth``: the app builds these stacks for a policy with ``accounts`` (``infra.app.build``)."""
    from infra.app import synth as synth_app

    return synth_app(policy, outdir, backend)


# ---- the embedded AWS ----------------------------------------------------------------------------------------
def embedded_override(config: Mapping[str, Any], state_path: str) -> dict[str, Any]:
    """``infra.terraform_cli.local_override`` for a stack that assumes a role in its account: the account is
    requested after the assume, so ``allowed_account_ids`` is checked."""
    from infra.terraform_cli import local_override

    override = local_override(config, state_path)
    for block in override["provider"]["aws"]:
        block["skip_requesting_account_id"] = False
    return override


def prepare_organization(aws: EmbeddedAws, policy: GovernancePolicy) -> dict[str, str]:
    """An organization in the embedded AWS, run from the organization admin account, with one OU per SCP target;
    returns the policy's OU ids -> the embedded AWS's (moto picks OU ids itself)."""
    accounts = policy.accounts
    assert accounts is not None
    orgs = account_client(aws, accounts.organization_admin, "organizations", policy)
    orgs.create_organization(FeatureSet="ALL")
    root = orgs.list_roots()["Roots"][0]["Id"]
    orgs.enable_policy_type(RootId=root, PolicyType="SERVICE_CONTROL_POLICY")
    created = {}
    for ou in accounts.scp_targets:
        created[ou] = orgs.create_organizational_unit(ParentId=root, Name=ou)["OrganizationalUnit"]["Id"]
    return created


def account_client(aws: EmbeddedAws, account: str, service: str, policy: GovernancePolicy, region: str | None = None) -> Any:
    """A client acting in ``account`` the way Terraform does: through the deployment role there."""
    sts = aws.client("sts")
    credentials = sts.assume_role(RoleArn=deployment_role_arn(policy, account), RoleSessionName="governance-check")["Credentials"]
    return aws.client(service, region, credentials=credentials)


def deploy_local(
    outdir: Path, policy: GovernancePolicy, workdir: Path, aws: EmbeddedAws, *, progress: bool = False
) -> list[StackResult]:
    """Apply every stack of the layout into the embedded AWS at ``aws``, wave by wave (a wave's stacks at once), each
    reaching its account through the multi-account provider override, the layout's OUs as the embedded ones."""
    from infra import terraform_cli
    from infra.progress import phase

    waves = deploy_waves(policy)
    ou_ids = prepare_organization(aws, policy)

    def with_embedded_ou_ids(text: str) -> str:
        for ou, embedded in ou_ids.items():
            text = text.replace(f'"{ou}"', f'"{embedded}"')
        return text

    with phase(f"apply {len(waves)} waves of stacks", enabled=progress) as step:
        results = terraform_cli.deploy_local(
            outdir,
            waves,
            workdir,
            aws.endpoint,
            progress=progress,
            exclusions={**terraform_cli.EMBEDDED_AWS_EXCLUSIONS, **MULTI_ACCOUNT_EXCLUSIONS},
            override=embedded_override,
            config_text=with_embedded_ou_ids,
        )
        if not all(r.ok for r in results):
            step.fail()
    return results


# ---- read-back of the cross-account guarantees ----------------------------------------------------------------
def read_back(aws: EmbeddedAws, policy: GovernancePolicy) -> list[str]:
    """Problems with the cross-account guarantees as deployed (empty: they hold, except ``MULTI_ACCOUNT_GAPS``)."""
    return [
        *_check_accounts(aws, policy),
        *_check_bus(aws, policy),
        *_check_workload_accounts(aws, policy),
        *_check_scps(aws, policy),
        *_check_artifact_keys(aws, policy),
    ]


def _section(policy: GovernancePolicy) -> Any:
    assert policy.accounts is not None, "the policy has no accounts section"
    return policy.accounts


def _check_accounts(aws: EmbeddedAws, policy: GovernancePolicy) -> list[str]:
    """Every account answers as itself through its deployment role."""
    accounts = _section(policy)
    problems = []
    for account in [accounts.hub, accounts.organization_admin, *accounts.workload_accounts]:
        seen = account_client(aws, account, "sts", policy).get_caller_identity()["Account"]
        if seen != account:
            problems.append(f"account {account}: the deployment role's credentials act in {seen}")
    return problems


def _check_bus(aws: EmbeddedAws, policy: GovernancePolicy) -> list[str]:
    """The hub's bus accepts the workload accounts' forwarding roles, inside the organization, nothing else."""
    from iam.cross_account import hub_bus_policy
    from policies.naming import Names

    accounts = _section(policy)
    hub = Names(policy, account=accounts.hub)
    forwarders = [Names(policy, account=a).role_arn(hub.event_forwarding_role) for a in accounts.workload_accounts]
    stored = account_client(aws, accounts.hub, "events", policy).describe_event_bus(Name="default").get("Policy")
    if stored is None:
        return ["hub bus has no policy"]
    if json.loads(stored)["Statement"] != hub_bus_policy(hub, forwarders, accounts.organization_id)["Statement"]:
        return [f"hub bus policy differs from the synthesized one: {stored}"]
    return []


def _check_workload_accounts(aws: EmbeddedAws, policy: GovernancePolicy) -> list[str]:
    """Every workload account forwards to the hub from every watched Region; its roles trust no other account but the
    hub's namesake, inside the organization."""
    from policies.naming import Names

    accounts = _section(policy)
    hub = Names(policy, account=accounts.hub)
    problems = []
    for account in accounts.workload_accounts:
        local = Names(policy, account=account)
        for region in policy.regions.watched:
            events = account_client(aws, account, "events", policy, region)
            rules = [r["Name"] for r in events.list_rules(NamePrefix=local.forwarding_rule_prefix)["Rules"]]
            if not rules:
                problems.append(f"{account} has no forwarding rule in {region}")
            for rule in rules:
                targets = [t["Arn"] for t in events.list_targets_by_rule(Rule=rule)["Targets"]]
                if targets != [hub.event_bus_arn(accounts.hub)]:
                    problems.append(f"{account} {region} rule {rule} targets {targets}, not the hub bus")
        for role in account_client(aws, account, "iam", policy).list_roles()["Roles"]:
            problems += _trust_problems(account, role, hub)
    return problems


def _trust_problems(account: str, role: Mapping[str, Any], hub: Any) -> list[str]:
    statements = role["AssumeRolePolicyDocument"]["Statement"]
    foreign = [p for s in statements for p in _aws_principals(s) if p.split(":")[4] != account]
    problems = [
        f"{account} role {role['RoleName']} trusts {principal}, not the hub's {role['RoleName']}"
        for principal in foreign
        if principal != hub.role_arn(role["RoleName"])
    ]
    if foreign and not all("aws:PrincipalOrgID" in s.get("Condition", {}).get("StringEquals", {}) for s in statements):
        problems.append(f"{account} role {role['RoleName']} trusts another account outside aws:PrincipalOrgID")
    return problems


def _check_scps(aws: EmbeddedAws, policy: GovernancePolicy) -> list[str]:
    """The guardrail SCPs fit the size limit and are attached to every target OU."""
    from iam.organizations import SCP_MAX_CHARACTERS
    from policies.naming import Names

    accounts = _section(policy)
    prefix = Names(policy, account=accounts.hub).guardrail_policy(0).removesuffix("0")
    orgs = account_client(aws, accounts.organization_admin, "organizations", policy)
    root = orgs.list_roots()["Roots"][0]["Id"]
    ou_ids = {ou["Name"]: ou["Id"] for ou in orgs.list_organizational_units_for_parent(ParentId=root)["OrganizationalUnits"]}
    wanted = {ou_ids.get(ou, ou) for ou in accounts.scp_targets}
    scps = [p for p in orgs.list_policies(Filter="SERVICE_CONTROL_POLICY")["Policies"] if p["Name"].startswith(prefix)]
    problems = [] if scps else ["no guardrail SCP in the organization"]
    for scp in scps:
        content = orgs.describe_policy(PolicyId=scp["Id"])["Policy"]["Content"]
        if len(content) > SCP_MAX_CHARACTERS:
            problems.append(f"SCP {scp['Name']} is {len(content)} characters (limit {SCP_MAX_CHARACTERS})")
        targets = {t["TargetId"] for t in orgs.list_targets_for_policy(PolicyId=scp["Id"])["Targets"]}
        if targets != wanted:
            problems.append(f"SCP {scp['Name']} is attached to {sorted(targets)}, not {sorted(wanted)}")
    return problems


def _check_artifact_keys(aws: EmbeddedAws, policy: GovernancePolicy) -> list[str]:
    """Each project's artifact key lets exactly the roles its stages serve it with decrypt."""
    from policies.naming import Names

    accounts = _section(policy)
    hub = Names(policy, account=accounts.hub)
    kms = account_client(aws, accounts.hub, "kms", policy)
    problems = []
    for project in policy.projects:
        alias = hub.artifact_key_alias(project.name)
        try:
            key = kms.describe_key(KeyId=alias)["KeyMetadata"]["KeyId"]
        except Exception:  # noqa: BLE001 - a missing key is a problem to report
            problems.append(f"artifact key {alias} does not exist")
            continue
        document = json.loads(kms.get_key_policy(KeyId=key, PolicyName="default")["Policy"])
        decrypters = {p for s in document["Statement"] if "kms:Decrypt" in _list(s.get("Action")) for p in _aws_principals(s)}
        wanted = {
            Names(policy, account=accounts.account_of(stage)).role_arn(hub.execution_role(project))
            for stage in accounts.stages_of(project.name)
        }
        if decrypters != wanted:
            problems.append(f"artifact key {alias} lets {sorted(decrypters)} decrypt, not {sorted(wanted)}")
    return problems


def _list(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def _aws_principals(statement: Mapping[str, Any]) -> list[str]:
    principal = statement.get("Principal", {})
    return _list(principal.get("AWS")) if isinstance(principal, Mapping) else []


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.multi_account")
    parser.add_argument("command", choices=["layout", "synth", "validate", "deploy-local"])
    parser.add_argument("--outdir", default="cdktf.out", type=Path)
    parser.add_argument("--workdir", default=".local-aws-accounts", type=Path)
    args = parser.parse_args(argv)
    from infra.app import KernelStartError
    from infra.embedded_aws import embedded_aws, retried_calls_report
    from infra.terraform_cli import TerraformError, _print_results, validate
    from policies.errors import PolicyError
    from policies.loader import load_policy

    try:
        policy = load_policy()
        notice = monitoring_notice(policy)
        if notice:  # every command's user should know, before the layout, the synth or the deploy
            print(notice, file=sys.stderr)
        if args.command == "layout":
            for wave, names in enumerate(deploy_waves(policy), start=1):
                accounts = {p.name: p.account for p in layout(policy)}
                print(f"wave {wave}: " + ", ".join(f"{n} ({accounts[n]})" for n in names))
            return 0
        if args.command == "synth":
            synth(policy, args.outdir)
            print(f"{len(layout(policy))} stacks in {args.outdir}/stacks")
            return 0
        if args.command == "validate":
            return (
                0
                if _print_results(validate(args.outdir, stack_names(policy), progress=True), "validate", only_failures=True)
                else 1
            )
        args.workdir.mkdir(parents=True, exist_ok=True)
        moto_log = args.workdir.parent / f"{args.workdir.name}-moto.log"
        with embedded_aws(policy.regions.home, log_path=moto_log) as aws:
            results = deploy_local(args.outdir, policy, args.workdir / "stacks", aws, progress=True)
            ok = _print_results(results, "terraform apply")
            if not ok:
                for line in retried_calls_report(moto_log):
                    print(f"  {line}")
            problems = read_back(aws, policy) if ok else []
        if ok:
            print(f"read back: {'the cross-account guarantees hold' if not problems else f'{len(problems)} problem(s)'}")
        for problem in problems:
            print(f"  FAILED: {problem}")
        for gap, reason in MULTI_ACCOUNT_GAPS.items():
            print(f"  not verifiable here: {gap}: {reason}")
        return 0 if ok and not problems else 1
    except (PolicyError, TerraformError, ValueError, KernelStartError) as exc:
        print(exc, file=sys.stderr)
        return 2
    except OSError as exc:  # an output or work directory that cannot be written
        print(f"cannot write {exc.filename or args.outdir}: {exc.strerror or exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
