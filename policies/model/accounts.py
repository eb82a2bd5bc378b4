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

from collections.abc import Mapping, Sequence
from itertools import pairwise
from typing import Annotated

from pydantic import BeforeValidator, Field, field_validator

from policies.errors import Loc, PolicyIssue
from policies.model.base import SLUG, _listed_twice, _Strict

ACCOUNT_ID = r"^\d{12}$"
ORGANIZATION_ID = r"^o-[a-z0-9]{10,32}$"
OU_ID = r"^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$"
ROLE_NAME = r"^[\w+=,.@-]{1,64}$"
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


class Accounts(_Strict):
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

    # ---- derived views ---------------------------------------------------------------------------
    def stage(self, name: str) -> Stage | None:
        return next((s for s in self.stages if s.name == name), None)

    @property
    def stage_names(self) -> list[str]:
        return [s.name for s in self.stages]

    def rules(self) -> dict[str, Promotion]:
        """The promotion rule of every stage that has one (entry stages have none)."""
        if self.promotion is not None:
            return dict(self.promotion)
        names = self.stage_names
        return {later: Promotion(after=earlier) for earlier, later in pairwise(names)}

    @property
    def entry_stages(self) -> list[str]:
        """Stages where versions are registered (no promotion rule)."""
        rules = self.rules()
        return [s.name for s in self.stages if s.name not in rules]

    def stages_of(self, project: str) -> list[str]:
        """Stages ``project`` runs in, in stage order."""
        if self.projects is None:
            return self.stage_names
        listed = self.projects.get(project, [])
        return [s for s in self.stage_names if s in listed]

    def projects_in(self, stage: str, all_projects: Sequence[str]) -> list[str]:
        return [p for p in all_projects if stage in self.stages_of(p)]

    @property
    def workload_accounts(self) -> dict[str, list[str]]:
        """Each distinct workload account with the stages it serves, in stage order."""
        found: dict[str, list[str]] = {}
        for stage in self.stages:
            found.setdefault(stage.account, []).append(stage.name)
        return found

    def account_of(self, stage: str) -> str:
        found = self.stage(stage)
        if found is None:
            raise KeyError(f"no stage {stage!r}; stages: {', '.join(self.stage_names)}")
        return found.account

    @property
    def scp_targets(self) -> list[str]:
        """OUs the guardrail SCPs are attached to: every stage's OU (once each), and the hub's when set."""
        targets = [s.ou for s in self.stages]
        if self.hub_ou:
            targets.append(self.hub_ou)
        return list(dict.fromkeys(targets))

    def promotion_problems(
        self,
        stage: str,
        *,
        approved: bool,
        cleared: bool,
        promoted_by: Mapping[str, str],
        approved_by: str | None,
        promoter: str,
    ) -> list[str]:
        """Why ``promoter`` may not promote a version into ``stage`` (empty: they may).

        ``promoted_by`` maps each stage the version was already promoted into to who did it; ``approved_by`` is
        the approver who set it to Approved in the hub (the entry stages' approver).
        """
        rule = self.rules().get(stage)
        if self.stage(stage) is None:
            return [f"{stage!r} is not a stage; stages: {', '.join(self.stage_names)}"]
        if rule is None:
            return []  # an entry stage: versions are registered there, not promoted into it
        problems = []
        if rule.require_approved and not approved:
            problems.append(f"the version is not Approved in the hub's registry ({stage} requires it)")
        if rule.require_approved and not cleared:
            problems.append(f"the approval gate has not cleared the version ({stage} requires it)")
        entry = rule.after in self.entry_stages
        previous = approved_by if entry else promoted_by.get(rule.after)
        if not entry and previous is None:
            problems.append(f"the version has not been promoted into {rule.after} ({stage} comes after it)")
        if rule.distinct_approver and previous is not None and previous == promoter:
            what = "approved the version" if entry else f"promoted it into {rule.after}"
            problems.append(f"{promoter} {what}; {stage} needs a different approver")
        return problems


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
    return issues
