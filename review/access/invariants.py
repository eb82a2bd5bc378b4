"""What the blueprint promises about access, checked over the access matrix.

Each invariant returns the cells that break it, in words a reviewer can act on. The tests assert
none is broken for the shipped policy and for generated ones, and that each fails when the
synthesized JSON is mutated the way an attacker or a careless change would.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from lambdas.table import HANDLERS, handler_spec
from policies.model import PROJECT_TAG_KEY
from policies.naming import APPROVAL_GATE, DEPLOYMENT_GUARD, DRIFT_MONITOR, MODEL_DEPLOYER, PIPELINE_PUBLISHER, Names
from review.access.matrix import AccessMatrix, regions_for
from review.access.requests import GovernedRequest

Check = Callable[[AccessMatrix], list[str]]


@dataclass(frozen=True)
class Invariant:
    name: str
    promise: str
    check: Check


def _names(matrix: AccessMatrix) -> Names:
    return Names(matrix.policy, account=matrix.account.account, partition=matrix.account.partition)


def _rows(matrix: AccessMatrix, group: str) -> list[GovernedRequest]:
    return [r for r in matrix.requests if r.group == group]


def _boundaried(matrix: AccessMatrix) -> set[str]:
    return {c.label for c in matrix.callers if matrix.account.roles[c.role].boundary is not None}


def handlers_can_act_everywhere(matrix: AccessMatrix) -> list[str]:
    names = _names(matrix)
    out = []
    for request in _rows(matrix, "remediation"):
        role = names.handler_role(str(request.handler))
        allowed = set(matrix.allowed_regions(role, request))
        missing = [r for r in regions_for(matrix.policy, request) if r not in allowed]
        if missing:
            reason = matrix.cell(role, request, missing[0]).deciding
            out.append(f"{role} cannot {request.label} in {', '.join(missing)} ({reason})")
    return out


def only_approvers_approve(matrix: AccessMatrix) -> list[str]:
    names = _names(matrix)
    approver = names.persona_role("model-approver")
    gate = names.handler_role(APPROVAL_GATE)
    out = []
    for request in _rows(matrix, "approval"):
        who = set(matrix.who_may(request))
        status = str(request.context.get("sagemaker:ModelApprovalStatus"))
        if request.action == "sagemaker:CreateModelPackage":
            expected, label = set(), "nobody"
        elif status == "Approved":
            expected, label = {approver}, approver
        else:
            drift = names.handler_role(DRIFT_MONITOR)
            expected, label = {approver, gate, drift}, f"{approver}, {gate} and {drift}"
        if who != expected:
            out.append(f"{request.label}: allowed to {sorted(who) or 'nobody'}, must be {label}")
    return out


def evidence_written_only_by_its_pipeline(matrix: AccessMatrix) -> list[str]:
    names = _names(matrix)
    out = []
    for request in _rows(matrix, "evidence"):
        project = matrix.policy.project(str(request.project))
        assert project is not None
        who = set(matrix.who_may(request))
        expected = {names.execution_role(project)} if request.action == "s3:PutObject" else set()
        if who != expected:
            out.append(f"{request.label}: allowed to {sorted(who) or 'nobody'}, must be {sorted(expected) or 'nobody'}")
    return out


def _in_project(matrix: AccessMatrix, project: str) -> set[str]:
    """Callers that belong to ``project``: its execution and experiment roles and its people's tagged sessions."""
    names = _names(matrix)
    found = matrix.policy.project(project)
    assert found is not None
    roles = {names.execution_role(found), names.experiment_role(found)}
    return roles | {c.label for c in matrix.callers if c.session_tags.get(PROJECT_TAG_KEY) == project}


def _sessions(matrix: AccessMatrix, persona: str, project: str) -> set[str]:
    """The sessions of ``persona`` tagged with ``project`` (none when its trust lets no session name the project)."""
    role = _names(matrix).persona_role(persona)
    return {c.label for c in matrix.callers if c.role == role and c.session_tags.get(PROJECT_TAG_KEY) == project}


def data_stays_in_its_project(matrix: AccessMatrix) -> list[str]:
    """A project's data is read by that project (execution role, tagged people), the auditor and the approval gate only;
    its keys are listed by them, by the people who judge every project's runs (engineer, approver) and by the drift
    monitor (which finds every endpoint's captured traffic), no one else."""
    names = _names(matrix)
    readers = {names.persona_role("auditor"), names.handler_role(APPROVAL_GATE)}
    judges = {names.persona_role("ml-engineer"), names.persona_role("model-approver"), names.handler_role(DRIFT_MONITOR)}
    out = []
    for request in _rows(matrix, "data"):
        project = str(request.project)
        who = set(matrix.who_may(request))
        allowed = readers | judges if request.action == "s3:ListBucket" else readers
        if intruders := sorted(who - _in_project(matrix, project) - allowed):
            out.append(f"{request.label}: also readable by {intruders}")
        if names.execution_role(matrix.policy.project(project)) not in who:  # type: ignore[arg-type]
            out.append(f"{request.label}: its own pipeline cannot read it")
    return out


def approved_bytes_are_checked(matrix: AccessMatrix) -> list[str]:
    """A project's model artifacts are written only by its execution role (its training jobs); the approval gate lists
    their object versions (it pins the latest and refuses a key written twice), the deployer and the deployment guard
    read them (they check the pins); no other project reads or lists them."""
    names = _names(matrix)
    checkers = {names.handler_role(h) for h in (MODEL_DEPLOYER, DEPLOYMENT_GUARD)}
    gate = names.handler_role(APPROVAL_GATE)  # lists the versions (and reads the lineage bucket's evidence anyway)
    out = []
    for request in _rows(matrix, "model artifacts"):
        project = matrix.policy.project(str(request.project))
        assert project is not None
        who = set(matrix.who_may(request))
        others = sorted(who - checkers - {gate} - _in_project(matrix, project.name) - {names.persona_role("auditor")})
        if request.action == "s3:PutObject" and who != {names.execution_role(project)}:
            out.append(f"{request.label}: allowed to {sorted(who) or 'nobody'}, must be {names.execution_role(project)}")
        if request.action == "s3:ListBucketVersions" and gate not in who:
            out.append(f"{request.label}: not allowed to the approval gate, which refuses a key written more than once")
        if request.action == "s3:GetObject" and (missing := sorted(checkers - who)):
            out.append(f"{request.label}: not allowed to {missing}, which check the approved object version")
        if request.action != "s3:PutObject" and others:
            out.append(f"{request.label}: also allowed to {others}")
    return out


def people_work_in_their_project(matrix: AccessMatrix) -> list[str]:
    """A project's data scientists can do their work there (upload candidates, run experiments as its experiment role,
    start its pipeline), and nobody outside the project can.

    Every caller is checked, not only the project-tagged sessions. A policy whose data scientists carry no project
    tag has nobody who may work in a project, which fails here too.
    """
    names = _names(matrix)
    out = []
    for request in _rows(matrix, "project work"):
        project = str(request.project)
        scientists = _sessions(matrix, "data-scientist", project)
        who = set(matrix.who_may(request))
        # the handlers whose table grants the call remediate with it (the region guard stops jobs anywhere)
        enforcers = {names.handler_role(s.name) for s in HANDLERS if any(request.action in g.actions for g in s.grants)}
        if intruders := sorted(who - _in_project(matrix, project) - enforcers):
            out.append(f"{request.label}: also allowed to {intruders}")
        if missing := sorted(scientists - who) if scientists else ["the project's data scientists (no session carries its tag)"]:
            out.append(f"{request.label}: not allowed to {missing}")
    return out


def the_execution_role_runs_only_published_code(matrix: AccessMatrix) -> list[str]:
    """What runs as a project's execution role is what its pipeline publisher published, and it alone registers.

    The execution role writes the evidence the approval gate trusts: only the publisher (and the pipeline's own jobs,
    and the deployer for the models it creates) may pass it, only the publisher writes the code it runs, the holdout
    it judges models on and changes the pipeline, only the execution role registers a version, and the holdout is
    read by the pipeline, its publisher and the evidence readers, never by the people whose models it judges.
    """
    names = _names(matrix)
    out = []
    for request in _rows(matrix, "pipeline"):
        project = matrix.policy.project(str(request.project))
        assert project is not None
        publisher = _sessions(matrix, PIPELINE_PUBLISHER, project.name) or {f"{PIPELINE_PUBLISHER} [{project.name}]"}
        if request.action == "iam:PassRole":
            expected = {names.execution_role(project), names.handler_role(MODEL_DEPLOYER), *publisher}
        elif request.action == "sagemaker:CreateModelPackage":
            expected = {names.execution_role(project)}
        elif request.context.get("s3:x-amz-server-side-encryption") and not request.context.get(
            "s3:x-amz-server-side-encryption-aws-kms-key-id"
        ):  # aws:kms without the data key's id: AWS's managed key, for nobody
            expected = set()
        elif request.action == "s3:GetObject":  # the holdout: what people could read they could train on
            expected = {
                names.execution_role(project),
                *publisher,
                names.persona_role("auditor"),
                names.handler_role(APPROVAL_GATE),
            }
        else:
            expected = publisher
        who = set(matrix.who_may(request))
        if who != expected:
            out.append(f"{request.label}: allowed to {sorted(who) or 'nobody'}, must be {sorted(expected)}")
    return out


def governance_cannot_be_switched_off(matrix: AccessMatrix) -> list[str]:
    """No boundaried role can touch enforcement, the boundary, the keys, the trail, or audit records after they are written."""
    names = _names(matrix)
    writers = {names.handler_role(spec.name) for spec in HANDLERS}
    auditor = names.persona_role("auditor")
    out = []
    for request in matrix.requests:
        if request.group not in {"enforcement", "boundary", "keys", "trail", "audit trail"}:
            continue
        who = set(matrix.who_may(request)) & _boundaried(matrix)
        if request.label.startswith("write a new audit record"):
            expected = writers
        elif request.label.startswith("read an audit record"):
            expected = {auditor}
        else:
            expected = set()
        if who != expected:
            out.append(f"{request.label}: allowed to {sorted(who) or 'nobody'}, must be {sorted(expected) or 'nobody'}")
    return out


def only_the_deployer_deploys(matrix: AccessMatrix) -> list[str]:
    """Models, endpoint configs, endpoints and inference components come only from the deployer; people ask it."""
    names = _names(matrix)
    out = []
    for request in _rows(matrix, "deployment"):
        if request.action == "lambda:InvokeFunction":
            expected = {names.persona_role("ml-engineer")}
        elif request.action == "sagemaker:UpdateEndpointWeightsAndCapacities":
            expected = {names.handler_role(DEPLOYMENT_GUARD)}  # the quarantine: weights can only take traffic away
        else:  # the deployer's own calls are its; calls it does not make (inference components) belong to nobody
            deployer = handler_spec(MODEL_DEPLOYER)
            makes = {a for g in deployer.grants for a in g.actions}
            expected = {names.deployer_role} if request.action in makes else set()
        who = set(matrix.who_may(request))
        if who != expected:
            out.append(f"{request.label}: allowed to {sorted(who) or 'nobody'}, must be {sorted(expected) or 'nobody'}")
    return out


def every_role_is_bounded(matrix: AccessMatrix) -> list[str]:
    """Every role the blueprint creates carries one of its permissions boundaries."""
    names = _names(matrix)
    expected = {names.boundary_policy_arn, names.enforcement_boundary_policy_arn}
    out = []
    for name, role in sorted(matrix.account.roles.items()):
        if role.boundary_arn is None:
            out.append(f"{name} has no permissions boundary")
        elif role.boundary_arn not in expected:
            out.append(f"{name} carries {role.boundary_arn}, not a governance boundary")
    return out


def retention_cannot_be_bypassed(matrix: AccessMatrix) -> list[str]:
    """s3:BypassGovernanceRetention is explicitly denied to every role (GOVERNANCE mode must not be a back door)."""
    out = []
    for request in matrix.requests:
        if request.action != "s3:BypassGovernanceRetention":
            continue
        for role in matrix.roles:
            cell = matrix.cell(role, request)
            if cell.evaluation.decision != "explicit-deny":
                out.append(f"{role}: {request.label} is {cell.evaluation.decision}, must be explicitly denied")
    return out


INVARIANTS: tuple[Invariant, ...] = (
    Invariant("every-role-is-bounded", "every role carries the ML or the enforcement boundary", every_role_is_bounded),
    Invariant(
        "only-the-deployer-deploys",
        "models and endpoints are created or changed only by the deployer, which the ML engineer asks",
        only_the_deployer_deploys,
    ),
    Invariant(
        "handlers-act-everywhere",
        "every enforcement handler may make each call it needs, on the resources it acts on, in every watched Region",
        handlers_can_act_everywhere,
    ),
    Invariant(
        "only-approvers-approve",
        "only the approver role sets a version to Approved; the gate and the drift monitor only Rejected or PendingManualApproval",
        only_approvers_approve,
    ),
    Invariant(
        "evidence-from-the-pipeline",
        "only a project's execution role writes its evidence; nobody deletes it",
        evidence_written_only_by_its_pipeline,
    ),
    Invariant(
        "data-stays-in-its-project",
        "a project's data is read only by that project, the auditor and the approval gate",
        data_stays_in_its_project,
    ),
    Invariant(
        "approved-bytes-are-checked",
        "a project's model artifacts are written only by its execution role; the approval gate lists their object"
        " versions, the deployer and the deployment guard read them, no other project reads them",
        approved_bytes_are_checked,
    ),
    Invariant(
        "people-work-in-their-project",
        "a project's data scientists can upload candidates, run experiments as its experiment role and start its pipeline,"
        " for no other project",
        people_work_in_their_project,
    ),
    Invariant(
        "the-execution-role-runs-only-published-code",
        "only a project's pipeline publisher passes its execution role (besides its own jobs and the deployer), writes the"
        " code the pipeline runs and the holdout it judges on, and changes the pipeline; only the execution role registers"
        " a version; its people never read the holdout",
        the_execution_role_runs_only_published_code,
    ),
    Invariant(
        "governance-cannot-be-switched-off",
        "no boundaried role changes enforcement, the boundary, the keys, the trail or written audit records",
        governance_cannot_be_switched_off,
    ),
    Invariant(
        "retention-cannot-be-bypassed",
        "s3:BypassGovernanceRetention is explicitly denied to every role",
        retention_cannot_be_bypassed,
    ),
)


def check_invariants(matrix: AccessMatrix) -> list[str]:
    return [f"{inv.name}: {problem}" for inv in INVARIANTS for problem in inv.check(matrix)]
