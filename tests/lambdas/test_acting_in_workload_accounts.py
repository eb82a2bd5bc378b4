"""With many accounts, the hub's handlers read and act on a workload account's resources as that account's
enforcement role named like their own, with the hub's external id, and record in the hub (moto, several accounts).

moto hands out credentials of the role's account on AssumeRole, so a call made with them reaches that account's
resources; it does not evaluate the roles' trust or the external id condition: those are proven by the access
review (tests/multi_account/test_access.py, only-the-hub-assumes-enforcement-roles).
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.sts.models import sts_backends

from lambdas.approval_gate import handler as gate
from lambdas.classification_tags import handler as classification
from lambdas.deployment_guard import handler as deployment_guard
from lambdas.model_deployer import handler as deployer
from lambdas.region_guard import handler as guard
from lambdas.shared import aws
from lambdas.shared.clearance import approvers, clearance
from lambdas.shared.settings import ENV, handler_environment
from policies.loader import load_policy
from policies.model import GovernancePolicy
from policies.naming import Names
from policies.rules.deployment import deployment_stage
from tests.conftest import policy_variant
from tests.events import api_call_event, approval_event
from tests.lambdas.sagemaker_fixtures import IMAGE, create_training_job, job_status
from tests.lambdas.world import ACCOUNT, REGION, LambdaContext, World, fail_calls, reset_handler_state
from tests.multi_account.conftest import EXAMPLE, small_team

HUB = ACCOUNT  # the account the handlers run in (moto's default)
WORKLOAD = "222222222222"
PROD = "444444444444"
OUTSIDE = "us-east-1"


def in_workload(service: str, region: str = REGION, *, account: str = WORKLOAD) -> Any:
    """A client of the workload account's administrator (what a data scientist there does)."""
    credentials = boto3.client("sts", region_name=REGION).assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole", RoleSessionName="admin"
    )["Credentials"]
    return boto3.client(
        service,
        region_name=region,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


def training_job_in_workload(name: str, tags: dict[str, str], region: str) -> str:
    arn: str = in_workload("sagemaker", region).create_training_job(
        TrainingJobName=name,
        AlgorithmSpecification={"TrainingImage": IMAGE, "TrainingInputMode": "File"},
        RoleArn=f"arn:aws:iam::{WORKLOAD}:role/acme-credit-risk-sagemaker-execution",
        OutputDataConfig={"S3OutputPath": f"s3://acme-ml-lineage-{WORKLOAD}-eu-west-1/projects/credit-risk/models"},
        ResourceConfig={"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 10},
        StoppingCondition={"MaxRuntimeInSeconds": 3600},
        Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
    )["TrainingJobArn"]
    return arn


def forwarded_from_workload(event: dict[str, Any]) -> dict[str, Any]:
    """The event as the workload account's forwarding rule delivers it to the hub: its own account, its ARNs."""
    forwarded: dict[str, Any] = json.loads(json.dumps(event).replace(f":{ACCOUNT}:", f":{WORKLOAD}:"))
    forwarded["account"] = WORKLOAD
    return forwarded


def assumed(account: str) -> list[tuple[str, str]]:
    return [(r.role_arn, r.external_id) for r in sts_backends[account]["aws"].assumed_roles if r.session_name != "admin"]


def test_the_region_guard_stops_a_workload_accounts_job_as_its_namesake_and_records_in_the_hub(
    world_for: Any, monkeypatch: pytest.MonkeyPatch, lambda_context: Any
) -> None:
    world = hub_handler(world_for, monkeypatch, "region-guard")
    training_job_in_workload("credit-risk-train-x", {"ml-project": "credit-risk"}, OUTSIDE)
    create_training_job("credit-risk-train-x", {"ml-project": "credit-risk"}, region=OUTSIDE)  # the hub's namesake job
    event = forwarded_from_workload(api_call_event("CreateTrainingJob", name="credit-risk-train-x", region=OUTSIDE))

    result = guard.handler(event, lambda_context)

    assert result["decision"] == "deny"
    workload_job = in_workload("sagemaker", OUTSIDE).describe_training_job(TrainingJobName="credit-risk-train-x")
    assert workload_job["TrainingJobStatus"] == "Stopped"
    assert job_status("training-job", "credit-risk-train-x", region=OUTSIDE) != "Stopped", "the hub's own job is not touched"
    assert assumed(WORKLOAD) == [(f"arn:aws:iam::{WORKLOAD}:role/acme-region-guard", f"acme-ml-governance-{HUB}")]
    (record,) = world.audit_records()  # in the hub's audit bucket
    assert record["what"] == f"arn:aws:sagemaker:{OUTSIDE}:{WORKLOAD}:training-job/credit-risk-train-x"
    assert record["action"]["result"] == "stopped training-job credit-risk-train-x"


def test_classification_tags_reads_and_tags_in_the_workload_account(
    world_for: Any, monkeypatch: pytest.MonkeyPatch, lambda_context: Any
) -> None:
    world = hub_handler(world_for, monkeypatch, "classification-tags")
    tags = {"ml-project": "credit-risk"}
    sagemaker = in_workload("sagemaker")
    arn = sagemaker.create_model(
        ModelName="credit-risk-m",
        ExecutionRoleArn=f"arn:aws:iam::{WORKLOAD}:role/acme-credit-risk-sagemaker-execution",
        PrimaryContainer={"Image": IMAGE},
        Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
    )["ModelArn"]
    event = forwarded_from_workload(api_call_event("CreateModel", name="credit-risk-m", region=REGION, tags=tags))

    assert classification.handler(event, lambda_context)["decision"] == "deny"

    assert {t["Key"]: t["Value"] for t in sagemaker.list_tags(ResourceArn=arn)["Tags"]}["data-classification"] == "confidential"
    assert assumed(WORKLOAD) == [(f"arn:aws:iam::{WORKLOAD}:role/acme-classification-tags", f"acme-ml-governance-{HUB}")]
    (record,) = world.audit_records()
    assert record["what"] == arn


def hub_with_stages() -> GovernancePolicy:
    """The example policy with this hub (moto's default account), dev in WORKLOAD (an entry stage), prod in PROD."""
    stages = [
        {"name": "dev", "account": WORKLOAD, "ou": "ou-a1b2-nonprodwl"},
        {"name": "prod", "account": PROD, "ou": "ou-a1b2-prodwkld"},
    ]
    return policy_variant(load_policy(EXAMPLE), accounts={"hub": HUB, "stages": stages, "projects": None, "promotion": None})


def hub_handler(world_for: Any, monkeypatch: pytest.MonkeyPatch, handler: str, policy: GovernancePolicy | None = None) -> World:
    """The hub's world under ``policy`` (default ``hub_with_stages``) and the environment its enforcement stack
    gives ``handler``."""
    policy = policy or hub_with_stages()
    world: World = world_for(policy)
    act_as(monkeypatch, policy, handler)
    return world


def act_as(monkeypatch: pytest.MonkeyPatch, policy: GovernancePolicy, handler: str) -> None:
    """The environment the hub's enforcement stack gives ``handler`` (its namesake roles in the workload accounts)."""
    environment = handler_environment(Names(policy, account=HUB, partition="aws"), handler, acts_in_workload_accounts=True)
    for variable in (aws.WORKLOAD_ROLE_ENV, aws.EXTERNAL_ID_ENV, aws.HOME_ACCOUNT_ENV):
        monkeypatch.setenv(variable, environment[variable])


def lineage_bucket_of(account: str) -> tuple[Any, str]:
    """The workload account's lineage bucket (versioned, as its foundation stack makes it) and a client there."""
    s3, bucket = in_workload("s3", account=account), Names(hub_with_stages(), account=account).lineage_bucket
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    return s3, bucket


def test_the_gate_clears_a_version_a_dev_pipeline_registered_reading_its_evidence_in_the_dev_account(
    world_for: Any, monkeypatch: pytest.MonkeyPatch, lambda_context: Any
) -> None:
    world = hub_handler(world_for, monkeypatch, "approval-gate")
    version = world.register("credit-risk", pipeline_account=WORKLOAD, lineage=lineage_bucket_of(WORKLOAD))

    assert gate.handler(approval_event(version), lambda_context)["decision"] == "allow"

    assert world.status(version) == "Approved"
    assert clearance(version) is not None
    assert assumed(WORKLOAD) == [(f"arn:aws:iam::{WORKLOAD}:role/acme-approval-gate", f"acme-ml-governance-{HUB}")]
    (record,) = world.audit_records()
    evidence = record["evidence"]
    assert evidence["training_data_uri"].startswith(f"s3://{Names(hub_with_stages(), account=WORKLOAD).lineage_bucket}/")
    assert evidence["pipeline_execution_arn"].split(":")[4] == WORKLOAD
    for role in ("evaluation_report", "validation_report", "training_data", "drift_baseline"):
        assert evidence[f"{role}_version_id"], "read (with its S3 version) in the dev account's bucket"
    assert (evidence["registered_by_person"], evidence["approved_by_person"]) == ("carol", "alice")


def test_the_gate_reads_evidence_only_in_an_entry_stage_account_that_runs_the_project(
    world_for: Any, monkeypatch: pytest.MonkeyPatch, lambda_context: Any
) -> None:
    world = hub_handler(world_for, monkeypatch, "approval-gate")
    version = world.register("credit-risk", pipeline_account=PROD, lineage=lineage_bucket_of(PROD))  # prod registers nothing

    assert gate.handler(approval_event(version), lambda_context)["decision"] == "deny"

    assert world.status(version) == "Rejected"
    assert assumed(PROD) == [], "nothing is read in an account where versions are not registered"


def serving_in(account: str, package: str) -> Any:
    """credit-risk-scoring in ``account`` serving the hub's ``package`` (as its deployer makes it); its SageMaker client."""
    sagemaker = in_workload("sagemaker", account=account)
    sagemaker.create_model(
        ModelName="credit-risk-v1",
        ExecutionRoleArn=f"arn:aws:iam::{account}:role/acme-credit-risk-sagemaker-execution",
        PrimaryContainer={"ModelPackageName": package},
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName="credit-risk-scoring-config",
        ProductionVariants=[
            {"VariantName": "AllTraffic", "ModelName": "credit-risk-v1", "InstanceType": "ml.m5.large", "InitialInstanceCount": 1}
        ],
        DataCaptureConfig={
            "EnableCapture": True,
            "InitialSamplingPercentage": 100,
            "DestinationS3Uri": f"s3://{Names(hub_with_stages(), account=account).lineage_bucket}/projects/credit-risk/capture/credit-risk-scoring",
            "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        },
    )
    sagemaker.create_endpoint(EndpointName="credit-risk-scoring", EndpointConfigName="credit-risk-scoring-config")
    return sagemaker


def test_a_rejection_in_the_hub_quarantines_the_endpoint_serving_it_in_a_workload_account(
    world_for: Any, policy: GovernancePolicy, monkeypatch: pytest.MonkeyPatch, lambda_context: Any
) -> None:
    world = hub_handler(world_for, monkeypatch, "deployment-guard")
    package = world.register("credit-risk", status="Approved")
    sagemaker = serving_in(WORKLOAD, package)  # the stage's deployer created the model from the hub's version
    world.sagemaker().update_model_package(ModelPackageArn=package, ModelApprovalStatus="Rejected")  # in the hub

    result = deployment_guard.handler(approval_event(package, status="Rejected"), lambda_context)

    assert result["decisions"] == ["deny"]
    assert sagemaker.list_endpoints()["Endpoints"] == [], "deployment.quarantine defaults to delete-endpoint"
    assert assumed(WORKLOAD) == [(f"arn:aws:iam::{WORKLOAD}:role/acme-deployment-guard", f"acme-ml-governance-{HUB}")]
    (record,) = [r for r in world.audit_records() if r["rule_set"] == "deployment"]
    assert record["what"] == f"arn:aws:sagemaker:{REGION}:{WORKLOAD}:endpoint/credit-risk-scoring"
    assert "which is Rejected, not Approved" in record["violations"][0]["message"]


def test_one_session_per_account_renewed_before_it_expires(world_for: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    hub_handler(world_for, monkeypatch, "region-guard")
    first = aws.client("sagemaker", REGION, account=WORKLOAD)
    assert aws.client("sagemaker", REGION, account=WORKLOAD) is first
    assert len(assumed(WORKLOAD)) == 1
    role = f"arn:aws:iam::{WORKLOAD}:role/acme-region-guard"
    _, credentials = aws._sessions[role]
    aws._sessions[role] = (datetime.now(UTC) + timedelta(minutes=4), credentials)  # within the renewal margin
    renewed = aws.client("sagemaker", REGION, account=WORKLOAD)
    assert renewed is not first
    assert len(assumed(WORKLOAD)) == 2
    assert aws._sessions[role][0] > datetime.now(UTC) + timedelta(minutes=50)


def test_own_account_and_single_account_use_the_functions_own_role(world_for: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    hub_handler(world_for, monkeypatch, "region-guard")
    aws.client("sagemaker", REGION, account=HUB)
    aws.client_for("s3", "arn:aws:s3:::acme-ml-audit-bucket")  # no account in the ARN
    monkeypatch.delenv(aws.WORKLOAD_ROLE_ENV)
    aws.client("sagemaker", REGION, account=WORKLOAD)  # a single-account deployment never switches accounts
    assert assumed(WORKLOAD) == []
    assert assumed(HUB) == []


def test_the_hub_stack_gives_only_the_handlers_that_act_everywhere_their_namesakes(example_policy_names: Names) -> None:
    acting = handler_environment(example_policy_names, "region-guard", acts_in_workload_accounts=True)
    assert acting[aws.WORKLOAD_ROLE_ENV] == "arn:aws:iam::{account}:role/acme-region-guard"
    assert acting[aws.EXTERNAL_ID_ENV] == "acme-ml-governance-111111111111"
    assert acting[aws.HOME_ACCOUNT_ENV] == "111111111111"
    deployer = handler_environment(example_policy_names, "model-deployer", acts_in_workload_accounts=False)
    assert aws.WORKLOAD_ROLE_ENV not in deployer


@pytest.fixture
def example_policy_names() -> Names:
    return Names(load_policy(EXAMPLE), account="111111111111", partition="aws")


def in_hub(service: str) -> Any:
    """A client of the hub (moto's default account) whatever credentials the environment holds."""
    return boto3.client(service, region_name=REGION, aws_access_key_id="hub", aws_secret_access_key="hub")


# ---- a stage's deployer and the hub --------------------------------------------------------------------------
def deployer_in(account: str, monkeypatch: pytest.MonkeyPatch, world: World) -> tuple[Any, LambdaContext]:
    """Run the model deployer as the function of ``account`` (its own role there; its own audit bucket, table and
    topic, as the workload account's stacks make them): a SageMaker client of that account, and the context."""
    credentials = boto3.client("sts", region_name=REGION).assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/acme-model-deployer", RoleSessionName="deployer"
    )["Credentials"]
    for variable, field in (
        ("AWS_ACCESS_KEY_ID", "AccessKeyId"),
        ("AWS_SECRET_ACCESS_KEY", "SecretAccessKey"),
        ("AWS_SESSION_TOKEN", "SessionToken"),
        ("AWS_SECURITY_TOKEN", "SessionToken"),
    ):
        monkeypatch.setenv(variable, credentials[field])
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # boto3 keeps the credentials its default session found
    local = Names(world.policy, account=account)
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(
        Bucket=local.audit_bucket, CreateBucketConfiguration={"LocationConstraint": REGION}, ObjectLockEnabledForBucket=True
    )
    topic = boto3.client("sns", region_name=REGION).create_topic(Name=local.alerts_topic)["TopicArn"]
    boto3.client("dynamodb", region_name=REGION).create_table(
        TableName=local.idempotency_table,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    for variable, value in {**handler_environment(local, "model-deployer"), ENV["alerts_topic_arn"]: topic}.items():
        monkeypatch.setenv(variable, value)
    for variable in (aws.WORKLOAD_ROLE_ENV, aws.EXTERNAL_ID_ENV, aws.HOME_ACCOUNT_ENV):
        monkeypatch.delenv(variable, raising=False)  # the deployer runs in its account, not in the hub
    reset_handler_state()
    context = LambdaContext(invoked_function_arn=f"arn:aws:lambda:{REGION}:{account}:function:acme-model-deployer")
    return boto3.client("sagemaker", region_name=REGION), context


@pytest.fixture
def hub_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """DescribeModelPackage of a hub version from a workload account, answered by the hub's registry.

    SageMaker answers it across accounts when the group's resource policy allows the caller (the hub-registry
    stack's group policies, proven by registry-opens-to-its-stages); moto looks versions up in the caller's
    account only (MULTI_ACCOUNT_GAPS). This stands in for that one call with the hub's own record of the version.
    """
    hub = in_hub("sagemaker")
    monkeypatch.setattr(deployer, "describe_package", lambda arn, region: hub.describe_model_package(ModelPackageName=arn))


@pytest.fixture
def cleared(world_for: Any, monkeypatch: pytest.MonkeyPatch, lambda_context: Any, hub_registry: None) -> tuple[World, str]:
    """A version a dev pipeline registered into the hub and the hub's gate cleared (the hub's world, the version)."""
    world = hub_handler(world_for, monkeypatch, "approval-gate")
    version = world.register("credit-risk", pipeline_account=WORKLOAD, lineage=lineage_bucket_of(WORKLOAD))
    assert gate.handler(approval_event(version), lambda_context)["decision"] == "allow"
    return world, version


def promoted_in_the_hub(world: World, stage: str, version: str) -> None:
    """The hub's record that ``version`` was promoted into ``stage`` (what the approval gate keeps for a promotion;
    written here: the promotion handler that keeps it is not built yet, docs/multi-account.md)."""
    names = Names(world.policy, account=HUB)
    in_hub("dynamodb").put_item(
        TableName=names.idempotency_table,
        Item={"id": {"S": names.promotion_record(stage, version)}, "value": {"S": json.dumps({"by": "bob"})}},
    )


def deployment_request(version: str, **more: Any) -> dict[str, Any]:
    return {"model_package_arn": version, "endpoint_name": "credit-risk-scoring", **more}


def test_a_version_registered_in_dev_and_cleared_in_the_hub_is_deployed_in_dev(
    cleared: tuple[World, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    world, version = cleared
    sagemaker, context = deployer_in(WORKLOAD, monkeypatch, world)

    result = deployer.handler(deployment_request(version), context)

    assert result["decision"] == "allow", result
    model = sagemaker.describe_model(ModelName=sagemaker.list_models()["Models"][0]["ModelName"])
    assert model["PrimaryContainer"]["ModelPackageName"] == version, "the model is made from the hub's version"
    assert model["ExecutionRoleArn"] == f"arn:aws:iam::{WORKLOAD}:role/acme-credit-risk-sagemaker-execution"
    assert [e["EndpointName"] for e in sagemaker.list_endpoints()["Endpoints"]] == ["credit-risk-scoring"]
    assert f"arn:aws:iam::{HUB}:role/acme-clearance-reader" in [role for role, _ in assumed(HUB)]


def test_a_stage_deployer_refuses_a_version_whose_artifact_in_the_hubs_store_was_replaced(
    cleared: tuple[World, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A dev pipeline's execution role may write the project's artifacts in the hub's store: it could overwrite the
    bytes of a version already cleared (and promoted). The hub's clearance pins the object version the gate judged."""
    world, version = cleared
    pinned = clearance(version)
    assert pinned is not None and pinned["artifacts"][0]["uri"].startswith(
        f"s3://{Names(world.policy, account=HUB).artifacts_bucket}/"
    )
    world.replace_model_artifact(version)
    sagemaker, context = deployer_in(WORKLOAD, monkeypatch, world)

    assert deployer.handler(deployment_request(version), context)["decision"] == "deny"

    assert sagemaker.list_endpoints()["Endpoints"] == [] and sagemaker.list_models()["Models"] == []
    (violation,) = result_violations(world, WORKLOAD)
    assert "was replaced after approval" in violation


def test_prod_deploys_a_version_only_once_the_hub_recorded_its_promotion_into_prod(
    cleared: tuple[World, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    world, version = cleared
    sagemaker, context = deployer_in(PROD, monkeypatch, world)

    refused = deployer.handler(deployment_request(version), context)
    assert refused["decision"] == "deny"
    assert sagemaker.list_endpoints()["Endpoints"] == []
    assert result_violations(world, PROD) == [f"{version} has not been promoted into prod"]

    promoted_in_the_hub(world, "prod", version)
    assert deployer.handler(deployment_request(version, instance_count=2), context)["decision"] == "allow"
    assert [e["EndpointName"] for e in sagemaker.list_endpoints()["Endpoints"]] == ["credit-risk-scoring"]


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("not approved", "which is PendingManualApproval, not Approved"),
        ("not the hub's", "is not a version of the hub's registry (account 123456789012)"),
        ("another stage", "stage dev does not run in account 444444444444 (it runs prod)"),
    ],
)
def test_prod_refuses_what_the_hub_did_not_clear_for_it(
    cleared: tuple[World, str], monkeypatch: pytest.MonkeyPatch, case: str, expected: str
) -> None:
    world, version = cleared
    promoted_in_the_hub(world, "prod", version)
    request = deployment_request(version)
    if case == "not approved":
        pending = world.register(
            "credit-risk", status="PendingManualApproval", pipeline_account=WORKLOAD, lineage=lineage_bucket_of_existing()
        )
        promoted_in_the_hub(world, "prod", pending)
        request = deployment_request(pending)
    elif case == "not the hub's":
        request = deployment_request(version.replace(f":{HUB}:", f":{PROD}:"))
    else:
        request = deployment_request(version, stage="dev")
    sagemaker, context = deployer_in(PROD, monkeypatch, world)

    result = deployer.handler(request, context)

    assert result["decision"] == "deny"
    assert sagemaker.list_endpoints()["Endpoints"] == []
    assert any(expected in v for v in result_violations(world, PROD)), result_violations(world, PROD)


def lineage_bucket_of_existing() -> tuple[Any, str]:
    return in_workload("s3"), Names(hub_with_stages(), account=WORKLOAD).lineage_bucket


def result_violations(world: World, account: str) -> list[str]:
    audit, bucket = boto3.client("s3", region_name=REGION), Names(world.policy, account=account).audit_bucket
    records = [
        json.loads(audit.get_object(Bucket=bucket, Key=o["Key"])["Body"].read())
        for o in audit.list_objects_v2(Bucket=bucket)["Contents"]
    ]
    return [v["message"] for r in records for v in r["violations"]]


@pytest.mark.parametrize(
    ("account", "requested", "stage", "problem"),
    [
        ("444444444444", None, "prod", None),
        ("222222222222", None, None, "account 222222222222 runs stages dev, staging: the request must name its stage"),
        ("222222222222", "staging", "staging", None),
        ("222222222222", "prod", None, "stage prod does not run in account 222222222222 (it runs dev, staging)"),
    ],
)
def test_a_deployer_of_an_account_shared_by_two_stages_is_told_which(
    account: str, requested: str | None, stage: str | None, problem: str | None
) -> None:
    found = deployment_stage(small_team(load_policy(EXAMPLE)), account, requested)
    assert (found.stage, found.problem) == (stage, problem)


# ---- promotions, asked in the hub with SageMaker's stage construct --------------------------------------------
STAGING = "333333333333"


def three_stages() -> GovernancePolicy:
    """The example's stages and promotion rules (prod needs another approver than staging's) in this hub."""
    stages = [
        {"name": "dev", "account": WORKLOAD, "ou": "ou-a1b2-nonprodwl"},
        {"name": "staging", "account": STAGING, "ou": "ou-a1b2-nonprodwl"},
        {"name": "prod", "account": PROD, "ou": "ou-a1b2-prodwkld"},
    ]
    return policy_variant(load_policy(EXAMPLE), accounts={"hub": HUB, "stages": stages, "projects": None})


def session_of(name: str) -> str:
    return f"arn:aws:sts::{HUB}:assumed-role/acme-model-approver/{name}"


REGISTRAR = f"arn:aws:sts::{WORKLOAD}:assumed-role/acme-credit-risk-sagemaker-execution/SageMaker"


def changed_by(world: World, version: str, person: str, **update: Any) -> None:
    """``person`` updates the version in the hub (``UpdateModelPackage(**update)``); a dev pipeline registered it."""
    world.sagemaker().update_model_package(ModelPackageArn=version, **update)
    world.set_identities(version, created_by=REGISTRAR, approved_by=session_of(person))


def ask_promotion(world: World, version: str, stage: str, by: str, context: Any) -> dict[str, Any]:
    """``by`` sets the version's ModelLifeCycle to ``stage``/Approved in the hub; SageMaker's state change reaches the gate."""
    changed_by(world, version, by, ModelLifeCycle={"Stage": stage, "StageStatus": "Approved"})
    result: dict[str, Any] = gate.handler(approval_event(version), context)
    return result


def promoted(world: World, stage: str, version: str) -> dict[str, Any] | None:
    item = (
        in_hub("dynamodb")
        .get_item(
            TableName=world.names.idempotency_table,
            Key={"id": {"S": Names(world.policy, account=HUB).promotion_record(stage, version)}},
        )
        .get("Item")
    )
    return json.loads(item["value"]["S"]) if item else None


def approved_by_alice(
    world_for: Any, monkeypatch: pytest.MonkeyPatch, context: Any, policy: GovernancePolicy
) -> tuple[World, str]:
    """A version a dev pipeline registered, approved by alice in the hub and cleared by its gate."""
    world = hub_handler(world_for, monkeypatch, "approval-gate", policy)
    version = world.register("credit-risk", pipeline_account=WORKLOAD, lineage=lineage_bucket_of(WORKLOAD))
    assert gate.handler(approval_event(version), context)["decision"] == "allow"
    return world, version


@pytest.fixture
def approved_in_the_hub(world_for: Any, monkeypatch: pytest.MonkeyPatch, lambda_context: Any) -> tuple[World, str]:
    return approved_by_alice(world_for, monkeypatch, lambda_context, three_stages())


def test_a_version_moves_dev_to_staging_to_prod_through_the_gate_and_prod_deploys_it(
    approved_in_the_hub: tuple[World, str], monkeypatch: pytest.MonkeyPatch, lambda_context: Any, hub_registry: None
) -> None:
    world, version = approved_in_the_hub

    assert ask_promotion(world, version, "staging", "bob", lambda_context)["decision"] == "allow"
    assert promoted(world, "staging", version)["by"] == "bob"  # type: ignore[index]
    refused = ask_promotion(world, version, "prod", "bob", lambda_context)
    assert refused["decision"] == "deny"
    life_cycle = world.sagemaker().describe_model_package(ModelPackageName=version)["ModelLifeCycle"]
    assert (life_cycle["Stage"], life_cycle["StageStatus"]) == ("prod", "Rejected")
    assert "bob promoted it into staging; prod needs a different approver" in life_cycle["StageDescription"]
    assert promoted(world, "prod", version) is None
    assert ask_promotion(world, version, "prod", "carol", lambda_context)["decision"] == "allow"
    assert world.status(version) == "Approved", "a promotion leaves the version's approval as it is"

    sagemaker, context = deployer_in(PROD, monkeypatch, world)
    assert deployer.handler(deployment_request(version), context)["decision"] == "allow"
    assert [e["EndpointName"] for e in sagemaker.list_endpoints()["Endpoints"]] == ["credit-risk-scoring"]


def test_a_version_whose_artifact_was_replaced_is_not_promoted(
    approved_in_the_hub: tuple[World, str], lambda_context: Any
) -> None:
    """A promotion record of bytes nobody approved would only be refused later, by each stage's deployer (review of
    2026-11-26): the promotion itself is refused, under model-artifact."""
    world, version = approved_in_the_hub
    world.replace_model_artifact(version)

    assert ask_promotion(world, version, "staging", "bob", lambda_context)["decision"] == "deny"

    assert promoted(world, "staging", version) is None
    (record,) = [r for r in world.audit_records() if r["violations"]]
    assert [v["rule"] for v in record["violations"]] == ["model-artifact"]
    assert "was replaced after approval" in record["violations"][0]["message"]


def test_a_promotion_whose_artifacts_cannot_be_read_is_refused_and_the_version_stays_approved(
    approved_in_the_hub: tuple[World, str], lambda_context: Any
) -> None:
    """A throttled HeadObject while judging a promotion held the version back (PendingManualApproval), which revokes
    its clearance and quarantines it in every stage (review of 2026-11-26): the promotion alone is refused."""
    world, version = approved_in_the_hub
    fail_calls(REGION, "s3", "HeadObject", "SlowDown")

    assert ask_promotion(world, version, "staging", "bob", lambda_context)["decision"] == "deny"

    assert world.status(version) == "Approved" and promoted(world, "staging", version) is None
    life_cycle = world.sagemaker().describe_model_package(ModelPackageName=version)["ModelLifeCycle"]
    assert (life_cycle["Stage"], life_cycle["StageStatus"]) == ("staging", "Rejected")


def test_a_promotion_that_skips_a_stage_is_refused_and_recorded(
    approved_in_the_hub: tuple[World, str], lambda_context: Any
) -> None:
    world, version = approved_in_the_hub

    assert ask_promotion(world, version, "prod", "carol", lambda_context)["decision"] == "deny"

    assert promoted(world, "prod", version) is None
    records = [r for r in world.audit_records() if r["violations"]]
    assert [v["message"] for v in records[-1]["violations"]] == [
        "the version has not been promoted into staging (prod comes after it)"
    ]
    assert records[-1]["who"] == session_of("carol")


@pytest.mark.parametrize("one_call", [True, False], ids=["approved-and-promoted-at-once", "stage-asked-while-pending"])
def test_an_approval_that_also_asks_a_stage_is_judged_as_an_approval_first(
    world_for: Any, monkeypatch: pytest.MonkeyPatch, lambda_context: Any, one_call: bool
) -> None:
    """A version the gate never cleared used to have only its promotion judged ("not cleared"): it stayed Approved
    with its approval rules never applied (review of 2026-11-26)."""
    world = hub_handler(world_for, monkeypatch, "approval-gate", three_stages())
    version = world.register(
        "credit-risk",
        metrics={"auc": 0.51, "accuracy": 0.5, "f1": 0.1},  # under credit-risk's thresholds
        status="PendingManualApproval",
        pipeline_account=WORKLOAD,
        lineage=lineage_bucket_of(WORKLOAD),
    )
    life_cycle = {"Stage": "staging", "StageStatus": "Approved"}
    if one_call:
        changed_by(world, version, "alice", ModelApprovalStatus="Approved", ModelLifeCycle=life_cycle)
    else:
        world.sagemaker().update_model_package(ModelPackageArn=version, ModelLifeCycle=life_cycle)
        changed_by(world, version, "alice", ModelApprovalStatus="Approved")

    result = gate.handler(approval_event(version), lambda_context)

    assert result["decision"] == "deny"
    assert world.status(version) == "Rejected"
    (record,) = world.audit_records()
    assert record["rule_set"] == "approval-gate" and "promotion" not in {v["rule"] for v in record["violations"]}
    assert clearance(version) is None and promoted(world, "staging", version) is None


@pytest.mark.parametrize("promoted", [False, True], ids=["never-promoted-into-prod", "promoted-into-prod"])
def test_the_guard_judges_a_prod_endpoint_by_the_hubs_promotion_record(
    world_for: Any, monkeypatch: pytest.MonkeyPatch, lambda_context: Any, promoted: bool
) -> None:
    """An endpoint in prod serving a cleared version the hub never promoted into prod was allowed: the guard checked
    approval and clearance only (review of 2026-11-26)."""

    world = hub_handler(world_for, monkeypatch, "deployment-guard")
    version = world.register("credit-risk", status="Approved")
    world.clear(version)
    if promoted:
        promoted_in_the_hub(world, "prod", version)
    sagemaker = serving_in(PROD, version)
    event = {**api_call_event("CreateEndpoint", name="credit-risk-scoring", region=REGION), "account": PROD}

    result = deployment_guard.handler(event, lambda_context)

    assert result["decisions"] == (["allow"] if promoted else ["deny"])
    if not promoted:
        (record,) = [r for r in world.audit_records() if r["rule_set"] == "deployment"]
        assert record["violations"][0]["message"].endswith("which has not been promoted into prod")
        assert sagemaker.list_endpoints()["Endpoints"] == []


def test_a_retry_of_facts_remembered_before_the_stage_rule_reads_the_promotions(
    world_for: Any, monkeypatch: pytest.MonkeyPatch, lambda_context: Any
) -> None:
    """Facts a first attempt stored before the stage rule have no promotions: read as "promoted into nothing", the
    retry deleted a promoted prod endpoint (found by a review of the change)."""
    from dataclasses import asdict

    world = hub_handler(world_for, monkeypatch, "deployment-guard")
    version = world.register("credit-risk", status="Approved")
    world.clear(version)
    promoted_in_the_hub(world, "prod", version)
    sagemaker = serving_in(PROD, version)
    event = {**api_call_event("CreateEndpoint", name="credit-risk-scoring", region=REGION), "account": PROD}
    before = asdict(deployment_guard.trace_endpoint("credit-risk-scoring", REGION, PROD))
    for served in before["served"]:
        served.pop("promoted_into")
    deployment_guard.ledger.remembered(
        deployment_guard.FACTS, f"{event['id']}:{REGION}:credit-risk-scoring", lambda: {"endpoint": before}
    )

    assert deployment_guard.handler(event, lambda_context)["decisions"] == ["allow"]
    assert [e["EndpointName"] for e in sagemaker.list_endpoints()["Endpoints"]] == ["credit-risk-scoring"]


@pytest.mark.parametrize(
    ("stage", "decision", "promoted_by"),
    [("staging", "allow", "bob"), ("prod", "deny", None)],
    ids=["allowed-promotion", "promotion-skipping-staging"],
)
def test_a_promotion_delivered_again_after_its_completion_failed_is_judged_as_the_same_promotion(
    approved_in_the_hub: tuple[World, str], lambda_context: Any, stage: str, decision: str, promoted_by: str | None
) -> None:
    """The retry found the promotion recorded (or the stage refused) and judged the event as an approval by the
    promoter: a second decision for one event, a refused promotion ending with the version Rejected, and an allowed
    one rewriting who approved the version (review of 2026-11-26, I2)."""
    from tests.lambdas.fault_matrix import _LaterRetries

    world, version = approved_in_the_hub
    changed_by(world, version, "bob", ModelLifeCycle={"Stage": stage, "StageStatus": "Approved"})
    event = approval_event(version, event_id="bob-asks-for-a-stage")
    fail_calls(None, "dynamodb", "UpdateItem", "ProvisionedThroughputExceededException", times=1)  # completing the event
    later = _LaterRetries(lambda_context)  # the first delivery's in-progress lock has expired by the second

    with pytest.raises(ClientError):
        gate.handler(json.loads(json.dumps(event)), later)
    assert gate.handler(json.loads(json.dumps(event)), later)["decision"] == decision

    records = [r for r in world.audit_records() if r["event"]["id"] == event["id"]]
    assert sorted(r["decision"] for r in records) == sorted([decision, "undecidable"])
    (judged,) = [r for r in records if r["decision"] == decision]
    assert judged["evidence"]["stage"] == stage and judged["who"] == session_of("bob")
    assert world.status(version) == "PendingManualApproval", "held back when the first delivery could not complete"
    assert (promoted(world, stage, version) or {}).get("by") == promoted_by
    assert approvers(clearance(version)) == ("alice",)


def staging_needs_another_approver() -> GovernancePolicy:
    """The three stages, with staging asked of someone other than the hub's approver (``distinct_approver`` after
    the entry stage)."""
    promotion = {
        "staging": {"after": "dev", "require_approved": True, "distinct_approver": True},
        "prod": {"after": "staging", "require_approved": True, "distinct_approver": True},
    }
    return policy_variant(three_stages(), accounts={**three_stages().accounts.model_dump(), "promotion": promotion})  # type: ignore[union-attr]


def test_a_later_change_to_an_approved_version_does_not_take_its_approver_off_the_record(
    world_for: Any, monkeypatch: pytest.MonkeyPatch, lambda_context: Any
) -> None:
    """Any update of an Approved version (a description, a stage already recorded) reaches the gate as an approval
    by whoever made it; the clearance then named that person as the approver instead of the one who approved, who
    could then promote their own approval into a stage that needs another approver (review of 2026-11-26)."""
    world, version = approved_by_alice(world_for, monkeypatch, lambda_context, staging_needs_another_approver())
    changed_by(world, version, "bob", ApprovalDescription="reviewed the report again")
    assert gate.handler(approval_event(version, event_id="bob-edits"), lambda_context)["decision"] == "allow"

    refused = ask_promotion(world, version, "staging", "alice", lambda_context)
    assert refused["decision"] == "deny"
    assert "alice approved the version; staging needs a different approver" in refused["explanation"]
    assert ask_promotion(world, version, "staging", "bob", lambda_context)["decision"] == "deny", "judged as approving"
    assert ask_promotion(world, version, "staging", "carol", lambda_context)["decision"] == "allow"


def test_a_version_rejected_and_approved_again_is_promoted_again_stage_by_stage(
    world_for: Any, monkeypatch: pytest.MonkeyPatch, lambda_context: Any
) -> None:
    """Promotion records outlived the clearance: after alice's rejection, bob approved the version again and his
    staging promotion, judged when alice was the approver, still let carol promote it into prod (review of
    2026-11-26)."""
    world, version = approved_by_alice(world_for, monkeypatch, lambda_context, staging_needs_another_approver())
    assert ask_promotion(world, version, "staging", "bob", lambda_context)["decision"] == "allow"

    world.sagemaker().update_model_package(ModelPackageArn=version, ModelApprovalStatus="Rejected")
    act_as(monkeypatch, world.policy, "deployment-guard")
    deployment_guard.handler(approval_event(version, status="Rejected"), lambda_context)
    assert clearance(version) is None and promoted(world, "staging", version) is None

    act_as(monkeypatch, world.policy, "approval-gate")
    changed_by(world, version, "bob", ModelApprovalStatus="Approved")
    assert gate.handler(approval_event(version, event_id="bob-approves-again"), lambda_context)["decision"] == "allow"
    refused = ask_promotion(world, version, "prod", "carol", lambda_context)
    assert refused["decision"] == "deny"
    assert "the version has not been promoted into staging (prod comes after it)" in refused["explanation"]
    assert ask_promotion(world, version, "staging", "bob", lambda_context)["decision"] == "deny", "bob approved it"


def event_of_the_last_change(world: World, version: str, event_id: str) -> dict[str, Any]:
    """The state change event SageMaker sends for the version's last update (its ``LastModifiedTime``)."""
    event = approval_event(version, event_id=event_id)
    changed = world.sagemaker().describe_model_package(ModelPackageName=version)["LastModifiedTime"]
    event["detail"]["LastModifiedTime"] = changed.astimezone(UTC).isoformat(timespec="seconds")
    return event


# A first attempt of bob's stage request that fails: the fault injected once, and what the gate raises.
CANNOT_READ_THE_VERSION = ((REGION, "sagemaker", "DescribeModelPackage", "ThrottlingException"), gate.GateUndecided)
CANNOT_WRITE_ITS_RECORD = ((None, "s3", "PutObject", "SlowDown"), ClientError)  # after its facts are stored


def bob_asks_for_staging_and_the_first_attempt_fails(
    world: World, version: str, failure: tuple[tuple[str | None, str, str, str], type[Exception]], lambda_context: Any
) -> tuple[dict[str, Any], Any]:
    """bob asks for staging and the gate's first attempt fails (``failure``), so the version is held back; the event,
    and a context whose retry takes over the first attempt's in-progress lock."""
    from tests.lambdas.fault_matrix import _LaterRetries

    changed_by(world, version, "bob", ModelLifeCycle={"Stage": "staging", "StageStatus": "Approved"})
    event = event_of_the_last_change(world, version, "bob-asks-for-staging")
    fault, raised = failure
    fail_calls(*fault, times=1)
    later = _LaterRetries(lambda_context)
    with pytest.raises(raised):
        gate.handler(json.loads(json.dumps(event)), later)
    assert world.status(version) == "PendingManualApproval"
    return event, later


def test_a_promotion_retried_after_its_version_was_held_back_is_not_recorded(
    world_for: Any, monkeypatch: pytest.MonkeyPatch, lambda_context: Any
) -> None:
    """The retry judged the promotion on the facts its first attempt stored and recorded it, though the version had
    been held back since (the record was promoted while not Approved; review of 2026-11-26)."""
    world, version = approved_by_alice(world_for, monkeypatch, lambda_context, staging_needs_another_approver())
    event, later = bob_asks_for_staging_and_the_first_attempt_fails(world, version, CANNOT_WRITE_ITS_RECORD, lambda_context)
    retried = gate.handler(json.loads(json.dumps(event)), later)

    assert retried["decision"] == "allow"  # the same decision, on the same facts
    assert retried["action_result"].startswith("none: the version is PendingManualApproval now")
    assert promoted(world, "staging", version) is None


def test_a_promotion_whose_first_attempt_failed_before_reading_the_version_is_judged_as_a_promotion(
    world_for: Any, monkeypatch: pytest.MonkeyPatch, lambda_context: Any
) -> None:
    """The first attempt could not read the version, so it stored no facts, and held the version back; the retry
    found it PendingManualApproval, no promotion to judge, and judged an approval by the promoter: an allow record
    naming bob as the approver of what alice approved (review of 2026-11-26, finding 3). What was asked is stored
    after the hold's record: a store that hangs (DynamoDB timing out) must not keep the record from being written."""
    world, version = approved_by_alice(world_for, monkeypatch, lambda_context, staging_needs_another_approver())
    records_when_stored: list[list[str]] = []
    store = gate.remember_a_promotion

    def store_after_the_record(held: dict[str, Any], package: dict[str, Any], policy: GovernancePolicy) -> None:
        records_when_stored.append([r["decision"] for r in world.audit_records() if r["event"]["id"] == held["id"]])
        store(held, package, policy)

    monkeypatch.setattr(gate, "remember_a_promotion", store_after_the_record)
    event, later = bob_asks_for_staging_and_the_first_attempt_fails(world, version, CANNOT_READ_THE_VERSION, lambda_context)
    assert records_when_stored == [["undecidable"]]
    retried = gate.handler(json.loads(json.dumps(event)), later)

    assert retried["action_result"].startswith("none: the version is PendingManualApproval now")
    (held, judged) = sorted(
        (r for r in world.audit_records() if r["event"]["id"] == event["id"]), key=lambda r: r["decision"] != "undecidable"
    )
    assert held["decision"] == "undecidable", "the hold's record comes first"
    assert judged["evidence"]["stage"] == "staging" and judged["who"] == session_of("bob")
    assert "approved_by" not in judged["evidence"] and judged["evidence"]["approvers"] == ["alice"]
    assert promoted(world, "staging", version) is None


@pytest.mark.parametrize(
    "first_attempt",
    [CANNOT_READ_THE_VERSION, CANNOT_WRITE_ITS_RECORD],
    ids=["cannot-read-the-version", "cannot-write-its-record"],
)
def test_a_promotion_retried_after_its_promoter_approved_the_version_again_is_not_kept(
    first_attempt: tuple[tuple[str | None, str, str, str], type[Exception]],
    world_for: Any,
    monkeypatch: pytest.MonkeyPatch,
    lambda_context: Any,
) -> None:
    """Held back by the failed first attempt, the version lost its clearance; bob approved it again, so the new
    clearance names bob. The retry (a redrive from the dead-letter queue) still allowed bob's promotion on facts that
    named alice, and kept it: staging would deploy what only its promoter approved (review of this session)."""
    world, version = approved_by_alice(world_for, monkeypatch, lambda_context, staging_needs_another_approver())
    event, later = bob_asks_for_staging_and_the_first_attempt_fails(world, version, first_attempt, lambda_context)
    act_as(monkeypatch, world.policy, "deployment-guard")
    deployment_guard.handler(approval_event(version, status="PendingManualApproval", event_id="held"), lambda_context)
    assert clearance(version) is None
    act_as(monkeypatch, world.policy, "approval-gate")
    changed_by(world, version, "bob", ModelApprovalStatus="Approved")
    assert gate.handler(approval_event(version, event_id="bob-approves-again"), lambda_context)["decision"] == "allow"
    assert approvers(clearance(version)) == ("bob",)

    retried = gate.handler(json.loads(json.dumps(event)), later)

    assert retried["action_result"].startswith("none: its approvers changed since (now bob)")
    assert promoted(world, "staging", version) is None


def test_an_edit_held_back_does_not_take_a_later_stage_request_for_its_own(
    world_for: Any, monkeypatch: pytest.MonkeyPatch, lambda_context: Any
) -> None:
    """carol edits the cleared version, then bob asks for staging; the edit's first attempt fails and holds the
    version back. The hold read the version as bob left it: storing that stage request as the edit's would record
    a promotion by bob under carol's event (review of this session)."""
    from tests.lambdas.fault_matrix import _LaterRetries

    world, version = approved_by_alice(world_for, monkeypatch, lambda_context, staging_needs_another_approver())
    changed_by(world, version, "carol", ApprovalDescription="typo")
    edit = event_of_the_last_change(world, version, "carol-edits")
    time.sleep(1 - time.time() % 1)  # into the next second: an event's time has seconds only
    changed_by(world, version, "bob", ModelLifeCycle={"Stage": "staging", "StageStatus": "Approved"})
    fail_calls(REGION, "sagemaker", "DescribeModelPackage", "ThrottlingException", times=1)
    later = _LaterRetries(lambda_context)
    with pytest.raises(gate.GateUndecided):
        gate.handler(json.loads(json.dumps(edit)), later)
    assert gate.ledger.lookup(gate.FACTS, "carol-edits") is None
    retried = gate.handler(json.loads(json.dumps(edit)), later)
    (judged,) = [r for r in world.audit_records() if r["event"]["id"] == "carol-edits" and r["decision"] != "undecidable"]
    assert "stage" not in judged["evidence"] and judged["decision"] == retried["decision"]


def test_two_approvals_judged_at_once_both_stay_on_the_clearance(
    world_for: Any, monkeypatch: pytest.MonkeyPatch, lambda_context: Any
) -> None:
    """The clearance was read, then written back with no condition: alice's approval, kept between bob's read and
    bob's write, was lost, and alice could promote her own approval (review of 2026-11-26)."""
    from lambdas.shared import clearance as clearances

    world = hub_handler(world_for, monkeypatch, "approval-gate", staging_needs_another_approver())
    version = world.register("credit-risk", pipeline_account=WORKLOAD, lineage=lineage_bucket_of(WORKLOAD))
    alice = approval_event(version, event_id="alice-approves")
    changed_by(world, version, "bob", ApprovalDescription="reviewed")
    bob = approval_event(version, event_id="bob-edits")
    read_by_bob, approvers_of = [], clearances.approvers

    def alice_meanwhile(current: dict[str, Any] | None) -> tuple[str, ...]:
        if not read_by_bob:  # bob's gate has read the clearance: alice's approval is judged and kept now
            read_by_bob.append(current)
            world.set_identities(version, created_by=REGISTRAR, approved_by=session_of("alice"))
            assert gate.handler(alice, lambda_context)["decision"] == "allow"
            world.set_identities(version, created_by=REGISTRAR, approved_by=session_of("bob"))
        return approvers_of(current)

    monkeypatch.setattr(clearances, "approvers", alice_meanwhile)
    assert gate.handler(bob, lambda_context)["decision"] == "allow"
    monkeypatch.setattr(clearances, "approvers", approvers_of)

    assert read_by_bob == [None]
    assert approvers_of(clearance(version)) == ("alice", "bob")
    assert ask_promotion(world, version, "staging", "alice", lambda_context)["decision"] == "deny"
