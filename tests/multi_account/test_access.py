"""Who can do what across the accounts, proven from the synthesized IAM with the SCP layers of the organization stack."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lambdas.routing import SAGEMAKER_EVENTS
from review.access.organization import (
    ORGANIZATION_INVARIANTS,
    OrganizationReview,
    check_organization_invariants,
    hub_handlers_reach_workload_roles,
    read_organization_review,
)
from tests.multi_account.conftest import DEV, HUB, PROD, SynthesizedAccounts

Stacks = dict[str, dict[str, Any]]


@pytest.fixture(scope="module")
def review(example: SynthesizedAccounts) -> OrganizationReview:
    return read_organization_review(example.outdir, example.policy)


def test_every_organization_invariant_holds_for_the_example(review: OrganizationReview) -> None:
    assert check_organization_invariants(review) == []


def test_every_organization_invariant_holds_when_stages_share_an_account(small: SynthesizedAccounts) -> None:
    assert check_organization_invariants(read_organization_review(small.outdir, small.policy)) == []


def test_a_workload_administrator_cannot_leave_the_allowed_regions(review: OrganizationReview) -> None:
    admin = review.admin(PROD)
    outside = review.ask(admin, "sagemaker:CreateEndpoint", f"arn:aws:sagemaker:us-east-1:{PROD}:endpoint/x", account=PROD)
    assert outside.decision == "explicit-deny"
    assert [str(ref) for ref in outside.deciding] == [
        "organization:aws_organizations_policy.guardrails-1/DenyOutsideAllowedRegions"
    ]
    inside = review.ask(admin, "sagemaker:CreateEndpoint", f"arn:aws:sagemaker:eu-central-1:{PROD}:endpoint/x", account=PROD)
    assert inside.allowed
    # global services stay reachable from anywhere (the policy's exemptions)
    assert review.ask(
        admin, "iam:GetRole", f"arn:aws:iam::{PROD}:role/x", account=PROD, context={"aws:RequestedRegion": "us-east-1"}
    ).allowed


def test_a_workload_administrator_cannot_disable_enforcement_but_the_deployment_role_can(review: OrganizationReview) -> None:
    names = review.names(PROD)
    rule = f"arn:aws:events:eu-west-1:{PROD}:rule/{names.forwarding_rule(SAGEMAKER_EVENTS)}"
    denied = review.ask(review.admin(PROD), "events:DisableRule", rule, account=PROD)
    assert denied.decision == "explicit-deny"
    assert "DenyEnforcementTampering" in str(denied.deciding[0])
    assert review.ask(review.deployment_role(PROD), "events:DisableRule", rule, account=PROD).allowed
    # nobody may bypass governance retention or take the account out of the organization
    for principal in (review.admin(PROD), review.deployment_role(PROD)):
        assert review.ask(principal, "organizations:LeaveOrganization", "*", account=PROD).decision == "explicit-deny"


def test_the_prod_deploy_role_cannot_read_dev_data(review: OrganizationReview) -> None:
    dev, prod = review.names(DEV), review.names(PROD)
    deployer = review.role(PROD, prod.deployer_role)
    data = f"{dev.bucket_arn(dev.lineage_bucket)}/{dev.lineage_training_data('credit-risk', 'train.csv')}"
    verdict = review.ask(deployer, "s3:GetObject", data, account=DEV)
    assert verdict.decision == "explicit-deny"  # the dev lineage bucket keeps reads in their project, for every account
    assert [ref.statement for ref in verdict.deciding] == ["ReadsStayInTheirProject"]
    key = review.accounts[DEV].key_arns[dev.key_alias("data")]
    assert not review.ask(deployer, "kms:Decrypt", key, account=DEV).allowed
    # what it may do in the hub: describe the versions of its projects, not of a project that never reaches prod
    hub = review.hub
    assert review.ask(
        deployer, "sagemaker:DescribeModelPackage", f"arn:aws:sagemaker:eu-west-1:{HUB}:model-package/credit-risk/1", account=HUB
    ).allowed
    assert not review.ask(
        deployer,
        "sagemaker:DescribeModelPackage",
        f"arn:aws:sagemaker:eu-west-1:{HUB}:model-package/claims-triage/1",
        account=HUB,
    ).allowed
    assert review.ask(deployer, "sts:AssumeRole", hub.role_arn(hub.clearance_reader_role), account=HUB).allowed


def test_only_the_hubs_roles_are_trusted_by_the_spokes_enforcement_roles(review: OrganizationReview) -> None:
    prod, hub = review.names(PROD), review.hub
    role = prod.role_arn(prod.handler_role("region-guard"))
    external = {"sts:ExternalId": hub.hub_external_id(HUB)}
    for principal in (review.admin(PROD), review.deployment_role(PROD), review.role(PROD, prod.deployer_role), review.admin(HUB)):
        assert not review.ask(principal, "sts:AssumeRole", role, account=PROD, context=external).allowed, principal.arn
    other_hub_role = review.role(HUB, hub.handler_role("classification-tags"))
    assert not review.ask(other_hub_role, "sts:AssumeRole", role, account=PROD, context=external).allowed


def test_the_hub_handlers_assume_their_namesakes_only_with_the_external_id(review: OrganizationReview) -> None:
    """The enforcement boundary lets the hub's handlers assume their namesakes in the workload accounts (its
    ActInWorkloadAccounts statement); the namesakes' trust still needs the hub's external id."""
    found = hub_handlers_reach_workload_roles(review)
    assert found and all(v.allowed for _, v in found), [(r, v.reason) for r, v in found if not v.allowed]
    hub, prod = review.hub, review.names(PROD)
    role = prod.role_arn(prod.handler_role("region-guard"))
    principal = review.role(HUB, hub.handler_role("region-guard"))
    assert not review.ask(principal, "sts:AssumeRole", role, account=PROD).allowed  # without the external id


# ---- mutations: break the synthesized JSON; exactly that invariant fails ----------------------------------------
def _doc(body: dict[str, Any], key: str) -> dict[str, Any]:
    return json.loads(body[key])


def _edit(body: dict[str, Any], key: str, change: Callable[[list[dict[str, Any]]], None]) -> None:
    document = _doc(body, key)
    change(document["Statement"])
    body[key] = json.dumps(document, separators=(",", ":"))


def _scp_with(stacks: Stacks, sid: str) -> dict[str, Any]:
    return next(
        b for b in stacks["organization"]["resource"]["aws_organizations_policy"].values() if f'"Sid":"{sid}' in b["content"]
    )


def drop_region_deny(stacks: Stacks) -> None:
    _edit(
        _scp_with(stacks, "DenyOutsideAllowedRegions"),
        "content",
        lambda s: s.remove(next(x for x in s if x["Sid"] == "DenyOutsideAllowedRegions")),
    )


def exempt_everyone_from_enforcement_tampering(stacks: Stacks) -> None:
    def change(statements: list[dict[str, Any]]) -> None:
        stmt = next(x for x in statements if x["Sid"] == "DenyEnforcementTampering")
        stmt["Condition"]["ArnNotLike"]["aws:PrincipalArn"] = ["arn:aws:iam::*:role/*"]

    _edit(_scp_with(stacks, "DenyEnforcementTampering"), "content", change)


def deny_the_deployment_role_too(stacks: Stacks) -> None:
    def change(statements: list[dict[str, Any]]) -> None:
        stmt = next(x for x in statements if x["Sid"] == "DenyAuditTrailTampering")
        del stmt["Condition"]

    _edit(_scp_with(stacks, "DenyAuditTrailTampering"), "content", change)


def detach_from_prod(stacks: Stacks) -> None:
    attachments = stacks["organization"]["resource"]["aws_organizations_policy_attachment"]
    for name in [n for n, b in attachments.items() if b["target_id"] == "ou-a1b2-prodwkld"]:
        del attachments[name]


def spoke_role_trusts_its_account(stacks: Stacks) -> None:
    role = stacks["spoke-prod-workload"]["resource"]["aws_iam_role"]["enforcement-region-guard"]
    _edit(role, "assume_role_policy", lambda s: s[0].update({"Principal": {"AWS": f"arn:aws:iam::{PROD}:root"}}))


def dev_lineage_open_to_prod(stacks: Stacks) -> None:
    body = next(
        b for n, b in stacks["spoke-dev-foundation"]["resource"]["aws_s3_bucket_policy"].items() if n.startswith("lineage")
    )
    _edit(body, "policy", lambda s: s.remove(next(x for x in s if x["Sid"] == "ReadsStayInTheirProject")))
    _edit(
        body,
        "policy",
        lambda s: s.append(
            {
                "Sid": "Mutation",
                "Effect": "Allow",
                "Principal": {"AWS": PROD},
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::*/*",
            }
        ),
    )
    deployer = next(b for n, b in stacks["spoke-prod-workload"]["resource"]["aws_iam_role_policy"].items() if n == "deployer-hub")
    _edit(
        deployer, "policy", lambda s: s.append({"Sid": "Mutation", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})
    )


def artifact_key_for_the_prod_deployer(stacks: Stacks) -> None:
    key = next(b for b in stacks["hub-registry"]["resource"]["aws_kms_key"].values() if "credit-risk" in b["description"])
    deployer = f"arn:aws:iam::{PROD}:role/acme-model-deployer"
    _edit(key, "policy", lambda s: s[-1]["Principal"]["AWS"].append(deployer))
    body = next(b for n, b in stacks["spoke-prod-workload"]["resource"]["aws_iam_role_policy"].items() if n == "deployer-hub")
    _edit(body, "policy", lambda s: s.append({"Sid": "Mutation", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}))


def bus_open_to_the_organization(stacks: Stacks) -> None:
    bus = stacks["hub-cross-account"]["resource"]["aws_cloudwatch_event_bus_policy"]["bus-policy"]
    _edit(bus, "policy", lambda s: s[0].update({"Principal": {"AWS": "*"}}))


def register_from_prod(stacks: Stacks) -> None:
    body = stacks["hub-registry"]["resource"]["aws_sagemaker_model_package_group_policy"]["group-credit-risk-policy"]
    prod = f"arn:aws:iam::{PROD}:role/acme-credit-risk-sagemaker-execution"
    _edit(
        body,
        "resource_policy",
        lambda s: next(x for x in s if x["Sid"] == "EntryStagePipelinesRegisterVersions").update({"Principal": {"AWS": prod}}),
    )
    role_policy = stacks["spoke-prod-workload"]["resource"]["aws_iam_role_policy"]["execution-credit-risk-hub"]
    _edit(
        role_policy,
        "policy",
        lambda s: s.append({"Sid": "Mutation", "Effect": "Allow", "Action": "sagemaker:CreateModelPackage", "Resource": "*"}),
    )


def reader_reads_the_whole_table(stacks: Stacks) -> None:
    body = stacks["hub-cross-account"]["resource"]["aws_iam_role_policy"]["clearance-reader-policy"]
    _edit(body, "policy", lambda s: s[0].pop("Condition"))


def artifacts_closed_to_the_prod_deployer(stacks: Stacks) -> None:
    """The prod deployer no longer reads credit-risk's artifact versions in the hub: it could not check the pins."""
    body = next(iter(stacks["hub-registry"]["resource"]["aws_s3_bucket_policy"].values()))
    deployer = f":{PROD}:role/acme-model-deployer"

    def close(statements: list[dict[str, Any]]) -> None:
        for statement in statements:
            if statement["Sid"] == "CreditRiskStagesRead":
                statement["Principal"]["AWS"] = [a for a in statement["Principal"]["AWS"] if not a.endswith(deployer)]

    _edit(body, "policy", close)


MUTATIONS = [
    pytest.param(artifacts_closed_to_the_prod_deployer, {"artifact-versions-are-checked"}, id="artifacts-closed-to-prod"),
    pytest.param(drop_region_deny, {"admins-stay-in-allowed-regions"}, id="region-deny-dropped"),
    pytest.param(exempt_everyone_from_enforcement_tampering, {"admins-cannot-switch-governance-off"}, id="everyone-exempt"),
    pytest.param(deny_the_deployment_role_too, {"admins-cannot-switch-governance-off"}, id="deployment-role-denied"),
    pytest.param(
        detach_from_prod, {"admins-stay-in-allowed-regions", "admins-cannot-switch-governance-off"}, id="prod-ou-detached"
    ),
    pytest.param(spoke_role_trusts_its_account, {"only-the-hub-assumes-enforcement-roles"}, id="spoke-role-trusts-its-account"),
    pytest.param(dev_lineage_open_to_prod, {"data-stays-in-its-stage"}, id="dev-data-open-to-prod"),
    pytest.param(artifact_key_for_the_prod_deployer, {"artifact-keys-open-to-their-stages"}, id="artifact-key-widened"),
    pytest.param(bus_open_to_the_organization, {"only-forwarders-reach-the-hub-bus"}, id="bus-open"),
    pytest.param(register_from_prod, {"registry-opens-to-its-stages"}, id="prod-registers"),
    pytest.param(reader_reads_the_whole_table, {"deployers-read-only-clearances"}, id="reader-reads-everything"),
]


def test_every_organization_invariant_has_a_mutation_that_breaks_it() -> None:
    assert {name for p in MUTATIONS for name in p.values[1]} == {inv.name for inv in ORGANIZATION_INVARIANTS}


@pytest.mark.parametrize(("mutate", "expected"), MUTATIONS)
def test_a_mutation_breaks_exactly_its_invariant(
    example: SynthesizedAccounts, tmp_path: Path, mutate: Callable[[Stacks], None], expected: set[str]
) -> None:
    stacks = copy.deepcopy(example.stacks)
    mutate(stacks)
    for name, config in stacks.items():
        (tmp_path / "stacks" / name).mkdir(parents=True)
        (tmp_path / "stacks" / name / "cdk.tf.json").write_text(json.dumps(config))
    violations = check_organization_invariants(read_organization_review(tmp_path, example.policy))
    assert {v.split(":", 1)[0] for v in violations} == expected, violations
