"""What data-classification enforcement may do, and on what."""

from __future__ import annotations

from typing import Any

from lambdas.shared.permissions import WATCHED_KINDS, HandlerResources, sagemaker_arn, shared_statements, statement


def statements(r: HandlerResources) -> list[dict[str, Any]]:
    names = r.names
    return [
        *shared_statements(r),
        statement(
            "ReadAndSetClassificationTags",
            ["sagemaker:AddTags", "sagemaker:ListTags"],
            [sagemaker_arn(names, k) for k in WATCHED_KINDS],
        ),
        statement(
            "StopMisclassifiedJobs",
            ["sagemaker:StopProcessingJob", "sagemaker:StopTrainingJob", "sagemaker:StopTransformJob"],
            [sagemaker_arn(names, k) for k in ("training-job", "processing-job", "transform-job")],
        ),
    ]
