"""What code declares it needs: an IAM grant on a named kind of resource, resolved to ARNs at synth.

Enforcement actions, evidence reads and the handlers' shared runtime declare ``Grant`` values
beside the code that makes the calls (``lambdas/``); ``iam.roles.handler_role_policy`` turns a
handler's grants into its role policy. Stdlib only: this module ships inside every handler package.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class On(StrEnum):
    """Resources a grant can name; ``iam.roles`` maps each to ARNs for one account."""

    MODEL_PACKAGES = "sagemaker:model-package"
    MODEL_PACKAGE_GROUPS = "sagemaker:model-package-group"
    MODELS = "sagemaker:model"
    ENDPOINTS = "sagemaker:endpoint"
    ENDPOINT_CONFIGS = "sagemaker:endpoint-config"
    TRAINING_JOBS = "sagemaker:training-job"
    PROCESSING_JOBS = "sagemaker:processing-job"
    TRANSFORM_JOBS = "sagemaker:transform-job"
    LINEAGE_OBJECTS = "s3:lineage-objects"
    LINEAGE_BUCKET = "s3:lineage-bucket"
    LINEAGE_MONITORING = "s3:lineage-monitoring"
    LINEAGE_CAPTURE = "s3:lineage-capture"
    LINEAGE_BASELINES = "s3:lineage-baselines"
    MODEL_ARTIFACTS = "s3:model-artifacts"
    MODEL_STORE_BUCKETS = "s3:model-store-buckets"
    AUDIT_RECORDS = "s3:audit-records"
    DATA_KEY = "kms:data"
    AUDIT_KEY = "kms:audit"
    OPS_KEY = "kms:ops"
    ALERTS_TOPIC = "sns:alerts"
    IDEMPOTENCY_TABLE = "dynamodb:idempotency"
    OWN_DEAD_LETTER_QUEUE = "sqs:own-dead-letter-queue"
    OWN_LOG_GROUP = "logs:own-log-group"
    EXECUTION_ROLES = "iam:execution-roles"
    INFERENCE_COMPONENTS = "sagemaker:inference-component"
    PIPELINE_EXECUTIONS = "sagemaker:pipeline-execution"
    ANY = "*"


JOBS: tuple[On, ...] = (On.TRAINING_JOBS, On.PROCESSING_JOBS, On.TRANSFORM_JOBS)
# SageMaker resources whose create calls the run-time rules watch (policies.rules.resources.SAGEMAKER_CREATE_CALLS).
WATCHED: tuple[On, ...] = (On.MODEL_PACKAGE_GROUPS, On.MODELS, On.ENDPOINTS, *JOBS)


@dataclass(frozen=True)
class Grant:
    """Allow ``actions`` on ``on``; ``sid`` names the statement in the synthesized role policy."""

    sid: str
    actions: tuple[str, ...]
    on: tuple[On, ...]
    condition: tuple[tuple[str, str, str], ...] = ()
    """``(operator, key, value)`` triples, all of which must hold (e.g. a tag the resource must carry)."""

    def __post_init__(self) -> None:
        if not self.actions or not self.on:
            raise ValueError(f"grant {self.sid} names no action or no resource")
