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
    from sagemaker.core.workflow.parameters import ParameterString
    from sagemaker.mlops.workflow.pipeline import Pipeline

    steps = _Steps(target, session or _pipeline_session(target))
    training_data = ParameterString(name="TrainingDataUri", default_value=target.uri("data") + "/")
    validate, validation_report, validation_uri = steps.validate(training_data)
    train = steps.train(training_data)
    evaluate, evaluation_report, evaluation_uri = steps.evaluate(train, training_data)
    register = steps.register(
        train,
        policy,
        evaluation_uri=evaluation_uri,
        training_data=training_data,
        validation=(validate, validation_report, validation_uri),
    )
    thresholds = _threshold_chain(policy, target.project, evaluate, evaluation_report, register)
    data_contract = _data_contract(validate, validation_report, validation_uri, [train, evaluate, *thresholds])
    return Pipeline(
        name=target.pipeline_name, parameters=[training_data], steps=[validate, data_contract], sagemaker_session=steps.session
    )


def _pipeline_session(target: PipelineTarget) -> Any:
    import boto3
    from sagemaker.core.workflow.pipeline_context import PipelineSession

    return PipelineSession(
        boto_session=boto3.Session(region_name=target.names.region),
        default_bucket=target.lineage_bucket,
        default_bucket_prefix=f"projects/{target.project.name}/sdk",  # inside the prefix the execution role may read
        sagemaker_config=SDK_CONFIG,
    )


class _Steps:
    """The pipeline's steps for one project, sharing its image, processor and run prefix."""

    def __init__(self, target: PipelineTarget, session: Any) -> None:
        from sagemaker.core import image_uris
        from sagemaker.core.processing import ScriptProcessor
        from sagemaker.core.workflow.execution_variables import ExecutionVariables

        self.target, self.session = target, session
        self.image = image_uris.retrieve(
            framework="sklearn",
            region=target.names.region,
            version=SKLEARN_VERSION,
            py_version="py3",
            instance_type=PROCESSING_INSTANCE,
            image_scope="training",
        )
        self.run_id = ExecutionVariables.PIPELINE_EXECUTION_ID
        self.processor = ScriptProcessor(
            image_uri=self.image,
            command=["python3"],
            role=target.role_arn,
            instance_count=1,
            instance_type=PROCESSING_INSTANCE,
            sagemaker_session=session,
            base_job_name=f"{target.project.name}-governed",
        )
        self.source_input = self._input("source", target.code_prefix, "/opt/ml/processing/input/source")

    def _run_prefix(self, *parts: str) -> Any:
        from sagemaker.core.workflow.functions import Join

        return Join(on="/", values=[self.target.uri("runs"), self.run_id, *parts])

    @staticmethod
    def _input(name: str, s3_uri: Any, local_path: str) -> Any:
        from sagemaker.core.shapes import ProcessingInput, ProcessingS3Input

        return ProcessingInput(
            input_name=name,
            s3_input=ProcessingS3Input(s3_uri=s3_uri, local_path=local_path, s3_data_type="S3Prefix", s3_input_mode="File"),
        )

    def _report(self, name: str) -> tuple[Any, Any, Any]:
        """A step's JSON report: its processing output, the property file to read it, its S3 URI."""
        from sagemaker.core.shapes import ProcessingOutput, ProcessingS3Output
        from sagemaker.core.workflow.functions import Join
        from sagemaker.core.workflow.properties import PropertyFile

        output = ProcessingOutput(
            output_name=name,
            s3_output=ProcessingS3Output(
                s3_uri=self._run_prefix(name), local_path=f"/opt/ml/processing/{name}", s3_upload_mode="EndOfJob"
            ),
        )
        property_file = PropertyFile(name=f"{name.capitalize()}Report", output_name=name, path=f"{name}.json")
        return output, property_file, Join(on="/", values=[self._run_prefix(name), f"{name}.json"])

    def validate(self, training_data: Any) -> tuple[Any, Any, Any]:
        """The data contract (Great Expectations)."""
        from sagemaker.mlops.workflow.steps import ProcessingStep

        output, report, uri = self._report("validation")
        step = ProcessingStep(
            name="ValidateData",
            description="Great Expectations data contract: schema, types, nulls, ranges, row count",
            step_args=self.processor.run(
                code=self.target.code_prefix + "pipelines/steps/validate.py",
                inputs=[self._input("data", training_data, "/opt/ml/processing/input/data"), self.source_input],
                outputs=[output],
            ),
            property_files=[report],
        )
        return step, report, uri

    def train(self, training_data: Any) -> Any:
        from sagemaker.mlops.workflow.steps import TrainingStep
        from sagemaker.train import ModelTrainer
        from sagemaker.train.configs import Compute, InputData, OutputDataConfig, SourceCode

        target = self.target
        trainer = ModelTrainer(
            training_image=self.image,
            role=target.role_arn,
            sagemaker_session=self.session,
            base_job_name=f"{target.project.name}-train",
            source_code=SourceCode(source_dir=target.code_prefix, entry_script="pipelines/steps/train.py"),
            compute=Compute(instance_type=TRAINING_INSTANCE, instance_count=1),
            output_data_config=OutputDataConfig(s3_output_path=target.uri("models")),
        )
        return TrainingStep(
            name="Train",
            description="Train on the validated data",
            step_args=trainer.train(input_data_config=[InputData(channel_name="train", data_source=training_data)]),
        )

    def evaluate(self, train: Any, training_data: Any) -> tuple[Any, Any, Any]:
        from sagemaker.mlops.workflow.steps import ProcessingStep

        output, report, uri = self._report("evaluation")
        step = ProcessingStep(
            name="Evaluate",
            description="Metrics on the held-out split, in SageMaker's model quality format",
            step_args=self.processor.run(
                code=self.target.code_prefix + "pipelines/steps/evaluate.py",
                inputs=[
                    self._input("model", train.properties.ModelArtifacts.S3ModelArtifacts, "/opt/ml/processing/model"),
                    self._input("data", training_data, "/opt/ml/processing/input/data"),
                    self.source_input,
                ],
                outputs=[output],
            ),
            property_files=[report],
        )
        return step, report, uri

    def register(
        self, train: Any, policy: GovernancePolicy, *, evaluation_uri: Any, training_data: Any, validation: tuple[Any, Any, Any]
    ) -> Any:
        """Registration as PendingManualApproval, with the lineage the approval gate checks."""
        from sagemaker.core.model_metrics import MetricsSource, ModelMetrics
        from sagemaker.core.workflow.functions import Join, JsonGet
        from sagemaker.mlops.workflow.model_step import ModelStep
        from sagemaker.serve.model_builder import ModelBuilder

        target, project = self.target, self.target.project
        validate, validation_report, validation_uri = validation
        builder = ModelBuilder(
            s3_model_data_url=train.properties.ModelArtifacts.S3ModelArtifacts,
            image_uri=self.image,
            role_arn=target.role_arn,
            sagemaker_session=self.session,
        )
        return ModelStep(
            name="RegisterModel",
            description=f"Register in {project.name} as PendingManualApproval with metrics and lineage",
            step_args=builder.register(
                model_package_group_name=target.names.model_package_group(project),
                content_types=["text/csv"],
                response_types=["text/csv"],
                inference_instances=["ml.m5.large"],
                approval_status="PendingManualApproval",
                description=f"{project.name} model version; data classified {project.classification}",
                model_metrics=ModelMetrics(
                    model_statistics=MetricsSource(content_type="application/json", s3_uri=evaluation_uri)
                ),
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


def _threshold_chain(
    policy: GovernancePolicy, project: Project, evaluate: Any, evaluation_report: Any, register: Any
) -> list[Any]:
    """The policy's thresholds, one condition per metric in a chain ending in registration, each failing with its own message."""
    from sagemaker.core.workflow.functions import Join, JsonGet
    from sagemaker.mlops.workflow.condition_step import ConditionStep
    from sagemaker.mlops.workflow.fail_step import FailStep

    next_steps: list[Any] = [register]
    for metric, threshold in reversed(list(policy.approval_requirements(project).items())):
        value = JsonGet(
            step_name=evaluate.name, property_file=evaluation_report, json_path=f"{EVALUATION_SECTION}.{metric}.value"
        )
        failure = FailStep(
            name=f"{_step_name(metric)}BelowPolicy",
            error_message=Join(
                on="", values=[f"{metric} = ", value, f" does not meet the policy's {threshold.describe()} for {project.name}"]
            ),
        )
        check = ConditionStep(
            name=f"{_step_name(metric)}Threshold",
            description=f"Policy: {metric} {threshold.describe()}",
            conditions=_condition(threshold, value),
            if_steps=next_steps,
            else_steps=[failure],
        )
        next_steps = [check]
    return next_steps


def _data_contract(validate: Any, validation_report: Any, validation_uri: Any, if_steps: list[Any]) -> Any:
    """Stop before training when the data contract is violated."""
    from sagemaker.core.workflow.conditions import ConditionEquals
    from sagemaker.core.workflow.functions import Join, JsonGet
    from sagemaker.mlops.workflow.condition_step import ConditionStep
    from sagemaker.mlops.workflow.fail_step import FailStep

    return ConditionStep(
        name="DataContract",
        description="Stop before training when the data contract is violated",
        conditions=[
            ConditionEquals(
                left=JsonGet(step_name=validate.name, property_file=validation_report, json_path="success"), right=True
            )
        ],
        if_steps=if_steps,
        else_steps=[
            FailStep(
                name="DataContractViolated",
                error_message=Join(on="", values=["training data violates the data contract; report: ", validation_uri]),
            )
        ],
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
