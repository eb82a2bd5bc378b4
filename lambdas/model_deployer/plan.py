"""The SageMaker calls that deploy one cleared model version behind an endpoint, named from the policy.

Names are derived from the version and the endpoint, so a retry finds what the first attempt created
("already exists" is success) instead of creating a second model or config.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from lambdas.shared import aws
from lambdas.shared.policy import governance_policy
from policies.naming import Names, bounded
from policies.rules.outcome import Decision
from policies.rules.resources import ResourceFacts

Step = tuple[str, dict[str, Any], Callable[[BaseException], bool]]


def _exists(exc: BaseException) -> bool:
    return aws.error_code(exc) == "ValidationException" and "exist" in str(exc).lower()


@dataclass(frozen=True)
class DeploymentPlan:
    endpoint: str
    endpoint_exists: bool
    model: str
    config: str
    model_request: dict[str, Any]
    config_request: dict[str, Any]

    def steps(self) -> Iterator[Step]:
        yield "create_model", self.model_request, _exists
        yield "create_endpoint_config", self.config_request, _exists
        request = {"EndpointName": self.endpoint, "EndpointConfigName": self.config}
        if self.endpoint_exists:
            yield "update_endpoint", request, lambda exc: False
        else:
            yield "create_endpoint", {**request, "Tags": self.model_request["Tags"]}, _exists

    def describe(self) -> str:
        verb = "updated" if self.endpoint_exists else "created"
        return f"{verb} endpoint {self.endpoint} with config {self.config} (model {self.model}, traffic captured)"


def deployment_plan(decision: Decision, target: ResourceFacts) -> DeploymentPlan:
    """``decision.subject`` is the model package ARN; ``target`` the endpoint; ``decision.evidence`` the request."""
    policy = governance_policy()
    package_arn = decision.subject
    # The endpoint's account and Region name the roles, keys and buckets (the version may be the hub's).
    region, account = target.region, aws.account_of(target.arn) or package_arn.split(":")[4]
    group, version = package_arn.rsplit("/", 2)[-2:]
    project = policy.project(group)
    if project is None:
        raise ValueError(f"{group} is not a governed project")
    names = Names(policy, account=account)
    tags = [{"Key": k, "Value": v} for k, v in policy.project_tags(project).items()]
    model = bounded(f"{group}-v{version}", 63)
    config = bounded(f"{target.name}-{group}-v{version}", 63)
    evidence = decision.evidence
    model_request = {
        "ModelName": model,
        "PrimaryContainer": {"ModelPackageName": package_arn},
        "ExecutionRoleArn": names.role_arn(names.execution_role(project)),
        "EnableNetworkIsolation": True,
        "Tags": tags,
    }
    config_request = {
        "EndpointConfigName": config,
        "ProductionVariants": [
            {
                "VariantName": "AllTraffic",
                "ModelName": model,
                "InstanceType": str(evidence.get("instance_type", "ml.m5.large")),
                "InitialInstanceCount": int(evidence.get("instance_count", 1)),
                "InitialVariantWeight": 1.0,
            }
        ],
        "DataCaptureConfig": {
            "EnableCapture": True,
            "InitialSamplingPercentage": policy.deployment.capture_sampling_percent,
            "DestinationS3Uri": f"s3://{names.lineage_bucket}/{names.lineage_capture_prefix(group, target.name)}",
            "KmsKeyId": names.key_alias("data"),
            "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
            "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"], "JsonContentTypes": ["application/json"]},
        },
        "KmsKeyId": names.key_alias("data"),
        "Tags": tags,
    }
    try:
        aws.client("sagemaker", region).describe_endpoint(EndpointName=target.name)
        exists = True
    except Exception as exc:
        if aws.error_code(exc) not in aws.SAGEMAKER_NOT_FOUND:
            raise
        exists = False
    return DeploymentPlan(target.name, exists, model, config, model_request, config_request)
