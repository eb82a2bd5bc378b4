"""The multi-account stacks are real: terraform validates the example offline, and a small team's layout (dev and
staging in one account) applies into an embedded AWS with several accounts, each reached through its deployment
role; then the cross-account guarantees are read back and the flows moto can run are run.

What moto cannot do is asserted as such (each fails the day moto learns it): no model package group policies, no
SageMaker calls across accounts, no bus policy or SCP enforcement, no origin account on a forwarded event."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from concurrent.futures import Future
from typing import Any

import pytest
from botocore.exceptions import ClientError

from infra.embedded_aws import EmbeddedAws
from infra.multi_account import (
    MULTI_ACCOUNT_EXCLUSIONS,
    MULTI_ACCOUNT_GAPS,
    account_client,
    read_back,
    stack_names,
)
from infra.terraform_cli import (
    EMBEDDED_AWS_EXCLUSIONS,
    StackResult,
    resource_addresses,
)
from lambdas.table import HANDLERS
from policies.model import GovernancePolicy
from policies.naming import Names
from policies.rules.deployment import ServedVersion, decide_deployment_request
from tests.conftest import BackgroundDeployment
from tests.multi_account.conftest import ADMIN, DEV, HUB, PROD, SynthesizedAccounts

pytestmark = [
    pytest.mark.terraform,
    pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not on PATH: validate/apply cannot run"),
]
REGION = "eu-west-1"
INFERENCE = {
    "Containers": [
        {"Image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/model:1", "ModelDataUrl": "s3://artifacts/model.tar.gz"}
    ],
    "SupportedContentTypes": ["text/csv"],
    "SupportedResponseMIMETypes": ["text/csv"],
}


def test_the_example_validates_offline(
    example: SynthesizedAccounts, example_validation: Future[list[StackResult]] | None
) -> None:
    """Validated in the background from this directory's first test on (conftest.py)."""
    assert example_validation is not None
    names = stack_names(example.policy)
    results = example_validation.result(timeout=1200)
    assert [r.stack for r in results] == list(names)
    assert {r.stack: r.detail for r in results if not r.ok} == {}


@pytest.fixture(scope="module")
def applied(accounts_deployment: BackgroundDeployment | None) -> tuple[EmbeddedAws, list[StackResult]]:
    """The small team's layout, applied in the background from this directory's first test on (conftest.py)."""
    assert accounts_deployment is not None
    aws, results = accounts_deployment.wait()
    return aws, results


def client(aws: EmbeddedAws, policy: GovernancePolicy, account: str, service: str, region: str = REGION) -> Any:
    return account_client(aws, account, service, policy, region)


def test_every_stack_applies_in_its_account_with_only_the_documented_exclusions(
    applied: tuple[EmbeddedAws, list[StackResult]], small: SynthesizedAccounts
) -> None:
    _, results = applied
    assert {r.stack: r.detail for r in results if not r.ok} == {}
    assert [r.stack for r in results] == list(stack_names(small.policy))
    exclusions = {**EMBEDDED_AWS_EXCLUSIONS, **MULTI_ACCOUNT_EXCLUSIONS}
    for result in results:
        assert sorted(result.applied + list(result.excluded)) == sorted(resource_addresses(small.stacks[result.stack]))
        assert {a.split(".")[0] for a in result.excluded} <= set(exclusions)
    assert sorted({a.split(".")[0] for r in results for a in r.excluded}) == ["aws_sagemaker_model_package_group_policy"]


def test_the_cross_account_guarantees_read_back(
    applied: tuple[EmbeddedAws, list[StackResult]], small: SynthesizedAccounts
) -> None:
    aws, _ = applied
    assert read_back(aws, small.policy) == []


def test_each_account_holds_its_own_resources(applied: tuple[EmbeddedAws, list[StackResult]], small: SynthesizedAccounts) -> None:
    aws, _ = applied
    policy = small.policy
    groups = {
        a: client(aws, policy, a, "sagemaker").list_model_package_groups()["ModelPackageGroupSummaryList"]
        for a in (HUB, DEV, PROD)
    }
    assert sorted(g["ModelPackageGroupName"] for g in groups[HUB]) == sorted(p.name for p in policy.projects)
    assert groups[DEV] == groups[PROD] == []  # the registry lives in the hub only
    roles = {a: {r["RoleName"] for r in client(aws, policy, a, "iam").list_roles()["Roles"]} for a in (HUB, DEV, PROD)}
    assert "acme-clearance-reader" in roles[HUB]
    assert "acme-clearance-reader" not in roles[DEV] | roles[PROD]
    assert "acme-claims-triage-sagemaker-execution" in roles[DEV]
    assert "acme-claims-triage-sagemaker-execution" not in roles[PROD]  # claims-triage never reaches prod


def test_a_version_registered_for_dev_and_approved_in_the_hub_is_describable_and_deployable(
    applied: tuple[EmbeddedAws, list[StackResult]], small: SynthesizedAccounts
) -> None:
    aws, _ = applied
    policy = small.policy
    hub_names = Names(policy, account=HUB)
    project = policy.projects[0]
    group = hub_names.model_package_group_arn(project)
    dev_sagemaker, hub_sagemaker, prod_sagemaker = (client(aws, policy, a, "sagemaker") for a in (DEV, HUB, PROD))

    # gap (MULTI_ACCOUNT_GAPS["cross-account-registry"]): moto looks the hub's group up in the dev account
    with pytest.raises(ClientError, match="Model Package Group does not exist"):
        dev_sagemaker.create_model_package(
            ModelPackageGroupName=group, ModelApprovalStatus="PendingManualApproval", InferenceSpecification=INFERENCE
        )
    # what moto can run: the version registered into the hub's group, approved there by the approver
    approved = hub_sagemaker.create_model_package(
        ModelPackageGroupName=project.name, ModelApprovalStatus="PendingManualApproval", InferenceSpecification=INFERENCE
    )["ModelPackageArn"]
    pending = hub_sagemaker.create_model_package(
        ModelPackageGroupName=project.name, ModelApprovalStatus="PendingManualApproval", InferenceSpecification=INFERENCE
    )["ModelPackageArn"]
    hub_sagemaker.update_model_package(ModelPackageArn=approved, ModelApprovalStatus="Approved")
    assert approved.startswith(f"arn:aws:sagemaker:{REGION}:{HUB}:model-package/{project.name}/")
    with pytest.raises(ClientError, match="not found"):  # gap: AWS lets prod describe it through the group policy
        prod_sagemaker.describe_model_package(ModelPackageName=approved)

    # the prod deployer's decision on each, with what the hub says about them (statuses read from the hub)
    decisions = {}
    for arn in (approved, pending):
        status = hub_sagemaker.describe_model_package(ModelPackageName=arn)["ModelApprovalStatus"]
        served = ServedVersion("AllTraffic", "", arn, status=status, cleared=status == "Approved", project=project.name)
        decisions[status] = decide_deployment_request(policy, served, "credit-risk-scoring")
    assert decisions["Approved"].allowed
    assert not decisions["PendingManualApproval"].allowed


def _create_call(region: str) -> dict[str, Any]:
    return {
        "Source": "aws.sagemaker",
        "DetailType": "AWS API Call via CloudTrail",
        "Detail": json.dumps(
            {
                "eventSource": "sagemaker.amazonaws.com",
                "eventName": "CreateTrainingJob",
                "awsRegion": region,
                "requestParameters": {"trainingJobName": f"probe-{region}"},
            }
        ),
    }


@pytest.fixture
def hub_rules_to_queues(applied: tuple[EmbeddedAws, list[StackResult]], small: SynthesizedAccounts) -> Iterator[dict[str, str]]:
    """Every hub rule that targets a function, retargeted for the test to a queue of its own (moto cannot invoke a
    Lambda target: a matching event fails the sender's PutEvents with a 500; moto also matches every event against a
    schedule-only rule); restored afterwards. Returns handler -> queue URL for the handlers' event rules."""
    aws, _ = applied
    policy = small.policy
    hub_names = Names(policy, account=HUB)
    sqs, events = client(aws, policy, HUB, "sqs"), client(aws, policy, HUB, "events")
    saved, queues = {}, {}
    for rule in [r["Name"] for r in events.list_rules()["Rules"]]:
        targets = events.list_targets_by_rule(Rule=rule)["Targets"]
        if not any(":lambda:" in t["Arn"] for t in targets):
            continue
        saved[rule] = targets
        queue = sqs.create_queue(QueueName=f"probe-{rule}")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.remove_targets(Rule=rule, Ids=[t["Id"] for t in targets])
        events.put_targets(Rule=rule, Targets=[{"Id": "probe", "Arn": queue_arn}])
        queues[rule] = queue
    try:
        yield {spec.name: queues[hub_names.handler_rule(spec.name)] for spec in HANDLERS if spec.route is not None}
    finally:
        for rule, targets in saved.items():
            events.remove_targets(Rule=rule, Ids=["probe"])
            events.put_targets(Rule=rule, Targets=targets)


def _drain(sqs: Any, queue: str) -> list[dict[str, Any]]:
    received = []
    while batch := sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", []):
        received += [json.loads(m["Body"]) for m in batch]
        sqs.delete_message_batch(
            QueueUrl=queue, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)]
        )
    return received


def test_a_workload_accounts_events_reach_the_hub_handlers_from_every_watched_region(
    applied: tuple[EmbeddedAws, list[StackResult]], small: SynthesizedAccounts, hub_rules_to_queues: dict[str, str]
) -> None:
    """A SageMaker create call in prod, in each watched Region, goes through prod's forwarding rule to the hub's bus,
    where the hub's own rules route it: allowed Regions to classification-tags, the others to the region guard."""
    aws, _ = applied
    policy = small.policy
    sqs = client(aws, policy, HUB, "sqs")
    for region in policy.regions.watched:
        sent = client(aws, policy, PROD, "events", region).put_events(Entries=[_create_call(region)])
        assert sent["FailedEntryCount"] == 0
    routed = {handler: _drain(sqs, queue) for handler, queue in hub_rules_to_queues.items()}
    assert sorted(e["detail"]["awsRegion"] for e in routed["classification-tags"]) == sorted(policy.regions.allowed)
    outside = [r for r in policy.regions.watched if r not in policy.regions.allowed]
    assert sorted(e["detail"]["awsRegion"] for e in routed["region-guard"]) == sorted(outside)
    assert routed["approval-gate"] == routed["tamper-watch"] == []
    # gap (forwarded-event-origin): moto re-puts the event in the hub: it arrives with no account and the hub's Region
    assert {(e.get("account"), e["region"]) for e in routed["region-guard"]} == {(None, REGION)}
    assert "forwarded-event-origin" in MULTI_ACCOUNT_GAPS


def test_the_hub_bus_policy_is_stored_but_not_enforced(
    applied: tuple[EmbeddedAws, list[StackResult]], small: SynthesizedAccounts, hub_rules_to_queues: dict[str, str]
) -> None:
    """gap (bus-policy-enforced): with the hub bus policy removed, a workload account's events still arrive."""
    aws, _ = applied
    policy = small.policy
    events, sqs = client(aws, policy, HUB, "events"), client(aws, policy, HUB, "sqs")
    stored = events.describe_event_bus(Name="default")["Policy"]
    events.remove_permission(RemoveAllPermissions=True)
    try:
        client(aws, policy, PROD, "events").put_events(Entries=[_create_call(REGION)])
        assert _drain(sqs, hub_rules_to_queues["classification-tags"]), "moto enforces the bus policy now: drop the gap"
        assert "bus-policy-enforced" in MULTI_ACCOUNT_GAPS
    finally:
        events.put_permission(Policy=stored)
    assert json.loads(events.describe_event_bus(Name="default")["Policy"]) == json.loads(stored)


def test_moto_still_cannot_deliver_to_a_lambda_target(
    applied: tuple[EmbeddedAws, list[StackResult]], small: SynthesizedAccounts
) -> None:
    """Why the tests above retarget the hub's rules: the day this fails, let the events reach the functions."""
    aws, _ = applied
    assert "lambda-targets" in MULTI_ACCOUNT_GAPS
    with pytest.raises(ClientError, match="500"):
        client(aws, small.policy, PROD, "events").put_events(Entries=[_create_call(REGION)])


def test_each_multi_account_exclusion_is_still_unsupported(
    applied: tuple[EmbeddedAws, list[StackResult]], small: SynthesizedAccounts
) -> None:
    """If moto learns PutModelPackageGroupPolicy, this fails: drop the exclusion so the group policies get applied."""
    aws, _ = applied
    with pytest.raises(ClientError) as caught:
        client(aws, small.policy, HUB, "sagemaker").put_model_package_group_policy(
            ModelPackageGroupName="credit-risk", ResourcePolicy="{}"
        )
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] in {404, 500, 501}
    assert set(MULTI_ACCOUNT_EXCLUSIONS) == {"aws_sagemaker_model_package_group_policy"}


def test_scps_are_stored_and_attached_but_not_enforced(
    applied: tuple[EmbeddedAws, list[StackResult]], small: SynthesizedAccounts
) -> None:
    """The guardrails are attached to the OUs; moto never applies them (the offline evaluator proves what they deny)."""
    aws, _ = applied
    policy = small.policy
    assert "scp-enforced" in MULTI_ACCOUNT_GAPS
    # a call outside the allowed Regions, which the guardrails deny to everyone but the deployment role, goes through
    created = client(aws, policy, PROD, "sqs", "us-east-1").create_queue(QueueName="outside-allowed-regions")
    assert created["QueueUrl"]
    orgs = client(aws, policy, ADMIN, "organizations")
    assert len(orgs.list_policies(Filter="SERVICE_CONTROL_POLICY")["Policies"]) >= 2
