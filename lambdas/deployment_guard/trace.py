"""Trace an endpoint to the model versions it serves: endpoint -> endpoint config (production and shadow variants)
and inference components -> model -> containers' ModelPackageName -> the version's status and clearance, and whether
its model artifacts are still the object versions the clearance pins."""

from __future__ import annotations

from typing import Any

from lambdas.shared import aws
from lambdas.shared.artifacts import artifact_changes
from lambdas.shared.clearance import clearance, index_pin
from policies.rules.deployment import CaptureFacts, EndpointFacts, ServedVersion

# DescribeEndpoint's EndpointStatus while a create or an update is being deployed (the call's config may not show yet).
DEPLOYING = frozenset({"Creating", "Updating", "SystemUpdating", "RollingBack"})


def _version(reference: str, region: str, account: str) -> tuple[str, dict[str, Any]]:
    """(ARN, DescribeModelPackage) of a model package given by name or ARN (in its own account: the hub's registry,
    with many accounts; a name is the model's account); ``{}`` when it does not exist."""
    try:
        sagemaker = aws.client("sagemaker", region, account=aws.account_of(reference) or account)
        package: dict[str, Any] = sagemaker.describe_model_package(ModelPackageName=reference)
    except Exception as exc:
        if aws.error_code(exc) not in aws.SAGEMAKER_NOT_FOUND:
            raise
        return reference, {}
    return str(package["ModelPackageArn"]), package


def _served_by_model(variant: str, model_name: str, region: str, account: str) -> list[ServedVersion]:
    try:
        model = aws.client("sagemaker", region, account=account).describe_model(ModelName=model_name)
    except Exception as exc:  # deleted after the endpoint was created: the endpoint still serves it, from nowhere known
        if aws.error_code(exc) not in aws.SAGEMAKER_NOT_FOUND:
            raise
        return [ServedVersion(variant=variant, model=f"{model_name} (deleted)", model_package=None)]
    containers = [c for c in [model.get("PrimaryContainer"), *model.get("Containers", [])] if c]
    served = []
    for container in containers or [{}]:
        reference = container.get("ModelPackageName")
        if not reference:
            served.append(ServedVersion(variant=variant, model=model_name, model_package=None))
            continue
        arn, package = _version(str(reference), region, account)
        status = str(package["ModelApprovalStatus"]) if package.get("ModelApprovalStatus") else None
        project = arn.rsplit("/", 2)[-2] if ":model-package/" in arn else None
        cleared = clearance(arn) if status == "Approved" else None
        for pin in (cleared or {}).get("artifacts") or ():  # clearances kept before the index: S3 writes reach them too
            index_pin(pin["uri"], arn)
        served.append(
            ServedVersion(
                variant=variant,
                model=model_name,
                model_package=arn,
                status=status,
                cleared=cleared is not None,
                project=project,
                artifact_changes=artifact_changes(cleared, package, region, model=container),
            )
        )
    return served


def _components(endpoint: str, region: str, account: str) -> list[dict[str, Any]]:
    sagemaker = aws.client("sagemaker", region, account=account)
    listed: list[dict[str, Any]] = []
    token = None
    while True:  # ten to a page by default
        page = sagemaker.list_inference_components(EndpointNameEquals=endpoint, **({"NextToken": token} if token else {}))
        listed += page.get("InferenceComponents", [])
        token = page.get("NextToken")
        if not token:
            break
    return [sagemaker.describe_inference_component(InferenceComponentName=c["InferenceComponentName"]) for c in listed]


def _served_by_component(component: dict[str, Any], region: str, account: str) -> list[ServedVersion]:
    """Each specification's model; a container given by image and artifact, or an adapter on a base component,
    names no model and so no registry version (``Specifications`` replaces ``Specification`` when it is given)."""
    variant, name = str(component.get("VariantName")), str(component.get("InferenceComponentName"))
    served: list[ServedVersion] = []
    for spec in [component.get("Specification"), *component.get("Specifications", [])]:
        if not spec:
            continue
        if spec.get("ModelName"):
            served += _served_by_model(variant, str(spec["ModelName"]), region, account)
        else:
            what = "an adapter" if spec.get("BaseInferenceComponentName") else "a container image and artifact"
            served.append(ServedVersion(variant=variant, model=f"inference component {name} ({what})", model_package=None))
    return served or [ServedVersion(variant=variant, model=f"inference component {name} (no specification)", model_package=None)]


def _endpoint_variants(endpoint: dict[str, Any]) -> list[str]:
    return [
        str(v["VariantName"]) for v in [*endpoint.get("ProductionVariants", []), *endpoint.get("ShadowProductionVariants", [])]
    ]


def _capture(config: str, capture: dict[str, Any]) -> CaptureFacts:
    sampling = capture.get("InitialSamplingPercentage")
    return CaptureFacts(
        config=config,
        enabled=capture.get("EnableCapture") is True,
        destination=str(capture["DestinationS3Uri"]) if capture.get("DestinationS3Uri") else None,
        sampling_percent=sampling if isinstance(sampling, int) else None,
        modes=tuple(str(o.get("CaptureMode")) for o in capture.get("CaptureOptions", []) if isinstance(o, dict)),
    )


def trace_endpoint(name: str, region: str, account: str, *, also_config: str | None = None) -> EndpointFacts | None:
    """None when the endpoint does not exist (any more). Read in ``account`` (a workload account's, through the
    namesake role, with many accounts).

    Every config the endpoint may serve from is traced: the live one, the one an update in progress deploys
    (``PendingDeploymentSummary``: DescribeEndpoint names the old config until the update completes) and
    ``also_config`` (the config the triggering call names, while the endpoint is still deploying and the config
    exists; on a settled endpoint it serves only if it is the live one, judged as such).
    A live or pending config deleted since is traced to the endpoint's variants, which serve from nowhere known.
    """
    sagemaker = aws.client("sagemaker", region, account=account)
    try:
        endpoint = sagemaker.describe_endpoint(EndpointName=name)
    except Exception as exc:
        if aws.error_code(exc) in aws.SAGEMAKER_NOT_FOUND:
            return None
        raise
    pending = (endpoint.get("PendingDeploymentSummary") or {}).get("EndpointConfigName")
    if endpoint.get("EndpointStatus") not in DEPLOYING:  # settled: the call's config serves only if it is the live one
        also_config = None
    served: list[ServedVersion] = []
    captures: list[CaptureFacts] = []
    for config_name in dict.fromkeys(c for c in (endpoint.get("EndpointConfigName"), pending, also_config) if c):
        try:
            config = sagemaker.describe_endpoint_config(EndpointConfigName=config_name)
        except Exception as exc:
            if aws.error_code(exc) not in aws.SAGEMAKER_NOT_FOUND:
                raise
            if config_name not in (endpoint.get("EndpointConfigName"), pending):
                continue
            deleted = f"endpoint config {config_name} (deleted)"
            served += [ServedVersion(variant=v, model=deleted, model_package=None) for v in _endpoint_variants(endpoint)]
            continue
        variants = [*config.get("ProductionVariants", []), *config.get("ShadowProductionVariants", [])]
        for variant in variants:
            if variant.get("ModelName"):
                served += _served_by_model(str(variant["VariantName"]), str(variant["ModelName"]), region, account)
        if any(v.get("ModelName") for v in variants):
            captures.append(_capture(config_name, config.get("DataCaptureConfig") or {}))
    for component in _components(name, region, account):
        served += _served_by_component(component, region, account)
    arn = str(endpoint.get("EndpointArn") or f"arn:aws:sagemaker:{region}:{account}:endpoint/{name.lower()}")
    return EndpointFacts(name=name, arn=arn, region=region, served=tuple(dict.fromkeys(served)), captures=tuple(captures))


def endpoint_of_component(component: str, region: str, account: str) -> str | None:
    """The endpoint an inference component runs on; None when the component is gone (so is what it served)."""
    try:
        found = aws.client("sagemaker", region, account=account).describe_inference_component(InferenceComponentName=component)
    except Exception as exc:
        if aws.error_code(exc) in aws.SAGEMAKER_NOT_FOUND:
            return None
        raise
    return str(found["EndpointName"])


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
