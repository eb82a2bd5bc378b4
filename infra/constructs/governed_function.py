"""A governed Lambda: least-privilege role with the boundary, encrypted environment and logs,
X-Ray tracing, reserved concurrency, an EventBridge rule with retries, a dead-letter queue and alarms."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from iam.documents import render
from iam.resource_policies import dead_letter_queue_policy
from iam.roles import grant_arns, handler_role_policy
from iam.trust import trust_service
from infra.constructs.alarms import first_occurrence_alarm
from infra.constructs.role import role_with_policy
from infra.constructs.staged_asset import LambdaArchive
from infra.lambda_packaging import LAMBDA_ARCHITECTURE, LAMBDA_RUNTIME
from infra.plain_resources import PlainResource, PlainResources
from lambdas.table import HandlerSpec
from policies.naming import Names

LOG_RETENTION_DAYS = 365
EVENT_MAX_AGE_SECONDS = 3600
TARGET_RETRY_ATTEMPTS = 8
ASYNC_RETRY_ATTEMPTS = 2
DLQ_RETENTION_SECONDS = 14 * 24 * 3600


class GovernedFunction:
    """One enforcement handler of the table (``lambdas/table.py``), deployed the governed way: its 11 to 15 resources
    are plain Terraform JSON (infra/plain_resources.py) at the construct paths ``<handler>/<part>`` they had as
    bindings, so no binding object each (about 0.2 s of the shipped policy's synth, docs/benchmarks.md)."""

    def __init__(
        self,
        plain: PlainResources,
        construct_id: str,
        *,
        names: Names,
        spec: HandlerSpec,
        code: LambdaArchive,
        layer_arns: Sequence[str],
        pattern: Mapping[str, Any] | None,
        schedule: str | None = None,
        keys: Mapping[str, str],
        boundary_arn: str,
        environment: Mapping[str, str],
        reserved_concurrency: int,
        depends_on: Sequence[PlainResource] = (),
    ) -> None:
        self._plain, self._construct_id = plain, construct_id
        self.names, self.spec = names, spec
        self.function_name = names.handler_function(spec.name)
        self.log_group = self._add(
            "aws_cloudwatch_log_group",
            "logs",
            {"name": names.handler_log_group(spec.name), "retention_in_days": LOG_RETENTION_DAYS, "kms_key_id": keys["ops"]},
        )
        self.dead_letter_queue = self._dead_letter_queue(keys["ops"])
        self.role, role_policy = self._role(keys, boundary_arn)
        self.function = self._function(
            code=code,
            layer_arns=layer_arns,
            ops_key_arn=keys["ops"],
            environment=environment,
            reserved_concurrency=reserved_concurrency,
            depends_on=[self.log_group, role_policy, *depends_on],
        )
        self.rule = self._trigger(pattern, name=names.handler_rule(spec.name)) if pattern is not None else None
        self.schedule = (
            self._trigger(None, name=names.handler_schedule_rule(spec.name), schedule=schedule) if schedule is not None else None
        )
        self._alarms()

    def _add(self, resource_type: str, part: str, arguments: Mapping[str, Any]) -> PlainResource:
        return self._plain.add(resource_type, (self._construct_id, part), arguments)

    def _dead_letter_queue(self, ops_key_arn: str) -> PlainResource:
        names, handler = self.names, self.spec.name
        queue = self._add(
            "aws_sqs_queue",
            "dlq",
            {
                "name": names.dead_letter_queue(handler),
                "kms_master_key_id": ops_key_arn,
                "kms_data_key_reuse_period_seconds": 300,
                "message_retention_seconds": DLQ_RETENTION_SECONDS,
            },
        )
        self._add(
            "aws_sqs_queue_policy",
            "dlq-policy",
            {
                "queue_url": queue.ref("url"),
                "policy": render(dead_letter_queue_policy(names.dead_letter_queue_arn(handler), self._rule_arns())),
            },
        )
        return queue

    def _rule_arns(self) -> list[str]:
        """The rules that invoke the function: its event rule and its schedule, as the table declares them."""
        names, handler = self.names, self.spec.name
        return [names.handler_rule_arn(handler)] * bool(self.spec.route) + [names.handler_schedule_rule_arn(handler)] * bool(
            self.spec.schedule
        )

    def _role(self, keys: Mapping[str, str], boundary_arn: str) -> tuple[PlainResource, PlainResource]:
        """The role allows exactly the grants of the handler's table entry."""
        names, handler = self.names, self.spec.name
        arns = grant_arns(
            names,
            keys,
            dead_letter_queue_arn=names.dead_letter_queue_arn(handler),
            log_group_arn=names.handler_log_group_arn(handler),
            idempotency_table_arn=names.idempotency_table_arn,
        )
        self.policy_document = handler_role_policy(self.spec.grants, arns)
        role, policy = role_with_policy(
            self._plain,
            (self._construct_id, "role"),
            (self._construct_id, "role-policy"),
            name=names.handler_role(handler),
            description=f"Execution role of the {handler} enforcement function",
            trust=render(trust_service("lambda.amazonaws.com", names.account)),
            boundary_arn=boundary_arn,
            policy_name=f"{handler}-permissions",
            policy=render(self.policy_document),
        )
        return role, policy

    def _function(
        self,
        *,
        code: LambdaArchive,
        layer_arns: Sequence[str],
        ops_key_arn: str,
        environment: Mapping[str, str],
        reserved_concurrency: int,
        depends_on: list[PlainResource],
    ) -> PlainResource:
        spec = self.spec
        function = self._add(
            "aws_lambda_function",
            "function",
            {
                "function_name": self.function_name,
                "description": spec.description,
                "role": self.role.ref("arn"),
                "runtime": LAMBDA_RUNTIME,
                "architectures": [LAMBDA_ARCHITECTURE],
                "handler": spec.entrypoint,
                "filename": code.path,
                "source_code_hash": code.source_code_hash,
                "layers": list(layer_arns),
                "memory_size": spec.memory_mb,
                "timeout": spec.timeout_seconds,
                "reserved_concurrent_executions": reserved_concurrency,
                "kms_key_arn": ops_key_arn,
                "tracing_config": {"mode": "Active"},
                "dead_letter_config": {"target_arn": self.dead_letter_queue.ref("arn")},
                "environment": {"variables": dict(environment)},
                "depends_on": [resource.address for resource in depends_on],
            },
        )
        self._add(
            "aws_lambda_function_event_invoke_config",
            "async-retries",
            {
                "function_name": function.ref("function_name"),
                "maximum_retry_attempts": ASYNC_RETRY_ATTEMPTS,
                "maximum_event_age_in_seconds": EVENT_MAX_AGE_SECONDS,
            },
        )
        return function

    def _trigger(self, pattern: Mapping[str, Any] | None, *, name: str, schedule: str | None = None) -> PlainResource:
        """A rule (an event pattern or a schedule), its target with retries and a DLQ, and the permission to invoke."""
        handler = self.spec.name
        suffix = "" if schedule is None else "-schedule"
        rule = self._add(
            "aws_cloudwatch_event_rule",
            f"rule{suffix}",
            {
                "name": name,
                "description": self.spec.description,
                "event_pattern": json.dumps(pattern) if pattern is not None else None,
                "schedule_expression": schedule,
            },
        )
        self._add(
            "aws_cloudwatch_event_target",
            f"target{suffix}",
            {
                "rule": rule.ref("name"),
                "target_id": handler,
                "arn": self.function.ref("arn"),
                "retry_policy": {
                    "maximum_event_age_in_seconds": EVENT_MAX_AGE_SECONDS,
                    "maximum_retry_attempts": TARGET_RETRY_ATTEMPTS,
                },
                "dead_letter_config": {"arn": self.dead_letter_queue.ref("arn")},
            },
        )
        self._add(
            "aws_lambda_permission",
            f"invoke-permission{suffix}",
            {
                "statement_id": "AllowGovernanceRule" + ("Schedule" if schedule else ""),
                "action": "lambda:InvokeFunction",
                "function_name": self.function.ref("function_name"),
                "principal": "events.amazonaws.com",
                "source_arn": rule.ref("arn"),
            },
        )
        return rule

    def _alarms(self) -> None:
        handler, alerts = self.spec.name, [self.names.alerts_topic_arn]
        queue_name = self.names.dead_letter_queue(handler)
        self._add(
            "aws_cloudwatch_metric_alarm",
            "dlq-alarm",
            first_occurrence_alarm(
                name=self.names.dead_letter_alarm(handler),
                description=f"Events the {handler} could not handle are waiting in {queue_name}",
                namespace="AWS/SQS",
                metric="ApproximateNumberOfMessagesVisible",
                dimensions={"QueueName": queue_name},
                statistic="Maximum",
                alarm_actions=alerts,
                ok_actions=alerts,
            ),
        )
        self._add(
            "aws_cloudwatch_metric_alarm",
            "errors-alarm",
            first_occurrence_alarm(
                name=self.names.handler_errors_alarm(handler),
                description=f"The {handler} failed on an event (it is retried, then sent to {queue_name})",
                namespace="AWS/Lambda",
                metric="Errors",
                dimensions={"FunctionName": self.function_name},
                alarm_actions=alerts,
            ),
        )
