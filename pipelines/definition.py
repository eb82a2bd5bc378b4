"""The governed SageMaker pipeline of a project, built from the governance policy (sagemaker SDK v3).

    ValidateData ─► DataContract ─┬─► Train ─► Evaluate ─► <Metric>Threshold ... ─► RegisterModel
                                  └─► DataContractViolated (fail)          └─► <Metric>BelowPolicy (fail)

Every threshold comes from ``policy.approval_requirements(project)``, the classification from
the project, the model package group is the project's: the pipeline enforces before
registration exactly what the approval gate checks after.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

from policies.model import GovernancePolicy, MetricThreshold, Project
from policies.naming import Names
from policies.rules.approval import CODE_VERSION_KEY, TRAINING_DATA_SHA256_KEY, TRAINING_DATA_URI_KEY, VALIDATION_REPORT_URI_KEY

# The ModelTrainer validates its role with IAM and uploads SDK drivers when a step is built;
# role validation needs credentials, so it is off (the role is created by the identity stack).
os.environ.setdefault("SAGEMAKER_VALIDATE_ROLE", "false")

SKLEARN_VERSION = "1.2-1"
PROCESSING_INSTANCE = "ml.m5.large"
TRAINING_INSTANCE = "ml.m5.large"
CLASSIFICATION_METADATA_KEY = "governance:data-classification"
# SageMaker SDK defaults for governed pipelines: no usage telemetry leaves the account.
SDK_CONFIG: dict[str, Any] = {"SchemaVersion": "1.0", "SageMaker": {"PythonSDK": {"Modules": {"TelemetryOptOut": True}}}}
EVALUATION_SECTION = "binary_classification_metrics"


@dataclass(frozen=True)
class PipelineTarget:
    """Where a project's pipeline runs: the account's names and the code bundle version."""

    names: Names
    project: Project
    code_version: str

    @property
    def lineage_bucket(self) -> str:
        return self.names.lineage_bucket

    def uri(self, *parts: str) -> str:
        return "/".join([f"s3://{self.lineage_bucket}/projects/{self.project.name}", *parts])

    @property
    def code_prefix(self) -> str:
        return self.uri("code", self.code_version) + "/"

    @property
    def pipeline_name(self) -> str:
        return f"{self.project.name}-governed"

    @property
    def role_arn(self) -> str:
        return self.names.role_arn(self.names.execution_role(self.project))


def _condition(threshold: MetricThreshold, value: Any) -> list[Any]:
    from sagemaker.core.workflow.conditions import ConditionGreaterThanOrEqualTo, ConditionLessThanOrEqualTo

    conditions: list[Any] = []
    if threshold.minimum is not None:
        conditions.append(ConditionGreaterThanOrEqualTo(left=value, right=threshold.minimum))
    if threshold.maximum is not None:
        conditions.append(ConditionLessThanOrEqualTo(left=value, right=threshold.maximum))
    return conditions


def _step_name(metric: str) -> str:
    return "".join(part.capitalize() for part in metric.split("_"))


def build_pipeline(policy: GovernancePolicy, target: PipelineTarget, *, session: Any = None) -> Any:
    """The pipeline object (call ``.definition()`` for the JSON)."""
    import boto3
    from sagemaker.core import image_uris
    from sagemaker.core.model_metrics import MetricsSource, ModelMetrics
    from sagemaker.core.processing import ScriptProcessor
    from sagemaker.core.shapes import ProcessingInput, ProcessingOutput, ProcessingS3Input, ProcessingS3Output
    from sagemaker.core.workflow.conditions import ConditionEquals
    from sagemaker.core.workflow.execution_variables import ExecutionVariables
    from sagemaker.core.workflow.functions import Join, JsonGet
    from sagemaker.core.workflow.parameters import ParameterString
    from sagemaker.core.workflow.pipeline_context import PipelineSession
    from sagemaker.core.workflow.properties import PropertyFile
    from sagemaker.mlops.workflow.condition_step import ConditionStep
    from sagemaker.mlops.workflow.fail_step import FailStep
    from sagemaker.mlops.workflow.model_step import ModelStep
    from sagemaker.mlops.workflow.pipeline import Pipeline
    from sagemaker.mlops.workflow.steps import ProcessingStep, TrainingStep
    from sagemaker.serve.model_builder import ModelBuilder
    from sagemaker.train import ModelTrainer
    from sagemaker.train.configs import Compute, InputData, OutputDataConfig, SourceCode

    project, region = target.project, target.names.region
    session = session or PipelineSession(
        boto_session=boto3.Session(region_name=region),
        default_bucket=target.lineage_bucket,
        default_bucket_prefix=f"projects/{project.name}/sdk",  # inside the prefix the execution role may read
        sagemaker_config=SDK_CONFIG,
    )
    image = image_uris.retrieve(
        framework="sklearn",
        region=region,
        version=SKLEARN_VERSION,
        py_version="py3",
        instance_type=PROCESSING_INSTANCE,
        image_scope="training",
    )
    run_id = ExecutionVariables.PIPELINE_EXECUTION_ID
    training_data = ParameterString(name="TrainingDataUri", default_value=target.uri("data") + "/")

    def run_prefix(*parts: str) -> Any:
        return Join(on="/", values=[target.uri("runs"), run_id, *parts])

    def processing_input(name: str, s3_uri: Any, local_path: str) -> Any:
        return ProcessingInput(
            input_name=name,
            s3_input=ProcessingS3Input(s3_uri=s3_uri, local_path=local_path, s3_data_type="S3Prefix", s3_input_mode="File"),
        )

    def report(name: str) -> tuple[Any, Any, Any]:
        """A step's JSON report: its processing output, the property file to read it, its S3 URI."""
        output = ProcessingOutput(
            output_name=name,
            s3_output=ProcessingS3Output(
                s3_uri=run_prefix(name), local_path=f"/opt/ml/processing/{name}", s3_upload_mode="EndOfJob"
            ),
        )
        property_file = PropertyFile(name=f"{name.capitalize()}Report", output_name=name, path=f"{name}.json")
        return output, property_file, Join(on="/", values=[run_prefix(name), f"{name}.json"])

    source_input = processing_input("source", target.code_prefix, "/opt/ml/processing/input/source")
    data_input = processing_input("data", training_data, "/opt/ml/processing/input/data")
    processor = ScriptProcessor(
        image_uri=image,
        command=["python3"],
        role=target.role_arn,
        instance_count=1,
        instance_type=PROCESSING_INSTANCE,
        sagemaker_session=session,
        base_job_name=f"{project.name}-governed",
    )

    # 1. data contract (Great Expectations)
    validation_output, validation_report, validation_uri = report("validation")
    validate = ProcessingStep(
        name="ValidateData",
        description="Great Expectations data contract: schema, types, nulls, ranges, row count",
        step_args=processor.run(
            code=target.code_prefix + "pipelines/steps/validate.py",
            inputs=[data_input, source_input],
            outputs=[validation_output],
        ),
        property_files=[validation_report],
    )

    # 2. training
    trainer = ModelTrainer(
        training_image=image,
        role=target.role_arn,
        sagemaker_session=session,
        base_job_name=f"{project.name}-train",
        source_code=SourceCode(source_dir=target.code_prefix, entry_script="pipelines/steps/train.py"),
        compute=Compute(instance_type=TRAINING_INSTANCE, instance_count=1),
        output_data_config=OutputDataConfig(s3_output_path=target.uri("models")),
    )
    train = TrainingStep(
        name="Train",
        description="Train on the validated data",
        step_args=trainer.train(input_data_config=[InputData(channel_name="train", data_source=training_data)]),
    )

    # 3. evaluation
    evaluation_output, evaluation_report, evaluation_uri = report("evaluation")
    evaluate = ProcessingStep(
        name="Evaluate",
        description="Metrics on the held-out split, in SageMaker's model quality format",
        step_args=processor.run(
            code=target.code_prefix + "pipelines/steps/evaluate.py",
            inputs=[
                processing_input("model", train.properties.ModelArtifacts.S3ModelArtifacts, "/opt/ml/processing/model"),
                data_input,
                source_input,
            ],
            outputs=[evaluation_output],
        ),
        property_files=[evaluation_report],
    )

    # 4. registration, with the lineage the approval gate checks
    builder = ModelBuilder(
        s3_model_data_url=train.properties.ModelArtifacts.S3ModelArtifacts,
        image_uri=image,
        role_arn=target.role_arn,
        sagemaker_session=session,
    )
    register = ModelStep(
        name="RegisterModel",
        description=f"Register in {project.name} as PendingManualApproval with metrics and lineage",
        step_args=builder.register(
            model_package_group_name=target.names.model_package_group(project),
            content_types=["text/csv"],
            response_types=["text/csv"],
            inference_instances=["ml.m5.large"],
            approval_status="PendingManualApproval",
            description=f"{project.name} model version; data classified {project.classification}",
            model_metrics=ModelMetrics(model_statistics=MetricsSource(content_type="application/json", s3_uri=evaluation_uri)),
            customer_metadata_properties={
                TRAINING_DATA_URI_KEY: Join(on="", values=[training_data, "train.csv"]),
                TRAINING_DATA_SHA256_KEY: JsonGet(
                    step_name=validate.name, property_file=validation_report, json_path="data_sha256"
                ),
                VALIDATION_REPORT_URI_KEY: validation_uri,
                CODE_VERSION_KEY: target.code_version,
                CLASSIFICATION_METADATA_KEY: project.classification,
            },
        ),
    )

    # 5. the policy's thresholds, one condition per metric, each failing with its own message
    next_steps: list[Any] = [register]
    for metric, threshold in reversed(list(policy.approval_requirements(project).items())):
        value = JsonGet(
            step_name=evaluate.name, property_file=evaluation_report, json_path=f"{EVALUATION_SECTION}.{metric}.value"
        )
        check = ConditionStep(
            name=f"{_step_name(metric)}Threshold",
            description=f"Policy: {metric} {threshold.describe()}",
            conditions=_condition(threshold, value),
            if_steps=next_steps,
            else_steps=[
                FailStep(
                    name=f"{_step_name(metric)}BelowPolicy",
                    error_message=Join(
                        on="",
                        values=[f"{metric} = ", value, f" does not meet the policy's {threshold.describe()} for {project.name}"],
                    ),
                )
            ],
        )
        next_steps = [check]

    data_contract = ConditionStep(
        name="DataContract",
        description="Stop before training when the data contract is violated",
        conditions=[
            ConditionEquals(
                left=JsonGet(step_name=validate.name, property_file=validation_report, json_path="success"), right=True
            )
        ],
        if_steps=[train, evaluate, *next_steps],
        else_steps=[
            FailStep(
                name="DataContractViolated",
                error_message=Join(on="", values=["training data violates the data contract; report: ", validation_uri]),
            )
        ],
    )
    return Pipeline(
        name=target.pipeline_name, parameters=[training_data], steps=[validate, data_contract], sagemaker_session=session
    )


def governed_definition(pipeline: Any, policy: GovernancePolicy, project: Project) -> dict[str, Any]:
    """The pipeline definition with the project's tags on every model version it registers.

    ModelBuilder.register has no tags argument; CreateModelPackage does, so the RegisterModel
    request gets them here.
    """
    definition: dict[str, Any] = json.loads(pipeline.definition())
    tags = [{"Key": k, "Value": v} for k, v in policy.project_tags(project).items()]

    def visit(steps: list[dict[str, Any]]) -> None:
        for step in steps:
            if step.get("Type") == "RegisterModel":
                step["Arguments"]["Tags"] = tags
            arguments = step.get("Arguments", {})
            visit(arguments.get("IfSteps", []))
            visit(arguments.get("ElseSteps", []))

    visit(definition["Steps"])
    return definition
