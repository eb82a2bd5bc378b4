"""Audit trail: a multi-Region CloudTrail trail into the Object-Locked audit bucket and CloudWatch Logs.

In CloudWatch Logs, metric filters count attempts to silence the trail or strip a permissions
boundary, and alarm to the governance alerts topic on the first one.

EventBridge only receives SageMaker API calls that a trail records, so the run-time handlers
depend on it. Set ``create_cloudtrail: false`` when an organization trail already records
management events in every watched Region; the stack then stays empty.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from constructs import Construct

from iam.boundary import TAMPERING_ALARMS
from iam.documents import render
from iam.roles import trail_delivery_policy
from iam.trust import trust_service
from infra.constructs.alarms import first_occurrence_alarm
from infra.constructs.role import role_with_policy
from infra.plain_resources import PlainResources
from infra.stacks.base import BackendSettings, GovernanceStack
from policies.naming import CLOUDTRAIL_PREFIX

if TYPE_CHECKING:
    from policies.model import GovernancePolicy

TRAIL_LOG_RETENTION_DAYS = 365


def cloudtrail_filter_pattern(actions: tuple[str, ...]) -> str:
    """A CloudWatch Logs filter pattern matching CloudTrail records of these IAM actions."""
    services = {action.split(":")[0] for action in actions}
    if len(services) != 1:
        raise ValueError(f"one service per pattern: {actions}")
    names = " || ".join(f'($.eventName = "{action.split(":")[1]}")' for action in actions)
    return f'{{ ($.eventSource = "{services.pop()}.amazonaws.com") && ({names}) }}'


class AuditTrailStack(GovernanceStack):
    def __init__(self, scope: Construct, stack_name: str, *, policy: GovernancePolicy, backend: BackendSettings) -> None:
        super().__init__(scope, stack_name, policy=policy, backend=backend)
        if not policy.create_cloudtrail:
            return
        keys = self.key_arns()
        with self.plain_resources() as plain:  # no binding object each: infra/plain_resources.py
            self._trail(plain, keys)

    def _trail(self, plain: PlainResources, keys: dict[str, str]) -> None:
        names = self.names
        log_group = plain.add(
            "aws_cloudwatch_log_group",
            ("trail-logs",),
            {"name": names.trail_log_group, "retention_in_days": TRAIL_LOG_RETENTION_DAYS, "kms_key_id": keys["ops"]},
        )
        log_group_arn = f"arn:{names.partition}:logs:{names.region}:{names.account}:log-group:{names.trail_log_group}"
        role, _ = role_with_policy(
            plain,
            ("trail-logs-role",),
            ("trail-logs-policy",),
            name=names.trail_delivery_role,
            description="Lets CloudTrail deliver the governance trail to CloudWatch Logs",
            trust=render(trust_service("cloudtrail.amazonaws.com", names.account)),
            boundary_arn=names.boundary_policy_arn,
            policy_name="deliver-trail-to-logs",
            policy=render(trail_delivery_policy(log_group_arn)),
        )
        plain.add(
            "aws_cloudtrail",
            ("trail",),
            {
                "name": names.trail,
                "s3_bucket_name": names.audit_bucket,
                "s3_key_prefix": CLOUDTRAIL_PREFIX,
                "kms_key_id": keys["audit"],
                "is_multi_region_trail": True,
                "include_global_service_events": True,
                "enable_log_file_validation": True,
                "cloud_watch_logs_group_arn": f"{log_group.ref('arn')}:*",
                "cloud_watch_logs_role_arn": role.ref("arn"),
            },
        )
        namespace = f"{names.org}/Governance"
        for alarm, (meaning, actions) in TAMPERING_ALARMS.items():
            metric = "".join(part.capitalize() for part in alarm.split("-"))
            plain.add(
                "aws_cloudwatch_log_metric_filter",
                (f"{alarm}-filter",),
                {
                    "name": names.tamper_alarm(alarm),
                    "log_group_name": log_group.ref("name"),
                    "pattern": cloudtrail_filter_pattern(actions),
                    "metric_transformation": {"name": metric, "namespace": namespace, "value": "1", "default_value": "0"},
                },
            )
            plain.add(
                "aws_cloudwatch_metric_alarm",
                (f"{alarm}-alarm",),
                first_occurrence_alarm(
                    name=names.tamper_alarm(alarm),
                    description=meaning,
                    namespace=namespace,
                    metric=metric,
                    alarm_actions=[names.alerts_topic_arn],
                ),
            )
