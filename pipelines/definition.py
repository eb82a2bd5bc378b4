"""The governed SageMaker pipeline of a project, built from the governance policy (sagemaker SDK v3).

    ValidateData ─► DataContract ─┬─► Train ─► Evaluate ─► <Metric>Threshold ... ─► RegisterModel
                                  ├─► Baseline ─────────────────────────────────────┘
                                  └─► DataContractViolated (fail)          └─► <Metric>BelowPolicy (fail)

Every threshold comes from ``policy.approval_requirements(project)``, the classification from
the project, the model package group is the project's: the pipeline enforces before
registration exactly what the approval gate checks after.

ValidateData copies the training data into the run's prefix; Train, Evaluate and Baseline read
that copy, and the version names it. Each report is written with a digest.json holding the
SHA-256 of its bytes; RegisterModel reads the digests into the version's metadata
(pipelines.registration, pipelines.evidence). Baseline is a processing step of its own,
beside Train: it needs the validated data, not the model, and numpy only.
"""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from pipelines.evidence import BASELINE, DATA, DIGEST_FILE, EVALUATION, VALIDATION, Evidence
from pipelines.registration import (
    DIGEST_SHA256_FIELD,
    MODEL_QUALITY_CONTENT_TYPE,
    TRAINING_DATA_SHA256_FIELD,
    customer_metadata,
)
from policies.model import GovernancePolicy, MetricThreshold, Project
from policies.naming import HOLDOUT_PREFIX, Names

# The ModelTrainer validates its role with IAM and uploads SDK drivers when a step is built;
# role validation needs credentials, so it is off (the role is created by the identity stack).
os.environ.setdefault("SAGEMAKER_VALIDATE_ROLE", "false")

# The SageMaker scikit-learn image every job runs in: 1.9-0 has Python 3.12 (the project's
# requires-python admits it; drift and Great Expectations 1.x need 3.10 or later, 1.2-1 had 3.9),
# scikit-learn 1.9.0 and pandas 2.2 (aws/sagemaker-scikit-learn-container#272).
SKLEARN_VERSION = "1.9-0"
CONTAINER_PYTHON = (3, 12)
PROCESSING_INSTANCE = "ml.m5.large"
PROCESSING_SOURCE = "/opt/ml/processing/input/source"  # where processing jobs mount the source bundle (steps/_paths.py)
TRAINING_INSTANCE = "ml.m5.large"
# SageMaker SDK defaults for governed pipelines: no usage telemetry leaves the account.
SDK_CONFIG: dict[str, Any] = {"SchemaVersion": "1.0", "SageMaker": {"PythonSDK": {"Modules": {"TelemetryOptOut": True}}}}
EVALUATION_SECTION = "binary_classification_metrics"


# The multi-account layout's stack holding the projects' artifact keys (infra.stack_order names it; the template
# imports no stack, and a test ties the two).
HUB_REGISTRY_STACK = "hub-registry"
_KEY_ID = r"(?:mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"


class TargetError(ValueError):
    """The pipeline cannot be built as asked for this account: the message says what to pass instead."""


@dataclass(frozen=True)
class PipelineTarget:
    """Where a project's pipeline runs: the account's names and the code bundle version. With many accounts it runs
    in an entry stage's account, registers into the hub's group and writes its model artifacts to the hub's bucket,
    encrypted with the project's artifact key there (``artifact_key_arn``)."""

    names: Names
    project: Project
    code_version: str
    artifact_key_arn: str | None = None

    def __post_init__(self) -> None:
        if problem := target_problem(self.names, self.project, self.artifact_key_arn):
            raise TargetError(problem)

    @property
    def lineage_bucket(self) -> str:
        return self.names.lineage_bucket

    @property
    def model_store_uri(self) -> str:
        """Where training writes the model (``Names.model_store``): where the approval gate pins it."""
        bucket, prefix = self.names.model_store(self.project.name)
        return f"s3://{bucket}/{prefix}"

    @property
    def model_package_group(self) -> str:
        """The group versions are registered in: the project's in this account, or with many accounts the hub's (by ARN)."""
        accounts = self.names.policy.accounts
        if accounts is None:
            return self.names.model_package_group(self.project)
        hub = Names(self.names.policy, account=accounts.hub, partition=self.names.partition)
        return hub.model_package_group_arn(self.project)

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


def target_problem(names: Names, project: Project, artifact_key_arn: str | None) -> str | None:
    """Why the project's pipeline cannot run in ``names.account`` with that key, or None."""
    accounts = names.policy.accounts
    if accounts is None:
        if artifact_key_arn is not None:
            return (
                "--artifact-key-arn is for a policy with accounts: with one account the model store is the lineage bucket, "
                "encrypted with its data key; leave it out (or set GOVERNANCE_POLICY to your policy with accounts)"
            )
        return None
    entry = [stage for stage in accounts.stages_of(project.name) if stage in accounts.entry_stages]
    if not any(accounts.account_of(stage) == names.account for stage in entry):
        where = ", ".join(f"{stage} (account {accounts.account_of(stage)})" for stage in entry) or "no stage"
        return (
            f"account {names.account} runs no entry stage of {project.name}; its pipeline runs where versions are "
            f"registered: {where} (definition: --account; upsert: that account's credentials)"
        )
    hub = Names(names.policy, account=accounts.hub, partition=names.partition)
    output = Names.artifact_key_output(project.name)
    where_from = f"the output {output} of stack {HUB_REGISTRY_STACK} (`terraform output -raw {output}` there)"
    if artifact_key_arn is None:
        return (
            f"{project.name}'s model artifacts go to the hub's bucket {hub.artifacts_bucket}, which takes them encrypted "
            f"with the project's key only: pass --artifact-key-arn with {where_from}"
        )
    expected = f"arn:{names.partition}:kms:{hub.region}:{hub.account}:key/"
    if not re.fullmatch(re.escape(expected) + _KEY_ID, artifact_key_arn):
        return f"--artifact-key-arn {artifact_key_arn!r} is not a key of the hub ({expected}<key id>): pass {where_from}"
    return None


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


# Schemas the SageMaker SDK validates its defaults config against, each checked against its metaschema once
# per process: id -> (the schema, a copy to notice a change, its validator).
_CHECKED_SCHEMAS: dict[int, tuple[Any, Any, Any]] = {}


def _validate_checking_schema_once(instance: Any, schema: Any, cls: Any = None, *args: Any, **kwargs: Any) -> None:
    """``jsonschema.validate`` with the schema's own check done once per schema instead of on every call.

    The SDK calls ``jsonschema.validate(config, SDK_SCHEMA)`` on each of the ~60 config lookups of a build, and
    ``jsonschema.validate`` first checks the SDK's constant schema against the JSON Schema metaschema: 88 % of a
    build. Here every config is still validated in full against the schema and fails with the same error
    (``best_match`` of the same validator); only the unchanged schema is not checked again. Any other use
    (a validator class or options given) goes to ``jsonschema.validate`` itself.
    """
    import jsonschema

    if cls is not None or args or kwargs or not isinstance(schema, dict):
        jsonschema.validate(instance, schema, cls, *args, **kwargs)
        return
    entry = _CHECKED_SCHEMAS.get(id(schema))
    if entry is None or entry[0] is not schema or entry[1] != schema:
        validator_class = jsonschema.validators.validator_for(schema)
        validator_class.check_schema(schema)
        entry = (schema, copy.deepcopy(schema), validator_class(schema))
        _CHECKED_SCHEMAS[id(schema)] = entry
    error = jsonschema.exceptions.best_match(entry[2].iter_errors(instance))
    if error is not None:
        raise error


@contextmanager
def sdk_config_schema_checked_once() -> Iterator[None]:
    """While building: the SDK's config validation checks its schema once (``_validate_checking_schema_once``)."""
    import sagemaker.core.config.config
    import sagemaker.core.config.config_manager
    import sagemaker.core.utils.intelligent_defaults_helper

    # The modules that validate the defaults config with ``jsonschema.validate``; each sees the checked-once
    # validation through its own ``jsonschema`` name, so nothing outside the SDK is affected.
    modules = (
        sagemaker.core.config.config,
        sagemaker.core.config.config_manager,
        sagemaker.core.utils.intelligent_defaults_helper,
    )
    saved = [(module, module.jsonschema) for module in modules]
    try:
        for module, original in saved:
            if not isinstance(original, _CheckedOnceJsonschema):
                module.jsonschema = _CheckedOnceJsonschema(original)
        yield
    finally:
        for module, original in saved:
            module.jsonschema = original


class _CheckedOnceJsonschema:
    """The ``jsonschema`` module as the SDK sees it while building: ``validate`` checks a schema once."""

    def __init__(self, module: Any) -> None:
        self._module = module

    def __getattr__(self, name: str) -> Any:
        return getattr(self._module, name)

    @staticmethod
    def validate(instance: Any, schema: Any, cls: Any = None, *args: Any, **kwargs: Any) -> None:
        _validate_checking_schema_once(instance, schema, cls, *args, **kwargs)


def build_pipeline(policy: GovernancePolicy, target: PipelineTarget, *, session: Any = None) -> Any:
    """The pipeline object (call ``.definition()``, or ``governed_definition``, for the JSON)."""
    with sdk_config_schema_checked_once():
        return _build_pipeline(policy, target, session=session)


def _build_pipeline(policy: GovernancePolicy, target: PipelineTarget, *, session: Any = None) -> Any:
    from sagemaker.core.workflow.parameters import ParameterString
    from sagemaker.mlops.workflow.pipeline import Pipeline

    steps = _Steps(target, session or _pipeline_session(target))
    training_data = ParameterString(name="TrainingDataUri", default_value=target.uri("data") + "/")
    validate = steps.validate(training_data)
    validated_data = validate.step.properties.ProcessingOutputConfig.Outputs[DATA.output].S3Output.S3Uri
    train = steps.train(validated_data)
    evaluate = steps.evaluate(train)
    baseline = steps.baseline(validated_data)
    register = steps.register(train, policy, validate=validate, evaluate=evaluate, baseline=baseline)
    thresholds = _threshold_chain(policy, target.project, evaluate.step, evaluate.report, register)
    data_contract = _data_contract(
        validate.step, validate.report, steps.uri(VALIDATION), [train, evaluate.step, baseline.step, *thresholds]
    )
    return Pipeline(
        name=target.pipeline_name,
        parameters=[training_data],
        steps=[validate.step, data_contract],
        sagemaker_session=steps.session,
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
        self.source_input = self._input("source", target.code_prefix, PROCESSING_SOURCE)

    def _processor(self, script: str) -> Any:
        """A processor running ``script`` from the mounted source bundle.

        Not a ScriptProcessor: that one downloads the script alone to /opt/ml/processing/input/code,
        away from the modules beside it (``_paths``) and from the bundle the code version names.
        """
        from sagemaker.core.processing import Processor

        return Processor(
            image_uri=self.image,
            entrypoint=["python3", f"{PROCESSING_SOURCE}/pipelines/steps/{script}"],
            role=self.target.role_arn,
            instance_count=1,
            instance_type=PROCESSING_INSTANCE,
            sagemaker_session=self.session,
            base_job_name=f"{self.target.project.name}-governed",
        )

    def _run_prefix(self, *parts: str) -> Any:
        from sagemaker.core.workflow.functions import Join

        return Join(on="/", values=[self.target.uri("runs"), self.run_id, *parts])

    def uri(self, evidence: Evidence) -> Any:
        """The S3 URI of a run artifact: ``.../runs/<execution id>/<output>/<file>``."""
        return self._run_prefix(evidence.output, evidence.file)

    @staticmethod
    def _input(name: str, s3_uri: Any, local_path: str) -> Any:
        from sagemaker.core.shapes import ProcessingInput, ProcessingS3Input

        return ProcessingInput(
            input_name=name,
            s3_input=ProcessingS3Input(s3_uri=s3_uri, local_path=local_path, s3_data_type="S3Prefix", s3_input_mode="File"),
        )

    def _output(self, evidence: Evidence) -> Any:
        """A processing output uploaded to ``.../runs/<execution id>/<output>`` when the job ends."""
        from sagemaker.core.shapes import ProcessingOutput, ProcessingS3Output

        return ProcessingOutput(
            output_name=evidence.output,
            s3_output=ProcessingS3Output(
                s3_uri=self._run_prefix(evidence.output),
                local_path=f"/opt/ml/processing/{evidence.output}",
                s3_upload_mode="EndOfJob",
            ),
        )

    @staticmethod
    def _property_files(evidence: Evidence, *, report: bool) -> tuple[Any, Any]:
        """Property files on the output's report (when the pipeline reads it) and on its digest.json."""
        from sagemaker.core.workflow.properties import PropertyFile

        stem = evidence.output.capitalize()
        digest = PropertyFile(name=f"{stem}Digest", output_name=evidence.output, path=DIGEST_FILE)
        return (PropertyFile(name=f"{stem}Report", output_name=evidence.output, path=evidence.file) if report else None), digest

    def _processing(
        self,
        name: str,
        description: str,
        script: str,
        inputs: list[Any],
        evidence: Evidence,
        *,
        report: bool,
        extra: tuple[Evidence, ...] = (),
    ) -> _Evidenced:
        from sagemaker.mlops.workflow.steps import ProcessingStep

        report_file, digest_file = self._property_files(evidence, report=report)
        step = ProcessingStep(
            name=name,
            description=description,
            step_args=self._processor(script).run(
                inputs=[*inputs, self.source_input],
                outputs=[self._output(e) for e in (evidence, *extra)],
            ),
            property_files=[f for f in (report_file, digest_file) if f is not None],
        )
        return _Evidenced(step, report_file, digest_file)

    def validate(self, training_data: Any) -> _Evidenced:
        """The data contract (Great Expectations); the validated copy of the data is the run's ``data`` output."""
        return self._processing(
            "ValidateData",
            "Great Expectations data contract: schema, types, nulls, ranges, row count",
            "validate.py",
            [self._input("data", training_data, "/opt/ml/processing/input/data")],
            VALIDATION,
            report=True,
            extra=(DATA,),
        )

    def train(self, validated_data: Any) -> Any:
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
            # the project's model store (in this account, or the hub's bucket with its key), where the gate pins it
            output_data_config=OutputDataConfig(s3_output_path=target.model_store_uri, kms_key_id=target.artifact_key_arn),
        )
        return TrainingStep(
            name="Train",
            description="Train on the validated data",
            step_args=trainer.train(input_data_config=[InputData(channel_name="train", data_source=validated_data)]),
        )

    def evaluate(self, train: Any) -> _Evidenced:
        """Metrics on the project's holdout: a fixed input, not a parameter, which only the publisher writes."""
        return self._processing(
            "Evaluate",
            "Metrics on the project's holdout, in SageMaker's model quality format",
            "evaluate.py",
            [
                self._input("model", train.properties.ModelArtifacts.S3ModelArtifacts, "/opt/ml/processing/model"),
                self._input("holdout", self.target.uri(HOLDOUT_PREFIX) + "/", "/opt/ml/processing/input/holdout"),
            ],
            EVALUATION,
            report=True,
        )

    def baseline(self, validated_data: Any) -> _Evidenced:
        return self._processing(
            "Baseline",
            "Per-feature drift baseline of the training split (drift.baseline)",
            "baseline.py",
            [self._input("data", validated_data, "/opt/ml/processing/input/data")],
            BASELINE,
            report=False,
        )

    def register(
        self, train: Any, policy: GovernancePolicy, *, validate: _Evidenced, evaluate: _Evidenced, baseline: _Evidenced
    ) -> Any:
        """Registration as PendingManualApproval, with the evidence the approval gate checks."""
        from sagemaker.core.metadata_properties import MetadataProperties
        from sagemaker.core.model_metrics import MetricsSource, ModelMetrics
        from sagemaker.core.workflow.execution_variables import ExecutionVariables
        from sagemaker.mlops.workflow.model_step import ModelStep
        from sagemaker.serve.model_builder import ModelBuilder

        target, project = self.target, self.target.project
        by_output = {e.output: step for e, step in ((VALIDATION, validate), (EVALUATION, evaluate), (BASELINE, baseline))}
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
                model_package_group_name=target.model_package_group,
                content_types=["text/csv"],
                response_types=["text/csv"],
                inference_instances=["ml.m5.large"],
                approval_status="PendingManualApproval",
                description=f"{project.name} model version; data classified {project.classification}",
                model_metrics=ModelMetrics(
                    model_statistics=MetricsSource(content_type=MODEL_QUALITY_CONTENT_TYPE, s3_uri=self.uri(EVALUATION))
                ),
                # SageMaker records the execution ARN for versions a pipeline registers; setting it
                # here puts it in the definition too, where it can be read and tested.
                metadata_properties=MetadataProperties(generated_by=ExecutionVariables.PIPELINE_EXECUTION_ARN),
                customer_metadata_properties=customer_metadata(
                    uri=self.uri,
                    sha256=lambda evidence: by_output[evidence.output].sha256(),
                    training_data_sha256=validate.get(validate.report, TRAINING_DATA_SHA256_FIELD),
                    code_version=target.code_version,
                    classification=project.classification,
                ),
            ),
        )


@dataclass(frozen=True)
class _Evidenced:
    """A processing step and the property files on its report and on its digest.json."""

    step: Any
    report: Any
    digest: Any

    def get(self, property_file: Any, json_path: str) -> Any:
        from sagemaker.core.workflow.functions import JsonGet

        return JsonGet(step_name=self.step.name, property_file=property_file, json_path=json_path)

    def sha256(self) -> Any:
        """The SHA-256 of the step's report, read from its digest.json when the step has run."""
        return self.get(self.digest, DIGEST_SHA256_FIELD)


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


def governed_definition(pipeline: Any) -> dict[str, Any]:
    """The pipeline definition JSON, the SDK's config schema checked once (``sdk_config_schema_checked_once``).

    RegisterModel carries no tags: CreateModelPackage with a ModelPackageGroupName "uses the tags associated with
    the model group. In this case, you cannot supply a tag argument" (SageMaker API reference). The group carries
    the project's tags (the registry stack; the hub's with many accounts), and the version its classification in
    ``CustomerMetadataProperties``.
    """
    with sdk_config_schema_checked_once():
        definition: dict[str, Any] = json.loads(pipeline.definition())
    return definition
