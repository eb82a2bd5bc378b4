"""Identity policies of the persona roles, one function per persona.

``keys`` maps a key purpose (``data``, ``audit``, ``ops``) to its KMS key ARN: keys get random
ids, so stacks pass Terraform references in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from iam.documents import Document, document, statement
from policies.naming import (
    HOLDOUT_PREFIX,
    LINEAGE_PEOPLE_PREFIXES,
    LINEAGE_PIPELINE_CODE_PREFIXES,
    MODEL_DEPLOYER,
    PEOPLE_JOBS_SEPARATOR,
    Names,
)
from policies.terms import EXPERIMENTS_ROLE_KIND, PIPELINE_ROLE_KIND, PROJECT_TAG_KEY, ROLE_KIND_TAG_KEY

Keys = Mapping[str, str]


def sagemaker_arn(names: Names, kind: str, name: str = "*") -> str:
    """A SageMaker resource pattern of the account in any Region (the boundary limits the Regions)."""
    return f"arn:{names.partition}:sagemaker:*:{names.account}:{kind}/{name}"


def _sagemaker_arns(names: Names, kinds: Sequence[str]) -> list[str]:
    return [sagemaker_arn(names, kind) for kind in kinds]


def _registry_read(names: Names) -> dict[str, Any]:
    return statement(
        "ReadModelRegistry",
        [
            "sagemaker:DescribeModelPackage",
            "sagemaker:DescribeModelPackageGroup",
            "sagemaker:ListModelPackages",
            "sagemaker:ListTags",
        ],
        [sagemaker_arn(names, "model-package-group"), sagemaker_arn(names, "model-package", "*/*")],
    )


def _lineage(names: Names) -> str:
    return names.bucket_arn(names.lineage_bucket)


def _run_reports(names: Names) -> list[str]:
    """Every run's reports, not the run's copy of its training data (policies.naming.RUN_REPORTS)."""
    return [f"{_lineage(names)}/{key}" for key in names.lineage_run_reports("*")]


def _list_lineage(names: Names) -> dict[str, Any]:
    return statement("ListLineageBucket", ["s3:ListBucket"], [_lineage(names)])


def _list_own_project_lineage(names: Names) -> dict[str, Any]:
    """Listing confined to the session's project: key names (run ids, files) of other projects stay unseen."""
    own = names.lineage_project_prefix(OWN_PROJECT)
    return statement(
        "ListOwnProjectLineage", ["s3:ListBucket"], [_lineage(names)], condition={"StringLike": {"s3:prefix": [f"{own}/*"]}}
    )


def _use_data_key(keys: Keys) -> dict[str, Any]:
    return statement("UseDataKey", ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"], [keys["data"]])


OWN_PROJECT = f"${{aws:PrincipalTag/{PROJECT_TAG_KEY}}}"
"""The project of the session: the identity provider passes it as the ``ml-project`` session tag (iam.trust)."""


def _own_lineage(names: Names) -> str:
    return f"{_lineage(names)}/{names.lineage_project_prefix(OWN_PROJECT)}"


def _pass_own_project_role(sid: str, roles: str, kind: str) -> dict[str, Any]:
    """``iam:PassRole`` to SageMaker of the ``roles`` of ``kind`` tagged with the session's own project."""
    return statement(
        sid,
        ["iam:PassRole"],
        [roles],
        condition={
            "StringEquals": {
                "iam:PassedToService": "sagemaker.amazonaws.com",
                f"aws:ResourceTag/{PROJECT_TAG_KEY}": OWN_PROJECT,
                f"aws:ResourceTag/{ROLE_KIND_TAG_KEY}": kind,
            }
        },
    )


def _run_own_pipeline(names: Names, extra: Sequence[str] = ()) -> dict[str, Any]:
    actions = ["sagemaker:DescribePipelineExecution", "sagemaker:ListPipelineExecutions", "sagemaker:StartPipelineExecution"]
    return statement(
        "RunOwnGovernedPipeline" if not extra else "PublishAndRunOwnGovernedPipeline",
        sorted([*actions, *extra]),
        [
            sagemaker_arn(names, "pipeline", f"{OWN_PROJECT}-governed"),
            sagemaker_arn(names, "pipeline", f"{OWN_PROJECT}-governed/*"),
        ],
    )


def data_scientist(names: Names, keys: Keys) -> Document:
    """Builds and trains models of the project named by the session tag, and starts its governed pipeline.

    Their own jobs run as the project's experiment role, the only role they may pass: it writes no evidence and
    registers nothing. Evidence and registration come from the governed pipeline (the execution role), whose code
    only the pipeline publisher uploads: a data scientist can neither run their code as the execution role nor
    change the code it runs.
    """
    own = _own_lineage(names)
    return document(
        _registry_read(names),
        statement(
            "BuildInOwnProject",
            [
                "sagemaker:AddTags",
                "sagemaker:CreateProcessingJob",
                "sagemaker:CreateTrainingJob",
                "sagemaker:DescribeProcessingJob",
                "sagemaker:DescribeTrainingJob",
                "sagemaker:StopProcessingJob",
                "sagemaker:StopTrainingJob",
            ],
            [sagemaker_arn(names, kind, f"{OWN_PROJECT}{PEOPLE_JOBS_SEPARATOR}*") for kind in ("training-job", "processing-job")],
        ),
        _run_own_pipeline(names),
        statement("ReadOwnProjectLineage", ["s3:GetObject"], [f"{own}/*"]),
        statement(
            "UploadCandidateDataAndExperiments", ["s3:PutObject"], [f"{own}/{prefix}/*" for prefix in LINEAGE_PEOPLE_PREFIXES]
        ),
        _list_own_project_lineage(names),
        _pass_own_project_role("PassOwnProjectExperimentRole", names.experiment_roles, EXPERIMENTS_ROLE_KIND),
        _use_data_key(keys),
    )


def pipeline_publisher(names: Names, keys: Keys) -> Document:
    """Publishes the governed pipeline of the project named by the session tag: its code and its definition.

    What the pipeline runs as the execution role comes from here alone (``pipelines.cli upsert``, run by a person
    after review): the code bundle and the SDK's uploads, the holdout every model is judged on, and the pipeline the
    execution role is passed to.
    Trains, approves and deploys nothing.
    """
    own = _own_lineage(names)
    published = [f"{own}/{prefix}/*" for prefix in (*LINEAGE_PIPELINE_CODE_PREFIXES, HOLDOUT_PREFIX)]
    return document(
        _run_own_pipeline(
            names, ["sagemaker:AddTags", "sagemaker:CreatePipeline", "sagemaker:DescribePipeline", "sagemaker:UpdatePipeline"]
        ),
        # Delete too: a publication removes what it does not contain (pipelines.cli.upsert), so no file left under
        # code/ or sdk/ (an older version's, or one written before only the publisher could) runs as the pipeline.
        statement("PublishOwnPipelineCodeAndHoldout", ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"], published),
        _list_own_project_lineage(names),
        # By its tags, not a list of every project's role (which would outgrow IAM's inline policy size).
        _pass_own_project_role("PassOwnProjectExecutionRole", names.role_arn(f"{names.org}-*"), PIPELINE_ROLE_KIND),
        _use_data_key(keys),
    )


def ml_engineer(names: Names, keys: Keys) -> Document:
    """Operates endpoints and asks the deployer for deployments; creates no model or endpoint itself."""
    return document(
        _registry_read(names),
        statement(
            "InspectDeployments",
            [
                "sagemaker:DescribeEndpoint",
                "sagemaker:DescribeEndpointConfig",
                "sagemaker:DescribeModel",
                "sagemaker:ListEndpoints",
                "sagemaker:ListTags",
            ],
            [sagemaker_arn(names, kind) for kind in ("endpoint", "endpoint-config", "model")],
        ),
        statement(
            "RequestDeploymentsFromTheDeployer",
            ["lambda:InvokeFunction"],
            [f"arn:{names.partition}:lambda:{names.region}:{names.account}:function:{names.handler_function(MODEL_DEPLOYER)}"],
        ),
        statement("ReadEvaluationReports", ["s3:GetObject"], _run_reports(names)),
        _list_lineage(names),
        statement("DecryptLineageEvidence", ["kms:Decrypt", "kms:DescribeKey"], [keys["data"]]),
    )


def model_approver(names: Names, keys: Keys) -> Document:
    """Reads the evidence reports and approves or rejects model versions; does not read training data."""
    return document(
        _registry_read(names),
        statement(
            "ApproveOrRejectModelVersions", ["sagemaker:UpdateModelPackage"], [sagemaker_arn(names, "model-package", "*/*")]
        ),
        statement("ReadEvaluationReports", ["s3:GetObject"], _run_reports(names)),
        _list_lineage(names),
        statement("DecryptLineageEvidence", ["kms:Decrypt", "kms:DescribeKey"], [keys["data"]]),
    )


def auditor(names: Names, keys: Keys) -> Document:
    """Reads the registry, the audit trail and every project's lineage (restricted data included); changes nothing."""
    audit = names.bucket_arn(names.audit_bucket)
    return document(
        _registry_read(names),
        statement("ReadAuditTrail", ["s3:GetObject", "s3:GetObjectRetention", "s3:GetObjectVersion"], [f"{audit}/*"]),
        # the evidence report lists every version (a record hidden by a delete marker is a finding) and names the
        # bucket's Object Lock in its header
        statement("ListAuditTrail", ["s3:GetBucketObjectLockConfiguration", "s3:ListBucket", "s3:ListBucketVersions"], [audit]),
        statement("DecryptAuditTrail", ["kms:Decrypt", "kms:DescribeKey"], [keys["audit"]]),
        statement("ReadLineage", ["s3:GetObject", "s3:GetObjectVersion"], [f"{_lineage(names)}/*"]),
        _list_lineage(names),
        statement("DecryptLineage", ["kms:Decrypt", "kms:DescribeKey"], [keys["data"]]),
    )


PERSONA_POLICIES: dict[str, Callable[[Names, Keys], Document]] = {
    "data-scientist": data_scientist,
    "pipeline-publisher": pipeline_publisher,
    "ml-engineer": ml_engineer,
    "model-approver": model_approver,
    "auditor": auditor,
}


def persona_policy(names: Names, persona: str, keys: Keys) -> Document:
    """Identity policy of a persona role."""
    try:
        return PERSONA_POLICIES[persona](names, keys)
    except KeyError:
        raise ValueError(f"unknown persona {persona!r}; personas: {', '.join(PERSONA_POLICIES)}") from None
