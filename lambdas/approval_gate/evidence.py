"""Gather what the approval rules need about a model version from SageMaker and S3."""

from __future__ import annotations

from typing import Any

from iam.grants import Grant, On
from lambdas.shared import aws
from policies.rules.approval import TRAINING_DATA_URI_KEY, ModelVersionFacts
from policies.rules.metrics import ReportError, metrics_from_report

MAX_REPORT_BYTES = 1_000_000
GRANTS = (
    Grant("ReadModelVersions", ("sagemaker:DescribeModelPackage",), (On.MODEL_PACKAGES,)),
    Grant("ReadModelPackageGroups", ("sagemaker:DescribeModelPackageGroup", "sagemaker:ListTags"), (On.MODEL_PACKAGE_GROUPS,)),
    Grant("ReadLineageEvidence", ("s3:GetObject",), (On.LINEAGE_OBJECTS,)),
    Grant("DecryptLineageEvidence", ("kms:Decrypt",), (On.DATA_KEY,)),
)


def split_s3_uri(uri: str) -> tuple[str, str] | None:
    if not uri.startswith("s3://") or "/" not in uri[5:]:
        return None
    bucket, key = uri[5:].split("/", 1)
    return (bucket, key) if bucket and key else None


def identity(context: Any) -> str | None:
    """The identity in a SageMaker UserContext: the IAM principal if known, else the Studio user profile."""
    if not isinstance(context, dict):
        return None
    iam = context.get("IamIdentity")
    if isinstance(iam, dict) and iam.get("Arn"):
        return str(iam["Arn"])
    profile = context.get("UserProfileArn")
    return str(profile) if profile else None


def describe_package(arn: str, region: str) -> dict[str, Any]:
    package: dict[str, Any] = aws.client("sagemaker", region).describe_model_package(ModelPackageName=arn)
    return package


def group_tags(group: str, region: str) -> dict[str, str]:
    sagemaker = aws.client("sagemaker", region)
    group_arn = sagemaker.describe_model_package_group(ModelPackageGroupName=group)["ModelPackageGroupArn"]
    tags: dict[str, str] = {}
    token = None
    while True:
        page = sagemaker.list_tags(ResourceArn=group_arn, **({"NextToken": token} if token else {}))
        tags.update({t["Key"]: t["Value"] for t in page.get("Tags", [])})
        token = page.get("NextToken")
        if not token:
            return tags


def _read_report(uri: str, lineage_bucket: str, region: str) -> tuple[bool | None, dict[str, float] | None, str | None]:
    location = split_s3_uri(uri)
    if location is None or location[0] != lineage_bucket:
        return None, None, None
    try:
        body = (
            aws.client("s3", region)
            .get_object(Bucket=location[0], Key=location[1], Range=f"bytes=0-{MAX_REPORT_BYTES}")["Body"]
            .read()
        )
    except Exception as exc:
        if aws.error_code(exc) in aws.S3_NOT_FOUND:
            return False, None, None
        raise
    try:
        return True, metrics_from_report(body), None
    except ReportError as exc:
        return True, None, str(exc)


def _object_exists(uri: str, lineage_bucket: str, region: str) -> bool | None:
    location = split_s3_uri(uri)
    if location is None or location[0] != lineage_bucket:
        return None
    try:
        aws.client("s3", region).head_object(Bucket=location[0], Key=location[1])
    except Exception as exc:
        if aws.error_code(exc) in aws.S3_NOT_FOUND:
            return False
        raise
    return True


def gather(package: dict[str, Any], region: str, lineage_bucket: str) -> ModelVersionFacts:
    group = str(package["ModelPackageGroupName"])
    report_uri = package.get("ModelMetrics", {}).get("ModelQuality", {}).get("Statistics", {}).get("S3Uri")
    found, metrics, error = _read_report(report_uri, lineage_bucket, region) if report_uri else (None, None, None)
    training_uri = (package.get("CustomerMetadataProperties") or {}).get(TRAINING_DATA_URI_KEY)
    return ModelVersionFacts(
        package_arn=str(package["ModelPackageArn"]),
        group_name=group,
        group_tags=group_tags(group, region),
        metrics_report_uri=report_uri,
        metrics_report_found=found,
        metrics=metrics,
        metrics_report_error=error,
        training_data_uri=training_uri,
        training_data_found=_object_exists(training_uri, lineage_bucket, region) if training_uri else None,
        created_by=identity(package.get("CreatedBy")),
        approved_by=identity(package.get("LastModifiedBy")),
    )
