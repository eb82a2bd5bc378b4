"""What the deployment guard reads to trace an endpoint to the versions it serves (``trace.py``), as IAM grants.

Kept apart from the calls so that reading the handler table does not import the tracing and its rules.
"""

from __future__ import annotations

from iam.grants import Grant, On
from lambdas.shared.grants import READ_ARTIFACT_VERSIONS

READS: tuple[Grant, ...] = (
    Grant(
        "TraceEndpoints",
        ("sagemaker:DescribeEndpoint", "sagemaker:DescribeEndpointConfig", "sagemaker:DescribeModel"),
        (On.ENDPOINTS, On.ENDPOINT_CONFIGS, On.MODELS),
    ),
    Grant("ReadModelVersionStatus", ("sagemaker:DescribeModelPackage",), (On.MODEL_PACKAGES,)),
    Grant("DescribeInferenceComponents", ("sagemaker:DescribeInferenceComponent",), (On.INFERENCE_COMPONENTS,)),
    READ_ARTIFACT_VERSIONS,  # the clearance's pinned model artifacts: still the approved object versions?
    Grant(  # the List calls have no resource-level permission
        "FindEndpointsAndComponents", ("sagemaker:ListEndpoints", "sagemaker:ListInferenceComponents"), (On.ANY,)
    ),
)
