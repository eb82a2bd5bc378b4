"""Model deployer: deploys a model version behind an endpoint, only when the approval gate cleared it.

Invoked by people (the ml-engineer role may invoke it, and nothing else may deploy: the boundaries
deny CreateModel, CreateEndpointConfig, CreateEndpoint and UpdateEndpoint to every other role) with

    {"model_package_arn": "arn:aws:sagemaker:...:model-package/credit-risk/3",
     "endpoint_name": "credit-risk-scoring", "instance_type": "ml.m5.large", "instance_count": 1}

parse -> facts (the version's status now, the gate's clearance) -> decide (policies.rules.deployment)
-> deploy or refuse -> record. A refusal is recorded and alerted; nothing is created.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lambdas.actions import DeployModelVersion
from lambdas.approval_gate.evidence import describe_package
from lambdas.shared import aws
from lambdas.shared.clearance import clearance
from lambdas.shared.events import MODEL_PACKAGE_ARN, MalformedEvent
from lambdas.shared.policy import governance_policy
from lambdas.shared.runtime import METRICS_NAMESPACE, conclude
from lambdas.table import handler_spec
from policies.model import ENDPOINT_NAME, INSTANCE_TYPE
from policies.naming import MODEL_DEPLOYER
from policies.rules.deployment import ServedVersion, decide_deployment_request
from policies.rules.resources import ResourceFacts, ResourceKind

SPEC = handler_spec(MODEL_DEPLOYER)
logger = Logger(service=SPEC.name)
tracer = Tracer(service=SPEC.name)
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SPEC.name)


class DeployRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    model_package_arn: str = Field(pattern=MODEL_PACKAGE_ARN)
    endpoint_name: str = Field(pattern=ENDPOINT_NAME)
    instance_type: str = Field(default="ml.m5.large", pattern=INSTANCE_TYPE)
    instance_count: int = Field(default=1, ge=1, le=10)

    @property
    def request_id(self) -> str:
        """The same request asked twice is one decision (one record): the id is the request's content hash."""
        return "deploy-" + hashlib.sha256(self.model_dump_json().encode()).hexdigest()[:32]


def parse_request(event: Any) -> DeployRequest:
    try:
        return DeployRequest.model_validate(event)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5])
        raise MalformedEvent(f"not a deployment request: {problems}") from None


def deploy(request: DeployRequest, context: Any) -> dict[str, Any]:
    arn = request.model_package_arn
    region, account = arn.split(":")[3], arn.split(":")[4]
    group = arn.rsplit("/", 2)[-2]
    try:
        status: str | None = str(describe_package(arn, region).get("ModelApprovalStatus"))
    except Exception as exc:
        if aws.error_code(exc) not in aws.SAGEMAKER_NOT_FOUND:
            raise
        status = None
    version = ServedVersion(
        variant="AllTraffic", model="", model_package=arn, status=status, cleared=clearance(arn) is not None, project=group
    )
    decision = decide_deployment_request(governance_policy(), version, request.endpoint_name)
    decision = replace(decision, evidence={**decision.evidence, **request.model_dump()})
    endpoint_arn = f"arn:aws:sagemaker:{region}:{account}:endpoint/{request.endpoint_name.lower()}"
    target = ResourceFacts(kind=ResourceKind.ENDPOINT, name=request.endpoint_name, arn=endpoint_arn, region=region)
    result = DeployModelVersion.perform(decision, target) if decision.allowed else "refused: nothing was deployed"
    envelope = {
        "id": request.request_id,
        "source": "ml-governance.deployer",
        "detail-type": "Model Deployment Requested",
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "region": region,
        "account": account,
    }
    return conclude(
        decision,
        event=envelope,
        event_time=datetime.now(UTC),
        actor=None,  # a direct invocation carries no caller identity; CloudTrail records who invoked the deployer
        action_result=result,
        context=context,
        logger=logger,
        metrics=metrics,
    )


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request = parse_request(event)
    logger.info("deployment requested", extra={"request": json.loads(request.model_dump_json())})
    return deploy(request, context)
