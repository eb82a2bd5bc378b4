"""Deployment only of approved versions: the deployer deploys what the gate cleared, refuses the rest; the guard
quarantines an endpoint that serves anything else, including a version rejected after it was deployed."""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict
from typing import Any

import boto3
import pytest

from lambdas.approval_gate import handler as gate
from lambdas.deployment_guard import handler as guard
from lambdas.model_deployer import handler as deployer
from lambdas.shared.clearance import clearance
from lambdas.shared.events import MalformedEvent
from policies.model import GovernancePolicy
from tests.conftest import policy_variant
from tests.events import ACCOUNT, api_call_event, approval_event, object_created_event
from tests.lambdas.sagemaker_fixtures import create_endpoint, endpoints
from tests.lambdas.world import APPROVER, REGION, World

LOW = {"auc": 0.61, "accuracy": 0.9}


def approved_by_the_gate(world: World, context: Any, *, metrics: dict[str, float] | None = None) -> str:
    arn = world.register("credit-risk", metrics=metrics)
    event = approval_event(arn)
    event["detail"]["LastModifiedBy"] = {"IamIdentity": {"Arn": APPROVER, "SourceIdentity": "alice"}}
    gate.handler(event, context)
    return arn


def request(arn: str, endpoint: str = "credit-risk-scoring") -> dict[str, Any]:
    return {"model_package_arn": arn, "endpoint_name": endpoint, "instance_type": "ml.m5.large", "instance_count": 1}


def sagemaker() -> Any:
    return boto3.client("sagemaker", region_name=REGION)


def scheduled_sweep() -> dict[str, Any]:
    """The documented shape of a scheduled EventBridge event (EventBridge User Guide, "Creating a rule that runs on a schedule")."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": "2026-11-25T10:00:00Z",
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/acme-deployment-guard-schedule"],
        "detail": {},
    }


def deployment_records(world: World) -> list[dict[str, Any]]:
    return [r for r in world.audit_records() if r["rule_set"] == "deployment"]


def test_a_version_the_gate_cleared_is_deployed_from_the_registry_with_capture(world: World, lambda_context: Any) -> None:
    arn = approved_by_the_gate(world, lambda_context)
    assert clearance(arn) is not None
    result = deployer.handler(request(arn), lambda_context)
    assert result["decision"] == "allow", result
    endpoint = sagemaker().describe_endpoint(EndpointName="credit-risk-scoring")
    config = sagemaker().describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
    model = sagemaker().describe_model(ModelName=config["ProductionVariants"][0]["ModelName"])
    assert model["PrimaryContainer"]["ModelPackageName"] == arn
    assert model["ExecutionRoleArn"].endswith("role/acme-credit-risk-sagemaker-execution")
    capture = config["DataCaptureConfig"]
    assert capture["EnableCapture"] and capture["DestinationS3Uri"].endswith("/projects/credit-risk/capture/credit-risk-scoring")
    (record,) = deployment_records(world)
    assert record["action"]["result"].startswith("created endpoint credit-risk-scoring")


def test_a_second_deployment_updates_the_endpoint(world: World, lambda_context: Any) -> None:
    first = approved_by_the_gate(world, lambda_context)
    deployer.handler(request(first), lambda_context)
    second = approved_by_the_gate(world, lambda_context)
    result = deployer.handler(request(second), lambda_context)
    assert result["action_result"].startswith("updated endpoint credit-risk-scoring")
    config = sagemaker().describe_endpoint(EndpointName="credit-risk-scoring")["EndpointConfigName"]
    assert config.endswith("-v2")


def test_a_rollback_to_an_earlier_version_has_a_record_of_its_own(world: World, lambda_context: Any) -> None:
    """v1, v2, then v1 again the same day: the third deployment's record had the first one's key, so nothing was
    written and the audit trail said v2 was live (review of 2026-11-26)."""
    first = approved_by_the_gate(world, lambda_context)
    second = approved_by_the_gate(world, lambda_context)
    for arn in (first, second, first):
        assert deployer.handler(request(arn), lambda_context)["decision"] == "allow"
    assert sagemaker().describe_endpoint(EndpointName="credit-risk-scoring")["EndpointConfigName"].endswith("-v1")
    results = [r["action"]["result"] for r in deployment_records(world) if r["decision"] == "allow"]
    assert len(results) == 3 and sum("config credit-risk-scoring-credit-risk-v1 " in r for r in results) == 2, results


@pytest.mark.parametrize(
    ("setup", "reason"),
    [
        pytest.param(
            lambda w, c: w.register("credit-risk", status="PendingManualApproval"), "PendingManualApproval", id="pending"
        ),
        pytest.param(lambda w, c: approved_by_the_gate(w, c, metrics=LOW), "Rejected", id="rejected-by-the-gate"),
        pytest.param(lambda w, c: w.register("credit-risk"), "has not cleared", id="approved-without-the-gate"),
    ],
)
def test_anything_else_is_refused_and_nothing_is_created(world: World, lambda_context: Any, setup: Any, reason: str) -> None:
    arn = setup(world, lambda_context)
    result = deployer.handler(request(arn), lambda_context)
    assert result["decision"] == "deny" and reason in result["explanation"]
    assert endpoints(REGION) == []
    assert sagemaker().list_models()["Models"] == []
    (record,) = deployment_records(world)
    assert record["action"]["result"] == "refused: nothing was deployed"
    assert any(n["rule_set"] == "deployment" for n in world.notifications())


def test_an_endpoint_not_named_for_its_project_is_refused(world: World, lambda_context: Any) -> None:
    arn = approved_by_the_gate(world, lambda_context)
    assert deployer.handler(request(arn, "churn-forecast-live"), lambda_context)["decision"] == "deny"


def test_a_version_rejected_after_deployment_is_quarantined(world: World, lambda_context: Any) -> None:
    arn = approved_by_the_gate(world, lambda_context)
    deployer.handler(request(arn), lambda_context)
    sagemaker().update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Rejected")
    result = guard.handler(approval_event(arn, status="Rejected"), lambda_context)
    assert result["revoked"] == arn and result["decisions"] == ["deny"]
    assert clearance(arn) is None
    assert endpoints(REGION) == [], "deployment.quarantine defaults to delete-endpoint"
    (record,) = [r for r in deployment_records(world) if r["decision"] == "deny"]
    assert "which is Rejected, not Approved" in record["violations"][0]["message"]


def test_scale_to_zero_takes_the_variant_out_of_traffic(world_for: Any, lambda_context: Any, policy: GovernancePolicy) -> None:
    world = world_for(policy_variant(policy, deployment={"quarantine": "scale-to-zero"}))
    arn = approved_by_the_gate(world, lambda_context)
    deployer.handler(request(arn), lambda_context)
    sagemaker().update_model_package(ModelPackageArn=arn, ModelApprovalStatus="PendingManualApproval")
    guard.handler(approval_event(arn, status="PendingManualApproval"), lambda_context)
    variants = sagemaker().describe_endpoint(EndpointName="credit-risk-scoring")["ProductionVariants"]
    assert [v["CurrentWeight"] for v in variants] == [0.0]


def test_an_endpoint_created_outside_the_deployer_is_deleted(world: World, lambda_context: Any) -> None:
    create_endpoint("credit-risk-shadow-it", REGION)  # a raw model, no ModelPackageName
    result = guard.handler(api_call_event("CreateEndpoint", name="credit-risk-shadow-it", region=REGION), lambda_context)
    assert result["decisions"] == ["deny"]
    assert endpoints(REGION) == []
    (record,) = deployment_records(world)
    assert "does not come from the model registry" in record["violations"][0]["message"]


def test_the_sweep_keeps_cleared_endpoints_and_quarantines_the_rest(world: World, lambda_context: Any) -> None:
    arn = approved_by_the_gate(world, lambda_context)
    deployer.handler(request(arn), lambda_context)
    create_endpoint("credit-risk-manual", REGION)
    result = guard.handler(scheduled_sweep(), lambda_context)
    assert sorted(result["decisions"]) == ["allow", "deny"]
    assert endpoints(REGION) == ["credit-risk-scoring"]


def test_a_redelivered_revocation_records_once(world: World, lambda_context: Any) -> None:
    arn = approved_by_the_gate(world, lambda_context)
    deployer.handler(request(arn), lambda_context)
    sagemaker().update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Rejected")
    event = approval_event(arn, status="Rejected")
    guard.handler(event, lambda_context)
    guard.handler(event, lambda_context)
    assert len([r for r in deployment_records(world) if r["decision"] == "deny"]) == 1


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda e: e["detail"]["requestParameters"].pop("endpointName"), id="no-endpoint-name"),
        pytest.param(lambda e: e.update(region="eu-west-3"), id="region-disagrees"),
        pytest.param(lambda e: e.update(detail="CreateEndpoint"), id="detail-is-a-string"),
        pytest.param(lambda e: e.update({"detail-type": "Object Created"}), id="another-kind-of-event"),
    ],
)
def test_a_malformed_event_is_recorded_as_undecidable_and_raised(world: World, lambda_context: Any, mutate: Any) -> None:
    create_endpoint("credit-risk-shadow-it", REGION)
    event = api_call_event("CreateEndpoint", name="credit-risk-shadow-it", region=REGION)
    mutate(event)
    with pytest.raises(MalformedEvent):
        guard.handler(event, lambda_context)
    (record,) = deployment_records(world)
    assert (record["decision"], record["violations"][0]["rule"]) == ("undecidable", "undecidable")
    assert record["violations"][0]["message"].startswith("malformed event: ")
    assert len(world.notifications()) == 1
    assert endpoints(REGION) == ["credit-risk-shadow-it"]  # nothing acted on an event no rule could read


# ---- the approved bytes: the gate pins each model artifact's object version, the deployer and the guard check it --
def test_the_gate_pins_the_object_version_of_the_model_artifact_it_approved(world: World, lambda_context: Any) -> None:
    arn = approved_by_the_gate(world, lambda_context)
    uri = sagemaker().describe_model_package(ModelPackageName=arn)["InferenceSpecification"]["Containers"][0]["ModelDataUrl"]
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    current = world.s3.head_object(Bucket=bucket, Key=key)
    kept = clearance(arn)
    assert kept is not None
    assert kept["artifacts"] == [{"uri": uri, "version_id": current["VersionId"], "etag": current["ETag"].strip('"')}]
    (record,) = [r for r in world.audit_records() if r["rule_set"] == "approval-gate"]
    assert record["evidence"]["model_artifacts"][0]["version_id"] == current["VersionId"]


@pytest.mark.parametrize(
    ("model_uri", "problem"),
    [
        pytest.param(
            "s3://{lineage}/projects/credit-risk/runs/r1/model.tar.gz", "outside the project's model store", id="outside"
        ),
        pytest.param("s3://{lineage}/projects/credit-risk/models/missing/model.tar.gz", "does not exist", id="missing"),
    ],
)
def test_a_model_artifact_the_gate_cannot_pin_is_rejected(
    world: World, lambda_context: Any, model_uri: str, problem: str
) -> None:
    arn = world.register("credit-risk", model_uri=model_uri.format(lineage=world.names.lineage_bucket))
    event = approval_event(arn)
    event["detail"]["LastModifiedBy"] = {"IamIdentity": {"Arn": APPROVER, "SourceIdentity": "alice"}}
    assert gate.handler(event, lambda_context)["decision"] == "deny"
    assert world.status(arn) == "Rejected" and clearance(arn) is None
    (record,) = world.audit_records()
    assert [(v["rule"], problem in v["message"]) for v in record["violations"]] == [("model-artifact", True)]


def test_an_artifact_replaced_after_approval_is_not_deployed(world: World, lambda_context: Any) -> None:
    arn = approved_by_the_gate(world, lambda_context)
    approved = clearance(arn)["artifacts"][0]["version_id"]  # type: ignore[index]
    replaced = world.replace_model_artifact(arn)

    result = deployer.handler(request(arn), lambda_context)

    assert result["decision"] == "deny"
    assert endpoints(REGION) == [] and sagemaker().list_models()["Models"] == []
    (record,) = deployment_records(world)
    assert f"replaced after approval: object version {replaced}, approved {approved}" in record["violations"][0]["message"]
    assert record["violations"][0]["rule"] == "model-artifact"


def test_the_sweep_quarantines_an_endpoint_whose_artifact_was_replaced_after_deployment(
    world: World, lambda_context: Any
) -> None:
    """SageMaker loads the artifact again on every new instance (scale-out, replacement): the endpoint would serve the
    new bytes under the approved version's name."""
    arn = approved_by_the_gate(world, lambda_context)
    assert deployer.handler(request(arn), lambda_context)["decision"] == "allow"
    assert guard.handler(scheduled_sweep(), lambda_context)["decisions"] == ["allow"]
    world.replace_model_artifact(arn)

    assert guard.handler(scheduled_sweep(), lambda_context)["decisions"] == ["deny"]

    assert endpoints(REGION) == []
    (record,) = [r for r in deployment_records(world) if r["decision"] == "deny"]
    assert "not as approved: its model artifact s3://" in record["violations"][0]["message"]
    assert record["violations"][0]["rule"] == "model-artifact"
    assert record["evidence"]["served"][0]["artifact_changes"] == [record["violations"][0]["message"].split(": ", 1)[1]]


def test_a_clearance_kept_before_artifacts_were_pinned_deploys_nothing(world: World, lambda_context: Any) -> None:
    arn = world.register("credit-risk")
    world.client("dynamodb").put_item(
        TableName=world.names.idempotency_table,
        Item={"id": {"S": f"cleared#{arn}"}, "value": {"S": '{"audit_record": "decisions/x.json", "policy_version": "1"}'}},
    )
    result = deployer.handler(request(arn), lambda_context)
    assert result["decision"] == "deny" and "approve the version again" in result["explanation"]
    assert endpoints(REGION) == []


def test_a_version_naming_model_data_its_clearance_does_not_pin_deploys_nothing(world: World, lambda_context: Any) -> None:
    """The clearance pins what the gate judged; a version naming other model data now (its inference specification
    updated after approval) is not what was approved."""
    arn = world.register("credit-risk")
    kept = world.clear(arn)
    elsewhere = kept["artifacts"][0]["uri"].replace("/output/", "/judged/")
    world.put_lineage(elsewhere.split("/", 3)[3], b"the bytes the gate judged")
    world.client("dynamodb").put_item(
        TableName=world.names.idempotency_table,
        Item={
            "id": {"S": f"cleared#{arn}"},
            "value": {"S": json.dumps({**kept, "artifacts": [{**kept["artifacts"][0], "uri": elsewhere}]})},
        },
    )
    result = deployer.handler(request(arn), lambda_context)
    assert result["decision"] == "deny" and "which the approval did not pin" in result["explanation"]
    assert endpoints(REGION) == []


def _moto_package(arn: str) -> Any:
    """moto's record of a version: the tests give it fields its CreateModelPackage does not take."""
    from moto.sagemaker.models import sagemaker_backends

    return next(p for p in sagemaker_backends[ACCOUNT][REGION].model_packages.values() if p.arn == arn)


def test_additional_model_data_of_a_version_is_pinned_too(world: World, lambda_context: Any) -> None:
    """AdditionalModelDataSources (and AdditionalS3DataSource) load beside ModelDataUrl: unpinned, they could be
    replaced after approval (review of 2026-11-26)."""
    store, prefix = world.names.model_store("credit-risk")
    key = f"{prefix}/credit-risk-train-x/output/weights.tar.gz"
    world.s3.put_object(Bucket=store, Key=key, Body=b"judged weights")
    arn = world.register("credit-risk", status="PendingManualApproval")
    extra = {"S3Uri": f"s3://{store}/{key}", "S3DataType": "S3Object", "CompressionType": "Gzip"}
    _moto_package(arn).inference_specification["Containers"][0]["AdditionalModelDataSources"] = [
        {"ChannelName": "weights", "S3DataSource": extra}
    ]
    sagemaker().update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")
    event = approval_event(arn)
    event["detail"]["LastModifiedBy"] = {"IamIdentity": {"Arn": APPROVER, "SourceIdentity": "alice"}}
    assert gate.handler(event, lambda_context)["decision"] == "allow"
    assert [p["uri"] for p in clearance(arn)["artifacts"]][1:] == [extra["S3Uri"]]  # type: ignore[index]
    assert deployer.handler(request(arn), lambda_context)["decision"] == "allow"

    world.s3.put_object(Bucket=store, Key=key, Body=b"other weights")

    assert guard.handler(scheduled_sweep(), lambda_context)["decisions"] == ["deny"]
    assert endpoints(REGION) == []


@pytest.mark.parametrize(
    "container",
    [
        pytest.param({"InferenceSpecificationName": "alternative"}, id="another-inference-specification"),
        pytest.param(
            {
                "AdditionalModelDataSources": [
                    {
                        "ChannelName": "w",
                        "S3DataSource": {"S3Uri": "{other}", "S3DataType": "S3Object", "CompressionType": "Gzip"},
                    }
                ]
            },
            id="model-data-added-by-the-model",
        ),
    ],
)
def test_a_model_serving_a_cleared_version_with_other_model_data_is_quarantined(
    world: World, lambda_context: Any, container: dict[str, Any]
) -> None:
    """A model made from an approved version can choose another of its inference specifications (which can be added
    after approval) or add model data of its own: the endpoint serves bytes the gate never judged."""
    arn = approved_by_the_gate(world, lambda_context)
    other = world.put_lineage("projects/credit-risk/models/elsewhere/output/model.tar.gz", b"other model")
    model = json.loads(json.dumps(container).replace("{other}", other))
    sagemaker().create_model(
        ModelName="credit-risk-alternative",
        ExecutionRoleArn=f"arn:aws:iam::{ACCOUNT}:role/acme-credit-risk-sagemaker-execution",
        PrimaryContainer={"ModelPackageName": arn, **model},
    )
    variant = {
        "VariantName": "AllTraffic",
        "ModelName": "credit-risk-alternative",
        "InstanceType": "ml.m5.large",
        "InitialInstanceCount": 1,
    }
    capture = {
        "EnableCapture": True,
        "InitialSamplingPercentage": 100,
        "DestinationS3Uri": f"s3://{world.names.lineage_bucket}/projects/credit-risk/capture/credit-risk-alternative",
        "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
    }
    sagemaker().create_endpoint_config(
        EndpointConfigName="credit-risk-alternative", ProductionVariants=[variant], DataCaptureConfig=capture
    )
    sagemaker().create_endpoint(EndpointName="credit-risk-alternative", EndpointConfigName="credit-risk-alternative")

    assert guard.handler(scheduled_sweep(), lambda_context)["decisions"] == ["deny"]

    (record,) = deployment_records(world)
    assert [v["rule"] for v in record["violations"]] == ["model-artifact"]
    assert endpoints(REGION) == []


def test_a_retry_of_facts_remembered_before_the_pins_traces_again(world: World, lambda_context: Any) -> None:
    """Facts a first attempt stored before this release have no artifact changes: read as "none", the retry allowed
    an endpoint whose artifact had been replaced (review of 2026-11-26)."""

    from lambdas.deployment_guard.trace import trace_endpoint
    from lambdas.shared import ledger

    arn = approved_by_the_gate(world, lambda_context)
    assert deployer.handler(request(arn), lambda_context)["decision"] == "allow"
    event = scheduled_sweep()
    before = asdict(trace_endpoint("credit-risk-scoring", REGION, ACCOUNT))  # type: ignore[arg-type]
    for served in before["served"]:
        served.pop("artifact_changes")
    ledger.remembered(
        "facts", f"{event['id']}:targets", lambda: {"targets": [["credit-risk-scoring", REGION, ACCOUNT]], "revoked": None}
    )
    ledger.remembered("facts", f"{event['id']}:{REGION}:credit-risk-scoring", lambda: {"endpoint": before})
    world.replace_model_artifact(arn)

    assert guard.handler(event, lambda_context)["decisions"] == ["deny"]


def test_an_artifact_overwritten_after_deployment_is_quarantined_when_s3_reports_the_write(
    world: World, lambda_context: Any
) -> None:
    """Not at the next sweep: an instance started in between (scale-out, replacement) would load the new bytes."""
    arn = approved_by_the_gate(world, lambda_context)
    assert deployer.handler(request(arn), lambda_context)["decision"] == "allow"
    uri = clearance(arn)["artifacts"][0]["uri"]  # type: ignore[index]
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    version = world.replace_model_artifact(arn)

    result = guard.handler(object_created_event(bucket, key, region=REGION, version_id=version), lambda_context)

    assert result["decisions"] == ["deny"] and endpoints(REGION) == []
    (record,) = [r for r in deployment_records(world) if r["decision"] == "deny"]
    assert record["violations"][0]["rule"] == "model-artifact"


def test_an_s3_notification_naming_no_object_is_malformed(world: World, lambda_context: Any) -> None:
    event = object_created_event(world.names.lineage_bucket, "projects/credit-risk/models/x/model.tar.gz", region=REGION)
    del event["detail"]["object"]["key"]
    with pytest.raises(MalformedEvent):
        guard.handler(event, lambda_context)


def test_s3_reports_a_model_store_write_in_the_shape_the_guards_rule_matches(world: World) -> None:
    """The bucket's EventBridge notifications (on for every governed bucket) reach the guard's pattern for a model
    store key and for nothing else the bucket holds (moto emits S3's documented event)."""
    from lambdas.routing import deployment_changes

    bucket = world.names.lineage_bucket
    world.s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={"EventBridgeConfiguration": {}})
    sqs = world.client("sqs")
    queue = sqs.create_queue(QueueName="guard-inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events = world.client("events")
    events.put_rule(Name="deployment-guard", EventPattern=json.dumps(deployment_changes(world.policy)))
    events.put_targets(Rule="deployment-guard", Targets=[{"Id": "guard", "Arn": queue_arn}])
    model = "projects/credit-risk/models/credit-risk-train-1/output/model.tar.gz"
    for key in (
        model,
        "projects/credit-risk/capture/credit-risk-scoring/AllTraffic/x.jsonl",
        "projects/credit-risk/data/train.csv",
    ):
        world.s3.put_object(Bucket=bucket, Key=key, Body=b"bytes")

    delivered = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])

    assert [json.loads(m["Body"])["detail"]["object"]["key"] for m in delivered] == [model]


def _registered_an_hour_ago(arn: str) -> None:
    """S3 times objects to the second: set the version's registration far enough back to order the two."""
    from datetime import UTC, datetime, timedelta

    _moto_package(arn).creation_time = (datetime.now(UTC) - timedelta(hours=1)).isoformat()


def _approve(arn: str) -> dict[str, Any]:
    sagemaker().update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")
    event = approval_event(arn)
    event["detail"]["LastModifiedBy"] = {"IamIdentity": {"Arn": APPROVER, "SourceIdentity": "alice"}}
    return event


def test_an_artifact_overwritten_before_approval_is_not_pinned(world: World, lambda_context: Any) -> None:
    """The gate read whatever bytes were there at approval: a model swapped after its pipeline evaluated it was
    pinned and deployed as approved. S3 times objects to the second, and a multipart upload to its start, so the
    gate counts the key's object versions: a training job writes its key once (reviews of 2026-11-26)."""
    arn = world.register("credit-risk", status="PendingManualApproval")
    world.replace_model_artifact(arn, b"bytes swapped in after evaluation, in the same second")

    assert gate.handler(_approve(arn), lambda_context)["decision"] == "deny"

    assert clearance(arn) is None and world.status(arn) == "Rejected"
    (record,) = world.audit_records()
    assert [v["rule"] for v in record["violations"]] == ["model-artifact"]
    assert "has 2 object versions" in record["violations"][0]["message"]


def test_an_artifact_first_written_after_registration_is_not_pinned(world: World, lambda_context: Any) -> None:
    store, prefix = world.names.model_store("credit-risk")
    key = f"{prefix}/credit-risk-train-late/output/model.tar.gz"
    arn = world.register("credit-risk", status="PendingManualApproval", model_uri=f"s3://{store}/{key}")
    _registered_an_hour_ago(arn)
    world.s3.put_object(Bucket=store, Key=key, Body=b"bytes that did not exist when it was registered")
    sagemaker().update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")
    event = approval_event(arn)
    event["detail"]["LastModifiedBy"] = {"IamIdentity": {"Arn": APPROVER, "SourceIdentity": "alice"}}

    assert gate.handler(event, lambda_context)["decision"] == "deny"

    assert clearance(arn) is None and world.status(arn) == "Rejected"
    (record,) = world.audit_records()
    assert [v["rule"] for v in record["violations"]] == ["model-artifact"]
    assert "after the version was registered" in record["violations"][0]["message"]


def test_a_gate_retry_of_facts_remembered_before_the_pins_reads_the_artifacts(world: World, lambda_context: Any) -> None:
    """Facts a first attempt stored before this release name no model data: read as "none", the retry cleared the
    version with no pins (review of 2026-11-26)."""
    from lambdas.shared import ledger

    arn = world.register("credit-risk")
    event = approval_event(arn)
    event["detail"]["LastModifiedBy"] = {"IamIdentity": {"Arn": APPROVER, "SourceIdentity": "alice"}}
    package = sagemaker().describe_model_package(ModelPackageName=arn)
    first_look = gate.first_look(event, package, world.policy, REGION)
    before = {k: v for k, v in first_look.items() if k not in ("model_data", "artifact_reads", "registered_at")}
    ledger.remembered(gate.FACTS, event["id"], lambda: json.loads(json.dumps(before, default=str)))

    assert gate.handler(event, lambda_context)["decision"] == "allow"

    assert [p["uri"] for p in clearance(arn)["artifacts"]] != []  # type: ignore[index]


def test_a_write_to_the_key_of_a_revoked_clearance_judges_nothing(world: World, lambda_context: Any) -> None:
    """A rejected version's pins stay in the index: a write to its key swept (and re-recorded) every endpoint."""
    live = approved_by_the_gate(world, lambda_context)
    assert deployer.handler(request(live), lambda_context)["decision"] == "allow"
    arn = approved_by_the_gate(world, lambda_context)
    uri = clearance(arn)["artifacts"][0]["uri"]  # type: ignore[index]
    sagemaker().update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Rejected")
    guard.handler(approval_event(arn, status="Rejected"), lambda_context)
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    world.replace_model_artifact(arn)
    before = len(world.audit_records())

    assert guard.handler(object_created_event(bucket, key, region=REGION), lambda_context)["judged"] == 0
    assert len(world.audit_records()) == before


def test_the_sweep_indexes_the_pins_of_a_clearance_kept_before_the_index(world: World, lambda_context: Any) -> None:
    """Clearances kept before ``pinned#`` existed were unreachable by S3's notification; the sweep indexes them."""
    from lambdas.shared import ledger
    from lambdas.shared.clearance import PINNED, pinned

    arn = approved_by_the_gate(world, lambda_context)
    assert deployer.handler(request(arn), lambda_context)["decision"] == "allow"
    uri = clearance(arn)["artifacts"][0]["uri"]  # type: ignore[index]
    ledger.forget(PINNED, uri)
    assert not pinned(uri)

    guard.handler(scheduled_sweep(), lambda_context)

    assert pinned(uri)


def test_a_write_to_a_key_no_clearance_pins_judges_nothing(world: World, lambda_context: Any) -> None:
    """Training jobs write new keys all the time: each write swept every endpoint and, in report or scale-to-zero
    mode, alerted again on every quarantined one (review of 2026-11-26)."""
    arn = approved_by_the_gate(world, lambda_context)
    assert deployer.handler(request(arn), lambda_context)["decision"] == "allow"
    store, prefix = world.names.model_store("credit-risk")
    key = f"{prefix}/credit-risk-train-next/output/model.tar.gz"
    world.s3.put_object(Bucket=store, Key=key, Body=b"the next run's model")
    before = len(world.audit_records())

    result = guard.handler(object_created_event(store, key, region=REGION), lambda_context)

    assert result["judged"] == 0 and len(world.audit_records()) == before


@pytest.mark.parametrize("field", ["bucket", "object"])
def test_an_s3_notification_with_a_malformed_part_is_recorded_as_undecidable(
    world: World, lambda_context: Any, field: str
) -> None:
    event = object_created_event(world.names.lineage_bucket, "projects/credit-risk/models/x/model.tar.gz", region=REGION)
    event["detail"][field] = "x"
    with pytest.raises(MalformedEvent):
        guard.handler(event, lambda_context)
    (record,) = world.audit_records()
    assert record["decision"] == "undecidable"


def test_a_url_encoded_key_in_the_notification_is_matched_to_its_pin(world: World, lambda_context: Any) -> None:
    """S3's notifications URL-encode keys ("run 7" as "run+7"); the pin names the key itself."""
    store, prefix = world.names.model_store("credit-risk")
    key = f"{prefix}/run 7/output/model.tar.gz"
    world.s3.put_object(Bucket=store, Key=key, Body=b"judged")
    arn = world.register("credit-risk", model_uri=f"s3://{store}/{key}")
    world.clear(arn)
    assert deployer.handler(request(arn), lambda_context)["decision"] == "allow"
    world.s3.put_object(Bucket=store, Key=key, Body=b"swapped")

    encoded = key.replace(" ", "+")
    result = guard.handler(object_created_event(store, encoded, region=REGION), lambda_context)

    assert result["decisions"] == ["deny"] and endpoints(REGION) == []
