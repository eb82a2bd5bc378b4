"""What the drift monitor reads and the one thing it may do, as IAM grants (read by the handler table).

Kept apart from the handler so that reading the table imports neither numpy nor Powertools.
"""

from __future__ import annotations

from iam.grants import Grant, On
from lambdas.actions import SetApprovalStatus
from policies.rules.outcome import Action

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


class QuarantineDriftingVersion(SetApprovalStatus):
    """A version whose traffic drifted goes back to PendingManualApproval with the drifting features in its
    ApprovalDescription (``drift.on_breach: quarantine``, enforce mode). Leaving Approved revokes its clearance,
    and the deployment guard then quarantines the endpoints serving it."""

    performs = Action.REVERT_TO_PENDING
    status = "PendingManualApproval"
    prefix = "Sent back by the drift monitor"
    attempts = 3
