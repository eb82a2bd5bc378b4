"""Events in AWS's documented shapes, behind one loader (README.md names each source); the demo and the tests share them."""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any

EVENTS = Path(__file__).parent
ACCOUNT = "123456789012"


def load_event(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return event


def approval_event(package_arn: str, *, status: str = "Approved", event_id: str | None = None) -> dict[str, Any]:
    """The documented model package state change, about ``package_arn``."""
    event = load_event("model_package_state_change")
    region, account = package_arn.split(":")[3], package_arn.split(":")[4]
    group, version = package_arn.split("/")[-2], int(package_arn.rsplit("/", maxsplit=1)[-1])
    event.update(id=event_id or str(uuid.uuid4()), region=region, account=account, resources=[package_arn])
    event["detail"].update(
        ModelPackageGroupName=group, ModelPackageVersion=version, ModelPackageArn=package_arn, ModelApprovalStatus=status
    )
    return event


def object_created_event(bucket: str, key: str, *, region: str, version_id: str | None = None) -> dict[str, Any]:
    """The documented S3 "Object Created" EventBridge event, for ``key`` written into ``bucket``."""
    event = load_event("s3_object_created")
    event.update(id=str(uuid.uuid4()), region=region, account=ACCOUNT, resources=[f"arn:aws:s3:::{bucket}"])
    event["detail"]["bucket"]["name"] = bucket
    event["detail"]["object"].update(key=key, **({"version-id": version_id} if version_id else {}))
    return event


CALL_FIXTURES = {
    "CreateEndpoint": ("cloudtrail_create_endpoint", "endpointName", "endpointArn", "endpoint"),
    "CreateModel": ("cloudtrail_create_model", "modelName", "modelArn", "model"),
    "CreateTrainingJob": ("cloudtrail_create_training_job", "trainingJobName", "trainingJobArn", "training-job"),
    "CreateProcessingJob": ("cloudtrail_create_processing_job", "processingJobName", "processingJobArn", "processing-job"),
    "CreateTransformJob": ("cloudtrail_create_transform_job", "transformJobName", "transformJobArn", "transform-job"),
    "CreateModelPackageGroup": (
        "cloudtrail_create_model_package_group",
        "modelPackageGroupName",
        "modelPackageGroupArn",
        "model-package-group",
    ),
}


def api_call_event(
    event_name: str,
    *,
    name: str,
    region: str,
    tags: dict[str, str] | None = None,
    event_id: str | None = None,
    actor: str = f"arn:aws:iam::{ACCOUNT}:user/intern",
) -> dict[str, Any]:
    """The documented CloudTrail-via-EventBridge shape for ``event_name``, about resource ``name`` in ``region``."""
    fixture, name_field, arn_field, kind = CALL_FIXTURES[event_name]
    event = copy.deepcopy(load_event(fixture))
    event.update(id=event_id or str(uuid.uuid4()), region=region, account=ACCOUNT)
    detail = event["detail"]
    detail.update(awsRegion=region, eventID=str(uuid.uuid4()))
    detail["userIdentity"]["arn"] = actor
    detail["requestParameters"][name_field] = name
    detail["responseElements"] = {arn_field: f"arn:aws:sagemaker:{region}:{ACCOUNT}:{kind}/{name.lower()}"}
    if tags is not None:  # the call's own tags; a call without tags records none
        detail["requestParameters"]["tags"] = [{"key": k, "value": v} for k, v in tags.items()]
        if not tags:
            del detail["requestParameters"]["tags"]
    return event


def tag_call_event(event_name: str, arn: str, tags: dict[str, str]) -> dict[str, Any]:
    """An AddTags / DeleteTags call in the documented CloudTrail record layout (a SageMaker call's, retargeted)."""
    event = api_call_event("CreateModel", name="any", region=arn.split(":")[3])
    listed = [{"key": k, "value": v} for k, v in tags.items()]
    event["detail"].update(
        eventName=event_name,
        requestParameters={"resourceArn": arn, **({"tags": listed} if event_name == "AddTags" else {"tagKeys": list(tags)})},
        responseElements={"tags": listed} if event_name == "AddTags" else None,
    )
    return event


# Tamper calls: (eventSource, eventName) -> requestParameters of the documented record of that call.
TAMPER_REQUESTS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "disable-rule": ("events.amazonaws.com", "DisableRule", {"name": "acme-approval-gate"}),
    "retarget-rule": (
        "events.amazonaws.com",
        "PutTargets",
        {"rule": "acme-region-guard", "targets": [{"id": "x", "arn": "arn"}]},
    ),
    "function-code": ("lambda.amazonaws.com", "UpdateFunctionCode20150331v2", {"functionName": "acme-approval-gate"}),
    "function-config": ("lambda.amazonaws.com", "UpdateFunctionConfiguration20150331v2", {"functionName": "acme-region-guard"}),
    "function-concurrency": (
        "lambda.amazonaws.com",
        "PutFunctionConcurrency20171031",
        {"functionName": "acme-classification-tags", "reservedConcurrentExecutions": 0},
    ),
    "boundary-version": (
        "iam.amazonaws.com",
        "CreatePolicyVersion",
        {"policyArn": f"arn:aws:iam::{ACCOUNT}:policy/acme-ml-permissions-boundary", "setAsDefault": True},
    ),
    "boundary-detached": ("iam.amazonaws.com", "DeleteRolePermissionsBoundary", {"roleName": "acme-data-scientist"}),
    "role-trust-rewritten": (
        "iam.amazonaws.com",
        "UpdateAssumeRolePolicy",
        {"roleName": "acme-approval-gate", "policyDocument": "{}"},
    ),
    "role-policy-attached": (
        "iam.amazonaws.com",
        "AttachRolePolicy",
        {"roleName": "acme-ml-engineer", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
    ),
    "key-deletion": ("kms.amazonaws.com", "ScheduleKeyDeletion", {"keyId": "KEY", "pendingWindowInDays": 7}),
    "key-alias-deleted": ("kms.amazonaws.com", "DeleteAlias", {"aliasName": "alias/acme-ml-audit"}),
    "key-alias-repointed": (
        "kms.amazonaws.com",
        "UpdateAlias",
        {"aliasName": "alias/acme-ml-audit", "targetKeyId": "1234abcd-12ab-34cd-56ef-1234567890ab"},
    ),
    "object-lock": (
        "s3.amazonaws.com",
        "PutBucketObjectLockConfiguration",
        {"bucketName": "acme-ml-audit-123456789012-eu-west-1"},
    ),
    "audit-bucket-policy": ("s3.amazonaws.com", "PutBucketPolicy", {"bucketName": "acme-ml-audit-123456789012-eu-west-1"}),
    "trail-stopped": ("cloudtrail.amazonaws.com", "StopLogging", {"name": "acme-governance-trail"}),
    "drift-schedule-deleted": (
        "scheduler.amazonaws.com",
        "DeleteSchedule",
        {"name": "fraud-detect-rt", "groupName": "acme-drift-monitor"},
    ),
    "dead-letter-queue-purged": (
        "sqs.amazonaws.com",
        "PurgeQueue",
        {"queueUrl": f"https://sqs.eu-west-1.amazonaws.com/{ACCOUNT}/acme-approval-gate-dlq"},
    ),
    "bus-permission-removed": ("events.amazonaws.com", "RemovePermission", {"statementId": "ForwardFromWorkloadAccounts"}),
    "sweep-rule-disabled": ("events.amazonaws.com", "DisableRule", {"name": "acme-deployment-guard-schedule"}),
    "drift-schedule-group-deleted": ("scheduler.amazonaws.com", "DeleteScheduleGroup", {"name": "acme-drift-monitor"}),
    "invoke-permission-added": (
        "lambda.amazonaws.com",
        "AddPermission20150331v2",
        {"functionName": "acme-approval-gate", "statementId": "anyone", "action": "lambda:InvokeFunction", "principal": "*"},
    ),
    "boundary-version-deleted": (
        "iam.amazonaws.com",
        "DeletePolicyVersion",
        {"policyArn": f"arn:aws:iam::{ACCOUNT}:policy/acme-ml-permissions-boundary", "versionId": "v1"},
    ),
    "key-grant-revoked": (
        "kms.amazonaws.com",
        "RevokeGrant",
        {"keyId": "KEY", "grantId": "0c237476b39f8bc44e45212e08498fbe3151305030726c0590dd8d3e9f3d6a60"},
    ),
    "key-alias-created": (
        "kms.amazonaws.com",
        "CreateAlias",
        {"aliasName": "alias/acme-ml-audit", "targetKeyId": "1234abcd-12ab-34cd-56ef-1234567890ab"},
    ),
    "bucket-encryption-changed": (
        "s3.amazonaws.com",
        "PutBucketEncryption",
        {"bucketName": "acme-ml-audit-123456789012-eu-west-1"},
    ),
    "alerts-unsubscribed": (
        "sns.amazonaws.com",
        "Unsubscribe",
        {"subscriptionArn": f"arn:aws:sns:eu-west-1:{ACCOUNT}:acme-governance-alerts:0c1f7a44-5b1e-4d8e-9a7e-2f6d3c9b8a10"},
    ),
    "alerts-filtered": (
        "sns.amazonaws.com",
        "SetSubscriptionAttributes",
        {
            "subscriptionArn": f"arn:aws:sns:eu-west-1:{ACCOUNT}:acme-governance-alerts:0c1f7a44-5b1e-4d8e-9a7e-2f6d3c9b8a10",
            "attributeName": "FilterPolicy",
            "attributeValue": '{"nothing": ["matches"]}',
        },
    ),
    "alerts-topic-deleted": (
        "sns.amazonaws.com",
        "DeleteTopic",
        {"topicArn": f"arn:aws:sns:eu-west-1:{ACCOUNT}:acme-governance-alerts"},
    ),
    # CloudWatch's and CloudWatch Logs' request parameters as their CloudTrail pages show them (alarmNames is a list)
    "alarms-deleted": (
        "monitoring.amazonaws.com",
        "DeleteAlarms",
        {"alarmNames": ["team-latency", "acme-approval-gate-dlq-not-empty"]},
    ),
    "alarm-actions-disabled": ("monitoring.amazonaws.com", "DisableAlarmActions", {"alarmNames": ["acme-trail-tampering"]}),
    "alarm-changed": (
        "monitoring.amazonaws.com",
        "PutMetricAlarm",
        {"alarmName": "acme-approval-gate-errors", "alarmActions": [], "threshold": 1000000.0},
    ),
    "metric-filter-deleted": (
        "logs.amazonaws.com",
        "DeleteMetricFilter",
        {"logGroupName": "/aws/cloudtrail/acme-governance-trail", "filterName": "acme-trail-tampering"},
    ),
    "trail-log-group-deleted": (
        "logs.amazonaws.com",
        "DeleteLogGroup",
        {"logGroupName": "/aws/cloudtrail/acme-governance-trail"},
    ),
    "trail-log-group-key-replaced": (
        "logs.amazonaws.com",
        "AssociateKmsKey",
        {
            "resourceIdentifier": "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/cloudtrail/acme-governance-trail",
            "kmsKeyId": "arn:aws:kms:eu-west-1:999999999999:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        },
    ),
    "trail-log-group-key-removed": (
        "logs.amazonaws.com",
        "DisassociateKmsKey",
        {"logGroupName": "/aws/cloudtrail/acme-governance-trail"},
    ),
    "trail-log-group-retention-shortened": (
        "logs.amazonaws.com",
        "PutRetentionPolicy",
        {"logGroupName": "/aws/cloudtrail/acme-governance-trail", "retentionInDays": 1},
    ),
    "failed-events-dropped": (
        "lambda.amazonaws.com",
        "PutFunctionEventInvokeConfig",
        {"functionName": "acme-approval-gate", "maximumRetryAttempts": 0},
    ),
}


def tamper_event(
    kind: str, *, region: str = "eu-west-1", error_code: str | None = None, overrides: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A tamper call in the documented CloudTrail record layout (KMS's documented DisableKey sample, retargeted)."""
    source, name, request = TAMPER_REQUESTS[kind]
    event = copy.deepcopy(load_event("cloudtrail_kms_disable_key"))
    event.update(
        id=str(uuid.uuid4()), region=region, account=ACCOUNT, source=f"aws.{source.split('.')[0]}", time="2026-11-25T10:00:00Z"
    )
    detail = event["detail"]
    detail.update(
        eventSource=source,
        eventName=name,
        awsRegion=region,
        eventID=str(uuid.uuid4()),
        requestParameters={**request, **(overrides or {})},
        responseElements=None,
        recipientAccountId=ACCOUNT,
        resources=[],
    )
    detail["userIdentity"] = {
        "type": "AssumedRole",
        "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/AdministratorAccess/mallory",
        "accountId": ACCOUNT,
        "sessionContext": {"sessionIssuer": {"type": "Role", "arn": f"arn:aws:iam::{ACCOUNT}:role/AdministratorAccess"}},
    }
    if error_code:
        detail["errorCode"], detail["errorMessage"] = error_code, "User is not authorized to perform this operation"
    return event
