"""Model deployer: deploys a model version behind an endpoint, only when the approval gate cleared it.

Invoked by people (the ml-engineer role may invoke it, and nothing else may deploy: the boundaries
deny CreateModel, CreateEndpointConfig, CreateEndpoint and UpdateEndpoint to every other role) with

    {"model_package_arn": "arn:aws:sagemaker:...:model-package/credit-risk/3",
     "endpoint_name": "credit-risk-scoring", "instance_type": "ml.m5.large", "instance_count": 1}

parse -> facts (the version's status now, the gate's clearance) -> decide (policies.rules.deployment)
-> deploy or refuse -> record. A refusal is recorded and alerted; nothing is created.

With many accounts it runs in each workload account and deploys the hub's versions into its stage (the
request's ``"stage"``, needed when its account runs more than one): the clearance and the promotion
record are the hub's, read as the hub's clearance reader (``lambdas/model_deployer/hub.py``).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics, Tracer

from lambdas.actions import DeployModelVersion
from lambdas.model_deployer.hub import deploys_from_the_hub, hub_facts
from lambdas.shared import aws
from lambdas.shared.artifacts import artifact_changes
from lambdas.shared.clearance import clearance
from lambdas.shared.policy import governance_policy
from lambdas.shared.runtime import METRICS_NAMESPACE, conclude
from lambdas.shared.sagemaker_resources import describe_package
from lambdas.shared.settings import TRACED_MODULES
from lambdas.table import handler_spec
from policies.naming import MODEL_DEPLOYER
from policies.rules.deployment import ServedVersion, StageFacts, decide_deployment_request
from policies.rules.resources import ResourceFacts, ResourceKind

if TYPE_CHECKING:
    from lambdas.model_deployer.request import DeployRequest

SPEC = handler_spec(MODEL_DEPLOYER)
logger = Logger(service=SPEC.name)
tracer = Tracer(service=SPEC.name, patch_modules=TRACED_MODULES)
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SPEC.name)


def parse_request(event: Any) -> DeployRequest:
    from lambdas.model_deployer.request import parse_request as parse

    return parse(event)


def endpoint_before(target: ResourceFacts) -> str:
    """What the endpoint is before a deployment: when it last changed, or absent."""
    try:
        found = aws.client_for("sagemaker", target.arn, target.region).describe_endpoint(EndpointName=target.name)
    except Exception as exc:
        if aws.error_code(exc) not in aws.SAGEMAKER_NOT_FOUND:
            raise
        return "absent"
    return f"{found.get('EndpointConfigName')}@{found.get('LastModifiedTime')}"


def deploy(request: DeployRequest, context: Any) -> dict[str, Any]:
    arn = request.model_package_arn
    region, package_account = arn.split(":")[3], arn.split(":")[4]
    account = aws.account_of(getattr(context, "invoked_function_arn", None)) or package_account  # where it deploys
    group = arn.rsplit("/", 2)[-2]
    policy = governance_policy()
    try:
        package: dict[str, Any] = describe_package(arn, region)
    except Exception as exc:
        if aws.error_code(exc) not in aws.SAGEMAKER_NOT_FOUND:
            raise
        package = {}
    status = str(package["ModelApprovalStatus"]) if package.get("ModelApprovalStatus") else None
    stage: StageFacts | None = None
    if deploys_from_the_hub(policy, account):  # a workload account's deployer: the hub's clearance and promotions
        cleared, stage = hub_facts(policy, account, request.stage, arn)
    else:
        cleared = clearance(arn)
    version = ServedVersion(
        variant="AllTraffic",
        model="",
        model_package=arn,
        status=status,
        cleared=cleared is not None,
        project=group,
        artifact_changes=artifact_changes(cleared, package, region),
    )
    decision = decide_deployment_request(policy, version, request.endpoint_name, stage)
    decision = replace(decision, evidence={**decision.evidence, **request.as_dict()})
    endpoint_arn = f"arn:aws:sagemaker:{region}:{account}:endpoint/{request.endpoint_name.lower()}"
    target = ResourceFacts(kind=ResourceKind.ENDPOINT, name=request.endpoint_name, arn=endpoint_arn, region=region)
    event_id = request.request_id
    if decision.allowed:
        event_id = request.deployment_id(endpoint_before(target))
        result = DeployModelVersion.perform(decision, target)
    else:
        result = "refused: nothing was deployed"
    envelope = {
        "id": event_id,
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
    logger.info("deployment requested", extra={"request": request.as_dict()})
    return deploy(request, context)
