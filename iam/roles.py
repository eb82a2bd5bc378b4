"""Identity policies of the blueprint's service roles: project execution roles, handler roles, forwarding, trail delivery."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from iam.documents import Document, document, statement
from iam.grants import Grant, On
from iam.personas import Keys, sagemaker_arn
from policies.naming import BASELINE_REPORT, EXPERIMENTS_PREFIX, Names

if TYPE_CHECKING:
    from policies.model import Project


def execution_role_policy(names: Names, project: Project, keys: Keys) -> Document:
    """What a project's SageMaker pipeline jobs may do: its own lineage prefix, its own model package group."""
    lineage = names.bucket_arn(names.lineage_bucket)
    own_role = names.role_arn(names.execution_role(project))
    return document(
        statement("ReadWriteProjectLineage", ["s3:GetObject", "s3:PutObject"], [f"{lineage}/projects/{project.name}/*"]),
        statement(
            "ListProjectLineage",
            ["s3:ListBucket"],
            [lineage],
            condition={"StringLike": {"s3:prefix": [f"projects/{project.name}/*"]}},
        ),
        statement(
            "RunPipelineJobs",
            [
                "sagemaker:AddTags",
                "sagemaker:CreateProcessingJob",
                "sagemaker:CreateTrainingJob",
                "sagemaker:DescribeProcessingJob",
                "sagemaker:DescribeTrainingJob",
            ],
            [sagemaker_arn(names, "processing-job"), sagemaker_arn(names, "training-job")],
        ),
        statement(
            "RegisterInOwnModelPackageGroup",
            ["sagemaker:CreateModelPackage", "sagemaker:DescribeModelPackageGroup"],
            [names.model_package_group_arn(project), names.model_packages_arn(project)],
        ),
        statement(
            "PassOwnRoleToJobs",
            ["iam:PassRole"],
            [own_role],
            condition={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
        ),
        *_job_runtime(names, keys),
    )


def _job_runtime(names: Names, keys: Keys) -> list[dict[str, object]]:
    """What any SageMaker job of a project needs to run: the data key, images, logs and metrics."""
    return [
        statement("UseDataKey", ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"], [keys["data"]]),
        statement(
            "PullSageMakerImages",
            ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
            [f"arn:{names.partition}:ecr:*:*:repository/*"],
        ),
        statement("GetEcrToken", ["ecr:GetAuthorizationToken"], "*"),
        statement(
            "WriteJobLogs",
            ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            [f"arn:{names.partition}:logs:*:{names.account}:log-group:/aws/sagemaker/*"],
        ),
        statement(
            "PublishJobMetrics",
            ["cloudwatch:PutMetricData"],
            "*",
            condition={"StringLike": {"cloudwatch:namespace": ["/aws/sagemaker/*", "aws/sagemaker/*"]}},
        ),
    ]


def experiment_role_policy(names: Names, project: Project, keys: Keys) -> Document:
    """What a project's data scientists' own jobs may do: read the project's lineage, write their experiments.

    No evidence, no registration, no jobs of its own and no role to pass: a model trained here reaches the
    registry only by the governed pipeline (the execution role).
    """
    lineage = names.bucket_arn(names.lineage_bucket)
    own = f"{lineage}/{names.lineage_project_prefix(project.name)}"
    return document(
        statement("ReadProjectLineage", ["s3:GetObject"], [f"{own}/*"]),
        statement("WriteExperiments", ["s3:PutObject"], [f"{own}/{EXPERIMENTS_PREFIX}/*"]),
        statement(
            "ListProjectLineage",
            ["s3:ListBucket"],
            [lineage],
            condition={"StringLike": {"s3:prefix": [f"{names.lineage_project_prefix(project.name)}/*"]}},
        ),
        *_job_runtime(names, keys),
    )


def model_artifacts_arn(names: Names) -> str:
    """Every project's model store (``Names.model_store``): the lineage bucket's, or with many accounts the hub's."""
    bucket, prefix = names.model_store("*")
    return f"{names.bucket_arn(bucket)}/{prefix}/*"


def grant_arns(
    names: Names, keys: Keys, *, dead_letter_queue_arn: str, log_group_arn: str, idempotency_table_arn: str
) -> dict[On, list[str]]:
    """What each ``On`` means for one handler in one account."""
    sagemaker = {
        On.MODEL_PACKAGES: [sagemaker_arn(names, "model-package", "*/*")],
        On.MODEL_PACKAGE_GROUPS: [sagemaker_arn(names, "model-package-group")],
        On.MODELS: [sagemaker_arn(names, "model")],
        On.ENDPOINTS: [sagemaker_arn(names, "endpoint")],
        On.ENDPOINT_CONFIGS: [sagemaker_arn(names, "endpoint-config")],
        On.TRAINING_JOBS: [sagemaker_arn(names, "training-job")],
        On.PROCESSING_JOBS: [sagemaker_arn(names, "processing-job")],
        On.TRANSFORM_JOBS: [sagemaker_arn(names, "transform-job")],
    }
    return {
        **sagemaker,
        On.LINEAGE_OBJECTS: [f"{names.bucket_arn(names.lineage_bucket)}/*"],
        On.LINEAGE_BUCKET: [names.bucket_arn(names.lineage_bucket)],
        On.LINEAGE_MONITORING: [f"{names.bucket_arn(names.lineage_bucket)}/{names.lineage_project_prefix('*')}/monitoring/*"],
        On.LINEAGE_CAPTURE: [f"{names.bucket_arn(names.lineage_bucket)}/{names.lineage_project_prefix('*')}/capture/*"],
        On.LINEAGE_BASELINES: [f"{names.bucket_arn(names.lineage_bucket)}/{names.lineage_run_report('*', '*', BASELINE_REPORT)}"],
        On.MODEL_ARTIFACTS: [model_artifacts_arn(names)],
        On.MODEL_STORE_BUCKETS: [names.bucket_arn(names.model_store("*")[0])],
        On.AUDIT_RECORDS: [f"{names.bucket_arn(names.audit_bucket)}/{names.audit_records_prefix}/*"],
        On.DATA_KEY: [keys["data"]],
        On.AUDIT_KEY: [keys["audit"]],
        On.OPS_KEY: [keys["ops"]],
        On.ALERTS_TOPIC: [names.alerts_topic_arn],
        On.IDEMPOTENCY_TABLE: [idempotency_table_arn],
        On.OWN_DEAD_LETTER_QUEUE: [dead_letter_queue_arn],
        On.OWN_LOG_GROUP: [f"{log_group_arn}:*"],
        # The blueprint's roles; a grant on them names the kind it means by its tag (one pattern for any number of projects).
        On.EXECUTION_ROLES: [names.role_arn(f"{names.org}-*")],
        On.INFERENCE_COMPONENTS: [sagemaker_arn(names, "inference-component")],
        On.PIPELINE_EXECUTIONS: [sagemaker_arn(names, "pipeline", "*/execution/*")],
        On.ANY: ["*"],
    }


def grant_statements(grants: Iterable[Grant], arns: Mapping[On, list[str]]) -> list[dict[str, object]]:
    """One statement per distinct grant, in declaration order; ``*`` stays a bare string (IAM's own spelling)."""
    out: list[dict[str, object]] = []
    seen: set[Grant] = set()
    for grant in grants:
        if grant in seen:
            continue
        seen.add(grant)
        resources = [arn for on in grant.on for arn in arns[on]]
        condition: dict[str, dict[str, str]] = {}
        for operator, key, value in grant.condition:
            condition.setdefault(operator, {})[key] = value
        out.append(statement(grant.sid, grant.actions, "*" if resources == ["*"] else resources, condition=condition or None))
    return out


def handler_role_policy(grants: Iterable[Grant], arns: Mapping[On, list[str]]) -> Document:
    return document(*grant_statements(grants, arns))


def event_forwarding_policy(names: Names) -> Document:
    """EventBridge in other Regions may put events on the home Region's default bus, nothing else."""
    return document(statement("PutEventsOnHomeBus", ["events:PutEvents"], [names.home_event_bus_arn]))


def trail_delivery_policy(log_group_arn: str) -> Document:
    return document(
        statement("DeliverTrailEvents", ["logs:CreateLogStream", "logs:PutLogEvents"], [f"{log_group_arn}:log-stream:*"])
    )
