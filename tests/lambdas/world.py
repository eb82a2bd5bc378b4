"""A governed AWS account in moto, and the handlers wired to it (a pytest plugin: see tests/conftest.py).

moto records one fixed fake user profile as every model package's CreatedBy/LastModifiedBy;
``World.set_identities`` sets them on moto's model package to model distinct IAM identities,
which is what separation of duties is about.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.sns import models as moto_sns

import policies.validated
from infra.embedded_extensions import install_missing_sagemaker_operations, record_user_context
from lambdas.shared import aws
from lambdas.shared import policy as packaged_policy
from lambdas.shared.policy import POLICY_FILE_ENV
from lambdas.shared.settings import handler_environment, settings
from policies.model import GovernancePolicy
from policies.naming import Names
from policies.rules.approval import (
    BASELINE_SHA256_KEY,
    BASELINE_URI_KEY,
    EVALUATION_REPORT_SHA256_KEY,
    TRAINING_DATA_SHA256_KEY,
    TRAINING_DATA_URI_KEY,
    VALIDATION_REPORT_SHA256_KEY,
    VALIDATION_REPORT_URI_KEY,
)
from policies.rules.metrics import evaluation_report

ACCOUNT = "123456789012"
REGION = "eu-west-1"
CREATOR = f"arn:aws:sts::{ACCOUNT}:assumed-role/acme-credit-risk-sagemaker-execution/SageMaker"
APPROVER = f"arn:aws:sts::{ACCOUNT}:assumed-role/acme-model-approver/alice"
# The person behind each session (sts:SourceIdentity): the pipeline ran for carol; alice approves.
PEOPLE = {CREATOR: "carol", APPROVER: "alice"}


def registrar_of(group: str) -> str:
    """The session of the project's execution role, as the pipeline's RegisterModel step runs in it."""
    return CREATOR.replace("acme-credit-risk-", f"acme-{group}-")


def user_context(session: str | None) -> dict[str, Any] | None:
    if not session:
        return None
    person = PEOPLE.get(session) or (
        "carol" if session.endswith("-sagemaker-execution/SageMaker") else session.rsplit("/", 1)[-1]
    )
    return {"IamIdentity": {"Arn": session, "SourceIdentity": person}}


DEFAULT_METRICS = {"auc": 0.91, "accuracy": 0.88, "f1": 0.8}


@dataclass
class LambdaContext:
    function_name: str = "acme-test-function"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:acme-test-function"
    aws_request_id: str = "52fdfc07-2182-154f-163f-5f0f9a621d72"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


@pytest.fixture
def lambda_context() -> LambdaContext:
    return LambdaContext()


def reset_handler_state() -> None:
    aws.reset()
    packaged_policy.reset()
    settings.cache_clear()


@dataclass
class World:
    policy: GovernancePolicy
    names: Names
    notifications_queue: str
    _clients: dict[tuple[str, str, str | None], Any] = field(default_factory=dict, repr=False, compare=False)

    def client(self, service: str, region: str = REGION) -> Any:
        """One client per service, Region and credentials for the world's life (creating one costs ~10 ms)."""
        key = (service, region, os.environ.get("AWS_ACCESS_KEY_ID"))
        if key not in self._clients:
            self._clients[key] = boto3.client(service, region_name=region)  # type: ignore[call-overload]
        return self._clients[key]

    def sagemaker(self, region: str = REGION) -> Any:
        return self.client("sagemaker", region)

    @property
    def s3(self) -> Any:
        return self.client("s3")

    def put_lineage(self, key: str, body: bytes | str) -> str:
        self.s3.put_object(Bucket=self.names.lineage_bucket, Key=key, Body=body)
        return f"s3://{self.names.lineage_bucket}/{key}"

    def register(
        self,
        group: str,
        *,
        metrics: dict[str, float] | None = None,
        report_uri: str | None = "default",
        training_uri: str | None = "default",
        status: str = "Approved",
        region: str = REGION,
        generated_by: str | None = None,
        pipeline_account: str = ACCOUNT,
        lineage: tuple[Any, str] | None = None,
        model_uri: str | None = "default",
    ) -> str:
        """Register a model version the way the governed pipeline does (a run's evidence with its SHA-256, the pipeline
        execution, the project's execution role as registrar), then set its status as a person would.
        ``generated_by``: the pipeline execution ARN to name (default: a made-up execution of the project's pipeline).
        ``pipeline_account`` and ``lineage`` (an S3 client and its bucket): a pipeline of another account that
        registers into this one, with its evidence in its own lineage bucket (many accounts). ``model_uri``: the model
        artifact (default: a training job's output in the project's model store; None: the model is in the image)."""
        run = uuid.uuid4().hex[:12]
        s3, bucket = lineage or (self.s3, self.names.lineage_bucket)

        def evidence(name: str, body: bytes) -> tuple[str, str]:
            key = f"{Names.lineage_project_prefix(group)}/runs/{run}/{name}"
            s3.put_object(Bucket=bucket, Key=key, Body=body)
            return f"s3://{bucket}/{key}", hashlib.sha256(body).hexdigest()

        report = json.dumps(evaluation_report("binary_classification_metrics", DEFAULT_METRICS if metrics is None else metrics))
        default_report, report_sha = evidence("evaluation/evaluation.json", report.encode())
        validation_uri, validation_sha = evidence("validation/validation.json", b'{"success": true}')
        default_training, training_sha = evidence("data/train.csv", b"a,b\n1,2\n")
        baseline_uri, baseline_sha = evidence("baseline/baseline.json", b'{"schema": "ml-governance-drift-baseline/1"}')
        if model_uri == "default":
            store, prefix = self.names.model_store(group)
            model_key = f"{prefix}/{group}-train-{run}/output/model.tar.gz"
            self.s3.put_object(Bucket=store, Key=model_key, Body=b"model of run " + run.encode())
            model_uri = f"s3://{store}/{model_key}"
        report_uri = default_report if report_uri == "default" else report_uri
        training_uri = default_training if training_uri == "default" else training_uri
        metadata = {
            VALIDATION_REPORT_URI_KEY: validation_uri,
            VALIDATION_REPORT_SHA256_KEY: validation_sha,
            EVALUATION_REPORT_SHA256_KEY: report_sha,
            BASELINE_URI_KEY: baseline_uri,
            BASELINE_SHA256_KEY: baseline_sha,
            **({TRAINING_DATA_URI_KEY: training_uri, TRAINING_DATA_SHA256_KEY: training_sha} if training_uri else {}),
        }
        kwargs: dict[str, Any] = {
            "ModelPackageGroupName": group,
            "ModelApprovalStatus": "PendingManualApproval",
            "InferenceSpecification": {
                "Containers": [
                    {
                        "Image": f"141502667606.dkr.ecr.{region}.amazonaws.com/sagemaker-xgboost:1.7-1",
                        **({"ModelDataUrl": model_uri} if model_uri else {}),
                    }
                ],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
            "CustomerMetadataProperties": metadata,
            "MetadataProperties": {
                "GeneratedBy": generated_by
                or f"arn:aws:sagemaker:{region}:{pipeline_account}:pipeline/{group}-governed/execution/{run}"
            },
        }
        if report_uri:
            kwargs["ModelMetrics"] = {"ModelQuality": {"Statistics": {"ContentType": "application/json", "S3Uri": report_uri}}}
        arn: str = self.sagemaker(region).create_model_package(**kwargs)["ModelPackageArn"]
        creator = registrar_of(group).replace(f":{ACCOUNT}:", f":{pipeline_account}:")
        self.set_identities(arn, created_by=creator, approved_by=None)
        if status != "PendingManualApproval":
            self.sagemaker(region).update_model_package(ModelPackageArn=arn, ModelApprovalStatus=status)
            self.set_identities(arn, created_by=creator, approved_by=APPROVER)
        return arn

    def clear(self, arn: str) -> dict[str, Any]:
        """The approval gate's clearance of ``arn`` (pinning its model artifacts' current object versions), kept without
        calling the gate, for tests whose subject is what reads clearances."""
        from lambdas.shared.clearance import clear, clearance
        from policies.rules.artifacts import ArtifactRead, model_data, pins

        package = self.sagemaker(arn.split(":")[3]).describe_model_package(ModelPackageName=arn)
        data = model_data(package.get("InferenceSpecification"))
        reads = {}
        for item in data:
            bucket, key = item.uri.removeprefix("s3://").split("/", 1)
            head = self.s3.head_object(Bucket=bucket, Key=key)
            reads[item.uri] = ArtifactRead(item.uri, found=True, version_id=head["VersionId"], etag=head["ETag"].strip('"'))
        clear(arn, audit_record="decisions/x.json", policy_version=self.policy.version, artifacts=pins(data, reads))
        kept = clearance(arn)
        assert kept is not None
        return kept

    def replace_model_artifact(self, arn: str, body: bytes = b"other bytes") -> str:
        """Overwrite the version's model artifact in place, as its project's execution role can: a new object version."""
        package = self.sagemaker(arn.split(":")[3]).describe_model_package(ModelPackageName=arn)
        uri = package["InferenceSpecification"]["Containers"][0]["ModelDataUrl"]
        bucket, key = uri.removeprefix("s3://").split("/", 1)
        return str(self.s3.put_object(Bucket=bucket, Key=key, Body=body)["VersionId"])

    def packages(self, group: str, region: str = REGION) -> list[dict[str, Any]]:
        try:
            return list(self.sagemaker(region).list_model_packages(ModelPackageGroupName=group)["ModelPackageSummaryList"])
        except Exception:  # noqa: BLE001 - no group yet
            return []

    def set_identities(self, arn: str, *, created_by: str | None, approved_by: str | None) -> None:
        """The UserContexts SageMaker records (moto records a fixed fake one), each session with its person."""
        region = arn.split(":")[3]
        record_user_context(ACCOUNT, region, arn, created_by=user_context(created_by), last_modified_by=user_context(approved_by))

    def status(self, arn: str) -> str:
        return str(self.sagemaker(arn.split(":")[3]).describe_model_package(ModelPackageName=arn)["ModelApprovalStatus"])

    def description(self, arn: str) -> str:
        return str(self.sagemaker(arn.split(":")[3]).describe_model_package(ModelPackageName=arn).get("ApprovalDescription", ""))

    def audit_records(self) -> list[dict[str, Any]]:
        records = []
        paginator = self.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.names.audit_bucket, Prefix="decisions/"):
            for item in page.get("Contents", []):
                body = self.s3.get_object(Bucket=self.names.audit_bucket, Key=item["Key"])["Body"].read()
                records.append({"key": item["Key"], **json.loads(body)})
        return records

    def audit_versions(self) -> int:
        versions = self.s3.list_object_versions(Bucket=self.names.audit_bucket, Prefix="decisions/")
        return len(versions.get("Versions", []))

    def notifications(self) -> list[dict[str, Any]]:
        sqs = self.client("sqs")
        found = []
        while True:
            batch = sqs.receive_message(QueueUrl=self.notifications_queue, MaxNumberOfMessages=10).get("Messages", [])
            if not batch:
                return found
            for message in batch:
                envelope = json.loads(message["Body"])
                found.append({"subject": envelope.get("Subject"), **json.loads(envelope["Message"])})
                sqs.delete_message(QueueUrl=self.notifications_queue, ReceiptHandle=message["ReceiptHandle"])


@functools.cache
def _sns_signing_key() -> Any:
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


# moto signs the messages a topic delivers with a 2,048-bit RSA key it generates for each subscription (30 ms): one
# key serves every world's subscription (no test reads the signature).
moto_sns.Subscription.private_key = lambda self: _sns_signing_key()  # type: ignore[method-assign]


@functools.cache
def _setup_client(service: str) -> Any:
    """The clients that build a world: moto's stubber is global, so one per service serves every world (the
    property tests build sixty)."""
    return boto3.client(service, region_name=REGION)  # type: ignore[call-overload]


def packaged(policy: GovernancePolicy) -> dict[str, bytes]:
    """The files synth packages with the handlers, rendered once per policy (``policies.validated.packaged_policy``)."""
    return policies.validated.packaged_policy(policy)


def build_world(policy: GovernancePolicy, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> World:
    names = Names(policy, account=ACCOUNT)
    for name, body in packaged(policy).items():  # as synth packages it: the handlers read it without pydantic
        (tmp_path / name).write_bytes(body)
    policy_file = tmp_path / "policy.json"
    env = {
        **handler_environment(names, "test"),
        POLICY_FILE_ENV: str(policy_file),
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "MLGovernance",
        "POWERTOOLS_DEV": "false",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    reset_handler_state()

    s3 = _setup_client("s3")
    location = {"LocationConstraint": REGION}
    s3.create_bucket(Bucket=names.lineage_bucket, CreateBucketConfiguration=location)
    s3.put_bucket_versioning(Bucket=names.lineage_bucket, VersioningConfiguration={"Status": "Enabled"})  # as the stack makes it
    if policy.accounts is not None:  # the hub's model artifact store, versioned as the hub-registry stack makes it
        store = Names(policy, account=policy.accounts.hub).artifacts_bucket
        s3.create_bucket(Bucket=store, CreateBucketConfiguration=location)
        s3.put_bucket_versioning(Bucket=store, VersioningConfiguration={"Status": "Enabled"})
    s3.create_bucket(Bucket=names.audit_bucket, CreateBucketConfiguration=location, ObjectLockEnabledForBucket=True)
    s3.put_object_lock_configuration(
        Bucket=names.audit_bucket,
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Years": 7}},
        },
    )
    sns = _setup_client("sns")
    topic = sns.create_topic(Name=names.alerts_topic)["TopicArn"]
    sqs = _setup_client("sqs")
    queue_url = sqs.create_queue(QueueName="alerts-inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    dynamodb = _setup_client("dynamodb")
    dynamodb.create_table(
        TableName=names.idempotency_table,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    sagemaker = _setup_client("sagemaker")
    for project in policy.projects:
        sagemaker.create_model_package_group(
            ModelPackageGroupName=project.name,
            Tags=[{"Key": k, "Value": v} for k, v in policy.project_tags(project).items()],
        )
    return World(policy=policy, names=names, notifications_queue=queue_url)


@pytest.fixture
def world_for(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """``world_for(policy)`` builds a governed account in moto for that policy."""
    install_missing_sagemaker_operations()
    with mock_aws():
        yield lambda policy: build_world(policy, tmp_path, monkeypatch)
    reset_handler_state()


@pytest.fixture
def world(world_for: Any, policy: GovernancePolicy) -> World:
    built: World = world_for(policy)
    return built


def fail_calls(region: str | None, service: str, operation: str, code: str, *, times: int | None = None) -> list[int]:
    """Make ``operation`` on the handler's client raise ``code`` (``times`` times, or always)."""
    calls = [0]

    def hook(**_: Any) -> None:
        calls[0] += 1
        if times is None or calls[0] <= times:
            raise ClientError(
                {"Error": {"Code": code, "Message": f"injected {code}"}, "ResponseMetadata": {"HTTPStatusCode": 400}}, operation
            )

    aws.client(service, region).meta.events.register(f"before-call.{service}.{operation}", hook)
    return calls
