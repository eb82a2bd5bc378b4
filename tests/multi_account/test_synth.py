"""The multi-account layout as synthesized: stacks per account, providers that assume the deployment role, SCPs
under the size limit, cross-account documents naming exactly the stages' roles, and the single-account default
left as it was."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from iam.boundary import governance_guardrails
from iam.organizations import (
    FREE_SCP_PLACES,
    SCP_MAX_CHARACTERS,
    any_account_names,
    guardrail_statements,
    scp_size,
    service_control_policies,
)
from infra.multi_account import deploy_waves, layout, stack_names
from infra.stack_order import STACK_NAMES, monitoring_notice
from lambdas.table import HANDLERS
from pipelines.definition import HUB_REGISTRY_STACK
from policies.loader import load_policy
from policies.model import GovernancePolicy
from policies.naming import Names
from tests.conftest import REPO, Synthesized
from tests.multi_account.conftest import ADMIN, DEV, EXAMPLE, HUB, ORGANIZATION_ID, PROD, STAGING, SynthesizedAccounts

ALL_HANDLERS = [s.name for s in HANDLERS]
EVERYWHERE = [s.name for s in HANDLERS if not s.region_bound]


def test_the_example_has_an_organization_stack_hub_stacks_and_spoke_stacks_per_stage(example: SynthesizedAccounts) -> None:
    assert deploy_waves(example.policy) == (
        ("organization", "hub-foundation", "spoke-dev-foundation", "spoke-staging-foundation", "spoke-prod-foundation"),
        ("hub-identity", "spoke-dev-identity", "spoke-staging-identity", "spoke-prod-identity"),
        ("hub-audit-trail", "hub-enforcement", "spoke-dev-audit-trail", "spoke-staging-audit-trail", "spoke-prod-audit-trail"),
        ("spoke-dev-workload", "spoke-staging-workload", "spoke-prod-workload"),
        ("hub-registry", "hub-cross-account"),
    )
    assert sorted(example.stacks) == sorted(stack_names(example.policy))


def test_the_tamper_watch_knows_every_role_and_alarm_of_every_account(example: SynthesizedAccounts) -> None:
    """The hub's tamper watch judges the workload accounts' calls too, by the same names: every role and alarm the
    organization's stacks create is one its rule names (a team's own ``<org>-...`` role is not)."""
    from lambdas.table import HANDLERS
    from policies.rules.tampering import CallFacts, governed_target

    handlers = [spec.name for spec in HANDLERS]
    created = {
        ("iam.amazonaws.com", "PutRolePolicy"): {r["name"] for r in example.resources("aws_iam_role").values()},
        ("monitoring.amazonaws.com", "DeleteAlarms"): {
            a["alarm_name"] for a in example.resources("aws_cloudwatch_metric_alarm").values()
        },
    }
    assert all(created.values())
    for (source, call), names in created.items():
        unknown = sorted(
            n for n in names if not governed_target(example.policy, CallFacts(source, call, n, "eu-west-1"), handlers)
        )
        assert unknown == [], f"{call} of {unknown} would not be seen as tampering"
    team_role = CallFacts("iam.amazonaws.com", "PutRolePolicy", f"{example.policy.organization.name}-team-etl", "eu-west-1")
    assert not governed_target(example.policy, team_role, handlers)


def test_stages_sharing_an_account_share_its_stacks(small: SynthesizedAccounts) -> None:
    assert [p.name for p in layout(small.policy) if p.account == DEV] == [
        "spoke-dev-staging-foundation",
        "spoke-dev-staging-identity",
        "spoke-dev-staging-audit-trail",
        "spoke-dev-staging-workload",
    ]


def test_every_provider_assumes_the_deployment_role_of_its_account_and_refuses_others(example: SynthesizedAccounts) -> None:
    accounts = {p.name: p.account for p in layout(example.policy)}
    assert accounts["organization"] == ADMIN
    assert {accounts[n] for n in example.stacks if n.startswith("hub-")} == {HUB}
    assert accounts["spoke-staging-workload"] == STAGING
    for name, config in example.stacks.items():
        providers = config["provider"]["aws"]
        assert providers, name
        for provider in providers:
            assert provider["assume_role"] == [
                {"role_arn": f"arn:aws:iam::{accounts[name]}:role/governance-deployer", "session_name": "acme-governance-deploy"}
            ], name
            assert provider["allowed_account_ids"] == [accounts[name]], name
    watched = len(example.policy.regions.watched)
    assert len(example.stacks["spoke-prod-workload"]["provider"]["aws"]) == watched  # home + one alias per other Region


def test_spoke_stacks_carry_only_the_projects_that_run_there(example: SynthesizedAccounts) -> None:
    def execution_roles(stack: str) -> list[str]:
        return sorted(
            body["name"] for body in example.resources("aws_iam_role", stack).values() if "sagemaker-execution" in body["name"]
        )

    assert execution_roles("spoke-prod-identity") == [
        "acme-churn-forecast-sagemaker-execution",
        "acme-credit-risk-sagemaker-execution",
    ]
    assert len(execution_roles("spoke-staging-identity")) == 3
    assert len(execution_roles("hub-identity")) == 3


# ---- organization guardrails ---------------------------------------------------------------------------------
def scps(synthesized: SynthesizedAccounts) -> dict[str, dict[str, Any]]:
    return synthesized.resources("aws_organizations_policy", "organization")


def test_guardrail_scps_fit_the_size_limit_and_the_places_an_ou_has(example: SynthesizedAccounts) -> None:
    found = scps(example)
    sizes = {body["name"]: len(body["content"]) for body in found.values()}
    assert sorted(sizes) == ["acme-ml-governance-guardrails-1", "acme-ml-governance-guardrails-2"], sizes
    assert all(size <= SCP_MAX_CHARACTERS for size in sizes.values()), sizes
    assert sizes["acme-ml-governance-guardrails-1"] > SCP_MAX_CHARACTERS - 500, sizes  # packed: the first one is nearly full
    assert len(found) <= FREE_SCP_PLACES
    for body in found.values():
        assert body["type"] == "SERVICE_CONTROL_POLICY"
        assert scp_size(json.loads(body["content"])) == len(body["content"])  # submitted minified: the size counted
    attachments = example.resources("aws_organizations_policy_attachment", "organization")
    assert sorted((a["policy_id"], a["target_id"]) for a in attachments.values()) == sorted(
        (f"${{aws_organizations_policy.{name}.id}}", ou)
        for name in found
        for ou in ("ou-a1b2-nonprodwl", "ou-a1b2-prodwkld", "ou-a1b2-governance")
    )


def test_a_long_guardrail_set_is_split_and_every_piece_fits(example_policy: GovernancePolicy) -> None:
    statements = guardrail_statements(example_policy, ALL_HANDLERS, EVERYWHERE)
    original = next(s for s in statements if s["Sid"] == "DenyEnforcementTampering")
    limit = scp_size({"Version": "2012-10-17", "Statement": [original]}) - 100  # too large alone: its resources are halved
    tight = service_control_policies(example_policy, ALL_HANDLERS, EVERYWHERE, limit=limit, places=99)
    assert all(scp_size(doc) <= limit for doc in tight)
    split = [s for doc in tight for s in doc["Statement"] if s["Sid"].startswith("DenyEnforcementTampering")]
    assert [s["Sid"] for s in split] == ["DenyEnforcementTampering1", "DenyEnforcementTampering2"]
    assert sorted(r for s in split for r in s["Resource"]) == sorted(original["Resource"])
    assert all(
        {k: v for k, v in s.items() if k not in ("Sid", "Resource")}
        == {k: v for k, v in original.items() if k not in ("Sid", "Resource")}
        for s in split
    )
    kept = [s for doc in tight for s in doc["Statement"]]
    for whole in statements:  # nothing lost: each statement is kept whole or as pieces holding all its resources
        sid = whole["Sid"]
        pieces = [s for s in kept if s["Sid"] == sid or (s["Sid"].startswith(sid) and s["Sid"][len(sid) :].isdigit())]
        resources = [r for s in pieces for r in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])]
        assert sorted(resources) == sorted(whole["Resource"] if isinstance(whole["Resource"], list) else [whole["Resource"]])
    with pytest.raises(ValueError, match=r"the guardrails need \d+ SCPs; an OU takes 5, one of them FullAWSAccess"):
        service_control_policies(example_policy, ALL_HANDLERS, EVERYWHERE, limit=1200)


def test_each_guardrail_spares_only_the_deployment_role(example_policy: GovernancePolicy) -> None:
    deployer = "arn:aws:iam::*:role/governance-deployer"
    by_sid = {s["Sid"]: s for s in guardrail_statements(example_policy, ALL_HANDLERS, EVERYWHERE)}
    region = by_sid.pop("DenyOutsideAllowedRegions")
    assert region["Condition"]["StringNotEquals"] == {"aws:RequestedRegion": ["eu-west-1", "eu-central-1"]}
    assert region["NotAction"] == sorted(example_policy.regions.global_service_actions)
    assert region["Condition"]["ArnNotLike"]["aws:PrincipalArn"] == [deployer] + [
        f"arn:aws:iam::*:role/acme-{h}" for h in EVERYWHERE
    ]
    assert "arn:aws:iam::*:role/acme-model-deployer" not in region["Condition"]["ArnNotLike"]["aws:PrincipalArn"]
    for sid in ("DenyLeavingTheOrganization", "DenyGovernanceRetentionBypass"):
        assert "Condition" not in by_sid.pop(sid), sid  # nobody is spared
    # in the hub only: its bus and group policies (the deployer spared) and the governance table (the handlers too)
    for sid in ("DenyHubPolicyTampering", "DenyHubLedgerWrites"):
        hub = by_sid.pop(sid)
        assert hub["Condition"]["StringEquals"] == {"aws:PrincipalAccount": HUB}, sid
        spared = [deployer] + ([f"arn:aws:iam::*:role/acme-{h}" for h in ALL_HANDLERS] if sid == "DenyHubLedgerWrites" else [])
        assert hub["Condition"]["ArnNotLike"] == {"aws:PrincipalArn": spared}, sid
    # every guardrail of the boundaries (iam.boundary.governance_guardrails), and the SCP's own role guardrails
    boundary = governance_guardrails(any_account_names(example_policy), ALL_HANDLERS)
    assert set(by_sid) == {s["Sid"] for s in boundary} | {
        "DenyGovernanceRoleTampering",
        "DenyPassingGovernanceRoles",
        "DenySilencingEnforcement",
    }
    for sid, stmt in by_sid.items():
        assert stmt["Effect"] == "Deny"
        assert stmt["Condition"]["ArnNotLike"] == {"aws:PrincipalArn": [deployer]}, sid
    # the boundary ARNs are wildcards in an SCP: the exact match becomes a Like match
    assert by_sid["DenyPrincipalsWithoutBoundary"]["Condition"]["StringNotLike"] == {
        "iam:PermissionsBoundary": [
            "arn:aws:iam::*:policy/acme-ml-permissions-boundary",
            "arn:aws:iam::*:policy/acme-enforcement-permissions-boundary",
        ]
    }


# ---- hub and spokes ------------------------------------------------------------------------------------------
def documents(synthesized: SynthesizedAccounts) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every IAM, resource, key, bus and SCP document of every stack."""
    for stack, config in synthesized.stacks.items():
        for rtype, items in config.get("resource", {}).items():
            for name, body in items.items():
                for key in ("policy", "assume_role_policy", "resource_policy", "content"):
                    if isinstance(body.get(key), str) and body[key].lstrip().startswith("{"):
                        yield f"{stack}:{rtype}.{name}.{key}", json.loads(body[key].replace("$${", "${"))


def principals(stmt: dict[str, Any]) -> list[str]:
    found = stmt.get("Principal", {})
    if not isinstance(found, dict):
        return []
    value = found.get("AWS", [])
    return [value] if isinstance(value, str) else list(value)


@pytest.mark.parametrize("fixture", ["example", "small"])
def test_no_document_names_a_principal_twice_or_reuses_a_statement_id(fixture: str, request: pytest.FixtureRequest) -> None:
    synthesized: SynthesizedAccounts = request.getfixturevalue(fixture)
    checked = 0
    for label, doc in documents(synthesized):
        statements = doc["Statement"] if isinstance(doc["Statement"], list) else [doc["Statement"]]
        sids = [s["Sid"] for s in statements if "Sid" in s]
        assert len(sids) == len(set(sids)), (label, sids)
        for stmt in statements:
            named = principals(stmt)
            assert len(named) == len(set(named)), (label, Counter(named).most_common(1))
            checked += 1
    assert checked > 500


def group_policy(synthesized: SynthesizedAccounts, project: str) -> dict[str, Any]:
    body = synthesized.resources("aws_sagemaker_model_package_group_policy", "hub-registry")[f"group-{project}-policy"]
    return {s["Sid"]: s for s in json.loads(body["resource_policy"])["Statement"]}


def arn(account: str, role: str) -> str:
    return f"arn:${{data.aws_partition.partition.partition}}:iam::{account}:role/{role}"


def test_hub_groups_let_dev_pipelines_register_and_stage_deployers_describe(example: SynthesizedAccounts) -> None:
    prod_project = group_policy(example, "credit-risk")
    assert set(prod_project) == {
        "OnlyApproversChangeApprovalStatus",
        "EntryStagePipelinesRegisterVersions",
        "StageDeployRolesDescribeVersions",
        "NoPreApprovedVersions",
    }
    assert prod_project["EntryStagePipelinesRegisterVersions"]["Principal"] == {
        "AWS": arn(DEV, "acme-credit-risk-sagemaker-execution")
    }
    assert prod_project["StageDeployRolesDescribeVersions"]["Principal"] == {
        "AWS": [arn(a, "acme-model-deployer") for a in (DEV, STAGING, PROD)]
    }
    assert prod_project["StageDeployRolesDescribeVersions"]["Action"] == "sagemaker:DescribeModelPackage"
    assert prod_project["StageDeployRolesDescribeVersions"]["Condition"] == {
        "StringEquals": {"aws:PrincipalOrgID": ORGANIZATION_ID}
    }
    not_in_prod = group_policy(example, "claims-triage")
    assert not_in_prod["StageDeployRolesDescribeVersions"]["Principal"] == {
        "AWS": [arn(a, "acme-model-deployer") for a in (DEV, STAGING)]
    }


def test_shared_accounts_are_named_once(small: SynthesizedAccounts) -> None:
    described = group_policy(small, "credit-risk")["StageDeployRolesDescribeVersions"]["Principal"]
    assert described == {"AWS": [arn(DEV, "acme-model-deployer"), arn(PROD, "acme-model-deployer")]}
    key = next(b for b in small.resources("aws_kms_key", "hub-registry").values() if "credit-risk" in b["description"])
    readers = {s["Sid"]: s for s in json.loads(key["policy"])["Statement"]}["StagesServingRolesDecryptArtifacts"]["Principal"]
    assert readers == {
        "AWS": [arn(DEV, "acme-credit-risk-sagemaker-execution"), arn(PROD, "acme-credit-risk-sagemaker-execution")]
    }


def test_the_hub_registry_outputs_the_key_each_projects_pipeline_encrypts_with(example: SynthesizedAccounts) -> None:
    """What the pipeline command tells a project to pass as --artifact-key-arn exists, and is the project's key."""
    outputs = example.stacks[HUB_REGISTRY_STACK]["output"]
    keys = example.resources("aws_kms_key", HUB_REGISTRY_STACK)
    for project in example.policy.projects:
        (address,) = [name for name, body in keys.items() if f"Model artifacts of {project.name}:" in body["description"]]
        assert outputs[Names.artifact_key_output(project.name)]["value"] == f"${{aws_kms_key.{address}.arn}}"


def test_artifact_keys_name_the_roles_of_their_stages_and_nobody_else(example: SynthesizedAccounts) -> None:
    keys = example.resources("aws_kms_key", "hub-registry")
    assert len(keys) == len(example.policy.projects)
    triage = next(b for b in keys.values() if "claims-triage" in b["description"])
    statements = {s["Sid"]: s for s in json.loads(triage["policy"])["Statement"]}
    assert set(statements) == {
        "HubAdministersKeyWithoutUsingIt",
        "EntryStagePipelinesEncryptArtifacts",
        "StagesServingRolesDecryptArtifacts",
    }
    assert not any(a in ("kms:*", "kms:Decrypt") for a in statements["HubAdministersKeyWithoutUsingIt"]["Action"])
    assert statements["StagesServingRolesDecryptArtifacts"]["Principal"] == {
        "AWS": [arn(DEV, "acme-claims-triage-sagemaker-execution"), arn(STAGING, "acme-claims-triage-sagemaker-execution")]
    }
    aliases = sorted(b["name"] for b in example.resources("aws_kms_alias", "hub-registry").values())
    assert aliases == [
        "alias/acme-ml-artifacts-churn-forecast",
        "alias/acme-ml-artifacts-claims-triage",
        "alias/acme-ml-artifacts-credit-risk",
    ]


def test_the_hub_bus_takes_events_from_the_forwarding_roles_inside_the_organization(example: SynthesizedAccounts) -> None:
    body = example.resources("aws_cloudwatch_event_bus_policy", "hub-cross-account")["bus-policy"]
    (stmt,) = json.loads(body["policy"])["Statement"]
    assert body["event_bus_name"] == "default"
    assert stmt["Principal"] == {"AWS": [arn(a, "acme-governance-event-forwarding") for a in (DEV, STAGING, PROD)]}
    assert stmt["Action"] == "events:PutEvents"
    assert stmt["Resource"] == f"arn:${{data.aws_partition.partition.partition}}:events:eu-west-1:{HUB}:event-bus/default"
    assert stmt["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": ORGANIZATION_ID}}


def test_spokes_forward_from_every_watched_region_to_the_hub_bus(example: SynthesizedAccounts) -> None:
    stack = example.stacks["spoke-dev-workload"]
    targets = stack["resource"]["aws_cloudwatch_event_target"]
    regions = {body.get("provider", "aws.home") for body in targets.values()}
    assert len(regions) == len(example.policy.regions.watched)
    assert {body["arn"] for body in targets.values()} == {
        f"arn:${{data.aws_partition.partition.partition}}:events:eu-west-1:{HUB}:event-bus/default"
    }
    assert all(body["role_arn"] == "${aws_iam_role.event-forwarding-role.arn}" for body in targets.values())


def test_spoke_enforcement_roles_trust_only_their_hub_namesake(example: SynthesizedAccounts) -> None:
    roles = example.resources("aws_iam_role", "spoke-prod-workload")
    enforcement = {b["name"]: b for name, b in roles.items() if name.startswith("enforcement-")}
    assert sorted(enforcement) == sorted(f"acme-{h}" for h in EVERYWHERE)
    for name, body in enforcement.items():
        (stmt,) = json.loads(body["assume_role_policy"])["Statement"]
        assert stmt["Principal"] == {"AWS": arn(HUB, name)}
        assert stmt["Condition"] == {
            "StringEquals": {"aws:PrincipalOrgID": ORGANIZATION_ID, "sts:ExternalId": f"acme-ml-governance-{HUB}"}
        }
        assert body["permissions_boundary"].endswith(":policy/acme-enforcement-permissions-boundary")


def test_the_clearance_reader_is_trusted_by_the_deployers_and_reads_clearances_only(example: SynthesizedAccounts) -> None:
    reader = example.resources("aws_iam_role", "hub-cross-account")["clearance-reader"]
    (trust,) = json.loads(reader["assume_role_policy"])["Statement"]
    assert trust["Principal"] == {"AWS": [arn(a, "acme-model-deployer") for a in (DEV, STAGING, PROD)]}
    policy = json.loads(example.resources("aws_iam_role_policy", "hub-cross-account")["clearance-reader-policy"]["policy"])
    read = policy["Statement"][0]
    assert read["Action"] == ["dynamodb:GetItem"]
    assert read["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["cleared#*", "promoted#*"]}}


# ---- the single-account default ------------------------------------------------------------------------------
def test_without_accounts_the_app_builds_the_single_account_stacks_unchanged(
    synthesized: Synthesized, example: SynthesizedAccounts, policy: GovernancePolicy, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The default (no accounts section) is untouched: the same stacks, no role assumed, and its synthesized JSON is
    byte-for-byte what it was before multi-account stacks were built in this process."""
    from infra.app import synth

    assert policy.accounts is None
    again = synth(policy, tmp_path_factory.mktemp("cdktf.again"))
    for name in STACK_NAMES:
        before = (synthesized.outdir / "stacks" / name / "cdk.tf.json").read_text()
        after = (again / "stacks" / name / "cdk.tf.json").read_text()
        assert after == before, name
        for provider in json.loads(after)["provider"]["aws"]:
            assert "assume_role" not in provider and "allowed_account_ids" not in provider
    assert sorted(p.name for p in (again / "stacks").iterdir()) == sorted(STACK_NAMES)


def test_the_synth_command_says_why_it_cannot_write_its_output(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from infra.multi_account import main

    monkeypatch.setenv("GOVERNANCE_POLICY", str(EXAMPLE))
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    assert main(["synth", "--outdir", str(blocked / "cdktf.out")]) == 2
    error = capsys.readouterr().err.splitlines()
    assert error[-1] == f"cannot write {blocked / 'cdktf.out'}: Not a directory"
    assert error[:-1] == [monitoring_notice(load_policy(EXAMPLE))], "the endpoints it does not monitor, said first"


def test_the_synth_command_without_node_says_so_in_one_line(tmp_path: Path) -> None:
    """A Node.js that is missing is the kernel's failure, not an output directory that cannot be written."""
    env = {**os.environ, "GOVERNANCE_POLICY": str(EXAMPLE), "JSII_NODE": str(tmp_path / "no-node")}
    result = subprocess.run(
        [sys.executable, "-m", "infra.multi_account", "synth", "--outdir", str(tmp_path / "out")],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2, result.stderr[-2000:]
    missing = f"the Node.js kernel did not start: [Errno 2] No such file or directory: '{tmp_path / 'no-node'}'"
    assert result.stderr.splitlines()[-1] == missing
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out" / "stacks").exists()


@pytest.mark.parametrize("call", ["UpdateAssumeRolePolicy", "AttachRolePolicy", "PutRolePolicy"])
def test_the_tamper_watch_alerts_when_the_exempt_deployment_role_is_changed(example_policy: GovernancePolicy, call: str) -> None:
    """Every guardrail exempts the deployment role: changing its trust or policies is how an administrator would
    become it (review of 2026-11-26). Other roles of the account are theirs to change."""
    from policies.rules.outcome import Verdict
    from policies.rules.tampering import CallFacts, decide_tampering

    assert example_policy.accounts is not None
    deployer = CallFacts("iam.amazonaws.com", call, example_policy.accounts.deployment_role, "us-east-1")
    theirs = CallFacts("iam.amazonaws.com", call, "team-etl", "us-east-1")
    assert decide_tampering(example_policy, deployer, handlers=ALL_HANDLERS).verdict is Verdict.DENY
    assert decide_tampering(example_policy, theirs, handlers=ALL_HANDLERS).verdict is Verdict.ALLOW


@pytest.mark.parametrize(
    ("action", "resource"),
    [
        ("sqs:PurgeQueue", "arn:aws:sqs:eu-west-1:333333333333:acme-payments-dlq"),
        ("sqs:SetQueueAttributes", "arn:aws:sqs:eu-west-1:333333333333:acme-orders-ingest-dlq"),
        ("events:DisableRule", "arn:aws:events:eu-west-1:333333333333:rule/acme-payments-nightly"),
    ],
)
def test_the_guardrails_leave_the_teams_own_org_named_resources_alone(
    example_policy: GovernancePolicy, action: str, resource: str
) -> None:
    """The guardrail SCPs apply to every principal of the governed accounts: a pattern such as <org>-*-dlq would
    deny every team's queues of that name (review of 2026-11-26), so the handlers' queues are named exactly."""
    from iam.documents import document
    from review.access.evaluator import LabelledPolicy, Principal, Request, ScpLevel, evaluate

    guardrails = LabelledPolicy("guardrails", document(*guardrail_statements(example_policy, ALL_HANDLERS, EVERYWHERE)))
    full = LabelledPolicy("FullAWSAccess", document({"Effect": "Allow", "Action": "*", "Resource": "*"}))
    admin = Principal(
        "arn:aws:iam::333333333333:role/payments-admin",
        identity_policies=(full,),
        scp_levels=(ScpLevel("ou", (full, guardrails)),),
    )
    assert evaluate(Request(admin, action, resource)).allowed
