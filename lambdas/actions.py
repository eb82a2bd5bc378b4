"""Remediation actions: what a handler does about a violation, each with the IAM grants it needs.

In the style of Cloud Custodian's actions: one small class per action, ``perform`` and its
permissions side by side. A handler's role is generated from the actions it lists in
``lambdas/table.py``; ``tests/lambdas/test_permissions.py`` fails when a call is not granted.
``grants()`` imports ``iam.grants`` when synth or the access review asks: a cold start never does.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, ClassVar

from lambdas.shared import aws
from policies.rules.outcome import Action, Decision
from policies.rules.resources import ResourceFacts, ResourceKind
from policies.terms import PIPELINE_ROLE_KIND, ROLE_KIND_TAG_KEY

if TYPE_CHECKING:
    from iam.grants import Grant

MAX_DESCRIPTION = 1024


class RemediationAction:
    """Base of every action: ``performs`` is the decision's action it carries out."""

    performs: ClassVar[Action]

    @classmethod
    def grants(cls) -> tuple[Grant, ...]:
        raise NotImplementedError

    @classmethod
    def perform(cls, decision: Decision, target: ResourceFacts) -> str:
        raise NotImplementedError


def _description(prefix: str, text: str) -> str:
    full = f"{prefix}: {text}"
    return full if len(full) <= MAX_DESCRIPTION else full[: MAX_DESCRIPTION - 1] + "…"


class SetApprovalStatus(RemediationAction):
    """Set a model version's approval status, with every violated rule in its ApprovalDescription."""

    status: ClassVar[str]
    prefix: ClassVar[str]
    attempts: ClassVar[int] = 1
    backoff_seconds: ClassVar[float] = 0.2

    @classmethod
    def grants(cls) -> tuple[Grant, ...]:
        from iam.grants import Grant, On

        return (Grant("SetModelVersionApprovalStatus", ("sagemaker:UpdateModelPackage",), (On.MODEL_PACKAGES,)),)

    @classmethod
    def perform(cls, decision: Decision, target: ResourceFacts) -> str:
        description = _description(cls.prefix, decision.explanation())
        for attempt in range(cls.attempts):
            try:
                aws.client_for("sagemaker", target.arn, target.region).update_model_package(
                    ModelPackageArn=target.arn, ModelApprovalStatus=cls.status, ApprovalDescription=description
                )
                return f"set to {cls.status}"
            except Exception:
                if attempt == cls.attempts - 1:
                    raise
                time.sleep(cls.backoff_seconds * 2**attempt)
        raise AssertionError("unreachable")


class RejectModelVersion(SetApprovalStatus):
    performs = Action.REJECT_MODEL
    status = "Rejected"
    prefix = "Rejected by the approval gate"


class HoldModelVersion(SetApprovalStatus):
    """Undecidable: take the version out of Approved. This is the fail-closed write, so it is retried here too."""

    performs = Action.REVERT_TO_PENDING
    status = "PendingManualApproval"
    prefix = "Held by the approval gate"
    attempts = 4


class QuarantineDriftingVersion(SetApprovalStatus):
    """A version whose traffic drifted goes back to PendingManualApproval with the drifting features in its
    ApprovalDescription (``drift.on_breach: quarantine``, enforce mode). Leaving Approved revokes its clearance,
    and the deployment guard then quarantines the endpoints serving it."""

    performs = Action.REVERT_TO_PENDING
    status = "PendingManualApproval"
    prefix = "Sent back by the drift monitor"
    attempts = 3


class RejectPromotion(RemediationAction):
    """Set a version's stage status (SageMaker's ModelLifeCycle) back to Rejected, with the reasons as its description."""

    performs = Action.REJECT_PROMOTION

    @classmethod
    def grants(cls) -> tuple[Grant, ...]:
        return SetApprovalStatus.grants()  # the same call, on the version's ModelLifeCycle

    @classmethod
    def perform(cls, decision: Decision, target: ResourceFacts) -> str:
        from policies.rules.promotion import REFUSED

        stage = str(decision.evidence["stage"])
        aws.client_for("sagemaker", target.arn, target.region).update_model_package(
            ModelPackageArn=target.arn,
            ModelLifeCycle={
                "Stage": stage,
                "StageStatus": REFUSED,
                "StageDescription": _description("promotion refused by the approval gate", decision.explanation()),
            },
        )
        return f"promotion into {stage} set to {REFUSED}"


class TagResource(RemediationAction):
    """Apply the required classification tag."""

    performs = Action.TAG_RESOURCE

    @classmethod
    def grants(cls) -> tuple[Grant, ...]:
        from iam.grants import WATCHED, Grant

        return (Grant("SetClassificationTags", ("sagemaker:AddTags",), WATCHED),)

    @classmethod
    def perform(cls, decision: Decision, target: ResourceFacts) -> str:
        tags = dict(decision.remediation)
        aws.client_for("sagemaker", target.arn, target.region).add_tags(
            ResourceArn=target.arn, Tags=[{"Key": k, "Value": v} for k, v in tags.items()]
        )
        return "tagged " + ", ".join(f"{k}={v}" for k, v in tags.items())


_STOP_OPERATIONS = {
    ResourceKind.TRAINING_JOB: ("stop_training_job", "TrainingJobName"),
    ResourceKind.PROCESSING_JOB: ("stop_processing_job", "ProcessingJobName"),
    ResourceKind.TRANSFORM_JOB: ("stop_transform_job", "TransformJobName"),
}


class StopJob(RemediationAction):
    """Stop a training, processing or transform job."""

    performs = Action.STOP_JOB

    @classmethod
    def grants(cls) -> tuple[Grant, ...]:
        from iam.grants import JOBS, Grant

        return (
            Grant("StopJobs", ("sagemaker:StopProcessingJob", "sagemaker:StopTrainingJob", "sagemaker:StopTransformJob"), JOBS),
        )

    @classmethod
    def perform(cls, decision: Decision, target: ResourceFacts) -> str:
        """Stopping a job that already ended or is stopping (a retry of this event) raises ValidationException: done."""
        operation, parameter = _STOP_OPERATIONS[target.kind]
        try:
            getattr(aws.client_for("sagemaker", target.arn, target.region), operation)(**{parameter: target.name})
        except Exception as exc:
            if aws.error_code(exc) != "ValidationException":
                raise
            return f"{target.kind.value} {target.name} had already ended or was stopping ({exc})"
        return f"stopped {target.kind.value} {target.name}"


class StopJobOrTagIfEnded(StopJob):
    """Stop the job; one that already ended gets the required tag instead, so its record is right."""

    @classmethod
    def grants(cls) -> tuple[Grant, ...]:
        return StopJob.grants() + TagResource.grants()

    @classmethod
    def perform(cls, decision: Decision, target: ResourceFacts) -> str:
        result = super().perform(decision, target)
        if result.startswith("stopped "):
            return result
        return f"{result}; " + TagResource.perform(decision, target)


class DeleteEndpoint(RemediationAction):
    performs = Action.DELETE_ENDPOINT

    @classmethod
    def grants(cls) -> tuple[Grant, ...]:
        from iam.grants import Grant, On

        return (Grant("DeleteEndpoints", ("sagemaker:DeleteEndpoint",), (On.ENDPOINTS,)),)

    @classmethod
    def perform(cls, decision: Decision, target: ResourceFacts) -> str:
        try:
            aws.client_for("sagemaker", target.arn, target.region).delete_endpoint(EndpointName=target.name)
        except Exception as exc:
            if aws.error_code(exc) not in aws.SAGEMAKER_NOT_FOUND:
                raise
            return f"endpoint {target.name} in {target.region} was already gone"
        return f"deleted endpoint {target.name} in {target.region}"


class QuarantineVariants(RemediationAction):
    """Take the offending variants out of the weighted traffic: their weight goes to zero (``deployment.quarantine:
    scale-to-zero``). InvokeEndpoint's TargetVariant overrides the weights, so a caller naming the variant still reaches
    it; the record says so, and only ``delete-endpoint`` stops every request."""

    performs = Action.QUARANTINE_VARIANTS

    @classmethod
    def grants(cls) -> tuple[Grant, ...]:
        from iam.grants import Grant, On

        return (Grant("QuarantineVariants", ("sagemaker:UpdateEndpointWeightsAndCapacities",), (On.ENDPOINTS,)),)

    @classmethod
    def perform(cls, decision: Decision, target: ResourceFacts) -> str:
        variants = [v for v in str(decision.remediation.get("variants", "")).split(",") if v]
        aws.client_for("sagemaker", target.arn, target.region).update_endpoint_weights_and_capacities(
            EndpointName=target.name, DesiredWeightsAndCapacities=[{"VariantName": v, "DesiredWeight": 0.0} for v in variants]
        )
        return (
            f"set the traffic weight of {', '.join(variants)} on {target.name} to 0"
            " (still reachable by InvokeEndpoint with TargetVariant until removed)"
        )


class DeployModelVersion(RemediationAction):
    """What the deployer does for a cleared version: a model from the registry version, an endpoint config that captures
    traffic (KMS-encrypted) into the project's lineage prefix, and the endpoint created or updated to it."""

    performs = Action.DEPLOY

    @classmethod
    def grants(cls) -> tuple[Grant, ...]:
        from iam.grants import Grant, On

        return (
            Grant(
                "DeployClearedVersions",
                (
                    "sagemaker:AddTags",
                    "sagemaker:CreateEndpoint",
                    "sagemaker:CreateEndpointConfig",
                    "sagemaker:CreateModel",
                    "sagemaker:DescribeEndpoint",
                    "sagemaker:UpdateEndpoint",
                ),
                (On.MODELS, On.ENDPOINT_CONFIGS, On.ENDPOINTS),
            ),
            Grant(
                "PassProjectExecutionRoles",
                ("iam:PassRole",),
                (On.EXECUTION_ROLES,),
                condition=(
                    ("StringEquals", f"aws:ResourceTag/{ROLE_KIND_TAG_KEY}", PIPELINE_ROLE_KIND),
                    ("StringEquals", "iam:PassedToService", "sagemaker.amazonaws.com"),
                ),
            ),
            # SageMaker creates the grants it needs for the endpoint's storage and capture; the deployer may not grant
            # itself (or anyone) the key's use.
            Grant(
                "EncryptEndpointStorageAndCapture",
                ("kms:CreateGrant",),
                (On.DATA_KEY,),
                condition=(("Bool", "kms:GrantIsForAWSResource", "true"),),
            ),
            Grant("DescribeTheDataKey", ("kms:DescribeKey",), (On.DATA_KEY,)),
        )

    @classmethod
    def perform(cls, decision: Decision, target: ResourceFacts) -> str:
        from lambdas.model_deployer.plan import deployment_plan

        plan = deployment_plan(decision, target)
        sagemaker = aws.client_for("sagemaker", target.arn, target.region)
        for call, request, already in plan.steps():
            try:
                getattr(sagemaker, call)(**request)
            except Exception as exc:
                if not already(exc):
                    raise
        return plan.describe()
