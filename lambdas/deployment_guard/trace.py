"""Trace an endpoint to the model versions it serves: endpoint -> endpoint config (production and shadow variants)
and inference components -> model -> containers' ModelPackageName -> the version's status and clearance."""

from __future__ import annotations

from typing import Any

from iam.grants import Grant, On
from lambdas.shared import aws
from lambdas.shared.clearance import clearance
from policies.rules.deployment import EndpointFacts, ServedVersion

GRANTS = (
    Grant(
        "TraceEndpoints",
        ("sagemaker:DescribeEndpoint", "sagemaker:DescribeEndpointConfig", "sagemaker:DescribeModel"),
        (On.ENDPOINTS, On.ENDPOINT_CONFIGS, On.MODELS),
    ),
    Grant("ReadModelVersionStatus", ("sagemaker:DescribeModelPackage",), (On.MODEL_PACKAGES,)),
    Grant("DescribeInferenceComponents", ("sagemaker:DescribeInferenceComponent",), (On.INFERENCE_COMPONENTS,)),
    Grant(  # the List calls have no resource-level permission
        "FindEndpointsAndComponents", ("sagemaker:ListEndpoints", "sagemaker:ListInferenceComponents"), (On.ANY,)
    ),
)


def _version(reference: str, region: str, account: str) -> tuple[str, str | None]:
    """(ARN, status) of a model package given by name or ARN (in its own account: the hub's registry, with
    many accounts; a name is the model's account); status None when it does not exist."""
    try:
        sagemaker = aws.client("sagemaker", region, account=aws.account_of(reference) or account)
        package = sagemaker.describe_model_package(ModelPackageName=reference)
    except Exception as exc:
        if aws.error_code(exc) not in aws.SAGEMAKER_NOT_FOUND:
            raise
        return reference, None
    return str(package["ModelPackageArn"]), str(package.get("ModelApprovalStatus"))


def _served_by_model(variant: str, model_name: str, region: str, account: str) -> list[ServedVersion]:
    model = aws.client("sagemaker", region, account=account).describe_model(ModelName=model_name)
    containers = [c for c in [model.get("PrimaryContainer"), *model.get("Containers", [])] if c]
    served = []
    for container in containers or [{}]:
        reference = container.get("ModelPackageName")
        if not reference:
            served.append(ServedVersion(variant=variant, model=model_name, model_package=None))
            continue
        arn, status = _version(str(reference), region, account)
        project = arn.rsplit("/", 2)[-2] if ":model-package/" in arn else None
        served.append(
            ServedVersion(
                variant=variant,
                model=model_name,
                model_package=arn,
                status=status,
                cleared=status == "Approved" and clearance(arn) is not None,
                project=project,
            )
        )
    return served


def _components(endpoint: str, region: str, account: str) -> list[dict[str, Any]]:
    sagemaker = aws.client("sagemaker", region, account=account)
    listed = sagemaker.list_inference_components(EndpointNameEquals=endpoint).get("InferenceComponents", [])
    return [sagemaker.describe_inference_component(InferenceComponentName=c["InferenceComponentName"]) for c in listed]


def trace_endpoint(name: str, region: str, account: str) -> EndpointFacts | None:
    """None when the endpoint does not exist (any more). Read in ``account`` (a workload account's, through the
    namesake role, with many accounts)."""
    sagemaker = aws.client("sagemaker", region, account=account)
    try:
        endpoint = sagemaker.describe_endpoint(EndpointName=name)
    except Exception as exc:
        if aws.error_code(exc) in aws.SAGEMAKER_NOT_FOUND:
            return None
        raise
    config = sagemaker.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
    served: list[ServedVersion] = []
    for variant in [*config.get("ProductionVariants", []), *config.get("ShadowProductionVariants", [])]:
        if variant.get("ModelName"):
            served += _served_by_model(str(variant["VariantName"]), str(variant["ModelName"]), region, account)
    for component in _components(name, region, account):
        model = component.get("Specification", {}).get("ModelName")
        if model:
            served += _served_by_model(str(component["VariantName"]), str(model), region, account)
    arn = str(endpoint.get("EndpointArn") or f"arn:aws:sagemaker:{region}:{account}:endpoint/{name.lower()}")
    return EndpointFacts(name=name, arn=arn, region=region, served=tuple(served))


def endpoints_in(region: str, account: str | None = None) -> list[str]:
    sagemaker = aws.client("sagemaker", region, account=account)
    names: list[str] = []
    token = None
    while True:
        page = sagemaker.list_endpoints(**({"NextToken": token} if token else {}))
        names += [str(e["EndpointName"]) for e in page.get("Endpoints", [])]
        token = page.get("NextToken")
        if not token:
            return names
