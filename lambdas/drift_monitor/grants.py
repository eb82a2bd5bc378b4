"""What the drift monitor reads, as IAM grants (its one remedy is ``lambdas.actions.QuarantineDriftingVersion``).

Kept apart from the handler so that reading the grants imports neither numpy nor Powertools.
"""

from __future__ import annotations

from iam.grants import Grant, On

READS: tuple[Grant, ...] = (
    Grant(  # endpoint -> endpoint config -> model -> the registered version it was made from
        "TraceEndpointsToModels",
        ("sagemaker:DescribeEndpoint", "sagemaker:DescribeEndpointConfig", "sagemaker:DescribeModel"),
        (On.ENDPOINTS, On.ENDPOINT_CONFIGS, On.MODELS),
    ),
    Grant("ReadModelVersions", ("sagemaker:DescribeModelPackage",), (On.MODEL_PACKAGES,)),
    Grant("ListCapturedTraffic", ("s3:ListBucket",), (On.LINEAGE_BUCKET,)),  # ListObjectsV2 of the window's hours
    Grant("ReadCaptureAndBaselines", ("s3:GetObject",), (On.LINEAGE_CAPTURE, On.LINEAGE_BASELINES)),
    Grant("DecryptLineage", ("kms:Decrypt",), (On.DATA_KEY,)),
    Grant("WriteDriftReports", ("s3:PutObject",), (On.LINEAGE_MONITORING,)),
    Grant("EncryptDriftReports", ("kms:GenerateDataKey",), (On.DATA_KEY,)),
)
