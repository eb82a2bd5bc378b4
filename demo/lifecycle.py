"""The governance lifecycle the demo plays on the deployed blueprint: model versions registered by the governed
pipeline, approved by a person, and the mistakes and attacks the policy exists for.

Every event is one AWS documents (demo/samples), sent to the deployed bus (demo/delivery.py); every
decision is the deployed handlers' own, recorded in the deployed audit bucket.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from demo.delivery import Bus, Delivery
from demo.embedded import ACCOUNT
from demo.samples import api_call_event, approval_event, tamper_event
from infra.embedded_aws import EmbeddedAws
from policies.model import GovernancePolicy, Project
from policies.naming import MODEL_DEPLOYER, Names

REGISTRAR = "dana"  # the data scientist who starts the project's pipeline
ADMINISTRATOR = f"arn:aws:sts::{ACCOUNT}:assumed-role/AdministratorAccess/mallory"  # outside every boundary
APPROVER = "alice"  # the model approver
IMAGE = "141502667606.dkr.ecr.{region}.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"


def user_context(role_arn: str, session: str, person: str) -> dict[str, Any]:
    """A SageMaker UserContext as recorded for a role session that carries sts:SourceIdentity."""
    session_arn = role_arn.replace(":iam::", ":sts::").replace(":role/", ":assumed-role/") + f"/{session}"
    return {"IamIdentity": {"Arn": session_arn, "PrincipalId": f"AROADEMO:{session}", "SourceIdentity": person}}


@dataclass
class Lifecycle:
    aws: EmbeddedAws
    policy: GovernancePolicy
    bus: Bus
    workdir: Path

    @property
    def names(self) -> Names:
        return Names(self.policy, account=ACCOUNT)

    def sagemaker(self, region: str | None = None) -> Any:
        return self.aws.client("sagemaker", region)

    # ---- the governed pipeline, locally, into the deployed lineage bucket -------------------------------
    def pipeline_run(self, project: Project, frame: Any = None) -> tuple[Any, str, str]:
        """The pipeline's validate, train, evaluate and baseline steps on the bundled dataset (or ``frame``), uploaded
        into the deployed lineage bucket as the run's prefix: what the RegisterModel step would send, the prefix and
        the model's URI."""
        from pipelines.bundle import source_bundle
        from pipelines.local_run import local_registration, run_locally
        from pipelines.registration import run_prefix_uri

        run_id = uuid.uuid4().hex[:12]
        run = run_locally(self.workdir / project.name / run_id, frame)
        run_uri = run_prefix_uri(self.names.lineage_bucket, project.name, run_id)
        key_prefix = run_uri.removeprefix(f"s3://{self.names.lineage_bucket}/").rstrip("/")
        s3 = self.aws.client("s3")
        for key, path in run.artifacts().items():
            s3.put_object(Bucket=self.names.lineage_bucket, Key=f"{key_prefix}/{key}", Body=path.read_bytes())
        # the training job's output, in the project's model store (where the approval gate pins it)
        store, prefix = self.names.model_store(project.name)
        model_key = f"{prefix}/{project.name}-train-{run_id}/output/model.tar.gz"
        model_body = run.model_file.read_bytes() if run.model_file is not None else b""
        s3.put_object(Bucket=store, Key=model_key, Body=model_body)
        execution = f"arn:aws:sagemaker:{self.aws.region}:{ACCOUNT}:pipeline/{project.name}-governed/execution/{run_id}"
        registration = local_registration(
            run, project, run_uri=run_uri, code_version=source_bundle().version, execution_arn=execution
        )
        return registration, run_uri.rstrip("/"), f"s3://{store}/{model_key}"

    def register(
        self, project: Project, *, frame: Any = None, tamper: Callable[[dict[str, Any], str], None] | None = None
    ) -> str:
        """Register the run's model version as the pipeline's RegisterModel step does (PendingManualApproval)."""
        registration, run_uri, model_uri = self.pipeline_run(project, frame)
        request: dict[str, Any] = {
            "ModelPackageGroupName": self.names.model_package_group(project),
            "ModelApprovalStatus": "PendingManualApproval",
            "InferenceSpecification": {
                "Containers": [{"Image": IMAGE.format(region=self.aws.region), "ModelDataUrl": model_uri}],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
            "ModelMetrics": registration.model_metrics,
            "CustomerMetadataProperties": registration.customer_metadata_properties,
            "MetadataProperties": registration.metadata_properties,
        }
        if tamper is not None:
            tamper(request, run_uri)
        arn: str = self.sagemaker().create_model_package(**request)["ModelPackageArn"]
        registrar = user_context(self.names.role_arn(self.names.execution_role(project)), "SageMaker", REGISTRAR)
        self.aws.record_user_context(arn, created_by=registrar, last_modified_by=None)
        return arn

    def approve(self, arn: str, *, by: str = APPROVER) -> list[tuple[str, dict[str, Any] | str]]:
        """A person approves the version; SageMaker emits the state change, which reaches the deployed gate."""
        self.sagemaker().update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")
        approver = user_context(self.names.role_arn(self.names.persona_role("model-approver")), by, by)
        registrar = self.sagemaker().describe_model_package(ModelPackageName=arn).get("CreatedBy")
        self.aws.record_user_context(arn, created_by=registrar, last_modified_by=approver)
        event = approval_event(arn)
        event["detail"]["LastModifiedBy"] = approver
        return self.send(event).results

    def send(self, event: dict[str, Any]) -> Delivery:
        """An event as its source emits it now (the samples carry AWS's documented times)."""
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        event["time"] = now
        if "eventTime" in event.get("detail", {}):
            event["detail"]["eventTime"] = now
        return self.bus.put(event)

    def status(self, arn: str) -> str:
        return str(self.sagemaker().describe_model_package(ModelPackageName=arn)["ModelApprovalStatus"])

    def reject(self, arn: str) -> list[tuple[str, dict[str, Any] | str]]:
        """A person rejects a version after it was approved (and perhaps deployed)."""
        self.sagemaker().update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Rejected")
        return self.send(approval_event(arn, status="Rejected")).results

    def overwrite_model(self, arn: str) -> None:
        """The version's model.tar.gz overwritten in place after its approval, as its project's execution role (which
        writes training output to the model store) could: a new object version under the same URI."""
        package = self.sagemaker().describe_model_package(ModelPackageName=arn)
        bucket, key = package["InferenceSpecification"]["Containers"][0]["ModelDataUrl"].removeprefix("s3://").split("/", 1)
        self.aws.client("s3").put_object(Bucket=bucket, Key=key, Body=b"bytes nobody approved")

    def deploy(self, arn: str, endpoint: str) -> list[tuple[str, dict[str, Any] | str]]:
        """The ML engineer asks the deployer (the one role that may create models and endpoints); its CreateEndpoint
        call reaches the bus as CloudTrail records it."""
        request = {"model_package_arn": arn, "endpoint_name": endpoint, "instance_type": "ml.m5.large", "instance_count": 1}
        function = self.names.handler_function(MODEL_DEPLOYER)
        results: list[tuple[str, dict[str, Any] | str]] = [(function, self.bus.invoke(function, request))]
        if results[0][1]["decision"] == "allow":  # type: ignore[index]
            deployer = f"arn:aws:sts::{ACCOUNT}:assumed-role/{self.names.deployer_role}/{function}"
            results += self.send(api_call_event("CreateEndpoint", name=endpoint, region=self.aws.region, actor=deployer)).results
        return results

    def endpoint_exists(self, name: str, region: str | None = None) -> bool:
        return any(e["EndpointName"] == name for e in self.sagemaker(region).list_endpoints()["Endpoints"])

    # ---- SageMaker work created outside the governed path ---------------------------------------------------
    def training_job(self, project: Project, name: str, *, region: str, tags: dict[str, str] | None = None) -> Any:
        """Someone starts a training job directly; CloudTrail records the call and EventBridge receives it."""
        self.sagemaker(region).create_training_job(
            TrainingJobName=name,
            RoleArn=self.names.role_arn(self.names.execution_role(project)),
            AlgorithmSpecification={"TrainingImage": IMAGE.format(region=region), "TrainingInputMode": "File"},
            OutputDataConfig={
                "S3OutputPath": f"s3://{self.names.lineage_bucket}/{self.names.lineage_project_prefix(project.name)}/scratch/"
            },
            ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
            StoppingCondition={"MaxRuntimeInSeconds": 3600},
            Tags=[{"Key": k, "Value": v} for k, v in (tags or {}).items()],
        )
        return self.send(api_call_event("CreateTrainingJob", name=name, region=region, tags=tags or {}))

    def training_job_status(self, name: str, region: str) -> str:
        return str(self.sagemaker(region).describe_training_job(TrainingJobName=name)["TrainingJobStatus"])

    def raw_endpoint(self, project: Project, name: str, *, region: str) -> Any:
        """An endpoint created outside the deployer, from model data no version names (an administrator, say:
        the boundaries deny these calls to every governed role)."""
        sagemaker = self.sagemaker(region)
        sagemaker.create_model(
            ModelName=f"{name}-model",
            ExecutionRoleArn=self.names.role_arn(self.names.execution_role(project)),
            PrimaryContainer={"Image": IMAGE.format(region=region), "ModelDataUrl": "s3://somewhere/model.tar.gz"},
        )
        variant = {
            "VariantName": "AllTraffic",
            "ModelName": f"{name}-model",
            "InstanceType": "ml.m5.large",
            "InitialInstanceCount": 1,
        }
        sagemaker.create_endpoint_config(EndpointConfigName=f"{name}-config", ProductionVariants=[variant])
        sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=f"{name}-config")
        return self.send(api_call_event("CreateEndpoint", name=name, region=region, actor=ADMINISTRATOR, tags={}))

    def tamper(self, kind: str, **overrides: Any) -> Any:
        """A call that would switch governance off, as CloudTrail records it."""
        return self.send(tamper_event(kind, region=self.aws.region, overrides=overrides))

    # ---- traffic and the drift job ---------------------------------------------------------------------
    def capture(self, project: Project, endpoint: str, *, shifted: bool, before: datetime) -> int:
        """Requests to the endpoint in the hours before ``before``, written where its data capture writes them."""
        from demo.traffic import capture_files
        from demo.traffic import requests as draw

        prefix = self.names.lineage_capture_prefix(project.name, endpoint)
        files = capture_files(prefix, endpoint, "AllTraffic", draw(shifted=shifted), before=before)
        for key, body in files.items():
            self.aws.client("s3").put_object(Bucket=self.names.lineage_bucket, Key=key, Body=body.encode())
        return len(files)

    def drift_run(self, endpoint: str, at: datetime) -> dict[str, Any]:
        """What the endpoint's deployed schedule delivers at ``at``: its input, read back from EventBridge Scheduler,
        with the context attributes filled in, to the function it targets."""
        schedule = self.aws.client("scheduler").get_schedule(Name=endpoint, GroupName=self.names.drift_schedule_group)
        text = schedule["Target"]["Input"]
        for attribute, value in {
            "<aws.scheduler.scheduled-time>": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "<aws.scheduler.execution-id>": uuid.uuid4().hex[:16],
            "<aws.scheduler.attempt-number>": "1",
        }.items():
            text = text.replace(attribute, value)
        function = schedule["Target"]["Arn"].rsplit(":", 1)[-1]
        result: dict[str, Any] = self.bus.invoke(function, json.loads(text))
        return result


def replace_report(metrics: dict[str, float], aws: EmbeddedAws) -> Callable[[dict[str, Any], str], None]:
    """Tamper: the version points at an evaluation report someone wrote by hand (not the pipeline's)."""

    def tamper(request: dict[str, Any], run_uri: str) -> None:
        from policies.rules.metrics import evaluation_report

        bucket, key = run_uri.removeprefix("s3://").split("/", 1)
        body = json.dumps(evaluation_report("binary_classification_metrics", metrics)).encode()
        aws.client("s3").put_object(Bucket=bucket, Key=f"{key}/evaluation/evaluation.json", Body=body)

    return tamper


def remove_evidence(key: str, aws: EmbeddedAws) -> Callable[[dict[str, Any], str], None]:
    """Tamper: a file of the run's evidence (``key`` under the run prefix) is deleted before the version is approved."""

    def tamper(request: dict[str, Any], run_uri: str) -> None:
        bucket, prefix = run_uri.removeprefix("s3://").split("/", 1)
        aws.client("s3").delete_object(Bucket=bucket, Key=f"{prefix.rstrip('/')}/{key}")

    return tamper
