"""Who can do what, proven from the synthesized IAM: the invariants hold, and each fails when the JSON is broken."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from policies.model import GovernancePolicy
from review.access.invariants import INVARIANTS, check_invariants
from review.access.matrix import AccessMatrix, build_matrix, render_markdown
from review.access.terraform import read_account
from tests.conftest import Synthesized, SynthesizeFn, policy_variant

REPO = Path(__file__).resolve().parents[2]
Stacks = dict[str, dict[str, Any]]


def matrix_of(outdir: Path, policy: GovernancePolicy) -> AccessMatrix:
    return build_matrix(policy, read_account(outdir))


@pytest.fixture(scope="module")
def shipped(synthesized: Synthesized, policy: GovernancePolicy) -> AccessMatrix:
    return matrix_of(synthesized.outdir, policy)


def test_every_invariant_holds_for_the_shipped_policy(shipped: AccessMatrix) -> None:
    assert check_invariants(shipped) == []


@pytest.mark.parametrize("for_an_aws_resource", [False, True])
def test_nobody_grants_the_use_of_a_governance_key_except_for_sagemakers_own_resources(
    shipped: AccessMatrix, for_an_aws_resource: bool
) -> None:
    """The deployer's grant for an endpoint's storage and capture once had no condition: it could grant itself the
    data key's Decrypt and read the lineage bucket's bytes (review of 2026-11-26). SageMaker's grants carry
    kms:GrantIsForAWSResource; a grant made directly does not."""
    from review.access.evaluator import Request, evaluate
    from review.access.matrix import _resource_policy

    account, region = shipped.account, shipped.policy.regions.home
    deployer = {c.label for c in shipped.callers if c.role.endswith("-model-deployer")}
    for alias, key in account.key_arns.items():
        if not alias.startswith("alias/"):
            continue
        context = {
            "aws:RequestedRegion": region,
            "kms:GrantOperations": ["Decrypt"],
            "kms:GrantIsForAWSResource": for_an_aws_resource,
        }
        who = {
            c.label
            for c in shipped.callers
            if evaluate(
                Request(
                    account.roles[c.role].principal(session="s" if c.session_tags else None, tags=c.session_tags),
                    "kms:CreateGrant",
                    key,
                    context,
                ),
                resource_policy=_resource_policy(account, key),
            ).allowed
        }
        expected = deployer if for_an_aws_resource and alias.endswith("-ml-data") else set()
        assert who == expected, alias


def test_the_committed_matrix_is_the_one_the_stacks_produce(shipped: AccessMatrix) -> None:
    committed = (REPO / "docs" / "access-matrix.md").read_text()
    assert committed == render_markdown(shipped, []), "docs/access-matrix.md is stale: run make access-review"


def test_the_region_guard_can_act_in_us_east_1(shipped: AccessMatrix) -> None:
    """The finding that started this: the ML boundary's Region deny kept the guard from acting where it exists to act."""
    guard = "acme-region-guard"
    rows = {r.action: r for r in shipped.requests if r.handler == "region-guard" and r.group == "remediation"}
    assert shipped.cell(guard, rows["sagemaker:StopTrainingJob"], "us-east-1").allowed
    assert shipped.cell(guard, rows["sagemaker:DeleteEndpoint"], "us-east-1").allowed


def test_decisions_name_the_statement_that_decided(shipped: AccessMatrix) -> None:
    approve = next(r for r in shipped.requests if r.label == "set a credit-risk version to Approved")
    gate = shipped.cell("acme-approval-gate", approve)
    assert gate.evaluation.decision == "explicit-deny"
    assert "identity:aws_iam_policy.enforcement-permissions-boundary/DenyApprovingModelVersions" in gate.deciding
    overwrite = next(r for r in shipped.requests if r.label == "overwrite an audit record")
    assert "AuditRecordsAreWrittenOnce" in shipped.cell("acme-region-guard", overwrite).deciding


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param(
            {
                "regions": {"home": "us-east-2", "allowed": ["us-east-2", "ca-central-1"]},
                "projects": [
                    {
                        "name": "fraud-detection-for-card-payments-europe",
                        "owner_team": "payments",
                        "classification": "restricted",
                        "metric_thresholds": {"auc": {"minimum": 0.9}},
                    },
                    {"name": "churn", "owner_team": "growth", "classification": "public"},
                ],
            },
            id="other-regions-and-projects",
        ),
        pytest.param({"audit": {"object_lock_mode": "GOVERNANCE", "retention_years": 1}}, id="governance-lock"),
    ],
)
def test_invariants_hold_for_other_policies(synthesize: SynthesizeFn, policy: GovernancePolicy, changes: dict[str, Any]) -> None:
    variant = policy_variant(policy, **changes)
    assert check_invariants(matrix_of(synthesize(variant).outdir, variant)) == []


# ---- mutation tests: break the synthesized JSON the way a careless change would; exactly that invariant fails ----


def _statements(body: dict[str, Any], key: str = "policy") -> list[dict[str, Any]]:
    document = json.loads(body[key])
    return document["Statement"]


def _rewrite(body: dict[str, Any], change: Callable[[list[dict[str, Any]]], list[dict[str, Any]]], key: str = "policy") -> None:
    document = json.loads(body[key])
    document["Statement"] = change(document["Statement"])
    body[key] = json.dumps(document)


def _resource(stacks: Stacks, stack: str, rtype: str, prefix: str) -> dict[str, Any]:
    found = [body for name, body in stacks[stack]["resource"][rtype].items() if name.startswith(prefix)]
    assert len(found) == 1, (rtype, prefix)
    return found[0]


def drop(sid: str) -> Callable[[list[dict[str, Any]]], list[dict[str, Any]]]:
    def change(statements: list[dict[str, Any]]) -> list[dict[str, Any]]:
        kept = [s for s in statements if s.get("Sid") != sid]
        assert len(kept) == len(statements) - 1, f"{sid} not found"
        return kept

    return change


def grant(sid: str, actions: list[str], resource: str) -> Callable[[list[dict[str, Any]]], list[dict[str, Any]]]:
    return lambda statements: [*statements, {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resource}]


def ml_boundary(stacks: Stacks) -> dict[str, Any]:
    return stacks["identity"]["resource"]["aws_iam_policy"]["permissions-boundary"]


def enforcement_boundary(stacks: Stacks) -> dict[str, Any]:
    return stacks["identity"]["resource"]["aws_iam_policy"]["enforcement-permissions-boundary"]


def persona_policy(stacks: Stacks, persona: str) -> dict[str, Any]:
    return _resource(stacks, "identity", "aws_iam_role_policy", f"persona-{persona}-policy")


def mutate_guard_under_the_ml_boundary(stacks: Stacks) -> None:
    role = _resource(stacks, "enforcement", "aws_iam_role", "region-guard_role")
    role["permissions_boundary"] = role["permissions_boundary"].replace(
        "enforcement-permissions-boundary", "ml-permissions-boundary"
    )


def mutate_gate_may_approve(stacks: Stacks) -> None:
    _rewrite(enforcement_boundary(stacks), drop("DenyApprovingModelVersions"))


def mutate_people_write_evidence(stacks: Stacks) -> None:
    lineage = _resource(stacks, "foundation", "aws_s3_bucket_policy", "lineage_policy")
    _rewrite(lineage, drop("EvidenceOnlyFromGovernedPipelines"))
    _rewrite(persona_policy(stacks, "data-scientist"), grant("Mutation", ["s3:PutObject"], "arn:*:s3:::*/projects/*"))


def mutate_cross_project_reads(stacks: Stacks) -> None:
    lineage = _resource(stacks, "foundation", "aws_s3_bucket_policy", "lineage_policy")
    _rewrite(lineage, drop("ReadsStayInTheirProject"))
    _rewrite(persona_policy(stacks, "data-scientist"), grant("Mutation", ["s3:GetObject"], "arn:*:s3:::*/projects/*"))


def mutate_reviewers_read_run_data(stacks: Stacks) -> None:
    """Every run's files readable again by the engineer: the run's copy of the training data with them."""
    lineage = _resource(stacks, "foundation", "aws_s3_bucket_policy", "lineage_policy")

    def widen(statements: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for s in statements:
            if s["Sid"] == "ReadsStayInTheirProject":
                s["NotResource"].append(s["NotResource"][-1].split("/runs/")[0] + "/runs/*")
        return statements

    _rewrite(lineage, widen)
    _rewrite(persona_policy(stacks, "ml-engineer"), grant("Mutation", ["s3:GetObject"], "arn:*:s3:::*/projects/*/runs/*"))


def mutate_engineer_works_in_every_project(stacks: Stacks) -> None:
    """An untagged persona (in no project) given project work: the invariant used to look at tagged sessions only."""
    _rewrite(
        persona_policy(stacks, "ml-engineer"),
        grant("Mutation", ["iam:PassRole", "sagemaker:StartPipelineExecution"], "*"),
    )


def mutate_pass_any_experiment_role(stacks: Stacks) -> None:
    def change(statements: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for s in statements:
            if s["Sid"] == "PassOwnProjectExperimentRole":
                s["Condition"]["StringEquals"].pop("aws:ResourceTag/ml-project")
        return statements

    _rewrite(persona_policy(stacks, "data-scientist"), change)


def mutate_scientist_runs_jobs_as_the_pipeline(stacks: Stacks) -> None:
    """The design before 2026-11-26: data scientists passed any role of their project, the execution role included,
    so an ad-hoc job of theirs could overwrite a run's reports and register a version whose hashes match them."""

    def change(statements: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for s in statements:
            if s["Sid"] == "PassOwnProjectExperimentRole":
                s["Resource"] = [r.replace("-*-experiments", "-*") for r in s["Resource"]]
                s["Condition"]["StringEquals"].pop("aws:ResourceTag/ml-governance-role")
        return statements

    _rewrite(persona_policy(stacks, "data-scientist"), change)


def mutate_scientist_changes_the_pipeline_code(stacks: Stacks) -> None:
    """Also the design before: the pipeline's code bundle and the SDK's uploads were people's prefixes, so changing
    evaluate.py in the bundle and starting the governed pipeline had the execution role write forged evidence."""
    lineage = _resource(stacks, "foundation", "aws_s3_bucket_policy", "lineage_policy")
    _rewrite(lineage, drop("PipelineCodeOnlyFromItsPublisher"))
    _rewrite(persona_policy(stacks, "data-scientist"), grant("Mutation", ["s3:PutObject"], "arn:*:s3:::*/projects/*/code/*"))


def mutate_scientists_list_every_project(stacks: Stacks) -> None:
    """The listing before: run ids and file names of every project, to any data scientist."""

    def change(statements: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for s in statements:
            if s["Sid"] == "ListOwnProjectLineage":
                s.pop("Condition")
        return statements

    _rewrite(persona_policy(stacks, "data-scientist"), change)


def mutate_scientists_read_the_holdout(stacks: Stacks) -> None:
    """A holdout the people whose models it judges can read, they can train on."""
    _rewrite(_resource(stacks, "foundation", "aws_s3_bucket_policy", "lineage_policy"), drop("HoldoutReadOnlyByThePipeline"))


def mutate_jobs_named_by_prefix(stacks: Stacks) -> None:
    """People's jobs named <project>-* (before): a session tagged `credit` reached credit-risk's."""

    def change(statements: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for s in statements:
            if s["Sid"] == "BuildInOwnProject":
                s["Resource"] = [r.replace("}--*", "}-*") for r in s["Resource"]]
        return statements

    _rewrite(persona_policy(stacks, "data-scientist"), change)


def mutate_guards_name_what_they_guard(stacks: Stacks) -> None:
    """The lineage denies as they were: `projects/*/code/*` (and the evidence folders) also caught the SDK's
    `experiments/<job>/input/code/...` and `.../input/data/...` of a person's experiment."""
    lineage = _resource(stacks, "foundation", "aws_s3_bucket_policy", "lineage_policy")

    def change(statements: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for s in statements:
            if s["Sid"] in {"PipelineCodeOnlyFromItsPublisher", "EvidenceOnlyFromGovernedPipelines"}:
                prefix = s["NotResource"][0].split("/projects/")[0] + "/projects/*/"
                folders = ("code", "sdk", "holdout") if s["Sid"].startswith("Pipeline") else ("data", "runs", "models")
                s.pop("NotResource")
                s["Resource"] = [f"{prefix}{folder}/*" for folder in folders]
        return statements

    _rewrite(lineage, change)


def mutate_experiments_register(stacks: Stacks) -> None:
    experiments = _resource(stacks, "identity", "aws_iam_role_policy", "experiments-credit-risk-policy")
    _rewrite(experiments, grant("Mutation", ["sagemaker:CreateModelPackage"], "*"))


def mutate_engineer_disables_enforcement(stacks: Stacks) -> None:
    _rewrite(ml_boundary(stacks), drop("DenyEnforcementTampering"))
    _rewrite(persona_policy(stacks, "ml-engineer"), grant("Mutation", ["events:*"], "*"))


def mutate_engineer_strips_key_aliases(stacks: Stacks) -> None:
    """The key deny knows a governance key by its alias: without the alias deny, kms:* removes the alias first."""
    _rewrite(ml_boundary(stacks), drop("DenyGovernanceKeyAliasTampering"))
    _rewrite(persona_policy(stacks, "ml-engineer"), grant("Mutation", ["kms:*"], "*"))


def mutate_boundary_removed(stacks: Stacks) -> None:
    _resource(stacks, "identity", "aws_iam_role", "persona-ml-engineer").pop("permissions_boundary")


def mutate_scientist_unbounded_with_sagemaker_star(stacks: Stacks) -> None:
    _resource(stacks, "identity", "aws_iam_role", "persona-data-scientist").pop("permissions_boundary")
    _rewrite(persona_policy(stacks, "data-scientist"), grant("Mutation", ["sagemaker:*"], "*"))


def mutate_retention_deny_dropped(stacks: Stacks) -> None:
    audit = _resource(stacks, "foundation", "aws_s3_bucket_policy", "audit_policy")
    _rewrite(audit, drop("DenyAuditRecordChanges"))
    _rewrite(ml_boundary(stacks), drop("DenyAuditRecordTampering"))
    _rewrite(enforcement_boundary(stacks), drop("DenyAuditRecordTampering"))


def mutate_records_overwritable(stacks: Stacks) -> None:
    _rewrite(_resource(stacks, "foundation", "aws_s3_bucket_policy", "audit_policy"), drop("AuditRecordsAreWrittenOnce"))


def mutate_engineer_deploys_directly(stacks: Stacks) -> None:
    _rewrite(ml_boundary(stacks), drop("DenyDeploymentExceptByTheDeployer"))
    _rewrite(persona_policy(stacks, "ml-engineer"), grant("Mutation", ["sagemaker:CreateEndpoint"], "*"))


def mutate_deployer_cannot_check_artifact_versions(stacks: Stacks) -> None:
    """The deployer no longer exempt from the lineage bucket's project fence: every deployment would be refused."""
    lineage = _resource(stacks, "foundation", "aws_s3_bucket_policy", "lineage_policy")

    def fence(statements: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for s in statements:
            if s["Sid"] == "ReadsStayInTheirProject":
                exempt = s["Condition"]["ArnNotEquals"]["aws:PrincipalArn"]
                s["Condition"]["ArnNotEquals"]["aws:PrincipalArn"] = [a for a in exempt if not a.endswith("-model-deployer")]
        return statements

    _rewrite(lineage, fence)


PUBLISHED = "the-execution-role-runs-only-published-code"
ARTIFACTS = "approved-bytes-are-checked"
MUTATIONS = [
    pytest.param(mutate_guard_under_the_ml_boundary, {"handlers-act-everywhere"}, id="guard-under-ml-boundary"),
    pytest.param(mutate_gate_may_approve, {"only-approvers-approve"}, id="gate-may-approve"),
    pytest.param(mutate_people_write_evidence, {"evidence-from-the-pipeline", ARTIFACTS}, id="people-write-evidence"),
    pytest.param(mutate_cross_project_reads, {"data-stays-in-its-project", ARTIFACTS}, id="cross-project-reads"),
    pytest.param(mutate_reviewers_read_run_data, {"data-stays-in-its-project"}, id="reviewers-read-run-data"),
    pytest.param(mutate_pass_any_experiment_role, {"people-work-in-their-project"}, id="pass-any-experiment-role"),
    pytest.param(
        mutate_engineer_works_in_every_project,
        {"people-work-in-their-project", PUBLISHED},
        id="engineer-works-in-every-project",
    ),
    pytest.param(mutate_scientist_runs_jobs_as_the_pipeline, {PUBLISHED}, id="scientist-runs-jobs-as-the-pipeline"),
    pytest.param(mutate_scientist_changes_the_pipeline_code, {PUBLISHED}, id="scientist-changes-the-pipeline-code"),
    pytest.param(mutate_experiments_register, {PUBLISHED}, id="experiments-register"),
    pytest.param(mutate_guards_name_what_they_guard, {"people-work-in-their-project"}, id="guards-name-what-they-guard"),
    pytest.param(mutate_jobs_named_by_prefix, {"people-work-in-their-project"}, id="jobs-named-by-prefix"),
    pytest.param(mutate_scientists_read_the_holdout, {PUBLISHED}, id="scientists-read-the-holdout"),
    pytest.param(mutate_scientists_list_every_project, {"data-stays-in-its-project"}, id="scientists-list-every-project"),
    pytest.param(mutate_engineer_disables_enforcement, {"governance-cannot-be-switched-off"}, id="engineer-disables-rules"),
    pytest.param(mutate_engineer_strips_key_aliases, {"governance-cannot-be-switched-off"}, id="engineer-strips-key-aliases"),
    pytest.param(mutate_boundary_removed, {"every-role-is-bounded"}, id="boundary-removed"),
    pytest.param(
        mutate_scientist_unbounded_with_sagemaker_star,
        {
            "every-role-is-bounded",
            "only-approvers-approve",
            "people-work-in-their-project",
            "only-the-deployer-deploys",
            PUBLISHED,
        },
        id="scientist-unbounded-with-sagemaker-star",
    ),
    pytest.param(mutate_retention_deny_dropped, {"retention-cannot-be-bypassed"}, id="retention-deny-dropped"),
    pytest.param(mutate_records_overwritable, {"governance-cannot-be-switched-off"}, id="records-overwritable"),
    pytest.param(mutate_engineer_deploys_directly, {"only-the-deployer-deploys"}, id="engineer-deploys-directly"),
    pytest.param(
        mutate_deployer_cannot_check_artifact_versions, {"approved-bytes-are-checked"}, id="deployer-cannot-check-versions"
    ),
]


def test_every_invariant_has_a_mutation_that_breaks_it() -> None:
    broken = {name for p in MUTATIONS for name in p.values[1]}
    assert broken == {inv.name for inv in INVARIANTS}


@pytest.mark.parametrize(("mutate", "expected"), MUTATIONS)
def test_a_mutation_breaks_exactly_its_invariant(
    synthesized: Synthesized, policy: GovernancePolicy, tmp_path: Path, mutate: Callable[[Stacks], None], expected: set[str]
) -> None:
    stacks = copy.deepcopy(synthesized.stacks)
    mutate(stacks)
    for name, config in stacks.items():
        (tmp_path / "stacks" / name).mkdir(parents=True)
        (tmp_path / "stacks" / name / "cdk.tf.json").write_text(json.dumps(config))
    violations = check_invariants(matrix_of(tmp_path, policy))
    assert {v.split(":", 1)[0] for v in violations} == expected, violations


def _with_trust(synthesized: Synthesized, tmp_path: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    stacks = copy.deepcopy(synthesized.stacks)
    role = _resource(stacks, "identity", "aws_iam_role", "persona-data-scientist")

    def each(statements: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for s in statements:
            if "sts:TagSession" in s["Action"]:
                change(s)
        return statements

    _rewrite(role, each, key="assume_role_policy")
    for name, config in stacks.items():
        (tmp_path / "stacks" / name).mkdir(parents=True)
        (tmp_path / "stacks" / name / "cdk.tf.json").write_text(json.dumps(config))
    return tmp_path


@pytest.mark.parametrize("loosen", ["StringLike", "no condition"])
def test_a_trust_that_lets_sessions_carry_any_tag_key_is_refused(
    synthesized: Synthesized, policy: GovernancePolicy, tmp_path: Path, loosen: str
) -> None:
    """A session that could carry any key could carry ml-governance-role, which the lineage bucket trusts."""

    def change(statement: dict[str, Any]) -> None:
        if loosen == "StringLike":
            statement["Condition"]["ForAllValues:StringLike"] = {"aws:TagKeys": ["*"]}
            statement["Condition"].pop("ForAllValues:StringEquals")
        else:
            statement.pop("Condition")

    with pytest.raises(ValueError, match="a session may carry any tag key"):
        matrix_of(_with_trust(synthesized, tmp_path, change), policy)


def test_an_open_project_tag_is_every_governed_project_and_one_no_project_has(shipped: AccessMatrix) -> None:
    """The trust leaves the project's value to the identity provider (listing every project would outgrow IAM's
    2,048 characters for a trust at about 80 projects): a session naming no governed project does no project work,
    not even one named like the start of a project's name (a review found `credit` stopping `credit-risk-*` jobs)."""
    scientists = [c.label for c in shipped.callers if c.role == "acme-data-scientist" and c.session_tags]
    assert scientists == [f"acme-data-scientist [{p.name}]" for p in shipped.policy.projects] + [
        f"acme-data-scientist [{v}]" for v in ("credit", "churn", "claims", "not-a-governed-project")
    ]
    for value in ("credit", "not-a-governed-project"):
        ungoverned = f"acme-data-scientist [{value}]"
        for group in ("project work", "pipeline", "evidence", "data"):
            assert [r.label for r in shipped.requests if r.group == group and ungoverned in shipped.who_may(r)] == []


def test_a_trust_that_leaves_another_tags_values_open_is_refused(
    synthesized: Synthesized, policy: GovernancePolicy, tmp_path: Path
) -> None:
    def change(statement: dict[str, Any]) -> None:
        statement["Condition"]["ForAllValues:StringEquals"]["aws:TagKeys"].append("cost-center")

    with pytest.raises(ValueError, match="may carry tag cost-center with values the trust does not list"):
        matrix_of(_with_trust(synthesized, tmp_path, change), policy)


def test_the_scan_fails_on_a_broken_invariant_and_reports_it(
    synthesized: Synthesized, policy: GovernancePolicy, tmp_path: Path
) -> None:
    import xml.etree.ElementTree as ET

    from review.scan import access_review

    assert access_review(synthesized.outdir, tmp_path / "ok", policy).ok is True
    stacks = copy.deepcopy(synthesized.stacks)
    mutate_engineer_deploys_directly(stacks)
    for name, config in stacks.items():
        (tmp_path / "stacks" / name).mkdir(parents=True)
        (tmp_path / "stacks" / name / "cdk.tf.json").write_text(json.dumps(config))
    check = access_review(tmp_path, tmp_path / "reports", policy)
    assert check.ok is False and all(p.startswith("only-the-deployer-deploys: ") for p in check.problems)
    suite = ET.parse(tmp_path / "reports" / "access_invariants_junitxml.xml").getroot()  # noqa: S314 - written by the scan
    failed = [case.get("name") for case in suite.iter("testcase") if case.find("failure") is not None]
    assert failed == ["only-the-deployer-deploys"] and suite.get("tests") == str(len(INVARIANTS))
    summary = json.loads((tmp_path / "reports" / "access-invariants.json").read_text())
    assert [name for name, result in summary["invariants"].items() if not result["holds"]] == ["only-the-deployer-deploys"]
    from review.evidence.build import normalize_access

    read = normalize_access(summary)  # the evidence report reads it as it is written
    assert read is not None and read["invariants_failed"] == 1 and read["principal_count"] == len(summary["principals"])


def _impostor(stacks: Stacks) -> None:
    """A role outside the blueprint, tagged as a project's execution role, with every S3 and KMS action: what an
    account administrator (or anyone allowed to tag a principal of their own) could make."""
    identity = stacks["identity"]["resource"]
    role = copy.deepcopy(_resource(stacks, "identity", "aws_iam_role", "experiments-credit-risk"))
    role["name"] = "team-evidence-writer"
    role["tags"] = {"ml-project": "credit-risk", "ml-governance-role": "pipeline"}
    identity["aws_iam_role"]["impostor"] = role
    policy = copy.deepcopy(_resource(stacks, "identity", "aws_iam_role_policy", "experiments-credit-risk-policy"))
    policy["role"] = "${aws_iam_role.impostor.name}"
    policy["policy"] = json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:*", "kms:*"], "Resource": "*"}]}
    )
    identity["aws_iam_role_policy"]["impostor-policy"] = policy


@pytest.mark.parametrize("by_name", [True, False], ids=["shipped", "without-the-name-denies"])
def test_a_role_tagged_as_a_pipeline_outside_the_blueprint_writes_no_evidence(
    synthesized: Synthesized, policy: GovernancePolicy, tmp_path: Path, by_name: bool
) -> None:
    """The lineage bucket knows execution roles by their ml-governance-role tag and their <org>- name (review of
    2026-11-26: by the tag alone, a role anyone could tag wrote evidence and read the holdout)."""
    stacks = copy.deepcopy(synthesized.stacks)
    _impostor(stacks)
    if not by_name:
        lineage = _resource(stacks, "foundation", "aws_s3_bucket_policy", "lineage_policy")
        _rewrite(lineage, drop("EvidenceOnlyFromTheBlueprintsRoles"))
        _rewrite(lineage, drop("HoldoutReadOnlyByTheBlueprintsRoles"))
    for name, config in stacks.items():
        (tmp_path / "stacks" / name).mkdir(parents=True)
        (tmp_path / "stacks" / name / "cdk.tf.json").write_text(json.dumps(config))
    matrix = matrix_of(tmp_path, policy)
    guarded = [
        r
        for r in matrix.requests
        if (r.group == "evidence" and r.action == "s3:PutObject") or (r.group == "pipeline" and "holdout" in r.label)
    ]
    reached = [r.label for r in guarded if "team-evidence-writer" in matrix.who_may(r)]
    if by_name:
        assert reached == []
    else:  # its own project's evidence and holdout (the project tag still confines it)
        own = [r.label for r in guarded if r.project == "credit-risk" and (r.group == "evidence" or r.action == "s3:GetObject")]
        assert reached == own
