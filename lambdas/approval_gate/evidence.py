"""Gather what the approval rules need about a model version from SageMaker and S3."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any, NamedTuple

from lambdas.shared import aws
from lambdas.shared.artifacts import list_artifact
from lambdas.shared.settings import settings
from policies.naming import Names
from policies.rules.approval import (
    BASELINE_SHA256_KEY,
    BASELINE_URI_KEY,
    EVALUATION_REPORT_SHA256_KEY,
    TRAINING_DATA_SHA256_KEY,
    TRAINING_DATA_URI_KEY,
    VALIDATION_REPORT_SHA256_KEY,
    VALIDATION_REPORT_URI_KEY,
    ModelVersionFacts,
)
from policies.rules.artifacts import ArtifactRead, ModelData, in_store, model_data
from policies.rules.metrics import ReportError, metrics_from_report
from policies.rules.provenance import EvidenceFile

if TYPE_CHECKING:
    from policies.model import GovernancePolicy

MAX_REPORT_BYTES = 1_000_000
MAX_EVIDENCE_BYTES = 512 * 1024 * 1024  # training data larger than this cannot be verified here (refused, fail closed)


def identity(context: Any) -> str | None:
    """The identity in a SageMaker UserContext: the IAM principal if known, else the Studio user profile."""
    if not isinstance(context, dict):
        return None
    iam = context.get("IamIdentity")
    if isinstance(iam, dict) and iam.get("Arn"):
        return str(iam["Arn"])
    profile = context.get("UserProfileArn")
    return str(profile) if profile else None


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


class Read(NamedTuple):
    """One evidence file as the gate read it (a named tuple: the adapter's own record, cheaper to define on a cold
    start than a dataclass)."""

    found: bool | None
    sha256: str | None = None
    version_id: str | None = None
    head: bytes = b""
    """The first MAX_REPORT_BYTES (what a report is parsed from)."""


def lineage_of(package: dict[str, Any], policy: GovernancePolicy) -> tuple[str, str | None]:
    """Where the version's evidence lives: (lineage bucket, account it is read in; None: this function's own).

    With many accounts, an entry stage's pipeline registers versions into the hub: their evidence is in that
    account's lineage bucket, read through the gate's namesake role there (``lambdas.shared.aws``). The account
    is the pipeline execution's (``MetadataProperties.GeneratedBy``), taken only when the registrar's session is
    of the same account and an entry stage in that account runs the project; any other version's evidence is
    looked for in this account's lineage bucket (a workload account's is not there: the rules refuse it).
    """
    accounts = policy.accounts
    execution = (package.get("MetadataProperties") or {}).get("GeneratedBy")
    account = aws.account_of(str(execution)) if execution else None
    if accounts is None or account is None or account not in accounts.workload_accounts:
        return settings().lineage_bucket, None
    registrar = identity(package.get("CreatedBy"))
    project = str(package.get("ModelPackageGroupName"))
    entry_here = set(accounts.entry_stages) & set(accounts.workload_accounts[account]) & set(accounts.stages_of(project))
    if aws.account_of(registrar) != account or not entry_here:
        return settings().lineage_bucket, None
    return Names(policy, account=account).lineage_bucket, account


def read_evidence(uri: str | None, lineage_bucket: str, region: str, account: str | None = None) -> Read:
    """Stream the object once: its SHA-256, its version, its head. Outside the lineage bucket nothing is read."""
    location = aws.split_s3_uri(uri) if uri else None
    if location is None or location[0] != lineage_bucket:
        return Read(found=None)
    try:
        response = aws.client("s3", region, account=account).get_object(Bucket=location[0], Key=location[1])
    except Exception as exc:
        if aws.error_code(exc) in aws.S3_NOT_FOUND:
            return Read(found=False)
        raise
    digest, head, size = hashlib.sha256(), bytearray(), 0
    for chunk in response["Body"].iter_chunks(1 << 20):
        size += len(chunk)
        if size > MAX_EVIDENCE_BYTES:
            return Read(found=True, version_id=response.get("VersionId"))  # too large to verify: no hash, refused
        digest.update(chunk)
        if len(head) < MAX_REPORT_BYTES:
            head += chunk[: MAX_REPORT_BYTES - len(head)]
    return Read(found=True, sha256=digest.hexdigest(), version_id=response.get("VersionId"), head=bytes(head))


def person(context: Any) -> str | None:
    """The person behind a SageMaker UserContext: the session's sts:SourceIdentity, else the Studio user profile name."""
    if not isinstance(context, dict):
        return None
    iam = context.get("IamIdentity")
    if isinstance(iam, dict) and iam.get("SourceIdentity"):
        return str(iam["SourceIdentity"])
    return str(context["UserProfileName"]) if context.get("UserProfileName") else None


def registrar_person(package: dict[str, Any], region: str) -> str | None:
    """The person who registered: on the version, else the one who started the pipeline execution that registered it."""
    found = person(package.get("CreatedBy"))
    execution = (package.get("MetadataProperties") or {}).get("GeneratedBy")
    if found or not execution or ":pipeline/" not in str(execution):
        return found
    sagemaker = aws.client("sagemaker", region, account=aws.account_of(str(execution)))
    started = sagemaker.describe_pipeline_execution(PipelineExecutionArn=execution)
    return person(started.get("CreatedBy"))


# The files a version names as evidence: (role, URI key or None for ModelMetrics, registered SHA-256 key).
EVIDENCE = (
    ("evaluation report", None, EVALUATION_REPORT_SHA256_KEY),
    ("validation report", VALIDATION_REPORT_URI_KEY, VALIDATION_REPORT_SHA256_KEY),
    ("training data", TRAINING_DATA_URI_KEY, TRAINING_DATA_SHA256_KEY),
    ("drift baseline", BASELINE_URI_KEY, BASELINE_SHA256_KEY),
)


def gather(package: dict[str, Any], region: str, lineage_bucket: str, account: str | None = None) -> ModelVersionFacts:
    group = str(package["ModelPackageGroupName"])
    metadata = package.get("CustomerMetadataProperties") or {}
    report_uri = package.get("ModelMetrics", {}).get("ModelQuality", {}).get("Statistics", {}).get("S3Uri")
    files, reads = [], {}
    for role, uri_key, sha_key in EVIDENCE:
        uri = report_uri if uri_key is None else metadata.get(uri_key)
        read = read_evidence(uri, lineage_bucket, region, account)
        reads[role] = read
        files.append(EvidenceFile(role, uri, metadata.get(sha_key), read.found, read.sha256, read.version_id))
    report = reads["evaluation report"]
    metrics, error = None, None
    if report.found:
        try:
            metrics = metrics_from_report(report.head)
        except ReportError as exc:
            error = str(exc)
    return ModelVersionFacts(
        package_arn=str(package["ModelPackageArn"]),
        group_name=group,
        group_tags=group_tags(group, region),
        metrics_report_uri=report_uri,
        metrics_report_found=report.found,
        metrics=metrics,
        metrics_report_error=error,
        training_data_uri=metadata.get(TRAINING_DATA_URI_KEY),
        training_data_found=reads["training data"].found,
        created_by=identity(package.get("CreatedBy")),
        approved_by=identity(package.get("LastModifiedBy")),
        registered_by_person=registrar_person(package, region),
        approved_by_person=person(package.get("LastModifiedBy")),
        pipeline_execution=(package.get("MetadataProperties") or {}).get("GeneratedBy"),
        evidence_files=tuple(files),
        registered_at=registered_at(package),
    )


def registered_at(package: dict[str, Any]) -> str | None:
    """When the version was registered (its CreationTime), ISO 8601."""
    created: Any = package.get("CreationTime")
    if created is None:
        return None
    return str(created.isoformat()) if hasattr(created, "isoformat") else str(created)


def model_artifacts(package: dict[str, Any], policy: GovernancePolicy, region: str) -> tuple[list[ModelData], list[ArtifactRead]]:
    """The model data a version's containers name, and each artifact of the project's model store read now."""
    data = model_data(package.get("InferenceSpecification"))
    store = Names(policy, account=str(package["ModelPackageArn"]).split(":")[4]).model_store(
        str(package["ModelPackageGroupName"])
    )
    s3 = aws.client("s3", region)
    reads = {d.uri: list_artifact(d.uri, s3) for d in data if d.pinnable and in_store(d.uri, store)}
    return data, list(reads.values())
