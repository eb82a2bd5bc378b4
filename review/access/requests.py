"""The governed requests the access matrix asks about, in the policy's words.

Each is an API call on a concrete resource of the blueprint (a model version of a project, an
audit record, a project's evidence object, an enforcement rule, a governance key...), with the
request context AWS would send. Which Regions it is asked in: the home Region, or every watched
Region for what the enforcement handlers must be able to do wherever SageMaker work appears.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from iam.grants import On
from lambdas.table import HANDLERS
from policies.model import GovernancePolicy
from policies.naming import EXPERIMENTS_PREFIX, KEY_PURPOSES, MODEL_DEPLOYER, PEOPLE_JOBS_SEPARATOR, Names
from review.access.evaluator import ContextValue


class Where(StrEnum):
    HOME = "home"
    ALLOWED = "allowed"
    WATCHED = "watched"


@dataclass(frozen=True)
class GovernedRequest:
    group: str
    """What the row is about: approval, deployment, audit trail, evidence, data, project work, pipeline, enforcement,
    boundary, keys, trail, remediation."""
    label: str
    action: str
    resource: str
    """ARN with ``{region}`` where the Region goes."""
    context: Mapping[str, ContextValue] = field(default_factory=dict)
    where: Where = Where.HOME
    project: str | None = None
    handler: str | None = None
    """For remediation rows: the handler whose table entry needs it."""

    def in_region(self, region: str) -> str:
        return self.resource.replace("{region}", region)


TLS: dict[str, ContextValue] = {"aws:SecureTransport": True, "s3:TlsVersion": "1.3"}
# The data every project's pipeline writes, as the approval gate and auditors rely on it (naming.lineage_* prefixes).
EVIDENCE_KINDS = ("training data", "evaluation report", "validation report")


def _sagemaker(names: Names, kind: str, name: str) -> str:
    return f"arn:{names.partition}:sagemaker:{{region}}:{names.account}:{kind}/{name}"


def governed_requests(policy: GovernancePolicy, names: Names, key_arns: Mapping[str, str]) -> list[GovernedRequest]:
    """``key_arns`` maps each governance key alias to its ARN in the account being reviewed."""
    return [
        *_approval(policy, names),
        *_deployment(policy, names),
        *_audit_trail(names, key_arns),
        *_evidence_and_data(policy, names, key_arns),
        *_project_work(policy, names, key_arns),
        *_pipeline(policy, names, key_arns),
        *_enforcement(names),
        *_boundary_keys_trail(names, key_arns),
        *_remediation(policy, names),
    ]


def _approval(policy: GovernancePolicy, names: Names) -> Iterator[GovernedRequest]:
    for project in policy.projects:
        version = _sagemaker(names, "model-package", f"{project.name}/1")
        for status in ("Approved", "Rejected", "PendingManualApproval"):
            yield GovernedRequest(
                "approval",
                f"set a {project.name} version to {status}",
                "sagemaker:UpdateModelPackage",
                version,
                {"sagemaker:ModelApprovalStatus": status},
                project=project.name,
            )
        yield GovernedRequest(
            "approval",
            f"register a pre-approved {project.name} version",
            "sagemaker:CreateModelPackage",
            version,
            {"sagemaker:ModelApprovalStatus": "Approved"},
            project=project.name,
        )


def _deployment(policy: GovernancePolicy, names: Names) -> Iterator[GovernedRequest]:
    project = policy.projects[0].name if policy.projects else "project"
    for action, kind in (
        ("sagemaker:CreateModel", "model"),
        ("sagemaker:CreateEndpointConfig", "endpoint-config"),
        ("sagemaker:CreateEndpoint", "endpoint"),
        ("sagemaker:UpdateEndpoint", "endpoint"),
        ("sagemaker:UpdateEndpointWeightsAndCapacities", "endpoint"),
        ("sagemaker:CreateInferenceComponent", "inference-component"),
    ):
        yield GovernedRequest(
            "deployment", f"{action.split(':')[1]} ({kind})", action, _sagemaker(names, kind, f"{project}-live")
        )
    deployer = f"arn:{names.partition}:lambda:{names.region}:{names.account}:function:{names.handler_function(MODEL_DEPLOYER)}"
    yield GovernedRequest("deployment", "ask the deployer for a deployment", "lambda:InvokeFunction", deployer)


def _audit_trail(names: Names, key_arns: Mapping[str, str]) -> Iterator[GovernedRequest]:
    bucket = names.bucket_arn(names.audit_bucket)
    record = f"{bucket}/{names.audit_records_prefix}/approval-gate/2026/11/25/event/digest.json"
    audit_key = key_arns[names.key_alias("audit")]
    put: dict[str, ContextValue] = {
        **TLS,
        "s3:x-amz-server-side-encryption": "aws:kms",
        "s3:x-amz-server-side-encryption-aws-kms-key-id": audit_key,
    }
    yield GovernedRequest(
        "audit trail", "write a new audit record (If-None-Match: *)", "s3:PutObject", record, {**put, "s3:if-none-match": "*"}
    )
    yield GovernedRequest("audit trail", "overwrite an audit record", "s3:PutObject", record, put)
    for action, label in (
        ("s3:DeleteObject", "delete an audit record"),
        ("s3:DeleteObjectVersion", "delete an audit record version"),
        ("s3:BypassGovernanceRetention", "bypass Object Lock retention"),
        ("s3:PutObjectRetention", "shorten an audit record's retention"),
        ("s3:PutObjectLegalHold", "change a legal hold"),
    ):
        yield GovernedRequest("audit trail", label, action, record, TLS)
    for action, label in (
        ("s3:PutBucketObjectLockConfiguration", "change the audit bucket's Object Lock"),
        ("s3:PutBucketPolicy", "replace the audit bucket policy"),
        ("s3:DeleteBucketPolicy", "delete the audit bucket policy"),
        ("s3:PutLifecycleConfiguration", "change the audit bucket lifecycle"),
    ):
        yield GovernedRequest("audit trail", label, action, bucket, TLS)
    yield GovernedRequest("audit trail", "read an audit record", "s3:GetObject", record, TLS)
    # what the evidence report reads beside the records: every version (one hidden by a delete marker is a finding)
    # and the bucket's Object Lock (its header)
    yield GovernedRequest("audit trail", "read an audit record: list its versions", "s3:ListBucketVersions", bucket, TLS)
    yield GovernedRequest(
        "audit trail", "read an audit record: the bucket's Object Lock", "s3:GetBucketObjectLockConfiguration", bucket, TLS
    )


def _evidence_and_data(policy: GovernancePolicy, names: Names, key_arns: Mapping[str, str]) -> Iterator[GovernedRequest]:
    bucket = names.bucket_arn(names.lineage_bucket)
    put = _put(names, key_arns)
    for project in policy.projects:
        evidence = {
            "training data": names.lineage_training_data(project.name, "train.csv"),
            "evaluation report": names.lineage_run_report(project.name, "run-1", "evaluation"),
            "validation report": names.lineage_run_report(project.name, "run-1", "validation"),
        }
        for kind, key in evidence.items():
            yield GovernedRequest(
                "evidence", f"write {project.name} {kind}", "s3:PutObject", f"{bucket}/{key}", put, project=project.name
            )
            yield GovernedRequest(
                "evidence", f"delete {project.name} {kind}", "s3:DeleteObject", f"{bucket}/{key}", TLS, project=project.name
            )
        copies = {
            "training data": evidence["training data"],
            "run's copy of its training data": names.lineage_run_data(project.name, "run-1"),
        }
        for kind, key in copies.items():
            yield GovernedRequest(
                "data",
                f"read {project.name} {kind} ({project.classification})",
                "s3:GetObject",
                f"{bucket}/{key}",
                TLS,
                project=project.name,
            )
        store, prefix = names.model_store(project.name)
        artifact = f"{names.bucket_arn(store)}/{prefix}/{project.name}-train-1/output/model.tar.gz"
        yield GovernedRequest(
            "model artifacts",
            f"read a {project.name} model artifact's object version",
            "s3:GetObject",
            artifact,
            TLS,
            project=project.name,
        )
        yield GovernedRequest(
            "model artifacts", f"write a {project.name} model artifact", "s3:PutObject", artifact, put, project=project.name
        )
        key = artifact.split(":::", 1)[1].split("/", 1)[1]
        yield GovernedRequest(
            "model artifacts",
            f"list the object versions of a {project.name} model artifact",
            "s3:ListBucketVersions",
            names.bucket_arn(store),
            {**TLS, "s3:prefix": key},
            project=project.name,
        )
        runs = f"{names.lineage_project_prefix(project.name)}/runs/"
        yield GovernedRequest(
            "data",
            f"list {project.name}'s run ids and files",
            "s3:ListBucket",
            bucket,
            {**TLS, "s3:prefix": runs},
            project=project.name,
        )


def _put(names: Names, key_arns: Mapping[str, str]) -> dict[str, ContextValue]:
    return {
        **TLS,
        "s3:x-amz-server-side-encryption": "aws:kms",
        "s3:x-amz-server-side-encryption-aws-kms-key-id": key_arns[names.key_alias("data")],
    }


def _pass_to_sagemaker(group: str, what: str, role_arn: str, project: str) -> GovernedRequest:
    context: dict[str, ContextValue] = {"iam:PassedToService": "sagemaker.amazonaws.com"}
    return GovernedRequest(group, f"pass {what} to SageMaker", "iam:PassRole", role_arn, context, project=project)


def _project_work(policy: GovernancePolicy, names: Names, key_arns: Mapping[str, str]) -> Iterator[GovernedRequest]:
    """What a project's people need to do their work, and must not be able to do for another project."""
    bucket = names.bucket_arn(names.lineage_bucket)
    put = _put(names, key_arns)
    for project in policy.projects:
        p = project.name
        own = f"{bucket}/{names.lineage_project_prefix(p)}"
        yield GovernedRequest(
            "project work", f"upload candidate data to {p}", "s3:PutObject", f"{own}/incoming/candidate.csv", put, project=p
        )
        yield GovernedRequest(
            "project work",
            f"write a {p} experiment's output",
            "s3:PutObject",
            f"{own}/{EXPERIMENTS_PREFIX}/try-1/model.tar.gz",
            put,
            project=p,
        )
        for upload in ("code/train.py", "data/train.csv"):  # where the SageMaker SDK puts a job's local source and data
            key = f"{own}/{EXPERIMENTS_PREFIX}/{p}{PEOPLE_JOBS_SEPARATOR}try-1/input/{upload}"
            label = f"upload a {p} experiment's {upload.split('/')[0]} as the SDK does (.../input/{upload})"
            yield GovernedRequest("project work", label, "s3:PutObject", key, put, project=p)
        yield _pass_to_sagemaker("project work", f"the {p} experiment role", names.role_arn(names.experiment_role(project)), p)
        job = _sagemaker(names, "training-job", f"{p}{PEOPLE_JOBS_SEPARATOR}try-1")
        yield GovernedRequest(
            "project work", f"stop a {p} experiment's training job", "sagemaker:StopTrainingJob", job, project=p
        )
        yield GovernedRequest(
            "project work",
            f"start the {p} governed pipeline",
            "sagemaker:StartPipelineExecution",
            _sagemaker(names, "pipeline", f"{p}-governed"),
            project=p,
        )


def _pipeline(policy: GovernancePolicy, names: Names, key_arns: Mapping[str, str]) -> Iterator[GovernedRequest]:
    """What decides what runs as a project's execution role (the only writer of its evidence and its versions)."""
    bucket = names.bucket_arn(names.lineage_bucket)
    put = _put(names, key_arns)
    for project in policy.projects:
        p = project.name
        own = f"{bucket}/{names.lineage_project_prefix(p)}"
        yield _pass_to_sagemaker("pipeline", f"the {p} execution role", names.role_arn(names.execution_role(project)), p)
        yield GovernedRequest(
            "pipeline",
            f"change the {p} pipeline's code",
            "s3:PutObject",
            f"{own}/code/v1/pipelines/steps/evaluate.py",
            put,
            project=p,
        )
        yield GovernedRequest(
            "pipeline",
            f"change the {p} pipeline's SDK uploads",
            "s3:PutObject",
            f"{own}/sdk/v1/sm_drivers/sm_train.sh",
            put,
            project=p,
        )
        code = f"{own}/code/v1/pipelines/steps/train.py"
        no_header = f"publish the {p} pipeline's code naming no encryption (as the SDK uploads)"
        yield GovernedRequest("pipeline", no_header, "s3:PutObject", code, TLS, project=p)
        managed: dict[str, ContextValue] = {**TLS, "s3:x-amz-server-side-encryption": "aws:kms"}
        managed_key = f"publish the {p} pipeline's code under AWS's managed key (aws:kms, no key id)"
        yield GovernedRequest("pipeline", managed_key, "s3:PutObject", code, managed, project=p)
        holdout = f"{bucket}/{names.lineage_holdout(p)}"
        yield GovernedRequest("pipeline", f"change the {p} holdout models are judged on", "s3:PutObject", holdout, put, project=p)
        yield GovernedRequest("pipeline", f"read the {p} holdout models are judged on", "s3:GetObject", holdout, TLS, project=p)
        yield GovernedRequest(
            "pipeline",
            f"update the {p} governed pipeline",
            "sagemaker:UpdatePipeline",
            _sagemaker(names, "pipeline", f"{p}-governed"),
            project=p,
        )
        yield GovernedRequest(
            "pipeline",
            f"register a {p} version for approval",
            "sagemaker:CreateModelPackage",
            _sagemaker(names, "model-package", f"{p}/1"),
            {"sagemaker:ModelApprovalStatus": "PendingManualApproval"},
            project=p,
        )


def _enforcement(names: Names) -> Iterator[GovernedRequest]:
    for spec in HANDLERS:
        rule = f"arn:{names.partition}:events:{names.region}:{names.account}:rule/{names.handler_rule(spec.name)}"
        function = f"arn:{names.partition}:lambda:{names.region}:{names.account}:function:{names.handler_function(spec.name)}"
        for action in ("events:DisableRule", "events:DeleteRule", "events:PutRule", "events:PutTargets", "events:RemoveTargets"):
            yield GovernedRequest("enforcement", f"{action.split(':')[1]} {spec.name} rule", action, rule, handler=spec.name)
        for action in (
            "lambda:UpdateFunctionCode",
            "lambda:UpdateFunctionConfiguration",
            "lambda:PutFunctionConcurrency",
            "lambda:PutFunctionEventInvokeConfig",
            "lambda:DeleteFunction",
        ):
            yield GovernedRequest("enforcement", f"{action.split(':')[1]} {spec.name}", action, function, handler=spec.name)
        yield GovernedRequest(
            "enforcement",
            f"purge {spec.name} dead-letter queue",
            "sqs:PurgeQueue",
            names.dead_letter_queue_arn(spec.name),
            handler=spec.name,
        )


def _boundary_keys_trail(names: Names, key_arns: Mapping[str, str]) -> Iterator[GovernedRequest]:
    boundary = names.boundary_policy_arn
    for action in ("iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:DeletePolicy"):
        yield GovernedRequest("boundary", f"{action.split(':')[1]} on the boundary", action, boundary)
    role = names.role_arn(names.persona_role("data-scientist"))
    yield GovernedRequest("boundary", "detach the boundary from a role", "iam:DeleteRolePermissionsBoundary", role)
    yield GovernedRequest(
        "boundary",
        "replace a role's boundary",
        "iam:PutRolePermissionsBoundary",
        role,
        {"iam:PermissionsBoundary": "arn:aws:iam::aws:policy/AdministratorAccess"},
    )
    for purpose in KEY_PURPOSES:
        alias = names.key_alias(purpose)
        for action in ("kms:DisableKey", "kms:ScheduleKeyDeletion", "kms:PutKeyPolicy"):
            yield GovernedRequest(
                "keys", f"{action.split(':')[1]} {purpose} key", action, key_arns[alias], {"kms:ResourceAliases": [alias]}
            )
        # The key deny above knows a key by its alias: removing or repointing the alias comes first (its own deny).
        alias_arn = key_arns[alias].split(":key/")[0] + f":{alias}"
        for action in ("kms:DeleteAlias", "kms:UpdateAlias"):
            yield GovernedRequest("keys", f"{action.split(':')[1]} {purpose} key alias", action, alias_arn)
    trail = names.trail_arn
    for action in ("cloudtrail:StopLogging", "cloudtrail:DeleteTrail", "cloudtrail:PutEventSelectors"):
        yield GovernedRequest("trail", f"{action.split(':')[1]} governance trail", action, trail)


# Example resources of each kind a remediation acts on, in the Region it was found in.
_REMEDIATED = {
    On.MODEL_PACKAGES: ("model-package", "{project}/1"),
    On.MODEL_PACKAGE_GROUPS: ("model-package-group", "{project}"),
    On.MODELS: ("model", "{project}-model"),
    On.ENDPOINTS: ("endpoint", "{project}-endpoint"),
    On.TRAINING_JOBS: ("training-job", "{project}-train"),
    On.PROCESSING_JOBS: ("processing-job", "{project}-validate"),
    On.TRANSFORM_JOBS: ("transform-job", "{project}-batch"),
}


# Resource kinds named in SageMaker operation names, longest first (DescribeEndpointConfig acts on an endpoint config).
_KINDS_IN_NAMES = (
    ("ModelPackageGroup", "model-package-group"),
    ("ModelPackage", "model-package"),
    ("EndpointConfig", "endpoint-config"),
    ("InferenceComponent", "inference-component"),
    ("TrainingJob", "training-job"),
    ("ProcessingJob", "processing-job"),
    ("TransformJob", "transform-job"),
    ("Endpoint", "endpoint"),
    ("Model", "model"),
)


def _acts_on(action: str) -> str | None:
    """The kind of resource a SageMaker action acts on, from its name; None for kind-agnostic ones (AddTags, ListTags)."""
    operation = action.split(":", 1)[1]
    return next((kind for word, kind in _KINDS_IN_NAMES if word in operation), None)


def _remediation(policy: GovernancePolicy, names: Names) -> Iterator[GovernedRequest]:
    """Every call each handler makes on a SageMaker resource, wherever that resource may be."""
    project = policy.projects[0].name if policy.projects else "project"
    for spec in HANDLERS:
        grants = dict.fromkeys([*spec.reads, *(g for remedy in spec.remedies for g in remedy.grants())])  # remedies share some
        for grant in grants:
            for on in grant.on:
                if on not in _REMEDIATED:
                    continue
                kind, name = _REMEDIATED[on]
                for action in grant.actions:
                    if _acts_on(action) not in (None, kind):
                        continue
                    context: dict[str, ContextValue] = {}
                    if action == "sagemaker:UpdateModelPackage":
                        context["sagemaker:ModelApprovalStatus"] = "Rejected"
                    yield GovernedRequest(
                        "remediation",
                        f"{spec.name}: {action.split(':')[1]} ({kind})",
                        action,
                        _sagemaker(names, kind, name.format(project=project)),
                        context,
                        where=Where.ALLOWED if spec.region_bound else Where.WATCHED,
                        handler=spec.name,
                    )
