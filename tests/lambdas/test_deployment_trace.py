"""What the deployment guard traces behind an endpoint, and what it does when the trace is incomplete.

Review of 2026-11-26: each case let an endpoint serve what the gate never cleared (an allow, or a sweep that
stopped at it) before the fix. moto has no inference components; those cases answer List/Describe
InferenceComponent(s) in AWS's documented response shapes in front of moto's client (``components``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from lambdas.actions import QuarantineVariants
from lambdas.deployment_guard import handler as guard
from lambdas.deployment_guard import trace
from lambdas.model_deployer import handler as deployer
from lambdas.shared import aws
from policies.model import GovernancePolicy
from policies.rules.deployment import EndpointFacts, decide_serving
from policies.rules.outcome import Action
from tests.conftest import policy_variant
from tests.events import api_call_event
from tests.lambdas.sagemaker_fixtures import create_endpoint, create_model, endpoints
from tests.lambdas.test_deployment_gate import approved_by_the_gate, deployment_records, request, scheduled_sweep
from tests.lambdas.world import ACCOUNT, REGION, World

ENDPOINT = "credit-risk-scoring"


def sagemaker() -> Any:
    return boto3.client("sagemaker", region_name=REGION)


def deployed_by_the_deployer(world: World, context: Any) -> str:
    arn = approved_by_the_gate(world, context)
    assert deployer.handler(request(arn), context)["decision"] == "allow"
    return arn


def raw_config(name: str = "rogue") -> str:
    """An endpoint config whose model is an image and model data, not a registry version."""
    create_model(f"{name}-model", {"ml-project": "credit-risk"})
    sagemaker().create_endpoint_config(
        EndpointConfigName=f"{name}-config",
        ProductionVariants=[
            {"VariantName": "AllTraffic", "ModelName": f"{name}-model", "InstanceType": "ml.m5.large", "InitialInstanceCount": 1}
        ],
    )
    return f"{name}-config"


# ---- what was deleted from under an endpoint -------------------------------------------------------------------


@pytest.mark.parametrize("deleted", ["model", "endpoint config"])
def test_an_endpoint_whose_model_or_config_was_deleted_is_quarantined_and_the_sweep_goes_on(
    world: World, lambda_context: Any, deleted: str
) -> None:
    """SageMaker keeps serving after DeleteModel or DeleteEndpointConfig; the trace used to raise on every event
    about the endpoint, and every sweep stopped there."""
    create_endpoint("credit-risk-manual")
    create_endpoint("credit-risk-other")
    if deleted == "model":
        sagemaker().delete_model(ModelName="credit-risk-manual-model")
    else:
        sagemaker().delete_endpoint_config(EndpointConfigName="credit-risk-manual-config")

    result = guard.handler(scheduled_sweep(), lambda_context)

    assert result["decisions"] == ["deny", "deny"]
    assert endpoints(REGION) == []
    manual = next(r for r in deployment_records(world) if r["what"].endswith("/credit-risk-manual"))
    assert "(deleted)" in manual["violations"][0]["message"]


def test_an_endpoint_that_cannot_be_judged_does_not_stop_the_others(
    world: World, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    create_endpoint("credit-risk-manual")
    create_endpoint("credit-risk-other")
    real = trace.trace_endpoint

    def unreadable_once(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "credit-risk-manual" and not unreadable_once.failed:  # type: ignore[attr-defined]
            unreadable_once.failed = True  # type: ignore[attr-defined]
            raise RuntimeError("throttled")
        return real(name, *args, **kwargs)

    unreadable_once.failed = False  # type: ignore[attr-defined]
    monkeypatch.setattr(guard, "trace_endpoint", unreadable_once)
    sweep = scheduled_sweep()
    with pytest.raises(guard.EndpointsUndecided, match="1 of 2 endpoints could not be judged"):
        guard.handler(sweep, lambda_context)
    assert endpoints(REGION) == ["credit-risk-manual"], "the other endpoint was judged and quarantined"

    guard.handler(sweep, lambda_context)  # the retry

    assert endpoints(REGION) == []
    assert sorted(r["what"].rsplit("/", 1)[-1] for r in deployment_records(world)) == [
        "credit-risk-manual",
        "credit-risk-other",
    ]


# ---- an update in progress ---------------------------------------------------------------------------------------


def test_an_update_in_progress_is_judged_on_the_config_it_deploys(world: World, lambda_context: Any) -> None:
    """While an endpoint updates, DescribeEndpoint names the old config and the new one only in
    PendingDeploymentSummary (the CloudTrail event arrives in that window): the guard judged the old one."""
    deployed_by_the_deployer(world, lambda_context)
    live = sagemaker().describe_endpoint(EndpointName=ENDPOINT)["EndpointConfigName"]
    rogue = raw_config()
    sagemaker().update_endpoint(EndpointName=ENDPOINT, EndpointConfigName=rogue)

    def as_while_updating(parsed: dict[str, Any], **_: Any) -> None:
        if parsed.get("EndpointName") == ENDPOINT:
            parsed.update(
                EndpointStatus="Updating", EndpointConfigName=live, PendingDeploymentSummary={"EndpointConfigName": rogue}
            )

    aws.client("sagemaker", REGION, account=ACCOUNT).meta.events.register(
        "after-call.sagemaker.DescribeEndpoint", as_while_updating
    )
    event = api_call_event("CreateEndpoint", name=ENDPOINT, region=REGION)
    event["detail"]["eventName"] = "UpdateEndpoint"
    event["detail"]["requestParameters"]["endpointConfigName"] = "a-config-deleted-since"  # not served: not judged

    result = guard.handler(event, lambda_context)

    assert result["decisions"] == ["deny"]
    (record,) = [r for r in deployment_records(world) if r["decision"] == "deny"]
    assert {s["model"] for s in record["evidence"]["served"]} == {"rogue-model", "credit-risk-v1"}


# ---- inference components ------------------------------------------------------------------------------------------


class WithComponents:
    """moto's SageMaker client, answering the inference component calls as AWS documents them (ten to a page)."""

    def __init__(self, real: Any, components: list[dict[str, Any]]) -> None:
        self._real, self._components = real, components

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def list_inference_components(self, EndpointNameEquals: str, NextToken: str | None = None, **_: Any) -> dict[str, Any]:
        mine = [c for c in self._components if c["EndpointName"] == EndpointNameEquals]
        start = int(NextToken or 0)
        page: dict[str, Any] = {
            "InferenceComponents": [
                {k: c[k] for k in ("InferenceComponentName", "EndpointName", "VariantName")} for c in mine[start : start + 10]
            ]
        }
        if start + 10 < len(mine):
            page["NextToken"] = str(start + 10)
        return page

    def describe_inference_component(self, InferenceComponentName: str) -> dict[str, Any]:
        return next(c for c in self._components if c["InferenceComponentName"] == InferenceComponentName)


@pytest.fixture
def components(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    found: list[dict[str, Any]] = []
    real = aws.client

    def client(service: str, region: str | None = None, **kwargs: Any) -> Any:
        made = real(service, region, **kwargs)
        return WithComponents(made, found) if service == "sagemaker" else made

    monkeypatch.setattr(aws, "client", client)
    yield found


def component(name: str, **specification: Any) -> dict[str, Any]:
    """DescribeInferenceComponent's response: ``Specification``, or ``Specifications`` (then the singular is absent)."""
    body: dict[str, Any] = {"InferenceComponentName": name, "EndpointName": ENDPOINT, "VariantName": "AllTraffic"}
    body.update({"Specifications": specification["plural"]} if "plural" in specification else {"Specification": specification})
    return body


@pytest.mark.parametrize(
    "serving",
    [
        pytest.param(
            lambda: [component("ic-raw", Container={"ArtifactUrl": "s3://elsewhere/model.tar.gz"})], id="image-and-artifact"
        ),
        pytest.param(
            lambda: [
                component("ic-adapter", BaseInferenceComponentName="ic-base", Container={"ArtifactUrl": "s3://x/adapter.tar.gz"})
            ],
            id="adapter",
        ),
        pytest.param(lambda: [component("ic-multi", plural=[{"ModelName": "rogue-model"}])], id="specifications-plural"),
        pytest.param(
            lambda: [component(f"ic-{i:02d}", ModelName="rogue-model" if i == 10 else "credit-risk-v1") for i in range(11)],
            id="eleventh-component",
        ),
    ],
)
def test_every_inference_component_is_traced(
    world: World, lambda_context: Any, components: list[dict[str, Any]], serving: Any
) -> None:
    deployed_by_the_deployer(world, lambda_context)
    raw_config()  # rogue-model: an image and model data
    components += serving()

    result = guard.handler(scheduled_sweep(), lambda_context)

    assert result["decisions"] == ["deny"], result
    assert endpoints(REGION) == []


def test_an_inference_component_update_is_judged_on_its_endpoint(
    world: World, lambda_context: Any, components: list[dict[str, Any]]
) -> None:
    """UpdateInferenceComponent names only the component: the guard finds its endpoint."""
    deployed_by_the_deployer(world, lambda_context)
    components.append(component("ic-raw", Container={"ArtifactUrl": "s3://elsewhere/model.tar.gz"}))
    event = api_call_event("CreateEndpoint", name=ENDPOINT, region=REGION)
    event["detail"]["eventName"] = "UpdateInferenceComponent"
    event["detail"]["requestParameters"] = {"inferenceComponentName": "ic-raw", "specification": {}}

    assert guard.handler(event, lambda_context)["decisions"] == ["deny"]
    assert endpoints(REGION) == []


# ---- scale to zero with nothing to name ---------------------------------------------------------------------------


def test_scale_to_zero_deletes_an_endpoint_whose_variants_cannot_be_named(policy: GovernancePolicy) -> None:
    """UpdateEndpointWeightsAndCapacities needs at least one variant: with none, quarantine used to fail every time."""
    scale_to_zero = policy_variant(policy, deployment={"quarantine": "scale-to-zero"})
    arn = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/credit-risk-ic"

    decision = decide_serving(
        scale_to_zero, EndpointFacts(name="credit-risk-ic", arn=arn, region=REGION, served=()), lineage_bucket="b"
    )

    assert decision.action is Action.DELETE_ENDPOINT
    assert QuarantineVariants.performs is not decision.action


def test_a_cleared_version_behind_another_projects_endpoint_is_quarantined(world: World, lambda_context: Any) -> None:
    """An administrator's model from a cleared credit-risk version behind churn-forecast-live (another project's
    classification, no capture) was allowed: the naming rule was the deployer's only."""
    arn = approved_by_the_gate(world, lambda_context)
    sagemaker().create_model(
        ModelName="borrowed", PrimaryContainer={"ModelPackageName": arn}, ExecutionRoleArn=f"arn:aws:iam::{ACCOUNT}:role/x"
    )
    sagemaker().create_endpoint_config(
        EndpointConfigName="borrowed-config",
        ProductionVariants=[
            {"VariantName": "AllTraffic", "ModelName": "borrowed", "InstanceType": "ml.m5.large", "InitialInstanceCount": 1}
        ],
    )
    sagemaker().create_endpoint(EndpointName="churn-forecast-live", EndpointConfigName="borrowed-config")

    result = guard.handler(api_call_event("CreateEndpoint", name="churn-forecast-live", region=REGION), lambda_context)

    assert result["decisions"] == ["deny"]
    (record,) = [r for r in deployment_records(world) if r["decision"] == "deny"]
    assert "which is not named for it (credit-risk-...)" in record["violations"][0]["message"]
    assert endpoints(REGION) == []


def test_a_late_update_event_does_not_judge_a_config_the_endpoint_left(world: World, lambda_context: Any) -> None:
    """An UpdateEndpoint record processed after a later update moved the endpoint on: the config it names is not
    served any more, and a compliant endpoint is not quarantined for it."""
    deployed_by_the_deployer(world, lambda_context)
    rogue = raw_config()
    event = api_call_event("CreateEndpoint", name=ENDPOINT, region=REGION)
    event["detail"]["eventName"] = "UpdateEndpoint"
    event["detail"]["requestParameters"]["endpointConfigName"] = rogue  # superseded: the endpoint serves the v1 config

    assert guard.handler(event, lambda_context)["decisions"] == ["allow"]
    assert endpoints(REGION) == [ENDPOINT]


# ---- what serves must be captured for the drift checks ------------------------------------------------------------


def _cleared_model_behind(world: World, context: Any, capture: dict[str, Any] | None) -> None:
    """credit-risk-scoring made by hand (not by the deployer): a model of a cleared version, a config with ``capture``."""
    arn = approved_by_the_gate(world, context)
    sagemaker().create_model(
        ModelName="by-hand", PrimaryContainer={"ModelPackageName": arn}, ExecutionRoleArn=f"arn:aws:iam::{ACCOUNT}:role/x"
    )
    sagemaker().create_endpoint_config(
        EndpointConfigName="by-hand-config",
        ProductionVariants=[
            {"VariantName": "AllTraffic", "ModelName": "by-hand", "InstanceType": "ml.m5.large", "InitialInstanceCount": 1}
        ],
        **({"DataCaptureConfig": capture} if capture else {}),
    )
    sagemaker().create_endpoint(EndpointName=ENDPOINT, EndpointConfigName="by-hand-config")


def _capture(world: World, **changes: Any) -> dict[str, Any]:
    prefix = world.names.lineage_capture_prefix("credit-risk", ENDPOINT)
    return {
        "EnableCapture": True,
        "InitialSamplingPercentage": 100,
        "DestinationS3Uri": f"s3://{world.names.lineage_bucket}/{prefix}",
        "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        **changes,
    }


@pytest.mark.parametrize(
    ("capture", "expected"),
    [
        (None, "captures no traffic"),
        ({"EnableCapture": False}, "captures no traffic"),
        ({"DestinationS3Uri": "s3://elsewhere/capture"}, "captures into s3://elsewhere/capture, not project credit-risk's"),
        ({"InitialSamplingPercentage": 5}, "captures 5% of requests; the policy asks for 100%"),
        ({"CaptureOptions": [{"CaptureMode": "Output"}]}, "does not capture the requests (CaptureMode Input)"),
    ],
    ids=["none", "disabled", "elsewhere", "sampled-less", "outputs-only"],
)
def test_a_cleared_version_served_without_capture_into_its_project_is_quarantined(
    world: World, lambda_context: Any, capture: dict[str, Any] | None, expected: str
) -> None:
    """The drift checks read an endpoint's captured traffic under its project's prefix: an endpoint that captures
    nothing there is never checked for drift (the guard judged only the versions it serves)."""
    _cleared_model_behind(world, lambda_context, None if capture is None else _capture(world, **capture))

    result = guard.handler(api_call_event("CreateEndpoint", name=ENDPOINT, region=REGION), lambda_context)

    assert result["decisions"] == ["deny"]
    assert endpoints(REGION) == []
    (record,) = deployment_records(world)
    assert any(expected in v["message"] for v in record["violations"]), record["violations"]


def test_a_cleared_version_captured_as_the_deployer_captures_it_is_allowed(world: World, lambda_context: Any) -> None:
    _cleared_model_behind(world, lambda_context, _capture(world))

    result = guard.handler(api_call_event("CreateEndpoint", name=ENDPOINT, region=REGION), lambda_context)

    assert result["decisions"] == ["allow"]
    assert endpoints(REGION) == [ENDPOINT]
