"""Each handler's declared IAM permissions are exactly the AWS calls it makes.

The handlers run through scenarios that exercise every action they can take; a botocore
hook records each call as an IAM action. A call without a grant fails the test (the
handler would fail in AWS with AccessDenied), and so does a grant nothing uses.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from lambdas.actions import QuarantineVariants
from lambdas.approval_gate import handler as gate
from lambdas.classification_tags import handler as classification
from lambdas.deployment_guard import handler as guard_deploy
from lambdas.deployment_guard.trace import trace_endpoint
from lambdas.model_deployer import handler as deployer
from lambdas.region_guard import handler as guard
from lambdas.shared import aws
from lambdas.table import HANDLERS, HandlerSpec, handler_spec
from lambdas.tamper_watch import handler as tamper
from policies.rules.deployment import decide_serving
from policies.rules.resources import ResourceFacts, ResourceKind
from tests.events import ACCOUNT, api_call_event, approval_event, tag_call_event, tamper_event
from tests.lambdas.sagemaker_fixtures import (
    create_endpoint,
    create_model,
    create_processing_job,
    create_training_job,
    create_transform_job,
)
from tests.lambdas.world import APPROVER, World, fail_calls

# IAM actions that authorize an API operation of a different name.
OPERATION_TO_ACTION = {"s3:HeadObject": "s3:GetObject", "s3:ListObjectVersions": "s3:ListBucketVersions"}
# Actions AWS also checks on a call: creating a resource with tags needs sagemaker:AddTags ("tag on create").
IMPLIED_ACTIONS = {
    "sagemaker:CreateModel": "sagemaker:AddTags",
    "sagemaker:CreateEndpointConfig": "sagemaker:AddTags",
    "sagemaker:CreateEndpoint": "sagemaker:AddTags",
}
# Grants for calls the embedded AWS cannot exercise, each with the reason.
UNEXERCISED = {
    "deployment-guard": {
        "sagemaker:DescribeInferenceComponent": "moto has no inference components; the guard describes each one AWS lists"
    },
}
# Services the handler code calls itself (SQS, X-Ray, Logs and KMS encryption are used by AWS on its behalf);
# the one KMS call the code makes is the tamper watch's alias lookup.
CODE_SERVICES = {"sagemaker", "s3", "sns", "dynamodb"}
CODE_ACTIONS = {"kms:ListAliases"}


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> Iterator[set[str]]:
    calls: set[str] = set()
    original = aws.client

    def recording_client(service: str, region: str | None = None, *, account: str | None = None, role: str | None = None) -> Any:
        client = original(service, region, account=account, role=role)
        if not getattr(client, "_recorded", False):
            prefix = client.meta.service_model.signing_name

            def hook(model: Any, **_: Any) -> None:
                action = f"{prefix}:{model.name}"
                calls.add(OPERATION_TO_ACTION.get(action, action))
                if action in IMPLIED_ACTIONS:
                    calls.add(IMPLIED_ACTIONS[action])

            client.meta.events.register("before-call.*.*", hook)
            client._recorded = True
        return client

    monkeypatch.setattr(aws, "client", recording_client)
    yield calls


def declared(spec: HandlerSpec) -> set[str]:
    return {
        action
        for grant in spec.grants
        for action in grant.actions
        if action.split(":")[0] in CODE_SERVICES or action in CODE_ACTIONS
    }


def approval_gate_scenarios(world: World, context: Any) -> None:
    compliant = world.register("credit-risk")
    event = approval_event(compliant)
    gate.handler(event, context)
    gate.handler(event, context)  # redelivery
    gate.handler(approval_event(world.register("credit-risk", metrics={"auc": 0.1, "accuracy": 0.1})), context)
    # A version registered without a person on its session: the registrar is whoever started the pipeline execution.
    pipelines = world.sagemaker("eu-west-1")
    pipelines.create_pipeline(
        PipelineName="credit-risk-governed",
        PipelineDefinition=json.dumps({"Version": "2020-12-01", "Steps": []}),
        RoleArn=world.names.role_arn(world.names.execution_role(world.policy.project("credit-risk"))),
    )
    execution = pipelines.start_pipeline_execution(PipelineName="credit-risk-governed")["PipelineExecutionArn"]
    unattributed = world.register("credit-risk", generated_by=execution)
    world.set_identities(unattributed, created_by=None, approved_by=APPROVER)
    gate.handler(approval_event(unattributed), context)
    held = world.register("credit-risk")
    fail_calls("eu-west-1", "s3", "GetObject", "AccessDenied")
    with pytest.raises(gate.GateUndecided):
        gate.handler(approval_event(held), context)


def every_job_kind(region: str, handler: Any, context: Any) -> None:
    create_training_job("credit-risk-t", {"ml-project": "credit-risk"}, region=region)
    create_processing_job("credit-risk-p", region)
    create_transform_job("credit-risk-x", region)
    handler(api_call_event("CreateTrainingJob", name="credit-risk-t", region=region), context)
    handler(api_call_event("CreateProcessingJob", name="credit-risk-p", region=region), context)
    handler(api_call_event("CreateTransformJob", name="credit-risk-x", region=region), context)


def classification_scenarios(world: World, context: Any) -> None:
    create_model("credit-risk-m", {"ml-project": "credit-risk"})
    event = api_call_event("CreateModel", name="credit-risk-m", region="eu-west-1")
    classification.handler(event, context)
    classification.handler(event, context)
    every_job_kind("eu-west-1", classification.handler, context)
    for arn in (  # tag calls: the role each resource runs as is read from it
        create_model("credit-risk-o", {"data-classification": "confidential"}),
        f"arn:aws:sagemaker:eu-west-1:{world.names.account}:training-job/credit-risk-t",
        f"arn:aws:sagemaker:eu-west-1:{world.names.account}:processing-job/credit-risk-p",
    ):
        classification.handler(tag_call_event("AddTags", arn, {"team": "risk"}), context)
    create_model("credit-risk-n", {"ml-project": "credit-risk"})
    fail_calls("eu-west-1", "sagemaker", "AddTags", "ThrottlingException")
    with pytest.raises(ClientError):
        classification.handler(api_call_event("CreateModel", name="credit-risk-n", region="eu-west-1"), context)


def region_guard_scenarios(world: World, context: Any) -> None:
    every_job_kind("us-east-1", guard.handler, context)
    redelivered = api_call_event("CreateTrainingJob", name="credit-risk-t", region="us-east-1")
    guard.handler(redelivered, context)
    guard.handler(redelivered, context)
    create_endpoint("credit-risk-e", "us-east-1")
    guard.handler(api_call_event("CreateEndpoint", name="credit-risk-e", region="us-east-1"), context)
    create_endpoint("credit-risk-f", "us-east-1")
    fail_calls("us-east-1", "sagemaker", "DeleteEndpoint", "ThrottlingException")
    with pytest.raises(ClientError):
        guard.handler(api_call_event("CreateEndpoint", name="credit-risk-f", region="us-east-1"), context)


def tamper_watch_scenarios(world: World, context: Any) -> None:
    kms = boto3.client("kms", region_name="eu-west-1")
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/acme-ml-ops", TargetKeyId=key)
    tamper.handler(tamper_event("key-deletion", overrides={"keyId": key}), context)
    redelivered = tamper_event("disable-rule")
    tamper.handler(redelivered, context)
    tamper.handler(redelivered, context)
    failing = tamper_event("trail-stopped")
    fail_calls(None, "sns", "Publish", "ThrottlingException", times=1)
    with pytest.raises(ClientError):
        tamper.handler(failing, context)
    tamper.handler(failing, context)  # the retry completes the alert


def cleared_version(world: World) -> str:
    """An approved version with the gate's clearance, set up without calling the gate (whose calls are not the subject)."""
    arn = world.register("credit-risk")
    world.clear(arn)
    return arn


def model_deployer_scenarios(world: World, context: Any) -> None:
    from tests.lambdas.test_deployment_gate import request

    deployer.handler(request(cleared_version(world)), context)  # creates
    deployer.handler(request(cleared_version(world)), context)  # updates
    deployer.handler(request(world.register("credit-risk", status="PendingManualApproval")), context)  # refused


def deployment_guard_scenarios(world: World, context: Any) -> None:
    from tests.lambdas.test_deployment_gate import scheduled_sweep

    kept = cleared_version(world)
    sm = boto3.client("sagemaker", region_name="eu-west-1")
    sm.create_model(
        ModelName="credit-risk-v1", PrimaryContainer={"ModelPackageName": kept}, ExecutionRoleArn=f"arn:aws:iam::{ACCOUNT}:role/x"
    )
    variant = {
        "VariantName": "AllTraffic",
        "ModelName": "credit-risk-v1",
        "InstanceType": "ml.m5.large",
        "InitialInstanceCount": 1,
    }
    sm.create_endpoint_config(EndpointConfigName="credit-risk-scoring-v1", ProductionVariants=[variant])
    sm.create_endpoint(EndpointName="credit-risk-scoring", EndpointConfigName="credit-risk-scoring-v1")
    create_endpoint("credit-risk-manual", "eu-west-1")
    guard_deploy.handler(scheduled_sweep(), context)  # deletes the manual endpoint
    sm.update_model_package(ModelPackageArn=kept, ModelApprovalStatus="Rejected")
    guard_deploy.handler(approval_event(kept, status="Rejected"), context)  # revokes, deletes
    # the scale-to-zero quarantine, on an endpoint serving a version that is no longer cleared
    sm.create_endpoint(EndpointName="credit-risk-canary", EndpointConfigName="credit-risk-scoring-v1")
    decision = decide_serving(
        world.policy, trace_endpoint("credit-risk-canary", "eu-west-1", ACCOUNT), lineage_bucket=world.names.lineage_bucket
    )  # type: ignore[arg-type]
    target = ResourceFacts(kind=ResourceKind.ENDPOINT, name="credit-risk-canary", arn="arn", region="eu-west-1")
    QuarantineVariants.perform(decision, target)
    failing = scheduled_sweep()
    fail_calls("eu-west-1", "sagemaker", "ListEndpoints", "ThrottlingException", times=1)
    with pytest.raises(ClientError):
        guard_deploy.handler(failing, context)


def drift_monitor_scenarios(world: World, context: Any) -> None:
    import os
    from datetime import timedelta
    from pathlib import Path

    from lambdas.drift_monitor import handler as drift
    from lambdas.shared import policy as packaged_policy
    from lambdas.shared.policy import POLICY_FILE_ENV
    from tests.lambdas.test_drift_monitor import DATA, RUN_TIME, Deployed, drift_policy, run_event

    Path(os.environ[POLICY_FILE_ENV]).write_text(drift_policy(world.policy, on_breach="quarantine").model_dump_json())
    packaged_policy.reset()
    with pytest.MonkeyPatch.context() as patch:
        # ListObjectsV2 is authorized by s3:ListBucket (Service Authorization Reference).
        patch.setitem(OPERATION_TO_ACTION, "s3:ListObjectsV2", "s3:ListBucket")
        deployed = Deployed(world)
        deployed.capture(DATA.shifted())
        event = run_event(world)
        drift.handler(event, context)  # drift: report, record, alert, the version sent back
        drift.handler(event, context)  # redelivery
        world.sagemaker().update_model_package(ModelPackageArn=deployed.version, ModelApprovalStatus="Approved")
        fail_calls("eu-west-1", "sagemaker", "UpdateModelPackage", "ThrottlingException")
        with pytest.raises(ClientError):
            drift.handler(run_event(world, time=RUN_TIME + timedelta(hours=1)), context)


SCENARIOS: dict[str, Callable[[World, Any], None]] = {
    "approval-gate": approval_gate_scenarios,
    "classification-tags": classification_scenarios,
    "region-guard": region_guard_scenarios,
    "tamper-watch": tamper_watch_scenarios,
    "model-deployer": model_deployer_scenarios,
    "deployment-guard": deployment_guard_scenarios,
    "drift-monitor": drift_monitor_scenarios,
}


def test_every_handler_of_the_table_has_scenarios() -> None:
    assert sorted(SCENARIOS) == sorted(spec.name for spec in HANDLERS)


@pytest.mark.parametrize("handler", sorted(SCENARIOS))
def test_declared_permissions_are_exactly_the_calls_made(
    world: World, lambda_context: Any, recorded: set[str], handler: str
) -> None:
    SCENARIOS[handler](world, lambda_context)
    grants = declared(handler_spec(handler))
    assert recorded - grants == set(), "calls the handler makes without a grant"
    assert grants - recorded == set(UNEXERCISED.get(handler, {})), "grants the handler never uses"


def test_each_decision_action_has_exactly_one_remedy_per_handler() -> None:
    for spec in HANDLERS:
        performs = [remedy.performs for remedy in spec.remedies]
        assert len(performs) == len(set(performs)), spec.name
