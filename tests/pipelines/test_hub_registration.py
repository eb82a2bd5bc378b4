"""With many accounts, the governed pipeline of an entry stage registers into the hub's group and trains into the
hub's model store, encrypted with the project's key there: what the hub's approval gate pins and the stages' deployers
check (docs/multi-account.md, rollout step 7)."""

from __future__ import annotations

from typing import Any

import pytest

from pipelines.cli import CommandError, offline_definition
from policies.loader import load_policy
from policies.model import GovernancePolicy
from policies.naming import Names
from policies.rules.artifacts import in_store
from tests.multi_account.conftest import DEV, EXAMPLE, HUB, PROD
from tests.pipelines.definition_eval import by_name

KEY = f"arn:aws:kms:eu-west-1:{HUB}:key/1234abcd-12ab-34cd-56ef-1234567890ab"


@pytest.fixture(scope="module")
def accounts_policy() -> GovernancePolicy:
    return load_policy(EXAMPLE)


@pytest.fixture(scope="module")
def in_dev(accounts_policy: GovernancePolicy) -> dict[str, Any]:
    return by_name(offline_definition(accounts_policy, accounts_policy.project("credit-risk"), DEV, KEY))  # type: ignore[arg-type]


def test_the_model_is_trained_into_the_hubs_store_with_the_projects_key(
    in_dev: dict[str, Any], accounts_policy: GovernancePolicy
) -> None:
    output = in_dev["Train"]["Arguments"]["OutputDataConfig"]
    hub = Names(accounts_policy, account=HUB)
    assert output["S3OutputPath"] == f"s3://{hub.artifacts_bucket}/projects/credit-risk/models"
    assert output["KmsKeyId"] == KEY
    # SageMaker writes <output path>/<training job>/output/model.tar.gz: inside what the hub's gate pins, seen from any
    # account of the organization
    model = f"{output['S3OutputPath']}/credit-risk-train-2026-11-26-10-00-00-000/output/model.tar.gz"
    for account in (HUB, DEV, PROD):
        assert in_store(model, Names(accounts_policy, account=account).model_store("credit-risk"))


def test_the_version_is_registered_in_the_hubs_group_as_pending(
    in_dev: dict[str, Any], accounts_policy: GovernancePolicy
) -> None:
    register = in_dev["RegisterModel"]["Arguments"]
    assert register["ModelPackageGroupName"] == f"arn:aws:sagemaker:eu-west-1:{HUB}:model-package-group/credit-risk"
    assert register["ModelApprovalStatus"] == "PendingManualApproval"
    assert "Tags" not in register  # a version in a group takes the group's tags (the hub's carries the project's)
    assert register["InferenceSpecification"]["Containers"][0]["ModelDataUrl"] == {
        "Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"
    }


def test_evidence_and_code_stay_in_the_entry_accounts_lineage_bucket(
    in_dev: dict[str, Any], accounts_policy: GovernancePolicy
) -> None:
    dev = Names(accounts_policy, account=DEV)
    for name in ("ValidateData", "Evaluate", "Train"):
        assert in_dev[name]["Arguments"]["RoleArn"] == dev.role_arn(dev.execution_role(accounts_policy.project("credit-risk")))  # type: ignore[arg-type]
    inputs = {i["InputName"]: i["S3Input"]["S3Uri"] for i in in_dev["ValidateData"]["Arguments"]["ProcessingInputs"]}
    assert inputs["source"].startswith(f"s3://{dev.lineage_bucket}/projects/credit-risk/code/")
    outputs = in_dev["ValidateData"]["Arguments"]["ProcessingOutputConfig"]["Outputs"]
    assert all(f"s3://{dev.lineage_bucket}/projects/credit-risk/runs" in str(o["S3Output"]["S3Uri"]) for o in outputs)


@pytest.mark.parametrize(
    ("account", "key", "says"),
    [
        pytest.param(
            DEV, None, "pass --artifact-key-arn with the output artifact-key-credit-risk-arn of stack hub-registry", id="no-key"
        ),
        pytest.param(
            DEV, KEY.replace(HUB, DEV), f"is not a key of the hub (arn:aws:kms:eu-west-1:{HUB}:key/<key id>)", id="key-of-dev"
        ),
        pytest.param(DEV, KEY.replace("eu-west-1", "eu-central-1"), "is not a key of the hub", id="key-in-another-region"),
        pytest.param(
            DEV, f"arn:aws:kms:eu-west-1:{HUB}:alias/acme-ml-artifacts-credit-risk", "is not a key of the hub", id="alias"
        ),
        pytest.param(
            PROD,
            KEY,
            f"account {PROD} runs no entry stage of credit-risk; its pipeline runs where versions are registered: dev (account {DEV})",
            id="prod-registers-nothing",
        ),
        pytest.param(HUB, KEY, f"account {HUB} runs no entry stage of credit-risk", id="hub-trains-nothing"),
    ],
)
def test_a_pipeline_the_accounts_do_not_place_is_refused_with_the_fix(
    accounts_policy: GovernancePolicy, account: str, key: str | None, says: str
) -> None:
    with pytest.raises(CommandError, match="") as refused:
        offline_definition(accounts_policy, accounts_policy.project("credit-risk"), account, key)  # type: ignore[arg-type]
    assert says in str(refused.value)


def test_one_account_takes_no_artifact_key(policy: GovernancePolicy) -> None:
    with pytest.raises(CommandError) as refused:
        offline_definition(policy, policy.project("credit-risk"), "123456789012", KEY)  # type: ignore[arg-type]
    assert "--artifact-key-arn is for a policy with accounts" in str(refused.value)
