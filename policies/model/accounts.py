"""The optional ``accounts`` section: one governance hub, workload accounts per stage, promotion between stages.

Absent, the blueprint governs one account (everything in the account of the deploying credentials). Present:

- the **hub** holds the model registry, the enforcement handlers, the approval gate's clearances and the bus
  every workload account forwards its SageMaker events to;
- each **stage** (``dev``, ``staging``, ``prod`` or any ordered list) is a workload account in an OU; stages may
  share an account (a small team's dev = staging), never with the hub or the organization's admin account;
- ``projects`` says which projects run in which stages (default: every project in every stage);
- ``promotion`` says how a version enters each stage (default: each stage after the one before it, Approved
  in the hub and cleared by the approval gate);
- the **organization stack** (SCPs on the stages' OUs) is deployed in ``organization_admin``, and the SCPs let
  only ``deployment_role`` change the blueprint's enforcement.

Checks that need the project list or the whole section (unknown stages, cycles, shared accounts) are in
``account_issues``, which ``policies.limits`` calls with the rest of the cross-field checks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from pydantic import BeforeValidator, Field, field_validator

from policies.errors import Loc, PolicyIssue
from policies.model.base import SLUG, _listed_twice, _Strict
from policies.reading import AccountsReading

ACCOUNT_ID = r"^[0-9]{12}$"  # ASCII digits: \d would take any script's
ORGANIZATION_ID = r"^o-[a-z0-9]{10,32}$"
OU_ID = r"^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$"
ROLE_NAME = r"^[A-Za-z0-9_+=,.@-]{1,64}$"  # IAM's characters, ASCII only
DEFAULT_DEPLOYMENT_ROLE = "governance-deployer"


def _quoted_account(value: object) -> object:
    if isinstance(value, int) and not isinstance(value, bool):
        raise ValueError(
            f"write the account id in quotes ('{value:012d}'): YAML reads an unquoted number as an integer, "
            "which drops leading zeros"
        )
    return value


AccountId = Annotated[str, BeforeValidator(_quoted_account), Field(pattern=ACCOUNT_ID)]
StageName = Annotated[str, Field(pattern=SLUG, min_length=2, max_length=16)]


class Stage(_Strict):
    """A workload stage: the account its workloads run in and the OU that account sits in."""

    name: StageName
    """Stage name (dev, staging, prod...); names the spoke stacks (spoke-<stage>-...)."""
    account: AccountId
    """The 12-digit id of the stage's workload account, in quotes. Stages may share an account (dev = staging)."""
    ou: Annotated[str, Field(pattern=OU_ID)]
    """The organizational unit (ou-xxxx-xxxxxxxx) holding the account: the guardrail SCPs are attached to it."""


class Promotion(_Strict):
    """How a model version enters a stage."""

    after: StageName
    """The stage a version must have reached first."""
    require_approved: bool = True
    """The version must be Approved in the hub's registry and cleared by the approval gate."""
    distinct_approver: bool = False
    """The person promoting into this stage must not be the one who promoted into 'after'
    (for an entry stage: the approver who set the version to Approved)."""


class Accounts(_Strict, AccountsReading):
    """Many accounts: a governance hub, a workload account per stage, SCPs from the organization."""

    hub: AccountId
    """The governance hub account (registry, enforcement, clearances, central event bus), in quotes."""
    organization_id: Annotated[str, Field(pattern=ORGANIZATION_ID)]
    """The AWS Organizations id (o-...): cross-account access is limited to it (aws:PrincipalOrgID)."""
    organization_admin: AccountId
    """Where the organization stack (the SCPs) is deployed: the management account or a delegated administrator
    for Organizations policies. May be the hub; may not run a stage (SCPs never apply to the management account)."""
    hub_ou: Annotated[str, Field(pattern=OU_ID)] | None = None
    """The OU holding the hub account; when set, the guardrail SCPs are attached to it too."""
    deployment_role: Annotated[str, Field(pattern=ROLE_NAME)] = DEFAULT_DEPLOYMENT_ROLE
    """The role, in every account, that Terraform assumes to deploy the stacks: the only principal the SCPs let
    change the blueprint's enforcement. Create it in each account before the first deploy."""
    stages: Annotated[list[Stage], Field(min_length=1)]
    """Workload stages in promotion order (dev, staging, prod or your own list)."""
    projects: dict[str, list[StageName]] | None = None
    """Which stages each project runs in (every governed project must be listed). Default: every project in every stage."""
    promotion: dict[str, Promotion] | None = None
    """How a version enters each stage, by stage name; a stage without a rule is an entry stage, where versions are
    registered. Default: the first stage is the entry stage, each other stage comes after the one before it."""

    @field_validator("projects")
    @classmethod
    def _stages_listed_once(cls, values: dict[str, list[str]] | None) -> dict[str, list[str]] | None:
        for stages in (values or {}).values():
            _listed_twice(stages, "stages")
        return values


def account_issues(accounts: Accounts, projects: Sequence[str]) -> list[PolicyIssue]:
    """Checks across the section and the project list, each naming the field and the fix."""
    return [*_stage_issues(accounts), *_project_issues(accounts, projects), *_promotion_issues(accounts)]


def _stage_issues(accounts: Accounts) -> list[PolicyIssue]:
    issues: list[PolicyIssue] = []
    seen: dict[str, int] = {}
    ou_of: dict[str, tuple[int, str]] = {}
    for i, stage in enumerate(accounts.stages):
        loc: Loc = ("accounts", "stages", i)
        if stage.name in seen:
            issues.append(PolicyIssue(loc + ("name",), f"duplicate stage {stage.name!r} (also stages[{seen[stage.name]}])"))
        seen.setdefault(stage.name, i)
        if stage.account == accounts.hub:
            issues.append(
                PolicyIssue(
                    loc + ("account",),
                    f"stage {stage.name} runs in the hub account {stage.account}: workloads and the enforcement that "
                    "governs them must be in different accounts; give the stage its own account",
                )
            )
        if stage.account == accounts.organization_admin:
            issues.append(
                PolicyIssue(
                    loc + ("account",),
                    f"stage {stage.name} runs in organization_admin {stage.account}: SCPs never apply to the "
                    "management account; give the stage a member account",
                )
            )
        if stage.account in ou_of and ou_of[stage.account][1] != stage.ou:
            other, ou = ou_of[stage.account]
            issues.append(
                PolicyIssue(
                    loc + ("ou",),
                    f"account {stage.account} is also stage {accounts.stages[other].name}'s, in {ou}: an account sits in "
                    "one OU; give stages that share an account the same ou",
                )
            )
        ou_of.setdefault(stage.account, (i, stage.ou))
    return issues


def _project_issues(accounts: Accounts, projects: Sequence[str]) -> list[PolicyIssue]:
    if accounts.projects is None:
        return []
    issues: list[PolicyIssue] = []
    stages = accounts.stage_names
    for project, listed in accounts.projects.items():
        loc: Loc = ("accounts", "projects", project)
        if project not in projects:
            issues.append(PolicyIssue(loc, f"{project!r} is not a governed project; projects: {', '.join(projects) or 'none'}"))
        for j, stage in enumerate(listed):
            if stage not in stages:
                issues.append(
                    PolicyIssue(loc + (j,), f"{stage!r} is not a stage (no account runs it); stages: {', '.join(stages)}")
                )
        if not listed:
            issues.append(PolicyIssue(loc, f"{project} runs in no stage: list at least one of {', '.join(stages)}"))
    for project in projects:
        if project not in accounts.projects:
            issues.append(
                PolicyIssue(
                    ("accounts", "projects"),
                    f"project {project} runs in no account: add '{project}: [{', '.join(stages)}]' (the stages it runs in)",
                )
            )
    rules = accounts.rules()
    for project in projects:
        runs = accounts.stages_of(project)
        for stage in runs:
            rule = rules.get(stage)
            if rule is not None and rule.after in stages and rule.after not in runs:
                issues.append(
                    PolicyIssue(
                        ("accounts", "projects", project),
                        f"{project} runs in {stage} but not in {rule.after}, which {stage} comes after: no version of it "
                        f"could ever be promoted into {stage}; add {rule.after} or remove {stage}",
                    )
                )
    return issues


def _promotion_issues(accounts: Accounts) -> list[PolicyIssue]:
    issues: list[PolicyIssue] = []
    stages = accounts.stage_names
    rules = accounts.rules()
    for stage, rule in (accounts.promotion or {}).items():
        loc: Loc = ("accounts", "promotion", stage)
        if stage not in stages:
            issues.append(PolicyIssue(loc, f"{stage!r} is not a stage; stages: {', '.join(stages)}"))
        if rule.after not in stages:
            issues.append(PolicyIssue(loc + ("after",), f"{rule.after!r} is not a stage; stages: {', '.join(stages)}"))
    reported: set[frozenset[str]] = set()
    for start in rules:
        path, stage = [start], rules[start].after
        while stage in rules and stage not in path:
            path.append(stage)
            stage = rules[stage].after
        if stage in path:
            cycle = path[path.index(stage) :]
            if frozenset(cycle) not in reported:
                reported.add(frozenset(cycle))
                chain = " -> ".join([*cycle, stage])
                issues.append(
                    PolicyIssue(
                        ("accounts", "promotion", stage, "after"),
                        f"promotion cycle {chain}: a version could never enter these stages; remove one rule so a stage "
                        "without a rule (an entry stage, where versions are registered) starts the chain",
                    )
                )
    if stages and not accounts.entry_stages and not reported:
        issues.append(
            PolicyIssue(("accounts", "promotion"), "every stage has a promotion rule: leave the entry stage (dev) without one")
        )
    return issues + _promotion_order_issues(accounts)


def _promotion_order_issues(accounts: Accounts) -> list[PolicyIssue]:
    """Stages are in promotion order: only the first is where versions are registered, and each rule promotes from a
    stage listed before its own. A later stage left without a rule would take versions that were never promoted."""
    issues: list[PolicyIssue] = []
    stages, rules = accounts.stage_names, accounts.rules()
    if accounts.promotion is not None and stages:
        for stage in stages[1:]:
            if stage not in rules:
                before = stages[stages.index(stage) - 1]
                issues.append(
                    PolicyIssue(
                        ("accounts", "promotion"),
                        f"{stage} has no promotion rule, so versions would reach it without being promoted; add "
                        f"'{stage}: {{after: {before}}}' (only the first stage, {stages[0]}, is where versions are registered)",
                    )
                )
        for stage, rule in rules.items():
            if stage in stages and rule.after in stages and stages.index(rule.after) >= stages.index(stage):
                issues.append(
                    PolicyIssue(
                        ("accounts", "promotion", stage, "after"),
                        f"{stage} comes after {rule.after}, but stages lists {rule.after} after {stage}: list the stages "
                        "in promotion order",
                    )
                )
    return issues
