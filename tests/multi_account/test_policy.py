"""The accounts section: its defaults, every refusal naming the field and the fix, and the promotion rules (pure)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from policies.errors import PolicyError
from policies.loader import parse_policy
from policies.model import GovernancePolicy, Promotion
from policies.rules.deployment import ServedVersion, decide_deployment_request
from tests.conftest import policy_variant
from tests.multi_account.conftest import ADMIN, DEV, EXAMPLE, HUB, PROD, STAGING

EXAMPLE_TEXT = EXAMPLE.read_text()


def refusal(text: str) -> str:
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, "multi.yaml")
    return str(caught.value)


def test_the_example_reads_as_three_stages_with_one_entry(example_policy: GovernancePolicy) -> None:
    accounts = example_policy.accounts
    assert accounts is not None
    assert accounts.stage_names == ["dev", "staging", "prod"]
    assert accounts.entry_stages == ["dev"]
    assert accounts.workload_accounts == {DEV: ["dev"], STAGING: ["staging"], PROD: ["prod"]}
    assert accounts.stages_of("claims-triage") == ["dev", "staging"]
    assert accounts.projects_in("prod", [p.name for p in example_policy.projects]) == ["credit-risk", "churn-forecast"]
    assert accounts.scp_targets == ["ou-a1b2-nonprodwl", "ou-a1b2-prodwkld", "ou-a1b2-governance"]
    assert accounts.rules()["prod"] == Promotion(after="staging", require_approved=True, distinct_approver=True)


def test_defaults_every_project_everywhere_and_a_linear_chain(policy: GovernancePolicy) -> None:
    variant = policy_variant(
        policy,
        accounts={
            "hub": HUB,
            "organization_id": "o-a1b2c3d4e5",
            "organization_admin": ADMIN,
            "stages": [
                {"name": "dev", "account": DEV, "ou": "ou-a1b2-nonprodwl"},
                {"name": "prod", "account": PROD, "ou": "ou-a1b2-prodwkld"},
            ],
        },
    )
    accounts = variant.accounts
    assert accounts is not None
    assert accounts.deployment_role == "governance-deployer"
    assert accounts.hub_ou is None
    assert [accounts.stages_of(p.name) for p in variant.projects] == [["dev", "prod"]] * 3
    assert accounts.rules() == {"prod": Promotion(after="dev")}
    assert accounts.scp_targets == ["ou-a1b2-nonprodwl", "ou-a1b2-prodwkld"]


def test_the_version_of_a_policy_without_accounts_is_unchanged(policy: GovernancePolicy) -> None:
    """accounts counts in the fingerprint only when set (as deployment does)."""
    assert policy.accounts is None
    assert "accounts" not in policy.model_dump(mode="json") or policy.model_dump(mode="json")["accounts"] is None
    dropped = GovernancePolicy.model_validate({k: v for k, v in policy.model_dump(mode="json").items() if k != "accounts"})
    assert dropped.version == policy.version


def test_a_small_team_may_share_one_account_between_dev_and_staging(small_team_policy: GovernancePolicy) -> None:
    accounts = small_team_policy.accounts
    assert accounts is not None
    assert accounts.workload_accounts == {DEV: ["dev", "staging"], PROD: ["prod"]}


REFUSALS: list[tuple[str, tuple[str, str], str]] = [
    (
        "unquoted-account-id",
        ('hub: "111111111111"', "hub: 111111111111"),
        "accounts.hub (line 109): write the account id in quotes ('111111111111')",
    ),
    (
        "unknown-stage-of-a-project",
        ("claims-triage: [dev, staging]", "claims-triage: [dev, qa]"),
        "accounts.projects.claims-triage[1] (line 126): 'qa' is not a stage (no account runs it); stages: dev, staging, prod",
    ),
    (
        "project-with-no-account",
        ("    claims-triage: [dev, staging]\n", ""),
        "accounts.projects (line 123): project claims-triage runs in no account: add 'claims-triage: [dev, staging, prod]'",
    ),
    (
        "project-runs-nowhere",
        ("claims-triage: [dev, staging]", "claims-triage: []"),
        "accounts.projects.claims-triage (line 126): claims-triage runs in no stage: list at least one of dev, staging, prod",
    ),
    (
        "unknown-project",
        ("claims-triage: [dev, staging]", "claims-triage: [dev, staging]\n    fraud: [dev]"),
        "accounts.projects.fraud (line 127): 'fraud' is not a governed project",
    ),
    (
        "promotion-cycle",
        ("staging: {after: dev, require_approved: true}", "staging: {after: prod}"),
        "accounts.promotion.staging.after (line 129): promotion cycle staging -> prod -> staging",
    ),
    (
        "a-later-stage-without-a-rule",  # prod would take versions never promoted (review of 2026-11-26)
        ("    prod: {after: staging, require_approved: true, distinct_approver: true}\n", ""),
        "accounts.promotion (line 128): prod has no promotion rule, so versions would reach it without being promoted; "
        "add 'prod: {after: staging}'",
    ),
    (
        "stages-out-of-promotion-order",  # dev -> prod -> staging, with staging listed before prod
        (
            "    staging: {after: dev, require_approved: true}\n    prod: {after: staging,",
            "    staging: {after: prod, require_approved: true}\n    prod: {after: dev,",
        ),
        "accounts.promotion.staging.after (line 129): staging comes after prod, but stages lists prod after staging",
    ),
    (
        "unknown-stage-in-a-promotion-rule",
        ("prod: {after: staging,", "prod: {after: stagin,"),
        "accounts.promotion.prod.after (line 130): 'stagin' is not a stage; stages: dev, staging, prod",
    ),
    (
        "promotion-rule-for-an-unknown-stage",
        ("  promotion:\n", "  promotion:\n    qa: {after: dev}\n"),
        "accounts.promotion.qa (line 129): 'qa' is not a stage",
    ),
    (
        "every-stage-has-a-rule",
        ("  promotion:\n", "  promotion:\n    dev: {after: prod}\n"),
        "promotion cycle",
    ),
    (
        "a-stage-in-the-hub",
        ('{name: prod, account: "444444444444"', '{name: prod, account: "111111111111"'),
        "accounts.stages[2].account (line 121): stage prod runs in the hub account 111111111111",
    ),
    (
        "a-stage-in-the-management-account",
        ('{name: prod, account: "444444444444"', '{name: prod, account: "999999999999"'),
        "accounts.stages[2].account (line 121): stage prod runs in organization_admin 999999999999: SCPs never apply",
    ),
    (
        "a-shared-account-in-two-ous",
        (
            '{name: staging, account: "333333333333", ou: ou-a1b2-nonprodwl}',
            '{name: staging, account: "222222222222", ou: ou-a1b2-prodwkld}',
        ),
        "accounts.stages[1].ou (line 120): account 222222222222 is also stage dev's, in ou-a1b2-nonprodwl",
    ),
    (
        "a-stage-skipped",
        ("claims-triage: [dev, staging]", "claims-triage: [dev, prod]"),
        "accounts.projects.claims-triage (line 126): claims-triage runs in prod but not in staging, which prod comes after",
    ),
    (
        "duplicate-stage",
        ('{name: staging, account: "333333333333"', '{name: dev, account: "333333333333"'),
        "accounts.stages[1].name (line 120): duplicate stage 'dev' (also stages[0])",
    ),
    ("bad-ou", ("ou: ou-a1b2-prodwkld", "ou: prod"), "accounts.stages[2].ou (line 121)"),
    (  # digits of another script: \d took them, AWS does not
        "an-account-id-in-arabic-indic-digits",
        (
            '{name: prod, account: "444444444444"',
            '{name: prod, account: "\u0664\u0664\u0664\u0664\u0664\u0664\u0664\u0664\u0664\u0664\u0664\u0664"',
        ),
        "accounts.stages[2].account (line 121): '\u0664\u0664",
    ),
    (  # IAM's \w is ASCII: a role name the loader took would fail at apply
        "a-deployment-role-name-iam-refuses",
        ("deployment_role: governance-deployer", "deployment_role: d\u00e9ployeur"),
        "accounts.deployment_role (line 116): 'd\u00e9ployeur'",
    ),
]


@pytest.mark.parametrize(("change", "expected"), [pytest.param(c, e, id=i) for i, c, e in REFUSALS])
def test_a_bad_accounts_section_is_refused_naming_the_field_and_the_fix(change: tuple[str, str], expected: str) -> None:
    old, new = change
    assert old in EXAMPLE_TEXT, old
    assert expected in refusal(EXAMPLE_TEXT.replace(old, new, 1))


# ---- promotion (pure) ------------------------------------------------------------------------------------
def promote(policy: GovernancePolicy, stage: str, **facts: Any) -> list[str]:
    assert policy.accounts is not None
    given: dict[str, Any] = {"approved": True, "cleared": True, "promoted_by": {}, "approvers": ["alice"], "promoter": "bob"}
    return policy.accounts.promotion_problems(stage, **{**given, **facts})


def test_staging_takes_an_approved_cleared_version_from_dev(example_policy: GovernancePolicy) -> None:
    assert promote(example_policy, "staging", promoter="alice") == []  # after an entry stage: no distinct approver asked
    assert promote(example_policy, "dev") == []  # versions are registered in the entry stage, never promoted into it


def test_prod_needs_an_approver_other_than_the_staging_one(example_policy: GovernancePolicy) -> None:
    assert promote(example_policy, "prod", promoted_by={"staging": "bob"}, promoter="carol") == []
    assert promote(example_policy, "prod", promoted_by={"staging": "bob"}, promoter="bob") == [
        "bob promoted it into staging; prod needs a different approver"
    ]


def test_after_an_entry_stage_a_distinct_approver_is_none_of_the_versions_approvers(example_policy: GovernancePolicy) -> None:
    """Everyone the gate judged as approving the version counts (any update of an Approved version is judged as an
    approval by whoever made it)."""
    assert example_policy.accounts is not None
    rules = {**example_policy.accounts.model_dump()["promotion"], "staging": {"after": "dev", "distinct_approver": True}}
    strict = policy_variant(example_policy, accounts={**example_policy.accounts.model_dump(), "promotion": rules})
    both = {"approvers": ["alice", "bob"]}
    assert promote(strict, "staging", **both, promoter="bob") == ["bob approved the version; staging needs a different approver"]
    assert promote(strict, "staging", **both, promoter="alice") == [
        "alice approved the version; staging needs a different approver"
    ]
    assert promote(strict, "staging", **both, promoter="carol") == []
    assert promote(strict, "staging", approvers=[], promoter="carol") == []


def test_prod_refuses_a_version_that_skipped_staging_or_is_not_approved(example_policy: GovernancePolicy) -> None:
    assert promote(example_policy, "prod") == ["the version has not been promoted into staging (prod comes after it)"]
    assert promote(example_policy, "prod", approved=False, cleared=False, promoted_by={"staging": "bob"}, promoter="carol") == [
        "the version is not Approved in the hub's registry (prod requires it)",
        "the approval gate has not cleared the version (prod requires it)",
    ]
    assert promote(example_policy, "qa") == ["'qa' is not a stage; stages: dev, staging, prod"]


def test_the_deployer_rules_refuse_an_unapproved_hub_version(example_policy: GovernancePolicy) -> None:
    """The deployers of every stage decide with the single-account rule on the hub's version (policies.rules.deployment)."""
    arn = f"arn:aws:sagemaker:eu-west-1:{HUB}:model-package/credit-risk/1"
    pending = ServedVersion("AllTraffic", "", arn, status="PendingManualApproval", cleared=False, project="credit-risk")
    decision = decide_deployment_request(example_policy, pending, "credit-risk-scoring")
    assert not decision.allowed
    assert any("PendingManualApproval, not Approved" in v.message for v in decision.violations)
    approved = ServedVersion("AllTraffic", "", arn, status="Approved", cleared=True, project="credit-risk")
    assert decide_deployment_request(example_policy, approved, "credit-risk-scoring").allowed


def test_the_example_file_is_the_shipped_policy_plus_accounts(policy: GovernancePolicy, example_policy: GovernancePolicy) -> None:
    """docs/multi-account.md says so: keep them in step."""
    shipped = Path(__file__).resolve().parents[2] / "policies" / "governance.yaml"
    assert shipped.is_file()
    assert example_policy.model_copy(update={"accounts": None}).model_dump() == policy.model_dump()
