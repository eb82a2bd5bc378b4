"""Foundation: customer-managed keys, the lineage and audit buckets, access logs, the alerts topic."""

from __future__ import annotations

from typing import TYPE_CHECKING

from constructs import Construct

from iam.documents import render
from iam.resource_policies import (
    access_log_delivery,
    alerts_topic_policy,
    audit_record_guardrails,
    lineage_guardrails,
    trail_delivery,
)
from infra.constructs.encrypted_bucket import EncryptedBucket, ObjectLock, Retention
from infra.constructs.managed_key import ManagedKey
from infra.plain_resources import PlainResources
from infra.stacks.base import BackendSettings, GovernanceStack
from policies.naming import APPROVAL_GATE, DEPLOYMENT_GUARD, DRIFT_MONITOR, MODEL_DEPLOYER

if TYPE_CHECKING:
    from policies.model import GovernancePolicy


class FoundationStack(GovernanceStack):
    def __init__(self, scope: Construct, stack_name: str, *, policy: GovernancePolicy, backend: BackendSettings) -> None:
        super().__init__(scope, stack_name, policy=policy, backend=backend)
        retention_days = policy.audit.retention_years * 365
        with self.plain_resources() as plain:  # no binding object each: infra/plain_resources.py
            self._build(plain, policy, retention_days)

    def _build(self, plain: PlainResources, policy: GovernancePolicy, retention_days: int) -> None:
        names = self.names
        self.keys = {
            "data": ManagedKey(
                plain, "data-key", names=names, purpose="data", description="ML lineage data, SageMaker job volumes and outputs"
            ),
            "audit": ManagedKey(
                plain, "audit-key", names=names, purpose="audit", description="Governance audit trail and CloudTrail logs"
            ),
            "ops": ManagedKey(
                plain,
                "ops-key",
                names=names,
                purpose="ops",
                description="Governance alerts, queues, tables, Lambda environments and logs",
            ),
        }

        lineage_name, audit_name = names.lineage_bucket, names.audit_bucket
        self.access_logs = EncryptedBucket(
            plain,
            "access-logs",
            names=names,
            purpose="access-logs",
            kms_key_arn=None,
            access_logs_bucket=None,
            retention=Retention(transition_to_infrequent_access=90, expire_current=retention_days, expire_noncurrent=30),
            extra_policy_statements=[access_log_delivery(names, [lineage_name, audit_name])],
        )
        self.lineage = EncryptedBucket(
            plain,
            "lineage",
            names=names,
            purpose="lineage",
            kms_key_arn=self.keys["data"].arn,
            access_logs_bucket=self.access_logs.name,
            retention=Retention(transition_to_infrequent_access=90, expire_noncurrent=365),
            extra_policy_statements=lineage_guardrails(
                names,
                evidence_readers=[
                    names.role_arn(names.persona_role("auditor")),
                    names.role_arn(names.handler_role(APPROVAL_GATE)),
                    names.role_arn(names.handler_role(DRIFT_MONITOR)),  # capture and baselines of every project
                ],
                lineage_writers=[names.role_arn(names.handler_role(DRIFT_MONITOR))],  # drift reports, projects/*/monitoring/
                # the object versions of the model artifacts, against the approval gate's pins
                artifact_version_readers=[names.role_arn(names.handler_role(h)) for h in (MODEL_DEPLOYER, DEPLOYMENT_GUARD)],
            ),
            depends_on=[self.access_logs.bucket],
        )
        self.audit = EncryptedBucket(
            plain,
            "audit",
            names=names,
            purpose="audit",
            kms_key_arn=self.keys["audit"].arn,
            access_logs_bucket=self.access_logs.name,
            object_lock=ObjectLock(mode=policy.audit.object_lock_mode.value, years=policy.audit.retention_years),
            retention=Retention(transition_to_infrequent_access=90, transition_to_glacier=365, expire_noncurrent=retention_days),
            extra_policy_statements=[
                *audit_record_guardrails(names),
                *(trail_delivery(names) if policy.create_cloudtrail else []),
            ],
            depends_on=[self.access_logs.bucket],
        )

        alerts = plain.add("aws_sns_topic", ("alerts",), {"name": names.alerts_topic, "kms_master_key_id": self.keys["ops"].arn})
        self.alerts_arn = alerts.ref("arn")
        plain.add(
            "aws_sns_topic_policy", ("alerts-policy",), {"arn": self.alerts_arn, "policy": render(alerts_topic_policy(names))}
        )
        for i, email in enumerate(policy.notifications.emails):
            plain.add(
                "aws_sns_topic_subscription",
                (f"alerts-email-{i}",),
                {"topic_arn": self.alerts_arn, "protocol": "email", "endpoint": email},
            )

        for purpose, key in self.keys.items():
            self.plain.add_output(f"{purpose}-key-arn", value=key.arn)
        self.plain.add_output("lineage-bucket", value=self.lineage.name)
        self.plain.add_output("audit-bucket", value=self.audit.name)
        self.plain.add_output("alerts-topic-arn", value=self.alerts_arn)
