"""Resources that hold data or a guarantee keep their Terraform addresses from one version of the stacks to the next.

A changed address (a renamed construct id, a resource moved to another construct) is a destroy and a create for
Terraform: a key scheduled for deletion, a bucket and its records gone, a dead-letter queue's messages lost. A removed
setting resource is a reset: destroying an ``aws_sqs_queue_policy`` clears the queue's policy, destroying an
``aws_s3_bucket_versioning`` suspends versioning, even when another resource now declares the same thing.
"""

from __future__ import annotations

from tests.conftest import Synthesized

KEPT_TYPES = frozenset(
    {
        # what holds data
        "aws_kms_key",
        "aws_s3_bucket",
        "aws_dynamodb_table",
        "aws_cloudwatch_log_group",
        "aws_cloudtrail",
        "aws_sagemaker_model_package_group",
        "aws_sqs_queue",
        "aws_scheduler_schedule_group",
        # what holds a guarantee on another resource, and resets it when destroyed
        "aws_s3_bucket_policy",
        "aws_s3_bucket_versioning",
        "aws_s3_bucket_object_lock_configuration",
        "aws_s3_bucket_public_access_block",
        "aws_s3_bucket_server_side_encryption_configuration",
        "aws_sqs_queue_policy",
        "aws_sagemaker_model_package_group_policy",
    }
)
# The shipped policy's addresses (stack:type.name) as deployments hold them in their state.
DEPLOYED_ADDRESSES = {
    "audit-trail:aws_cloudtrail.trail",
    "audit-trail:aws_cloudwatch_log_group.trail-logs",
    "enforcement:aws_cloudwatch_log_group.approval-gate_logs_0291F5AB",
    "enforcement:aws_cloudwatch_log_group.classification-tags_logs_B26A7679",
    "enforcement:aws_cloudwatch_log_group.deployment-guard_logs_62B9B143",
    "enforcement:aws_cloudwatch_log_group.drift-monitor_logs_C9BBF2DC",
    "enforcement:aws_cloudwatch_log_group.model-deployer_logs_9DF66670",
    "enforcement:aws_cloudwatch_log_group.region-guard_logs_752191C3",
    "enforcement:aws_cloudwatch_log_group.tamper-watch_logs_18B771C8",
    "enforcement:aws_dynamodb_table.idempotency",
    "enforcement:aws_sqs_queue.approval-gate_dlq_54A188A7",
    "enforcement:aws_sqs_queue.classification-tags_dlq_F3FC3DD1",
    "enforcement:aws_sqs_queue.deployment-guard_dlq_5CFEACE2",
    "enforcement:aws_sqs_queue.drift-monitor_dlq_32B95B78",
    "enforcement:aws_sqs_queue.model-deployer_dlq_BCC243E1",
    "enforcement:aws_sqs_queue.region-guard_dlq_2509C3CB",
    "enforcement:aws_sqs_queue.tamper-watch_dlq_51D3819A",
    "enforcement:aws_sqs_queue_policy.approval-gate_dlq-policy_73C4894B",
    "enforcement:aws_sqs_queue_policy.classification-tags_dlq-policy_5FCD50A2",
    "enforcement:aws_sqs_queue_policy.deployment-guard_dlq-policy_93260FA5",
    "enforcement:aws_sqs_queue_policy.drift-monitor_dlq-policy_7D264DE9",
    "enforcement:aws_sqs_queue_policy.model-deployer_dlq-policy_403317FF",
    "enforcement:aws_sqs_queue_policy.region-guard_dlq-policy_6E57C2BC",
    "enforcement:aws_sqs_queue_policy.tamper-watch_dlq-policy_94B0FFDF",
    "foundation:aws_kms_key.audit-key_3E858D94",
    "foundation:aws_kms_key.data-key_5D719C34",
    "foundation:aws_kms_key.ops-key_BB4F91F8",
    "foundation:aws_s3_bucket.access-logs_bucket_7E528747",
    "foundation:aws_s3_bucket.audit_bucket_85D46CD8",
    "foundation:aws_s3_bucket.lineage_bucket_4216DEB4",
    "foundation:aws_s3_bucket_object_lock_configuration.audit_object-lock_67F74A65",
    "foundation:aws_s3_bucket_policy.access-logs_policy_2426E534",
    "foundation:aws_s3_bucket_policy.audit_policy_59CC5959",
    "foundation:aws_s3_bucket_policy.lineage_policy_997FF47D",
    "foundation:aws_s3_bucket_public_access_block.access-logs_public-access-block_D609401A",
    "foundation:aws_s3_bucket_public_access_block.audit_public-access-block_6EA5D422",
    "foundation:aws_s3_bucket_public_access_block.lineage_public-access-block_6A7199B3",
    "foundation:aws_s3_bucket_server_side_encryption_configuration.access-logs_encryption_D38AB668",
    "foundation:aws_s3_bucket_server_side_encryption_configuration.audit_encryption_69ED301F",
    "foundation:aws_s3_bucket_server_side_encryption_configuration.lineage_encryption_D6E476CA",
    "foundation:aws_s3_bucket_versioning.access-logs_versioning_750A4974",
    "foundation:aws_s3_bucket_versioning.audit_versioning_C72B5C87",
    "foundation:aws_s3_bucket_versioning.lineage_versioning_956DCA10",
    "model-registry:aws_sagemaker_model_package_group.group-churn-forecast",
    "model-registry:aws_sagemaker_model_package_group.group-claims-triage",
    "model-registry:aws_sagemaker_model_package_group.group-credit-risk",
    "model-registry:aws_sagemaker_model_package_group_policy.group-churn-forecast-policy",
    "model-registry:aws_sagemaker_model_package_group_policy.group-claims-triage-policy",
    "model-registry:aws_sagemaker_model_package_group_policy.group-credit-risk-policy",
    "monitoring:aws_scheduler_schedule_group.drift-scheduler_group_92686FDC",
}


def test_resources_that_hold_data_or_a_guarantee_keep_their_addresses(synthesized: Synthesized) -> None:
    found = {f"{stack}:{rtype}.{name}" for stack, rtype, name, _ in synthesized.all_resources() if rtype in KEPT_TYPES}
    gone = sorted(DEPLOYED_ADDRESSES - found)
    assert not gone, (
        f"the next apply would destroy {gone}: keep the construct ids, or declare a `moved` block (same type), or make sure "
        "destroying it loses nothing (then update DEPLOYED_ADDRESSES)"
    )
    assert not found - DEPLOYED_ADDRESSES, (
        f"new resources that hold data or a guarantee: pin them here: {sorted(found - DEPLOYED_ADDRESSES)}"
    )
