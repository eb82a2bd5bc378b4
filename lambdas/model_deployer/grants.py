"""What the model deployer reads before it deploys (its one remedy is ``lambdas.actions.DeployModelVersion``).

Read by the handler table when synth or the access review asks; a cold start never imports it.
"""

from __future__ import annotations

from iam.grants import Grant, On
from lambdas.shared.grants import READ_ARTIFACT_VERSIONS

READS: tuple[Grant, ...] = (
    Grant("ReadModelVersions", ("sagemaker:DescribeModelPackage",), (On.MODEL_PACKAGES,)),
    READ_ARTIFACT_VERSIONS,
)
