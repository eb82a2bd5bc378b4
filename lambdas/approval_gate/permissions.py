"""What the approval gate may do, and on what."""

from __future__ import annotations

from typing import Any

from lambdas.shared.permissions import HandlerResources, sagemaker_arn, shared_statements, statement


def statements(r: HandlerResources) -> list[dict[str, Any]]:
    names = r.names
    return [
        *shared_statements(r),
        statement(
            "ReadAndGateModelVersions",
            ["sagemaker:DescribeModelPackage", "sagemaker:UpdateModelPackage"],
            [sagemaker_arn(names, "model-package", "*/*")],
        ),
        statement(
            "ReadModelPackageGroups",
            ["sagemaker:DescribeModelPackageGroup", "sagemaker:ListTags"],
            [sagemaker_arn(names, "model-package-group")],
        ),
        statement("ReadLineageEvidence", ["s3:GetObject"], [f"{names.bucket_arn(names.lineage_bucket)}/*"]),
        statement("DecryptLineageEvidence", ["kms:Decrypt"], [r.data_key_arn]),
    ]
