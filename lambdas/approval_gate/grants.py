"""What the approval gate reads to gather a version's evidence (``evidence.py``), as IAM grants.

Kept apart from the calls so that reading the handler table does not import the evidence readers and their rules.
"""

from __future__ import annotations

from iam.grants import Grant, On
from lambdas.shared.grants import LIST_ARTIFACT_VERSIONS

READS: tuple[Grant, ...] = (
    Grant("ReadModelVersions", ("sagemaker:DescribeModelPackage",), (On.MODEL_PACKAGES,)),
    Grant("ReadModelPackageGroups", ("sagemaker:DescribeModelPackageGroup", "sagemaker:ListTags"), (On.MODEL_PACKAGE_GROUPS,)),
    Grant("ReadLineageEvidence", ("s3:GetObject",), (On.LINEAGE_OBJECTS,)),
    LIST_ARTIFACT_VERSIONS,
    Grant("ReadWhoStartedThePipeline", ("sagemaker:DescribePipelineExecution",), (On.PIPELINE_EXECUTIONS,)),
    Grant("DecryptLineageEvidence", ("kms:Decrypt",), (On.DATA_KEY,)),
)
