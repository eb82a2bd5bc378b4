"""The drift job's triggers: one EventBridge Scheduler schedule per drift-job endpoint, invoking the drift monitor.

The function lives in the enforcement stack; the schedules name it by its ARN (``policies/naming.py``). Scheduler
invokes a Lambda function with its execution role (an identity policy), so no resource-based permission on the
function is needed and the monitoring and enforcement stacks stay independent (same deployment wave): a schedule
that fires before the function exists fails, is retried, then lands in the function's dead-letter queue, whose
alarm notifies. Why Scheduler and not a scheduled EventBridge rule: docs/drift.md.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from iam.documents import Document, document, render, statement
from infra.constructs.role import role_with_policy
from infra.plain_resources import PlainResource, PlainResources
from lambdas.drift_monitor.run import scheduler_input
from policies.naming import DRIFT_MONITOR, Names

if TYPE_CHECKING:
    from policies.model import MonitoredEndpoint, Project

SCHEDULER = "scheduler.amazonaws.com"
# As the governed functions' EventBridge targets (infra/constructs/governed_function.py).
EVENT_MAX_AGE_SECONDS = 3600
RETRY_ATTEMPTS = 8


def scheduler_trust(names: Names) -> Document:
    """Only EventBridge Scheduler, for schedules of the drift group in this account (confused-deputy conditions)."""
    return document(
        {
            "Sid": "AssumedByDriftSchedules",
            "Effect": "Allow",
            "Principal": {"Service": SCHEDULER},
            "Action": "sts:AssumeRole",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": names.account},
                "ArnEquals": {"aws:SourceArn": names.drift_schedule_group_arn},
            },
        }
    )


def scheduler_policy(names: Names, ops_key_arn: str) -> Document:
    """Invoke the drift monitor; dead-letter a run it could not deliver into the function's own queue (ops-key encrypted),
    and read the schedules' input, encrypted with the ops key."""
    return document(
        statement("InvokeDriftMonitor", ["lambda:InvokeFunction"], [names.handler_function_arn(DRIFT_MONITOR)]),
        statement("DeadLetterUndeliveredRuns", ["sqs:SendMessage"], [names.dead_letter_queue_arn(DRIFT_MONITOR)]),
        statement("UseOpsKey", ["kms:Decrypt", "kms:GenerateDataKey"], [ops_key_arn]),
    )


class DriftScheduler:
    """The schedule group holding every drift schedule and the role the schedules run with: plain Terraform JSON
    (infra/plain_resources.py) at ``<id>/group``, ``<id>/role`` and ``<id>/role-policy``."""

    def __init__(self, plain: PlainResources, construct_id: str, *, names: Names, ops_key_arn: str) -> None:
        self.construct_id, self.names, self.ops_key_arn = construct_id, names, ops_key_arn
        group = plain.add("aws_scheduler_schedule_group", (construct_id, "group"), {"name": names.drift_schedule_group})
        self.policy_document = scheduler_policy(names, ops_key_arn)
        role, _ = role_with_policy(
            plain,
            (construct_id, "role"),
            (construct_id, "role-policy"),
            name=names.drift_scheduler_role,
            description="EventBridge Scheduler runs the drift monitor on each drift-job endpoint's schedule",
            trust=render(scheduler_trust(names)),
            boundary_arn=names.boundary_policy_arn,
            policy_name="run-drift-monitor",
            policy=render(self.policy_document),
        )
        self.group_name, self.role_arn = group.ref("name"), role.ref("arn")

    def schedule(self, plain: PlainResources, project: Project, endpoint: MonitoredEndpoint) -> PlainResource:
        """Runs the drift monitor for one endpoint on the endpoint's schedule (UTC, as Model Monitor's): one schedule per
        endpoint, so a plain resource (infra/plain_resources.py) at the construct path the schedule has always had."""
        names = self.names
        return plain.add(
            "aws_scheduler_schedule",
            (self.construct_id, f"schedule-{endpoint.name}", "schedule"),
            {
                "name": endpoint.name,
                "group_name": self.group_name,
                "description": f"Drift check of endpoint {endpoint.name} (project {project.name}) against its model version's baseline",
                "schedule_expression": endpoint.schedule,
                "schedule_expression_timezone": "UTC",
                "flexible_time_window": {"mode": "OFF"},
                "kms_key_arn": self.ops_key_arn,
                "state": "ENABLED",
                "target": {
                    "arn": names.handler_function_arn(DRIFT_MONITOR),
                    "role_arn": self.role_arn,
                    "input": json.dumps(scheduler_input(names, project.name, endpoint.name), sort_keys=True),
                    "retry_policy": {
                        "maximum_event_age_in_seconds": EVENT_MAX_AGE_SECONDS,
                        "maximum_retry_attempts": RETRY_ATTEMPTS,
                    },
                    "dead_letter_config": {"arn": names.dead_letter_queue_arn(DRIFT_MONITOR)},
                },
            },
        )
