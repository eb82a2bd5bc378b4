"""May this model version serve traffic? The deployment gate's rules.

IAM cannot tie CreateModel/CreateEndpointConfig/CreateEndpoint/UpdateEndpoint to an approved model
package, so the gate is built in three layers: only the deployer may make those calls (the
boundaries deny everyone else), the deployer deploys only versions the approval gate cleared, and
the deployment guard traces every endpoint back to its versions and quarantines what is not cleared.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from policies.rules.artifacts import RULE as ARTIFACT_RULE
from policies.rules.outcome import Action, Decision, RuleSet, Verdict, Violation, enforcement_action
from policies.terms import Mode, Quarantine

if TYPE_CHECKING:
    from policies.model import GovernancePolicy

RULE = "deployment-approval"


@dataclass(frozen=True)
class ServedVersion:
    """One model behind an endpoint (a production or shadow variant, or an inference component)."""

    variant: str
    model: str
    model_package: str | None
    """The registry version the model was created from; None when the model names no package (raw model data)."""
    status: str | None = None
    """That version's approval status now; None when the version cannot be found."""
    cleared: bool = False
    """Whether the approval gate recorded an allow decision for the version (and it was not revoked since)."""
    project: str | None = None
    promoted_into: tuple[str, ...] = ()
    """With many accounts: the stages the hub recorded the version's promotion into."""
    artifact_changes: tuple[str, ...] = ()
    """How its model artifacts differ from the object versions its clearance pins (``policies.rules.artifacts``)."""


@dataclass(frozen=True)
class CaptureFacts:
    """How one endpoint config the endpoint serves from captures its traffic (its DataCaptureConfig)."""

    config: str
    enabled: bool = False
    destination: str | None = None
    sampling_percent: int | None = None
    modes: tuple[str, ...] = ()
    """CaptureOptions' CaptureMode values (Input, Output)."""


@dataclass(frozen=True)
class EndpointFacts:
    name: str
    arn: str
    region: str
    served: Sequence[ServedVersion] = field(default_factory=tuple)
    captures: Sequence[CaptureFacts] = field(default_factory=tuple)
    """One per existing config whose variants name models (components capture nothing of their own)."""


def version_problem(policy: GovernancePolicy, served: ServedVersion) -> str | None:
    """Why this version may not serve, or None when it may: from the registry, governed, Approved, cleared, with the
    model artifacts its clearance pins."""
    if problem := _approval_problem(policy, served):
        return problem
    if served.artifact_changes:
        where = f"variant {served.variant} (model {served.model})"
        return f"{where} serves {served.model_package}, not as approved: {'; '.join(served.artifact_changes)}"
    return None


def violation(policy: GovernancePolicy, served: ServedVersion, problem: str) -> Violation:
    """``problem`` (of ``served``) as a violation of ``model-artifact`` when the version's approval stands but its
    model bytes are not the approved ones (``version_problem`` names that first), else of ``deployment-approval``."""
    if served.artifact_changes and _approval_problem(policy, served) is None:
        return Violation(ARTIFACT_RULE, problem)
    return Violation(RULE, problem)


def _approval_problem(policy: GovernancePolicy, served: ServedVersion) -> str | None:
    where = f"variant {served.variant} (model {served.model})"
    if not served.model_package:
        return f"{where} does not come from the model registry (no ModelPackageName)"
    if served.project is None or policy.project(served.project) is None:
        return f"{where} serves {served.model_package}, which is not a version of a governed project"
    if served.status != "Approved":
        return f"{where} serves {served.model_package}, which is {served.status or 'not found'}, not Approved"
    if not served.cleared:
        return f"{where} serves {served.model_package}, which the approval gate has not cleared"
    return None


def _quarantine_action(policy: GovernancePolicy) -> Action:
    return {
        Quarantine.DELETE_ENDPOINT: Action.DELETE_ENDPOINT,
        Quarantine.SCALE_TO_ZERO: Action.QUARANTINE_VARIANTS,
        Quarantine.REPORT: Action.REPORT_ONLY,
    }[policy.deployment.quarantine]


def serving_problem(
    policy: GovernancePolicy, endpoint: str, served: ServedVersion, account_stages: Sequence[str] | None = None
) -> str | None:
    """Why this version may not serve behind ``endpoint``: ``version_problem``, or an endpoint not named for the
    version's project (the deployer names every endpoint ``<project>-...``; another project's endpoint would serve
    it under that project's classification and capture), or, in a workload account running ``account_stages``, a
    version of a project that runs in none of them, or that was promoted into none of them that needs a promotion."""
    if problem := version_problem(policy, served):
        return problem
    where = f"variant {served.variant} (model {served.model}) serves {served.model_package}"
    if served.project and not endpoint.startswith(f"{served.project}-"):
        return f"{where} of project {served.project} behind endpoint {endpoint}, which is not named for it ({served.project}-...)"
    accounts = policy.accounts
    if account_stages and accounts is not None and (problem := _not_the_hubs(policy, served)):
        return f"{where}: {problem}"
    if account_stages and accounts is not None and served.project:
        runs = [s for s in account_stages if s in accounts.stages_of(served.project)]
        if not runs:
            return f"{where}: project {served.project} runs in none of this account's stages ({', '.join(account_stages)})"
        if len(runs) > 1:  # stages sharing the account: the endpoint's name says which one it serves
            named = endpoint_stage(endpoint, served.project, runs)
            if named is None:
                return f"{where} behind endpoint {endpoint}, which names none of the stages sharing this account: {_stage_names(served.project, runs)}"
            runs = [named]
        rules = accounts.rules()
        if not any(s not in rules or s in served.promoted_into for s in runs):
            return f"{where}, which has not been promoted into {' or '.join(runs)}"
    return None


def endpoint_stage(endpoint: str, project: str, stages: Sequence[str]) -> str | None:
    """The stage an endpoint is named for (``<project>-<stage>`` or ``<project>-<stage>-...``; the longest stage name
    that fits), or None.

    Where stages share an account, nothing else tells a staging endpoint from a dev one: the deployer names every
    endpoint of such an account for its stage, and the guard judges the endpoint by the stage it is named for."""
    fits = [s for s in stages if endpoint == f"{project}-{s}" or endpoint.startswith(f"{project}-{s}-")]
    return max(fits, key=len) if fits else None


def _stage_names(project: str, stages: Sequence[str]) -> str:
    return " or ".join(f"{project}-{s}-..." for s in stages)


def capture_problems(policy: GovernancePolicy, endpoint: EndpointFacts, lineage_bucket: str) -> list[str]:
    """Why the endpoint's traffic would not reach its project's drift checks: every config it serves from must
    capture the requests' inputs, at the policy's sampling or more, under the project's capture prefix (where the
    deployer points it and the drift monitor reads). Checked when its versions are of one governed project (the
    version rules deny the rest)."""
    from policies.naming import Names

    projects = {s.project for s in endpoint.served}
    project = next(iter(projects)) if len(projects) == 1 else None
    if project is None or policy.project(project) is None:
        return []
    expected = f"s3://{lineage_bucket}/{Names(policy, account='*').lineage_capture_prefix(project, endpoint.name)}"
    least = policy.deployment.capture_sampling_percent
    problems = []
    for capture in endpoint.captures:
        where = f"endpoint config {capture.config} of endpoint {endpoint.name}"
        if not capture.enabled:
            problems.append(f"{where} captures no traffic: the drift checks of project {project} would see none")
            continue
        if not (capture.destination or "").rstrip("/").startswith(expected):
            problems.append(f"{where} captures into {capture.destination}, not project {project}'s capture prefix {expected}")
        if (capture.sampling_percent or 0) < least:
            problems.append(f"{where} captures {capture.sampling_percent or 0}% of requests; the policy asks for {least}%")
        if "Input" not in capture.modes:
            problems.append(f"{where} does not capture the requests (CaptureMode Input), which the drift checks read")
    return problems


def decide_serving(
    policy: GovernancePolicy,
    endpoint: EndpointFacts,
    account_stages: Sequence[str] | None = None,
    *,
    lineage_bucket: str,
) -> Decision:
    """The deployment guard's decision for an endpoint: every version it serves must be cleared, behind an endpoint
    of its own project, which captures its traffic for the project's drift checks (``lineage_bucket``: the
    account's); in a workload account (``account_stages``: the stages it runs), promoted into its stage."""
    problems = {s: serving_problem(policy, endpoint.name, s, account_stages) for s in endpoint.served}
    capture = capture_problems(policy, endpoint, lineage_bucket)
    found = tuple([violation(policy, s, p) for s, p in problems.items() if p] + [Violation(RULE, p) for p in capture])
    if not endpoint.served:
        found = (Violation(RULE, f"endpoint {endpoint.name} serves no model that can be traced"),)
    offending = list(dict.fromkeys(s.variant for s, p in problems.items() if p or capture))
    action = enforcement_action(Mode.ENFORCE, found, _quarantine_action(policy))
    if action is Action.QUARANTINE_VARIANTS and not offending:  # no variant to take out of traffic by name
        action = Action.DELETE_ENDPOINT
    return Decision(
        rule_set=RuleSet.DEPLOYMENT,
        subject=endpoint.arn,
        verdict=Verdict.DENY if found else Verdict.ALLOW,
        action=action,
        mode=Mode.REPORT if policy.deployment.quarantine is Quarantine.REPORT else Mode.ENFORCE,
        violations=found,
        evidence={
            "endpoint": endpoint.name,
            "region": endpoint.region,
            "served": [
                {
                    "variant": s.variant,
                    "model": s.model,
                    "model_package": s.model_package,
                    "status": s.status,
                    "cleared": s.cleared,
                    "artifact_changes": list(s.artifact_changes),
                }
                for s in endpoint.served
            ],
            "captures": [
                {"config": c.config, "enabled": c.enabled, "destination": c.destination, "sampling_percent": c.sampling_percent}
                for c in endpoint.captures
            ],
        },
        remediation={"variants": ",".join(offending)} if found else {},
    )


@dataclass(frozen=True)
class StageFacts:
    """Where a workload account's deployer deploys (the policy's accounts section) and what the hub recorded."""

    stage: str | None
    """The stage it deploys into; None when it cannot be told (``problem`` says why)."""
    promoted: bool = False
    """Whether the hub holds the record of the version's promotion into that stage."""
    problem: str | None = None


def deployment_stage(policy: GovernancePolicy, account: str, requested: str | None) -> StageFacts:
    """The stage a deployer in ``account`` deploys into: the one the request names, else the account's only stage."""
    accounts = policy.accounts
    here = accounts.workload_accounts.get(account, []) if accounts is not None else []
    if requested is None and len(here) == 1:
        return StageFacts(here[0])
    if requested is None:
        return StageFacts(None, problem=f"account {account} runs stages {', '.join(here)}: the request must name its stage")
    if requested not in here:
        return StageFacts(None, problem=f"stage {requested} does not run in account {account} (it runs {', '.join(here)})")
    return StageFacts(requested)


def _not_the_hubs(policy: GovernancePolicy, version: ServedVersion) -> str | None:
    """With many accounts, only the hub's registry holds governed versions: a workload account's own registry is its
    administrator's, who could approve there what the hub never judged."""
    accounts, package = policy.accounts, version.model_package or ""
    if accounts is None or package.split(":")[4:5] == [accounts.hub]:
        return None
    return f"{package or version.model} is not a version of the hub's registry (account {accounts.hub})"


def stage_problems(policy: GovernancePolicy, version: ServedVersion, stage: StageFacts) -> list[str]:
    """Why a workload account's deployer may not deploy ``version`` into its stage, beyond ``version_problem``."""
    accounts = policy.accounts
    if accounts is None or stage.stage is None:
        return [stage.problem or "the deployer's stage is unknown"]
    package = version.model_package or ""
    problems = [problem] if (problem := _not_the_hubs(policy, version)) else []
    if version.project and stage.stage not in accounts.stages_of(version.project):
        problems.append(f"project {version.project} does not run in stage {stage.stage}")
    if stage.stage in accounts.rules() and not stage.promoted:
        problems.append(f"{package} has not been promoted into {stage.stage}")
    return problems


def shared_account_problems(policy: GovernancePolicy, project: str, endpoint: str, stage: StageFacts) -> list[str]:
    """In an account that runs several of the project's stages, the endpoint must be named for the deployer's stage
    (``<project>-<stage>-...``): the guard judges it by that name (``endpoint_stage``)."""
    accounts = policy.accounts
    if accounts is None or stage.stage is None or not project:
        return []
    shared = [s for s in accounts.workload_accounts.get(accounts.account_of(stage.stage), []) if s in accounts.stages_of(project)]
    if len(shared) < 2 or endpoint_stage(endpoint, project, shared) == stage.stage:
        return []
    return [
        f"endpoint {endpoint} is in an account shared by stages {', '.join(shared)}: name it for stage {stage.stage} "
        f"({project}-{stage.stage}-...)"
    ]


def decide_deployment_request(
    policy: GovernancePolicy, version: ServedVersion, endpoint: str, stage: StageFacts | None = None
) -> Decision:
    """The deployer's decision on a request to put ``version`` behind ``endpoint``; ``stage``: the deployer runs in a
    workload account (many accounts) and deploys versions of the hub's registry into that stage."""
    problem = version_problem(policy, version)
    found: list[Violation] = [violation(policy, version, problem)] if problem else []
    if stage is not None:
        found += [Violation(RULE, p) for p in stage_problems(policy, version, stage)]
        found += [Violation(RULE, p) for p in shared_account_problems(policy, version.project or "", endpoint, stage)]
    project = version.project or ""
    if project and not endpoint.startswith(f"{project}-"):
        found.append(Violation(RULE, f"endpoint {endpoint} is not named for project {project} ({project}-...)"))
    violations = tuple(found)
    return Decision(
        rule_set=RuleSet.DEPLOYMENT,
        subject=str(version.model_package or version.model),
        verdict=Verdict.DENY if violations else Verdict.ALLOW,
        action=Action.REPORT_ONLY if violations else Action.DEPLOY,
        mode=Mode.ENFORCE,
        violations=violations,
        evidence={
            "endpoint": endpoint,
            "model_package": version.model_package,
            "status": version.status,
            "cleared": version.cleared,
            "artifact_changes": list(version.artifact_changes),
            **({"stage": stage.stage, "promoted": stage.promoted} if stage is not None else {}),
        },
    )
