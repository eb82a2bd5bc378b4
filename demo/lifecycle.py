"""The governance lifecycle the demo plays on the deployed blueprint: model versions registered by the governed
pipeline, approved by a person, and the mistakes and attacks the policy exists for.

Every event is one AWS documents (demo/samples), sent to the deployed bus (demo/delivery.py); every
decision is the deployed handlers' own, recorded in the deployed audit bucket.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from demo.delivery import Bus
from demo.embedded import ACCOUNT
from demo.samples import api_call_event, approval_event
from infra.embedded_aws import EmbeddedAws
from infra.embedded_extensions import record_user_context
from policies.model import GovernancePolicy, Project
from policies.naming import MODEL_DEPLOYER, Names

REGISTRAR = "dana"  # the data scientist who starts the project's pipeline
APPROVER = "alice"  # the model approver
IMAGE = "141502667606.dkr.ecr.{region}.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"


def user_context(role_arn: str, session: str, person: str) -> dict[str, Any]:
    """A SageMaker UserContext as recorded for a role session that carries sts:SourceIdentity."""
    session_arn = role_arn.replace(":iam::", ":sts::").replace(":role/", ":assumed-role/") + f"/{session}"
    return {"IamIdentity": {"Arn": session_arn, "PrincipalId": f"AROADEMO:{session}", "SourceIdentity": person}}


@dataclass
class Story:
    """What happened, as the demo asked for it; the summary compares it with the audit records."""

    steps: list[tuple[str, str, str]] = field(default_factory=list)  # (project, what, outcome)

    def add(self, project: str, what: str, outcome: str) -> None:
        self.steps.append((project, what, outcome))


@dataclass
class Lifecycle:
    aws: EmbeddedAws
    policy: GovernancePolicy
    bus: Bus
    workdir: Path
    story: Story = field(default_factory=Story)

    @property
    def names(self) -> Names:
        return Names(self.policy, account=ACCOUNT)

    def sagemaker(self, region: str | None = None) -> Any:
        return self.aws.client("sagemaker", region)

    # ---- the governed pipeline, locally, into the deployed lineage bucket -------------------------------
    def pipeline_run(self, project: Project) -> Any:
        """The pipeline's validate, train, evaluate and baseline steps on the bundled dataset, uploaded as its run."""
        from pipelines.bundle import source_bundle
        from pipelines.local_run import local_registration, run_locally
        from pipelines.registration import run_prefix_uri

        run_id = uuid.uuid4().hex[:12]
        run = run_locally(self.workdir / project.name / run_id)
        run_uri = run_prefix_uri(self.names.lineage_bucket, project.name, run_id)
        s3 = self.aws.client("s3")
        for key, path in run.artifacts().items():
            s3.put_object(Bucket=self.names.lineage_bucket, Key=f"{run_uri.split('/', 3)[3]}/{key}", Body=path.read_bytes())
        execution = f"arn:aws:sagemaker:{self.aws.region}:{ACCOUNT}:pipeline/{project.name}-governed/execution/{run_id}"
        return local_registration(
            run, project, run_uri=run_uri, code_version=source_bundle().version, execution_arn=execution
        ), run_uri

    def register(self, project: Project, *, tamper: Callable[[dict[str, Any], str], None] | None = None) -> str:
        """Register the run's model version as the pipeline's RegisterModel step does (PendingManualApproval)."""
        registration, run_uri = self.pipeline_run(project)
        request: dict[str, Any] = {
            "ModelPackageGroupName": self.names.model_package_group(project),
            "ModelApprovalStatus": "PendingManualApproval",
            "InferenceSpecification": {
                "Containers": [{"Image": IMAGE.format(region=self.aws.region), "ModelDataUrl": f"{run_uri}/model/model.joblib"}],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
            "ModelMetrics": registration.model_metrics,
            "CustomerMetadataProperties": registration.customer_metadata_properties,
            "MetadataProperties": registration.metadata_properties,
            "Tags": [{"Key": k, "Value": v} for k, v in self.policy.project_tags(project).items()],
        }
        if tamper is not None:
            tamper(request, run_uri)
        arn: str = self.sagemaker().create_model_package(**request)["ModelPackageArn"]
        registrar = user_context(self.names.role_arn(self.names.execution_role(project)), "SageMaker", REGISTRAR)
        record_user_context(ACCOUNT, self.aws.region, arn, created_by=registrar, last_modified_by=None)
        return arn

    def approve(self, arn: str, *, by: str = APPROVER) -> str:
        """A person approves the version; SageMaker emits the state change, which reaches the deployed gate."""
        self.sagemaker().update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")
        approver = user_context(self.names.role_arn(self.names.persona_role("model-approver")), by, by)
        registrar = self.sagemaker().describe_model_package(ModelPackageName=arn).get("CreatedBy")
        record_user_context(ACCOUNT, self.aws.region, arn, created_by=registrar, last_modified_by=approver)
        event = approval_event(arn)
        event["detail"]["LastModifiedBy"] = approver
        self.bus.put(event)
        return self.status(arn)

    def status(self, arn: str) -> str:
        return str(self.sagemaker().describe_model_package(ModelPackageName=arn)["ModelApprovalStatus"])

    def reject(self, arn: str) -> None:
        """A person rejects a version after it was approved (and perhaps deployed)."""
        self.sagemaker().update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Rejected")
        self.bus.put(approval_event(arn, status="Rejected"))

    def deploy(self, arn: str, endpoint: str) -> dict[str, Any]:
        """The ML engineer asks the deployer (the one role that may create models and endpoints)."""
        request = {"model_package_arn": arn, "endpoint_name": endpoint, "instance_type": "ml.m5.large", "instance_count": 1}
        return self.bus.invoke(self.names.handler_function(MODEL_DEPLOYER), request)

    # ---- SageMaker work created outside the governed path ---------------------------------------------------
    def training_job(self, name: str, *, region: str, tags: dict[str, str] | None = None) -> None:
        """Someone starts a training job directly; CloudTrail records the call and EventBridge receives it."""
        self.sagemaker(region).create_training_job(
            TrainingJobName=name,
            RoleArn=self.names.role_arn(f"{self.policy.organization.name}-credit-risk-sagemaker-execution"),
            AlgorithmSpecification={"TrainingImage": IMAGE.format(region=region), "TrainingInputMode": "File"},
            OutputDataConfig={"S3OutputPath": f"s3://{self.names.lineage_bucket}/scratch/"},
            ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
            StoppingCondition={"MaxRuntimeInSeconds": 3600},
            Tags=[{"Key": k, "Value": v} for k, v in (tags or {}).items()],
        )
        self.bus.put(api_call_event("CreateTrainingJob", name=name, region=region, tags=tags))

    def raw_endpoint(self, name: str, *, region: str) -> None:
        """Someone with the rights the boundary removes creates an endpoint from raw model data."""
        sagemaker = self.sagemaker(region)
        sagemaker.create_model(
            ModelName=f"{name}-model",
            ExecutionRoleArn=self.names.role_arn(f"{self.policy.organization.name}-credit-risk-sagemaker-execution"),
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
        self.bus.put(api_call_event("CreateEndpoint", name=name, region=region))


def replace_report(metrics: dict[str, float], aws: EmbeddedAws) -> Callable[[dict[str, Any], str], None]:
    """Tamper: the version points at an evaluation report someone wrote by hand (not the pipeline's)."""

    def tamper(request: dict[str, Any], run_uri: str) -> None:
        from policies.rules.metrics import evaluation_report

        bucket, key = run_uri.removeprefix("s3://").split("/", 1)
        body = json.dumps(evaluation_report("binary_classification_metrics", metrics)).encode()
        aws.client("s3").put_object(Bucket=bucket, Key=f"{key}/evaluation/evaluation.json", Body=body)

    return tamper
