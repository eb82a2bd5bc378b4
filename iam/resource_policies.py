"""Resource policies: buckets, keys, the alerts topic, dead-letter queues, model package groups."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from iam.boundary import APPROVAL_STATUS_KEY, AUDIT_RECORD_TAMPERING_ACTIONS, approver_principals
from iam.documents import Document, deny_insecure_transport, document
from policies.naming import (
    CLOUDTRAIL_PREFIX,
    HOLDOUT_PREFIX,
    LINEAGE_EVIDENCE_PREFIXES,
    LINEAGE_PEOPLE_PREFIXES,
    LINEAGE_PIPELINE_CODE_PREFIXES,
    LINEAGE_SERVICE_PREFIXES,
    PIPELINE_PUBLISHER,
    Names,
)
from policies.terms import PIPELINE_ROLE_KIND, PROJECT_TAG_KEY, ROLE_KIND_TAG_KEY

if TYPE_CHECKING:
    from policies.model import Project


def bucket_policy(bucket_arn: str, kms_key_arn: str | None, extra: Sequence[dict[str, Any]] = ()) -> Document:
    """TLS 1.2+ only; with a KMS key, uploads asking for another algorithm or another key (or aws:kms without naming
    it) are denied, and uploads naming none get the bucket's default encryption with that key (the SageMaker SDK's
    uploads name none)."""
    resources = [bucket_arn, f"{bucket_arn}/*"]
    statements: list[dict[str, Any]] = [
        deny_insecure_transport("s3:*", resources),
        {
            "Sid": "DenyOutdatedTls",
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": "s3:*",
            "Resource": resources,
            "Condition": {"NumericLessThan": {"s3:TlsVersion": "1.2"}},
        },
    ]
    if kms_key_arn is not None:
        statements += [
            {
                "Sid": "DenyUploadsNotEncryptedWithKms",
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "Action": "s3:PutObject",
                "Resource": f"{bucket_arn}/*",
                # An upload that names no encryption gets the bucket's default (SSE-KMS with this key); one that
                # names another algorithm is refused.
                "Condition": {
                    "StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"},
                    "Null": {"s3:x-amz-server-side-encryption": "false"},
                },
            },
            {
                "Sid": "DenyUploadsWithAnotherKmsKey",
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "Action": "s3:PutObject",
                "Resource": f"{bucket_arn}/*",
                # aws:kms without a key id means the AWS managed key, not this one: refused like another key.
                "Condition": {
                    "StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption-aws-kms-key-id": kms_key_arn},
                    "Null": {"s3:x-amz-server-side-encryption": "false"},
                },
            },
        ]
    return {"Version": "2012-10-17", "Statement": statements + list(extra)}


def audit_record_guardrails(names: Names) -> list[dict[str, Any]]:
    """Audit records are written once and never changed: for everyone, whatever their IAM policies say.

    ``s3:if-none-match`` is present only on a conditional write (``If-None-Match: *``), which S3
    refuses when the key exists; with Object Lock, no version can be deleted or its retention shortened.
    """
    records = f"{names.bucket_arn(names.audit_bucket)}/{names.audit_records_prefix}/*"
    return [
        {
            "Sid": "DenyAuditRecordChanges",
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": sorted(AUDIT_RECORD_TAMPERING_ACTIONS),
            "Resource": f"{names.bucket_arn(names.audit_bucket)}/*",
        },
        {
            "Sid": "AuditRecordsAreWrittenOnce",
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": "s3:PutObject",
            "Resource": records,
            "Condition": {"Null": {"s3:if-none-match": "true"}},
        },
    ]


def lineage_guardrails(
    names: Names,
    *,
    evidence_readers: Sequence[str],
    lineage_writers: Sequence[str],
    artifact_version_readers: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """Evidence comes only from a project's governed pipeline, and a project's data stays in the project.

    - evidence prefixes (``projects/*/{data,runs,models,baselines}``) are written only by execution roles (the
      roles tagged ``ml-governance-role: pipeline``);
    - the code a governed pipeline runs as the execution role (``projects/*/{code,sdk}``) and the holdout it judges
      models on (``projects/*/holdout``) are written only by the pipeline publisher, so nobody else can have the
      execution role run their code or choose what their model is judged on; the holdout is read only by the
      execution roles, the publisher and the ``evidence_readers`` (a holdout people could read they could train on);
    - every write lands in the writer's own project (the ``ml-project`` tag of the role or session),
      except for the enforcement roles in ``lineage_writers`` (drift reports);
    - objects are read only inside the reader's own project, except evaluation and validation reports
      (``runs/``, for approvers) and for ``evidence_readers`` (the auditor, the approval gate) and
      ``artifact_version_readers`` (the deployer and the deployment guard, which read model artifacts' object versions
      with HeadObject and hold no key that decrypts them), who read nothing but the model stores
      (``projects/*/models/``; in an S3 ARN ``*`` spans ``/``, so any key with a ``models/`` folder).
    """
    bucket = names.bucket_arn(names.lineage_bucket)
    own = f"{bucket}/{names.lineage_project_prefix(f'${{aws:PrincipalTag/{PROJECT_TAG_KEY}}}')}/*"
    writes = ["s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutObject"]
    # Execution roles by their tag and their name, not their ARNs: a bucket policy (20 KB) naming one role per project
    # would be refused with a few hundred projects. The tag alone is not enough: whoever may tag a principal of their
    # own could give it the tag. The blueprint's roles (<org>-*) cannot be tagged or created by governed principals
    # (the boundaries, the SCPs), no session can carry the tag (iam.trust), and the tamper watch reports TagRole and
    # CreateRole on them. A principal must be both to be exempt: each of the two conditions has its own deny.
    pipeline_role = {f"aws:PrincipalTag/{ROLE_KIND_TAG_KEY}": PIPELINE_ROLE_KIND}
    blueprint_role = {"aws:PrincipalArn": names.role_arn(f"{names.org}-*")}
    publisher = names.role_arn(names.persona_role(PIPELINE_PUBLISHER))
    published = (*LINEAGE_PIPELINE_CODE_PREFIXES, HOLDOUT_PREFIX)

    # Each deny names what it leaves alone (NotResource), not what it guards: in an S3 ARN `*` spans `/`, so a guard
    # on `projects/*/code/*` also caught `projects/<p>/experiments/<job>/input/code/train.py`, which the SageMaker
    # SDK writes for a person's experiment. Everything outside the listed folders (an unknown one too) is guarded.
    def outside(*folders: str) -> list[str]:
        return [f"{bucket}/{names.lineage_project_prefix('*')}/{folder}/*" for folder in folders]

    other_folders = (*LINEAGE_PEOPLE_PREFIXES, *LINEAGE_SERVICE_PREFIXES)
    not_evidence = outside(*other_folders, *published)
    not_published = outside(*other_folders, *LINEAGE_EVIDENCE_PREFIXES)
    not_holdout = outside(*other_folders, *LINEAGE_EVIDENCE_PREFIXES, *LINEAGE_PIPELINE_CODE_PREFIXES)
    holdout_readers = {"aws:PrincipalArn": [publisher, *evidence_readers]}
    reads = ["s3:GetObject", "s3:GetObjectVersion"]
    return [
        _deny_everyone("EvidenceOnlyFromGovernedPipelines", writes, not_evidence, {"StringNotEquals": pipeline_role}),
        _deny_everyone("EvidenceOnlyFromTheBlueprintsRoles", writes, not_evidence, {"ArnNotLike": blueprint_role}),
        _deny_everyone(
            "PipelineCodeOnlyFromItsPublisher", writes, not_published, {"ArnNotEquals": {"aws:PrincipalArn": publisher}}
        ),
        _deny_everyone(
            "HoldoutReadOnlyByThePipeline",
            reads,
            not_holdout,
            {"ArnNotEquals": holdout_readers, "StringNotEquals": pipeline_role},
        ),
        _deny_everyone(
            "HoldoutReadOnlyByTheBlueprintsRoles",
            reads,
            not_holdout,
            {"ArnNotEquals": holdout_readers, "ArnNotLike": blueprint_role},
        ),
        _deny_everyone(
            "WritesStayInTheirProject",
            writes,
            [own],
            {"ArnNotEquals": {"aws:PrincipalArn": list(lineage_writers)}} if lineage_writers else None,
        ),
        _deny_everyone(
            "ReadsStayInTheirProject",
            reads,
            [own, *(f"{bucket}/{key}" for key in names.lineage_run_reports("*"))],
            {"ArnNotEquals": {"aws:PrincipalArn": [*evidence_readers, *artifact_version_readers]}},
        ),
        *(
            [
                _deny_everyone(
                    "ArtifactVersionReadersReadOnlyModelStores",
                    reads,
                    [f"{bucket}/{names.artifacts_prefix('*')}/*"],
                    {"ArnEquals": {"aws:PrincipalArn": list(artifact_version_readers)}},
                )
            ]
            if artifact_version_readers
            else []
        ),
    ]


def _deny_everyone(
    sid: str, actions: Sequence[str], not_resource: Sequence[str], condition: dict[str, Any] | None
) -> dict[str, Any]:
    """A bucket statement denying ``actions`` to every principal on all but ``not_resource``, when ``condition`` holds."""
    return {
        "Sid": sid,
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": list(actions),
        "NotResource": list(not_resource),
        **({"Condition": condition} if condition else {}),
    }


def access_log_delivery(names: Names, source_buckets: Sequence[str]) -> dict[str, Any]:
    """The access-log bucket accepts S3 server access logs of the governed buckets, from this account only."""
    return {
        "Sid": "S3ServerAccessLogDelivery",
        "Effect": "Allow",
        "Principal": {"Service": "logging.s3.amazonaws.com"},
        "Action": "s3:PutObject",
        "Resource": f"{names.bucket_arn(names.access_logs_bucket)}/*",
        "Condition": {
            "StringEquals": {"aws:SourceAccount": names.account},
            "ArnLike": {"aws:SourceArn": [names.bucket_arn(b) for b in source_buckets]},
        },
    }


def trail_delivery(names: Names) -> list[dict[str, Any]]:
    """The governance trail may check the audit bucket's ACL and write under its prefix."""
    audit = names.bucket_arn(names.audit_bucket)
    return [
        {
            "Sid": "CloudTrailChecksBucketAcl",
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "s3:GetBucketAcl",
            "Resource": audit,
            "Condition": {"StringEquals": {"aws:SourceArn": names.trail_arn}},
        },
        {
            "Sid": "CloudTrailDeliversLogs",
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": f"{audit}/{CLOUDTRAIL_PREFIX}/AWSLogs/{names.account}/*",
            "Condition": {"StringEquals": {"aws:SourceArn": names.trail_arn, "s3:x-amz-acl": "bucket-owner-full-control"}},
        },
    ]


def key_policy(names: Names, purpose: str) -> Document:
    """Key policy of a customer-managed key: the account administers it through IAM; services get only what they use."""
    account = names.account
    statements: list[dict[str, Any]] = [
        {
            "Sid": "AccountAdministersKeyThroughIam",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:{names.partition}:iam::{account}:root"},
            "Action": "kms:*",
            "Resource": "*",
        }
    ]
    if purpose == "ops":
        statements.append(
            {
                "Sid": "CloudWatchLogsEncryptGovernanceLogGroups",
                "Effect": "Allow",
                "Principal": {"Service": f"logs.{names.region}.amazonaws.com"},
                "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"],
                "Resource": "*",
                "Condition": {
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": f"arn:{names.partition}:logs:{names.region}:{account}:log-group:*"
                    }
                },
            }
        )
        statements.append(
            {
                "Sid": "AlarmsAndEventsPublishToEncryptedTopicsAndQueues",
                "Effect": "Allow",
                "Principal": {"Service": ["cloudwatch.amazonaws.com", "events.amazonaws.com"]},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:SourceAccount": account}},
            }
        )
    if purpose == "audit":
        statements.append(
            {
                "Sid": "CloudTrailEncryptsTrailLogs",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": ["kms:DescribeKey", "kms:GenerateDataKey*"],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account},
                    "StringLike": {
                        "kms:EncryptionContext:aws:cloudtrail:arn": f"arn:{names.partition}:cloudtrail:*:{account}:trail/*"
                    },
                },
            }
        )
    return document(*statements)


def alerts_topic_policy(names: Names) -> Document:
    """Alarms and EventBridge rules of this account publish to the alerts topic, over TLS."""
    return document(
        {
            "Sid": "AlarmsAndRulesPublishAlerts",
            "Effect": "Allow",
            "Principal": {"Service": ["cloudwatch.amazonaws.com", "events.amazonaws.com"]},
            "Action": "sns:Publish",
            "Resource": names.alerts_topic_arn,
            "Condition": {"StringEquals": {"aws:SourceAccount": names.account}},
        },
        deny_insecure_transport("sns:Publish", names.alerts_topic_arn),
    )


def dead_letter_queue_policy(queue_arn: str, rule_arns: Sequence[str]) -> Document:
    """Only the handler's own rules (its event rule, its schedule) deliver undeliverable events to its dead-letter
    queue; a handler no rule invokes gets no such statement (the function itself dead-letters with its role)."""
    if not rule_arns:
        return document(deny_insecure_transport("sqs:*", queue_arn))
    source = list(rule_arns) if len(rule_arns) > 1 else rule_arns[0]
    delivers = {
        "Sid": "RuleDeliversUndeliverableEvents",
        "Effect": "Allow",
        "Principal": {"Service": "events.amazonaws.com"},
        "Action": "sqs:SendMessage",
        "Resource": queue_arn,
        "Condition": {"ArnEquals": {"aws:SourceArn": source}},
    }
    return document(delivers, deny_insecure_transport("sqs:*", queue_arn))


def model_package_group_policy(names: Names, project: Project) -> Document:
    """Resource policy of a model package group: only approvers change approval status."""
    return document(
        {
            "Sid": "OnlyApproversChangeApprovalStatus",
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": "sagemaker:UpdateModelPackage",
            "Resource": names.model_packages_arn(project),
            "Condition": {
                "Null": {APPROVAL_STATUS_KEY: "false"},
                "ArnNotEquals": {"aws:PrincipalArn": approver_principals(names)},
            },
        }
    )
