"""A governed Lambda: least-privilege role with the boundary, encrypted environment and logs,
X-Ray tracing, reserved concurrency, an EventBridge rule with retries, a dead-letter queue and alarms."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from cdktn import Fn, TerraformAsset
from cdktn_provider_aws.cloudwatch_event_rule import CloudwatchEventRule
from cdktn_provider_aws.cloudwatch_event_target import (
    CloudwatchEventTarget,
    CloudwatchEventTargetDeadLetterConfig,
    CloudwatchEventTargetRetryPolicy,
)
from cdktn_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktn_provider_aws.iam_role import IamRole
from cdktn_provider_aws.iam_role_policy import IamRolePolicy
from cdktn_provider_aws.lambda_function import (
    LambdaFunction,
    LambdaFunctionDeadLetterConfig,
    LambdaFunctionEnvironment,
    LambdaFunctionTracingConfig,
)
from cdktn_provider_aws.lambda_function_event_invoke_config import LambdaFunctionEventInvokeConfig
from cdktn_provider_aws.lambda_permission import LambdaPermission
from cdktn_provider_aws.sqs_queue import SqsQueue
from cdktn_provider_aws.sqs_queue_policy import SqsQueuePolicy
from constructs import Construct

from iam.documents import render
from iam.resource_policies import dead_letter_queue_policy
from iam.roles import grant_arns, handler_role_policy
from iam.trust import trust_service
from infra.constructs.alarms import alarm_on_first
from infra.lambda_packaging import LAMBDA_ARCHITECTURE, LAMBDA_RUNTIME
from lambdas.table import HandlerSpec
from policies.naming import Names

LOG_RETENTION_DAYS = 365
EVENT_MAX_AGE_SECONDS = 3600
TARGET_RETRY_ATTEMPTS = 8
ASYNC_RETRY_ATTEMPTS = 2
DLQ_RETENTION_SECONDS = 14 * 24 * 3600


class GovernedFunction(Construct):
    """One enforcement handler of the table (``lambdas/table.py``), deployed the governed way."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        names: Names,
        spec: HandlerSpec,
        code: TerraformAsset,
        layer_arns: Sequence[str],
        pattern: Mapping[str, Any] | None,
        schedule: str | None = None,
        keys: Mapping[str, str],
        boundary_arn: str,
        environment: Mapping[str, str],
        reserved_concurrency: int,
        depends_on: Sequence[Any] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        self.names, self.spec = names, spec
        self.function_name = names.handler_function(spec.name)
        self.log_group = CloudwatchLogGroup(
            self,
            "logs",
            name=names.handler_log_group(spec.name),
            retention_in_days=LOG_RETENTION_DAYS,
            kms_key_id=keys["ops"],
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

    def _dead_letter_queue(self, ops_key_arn: str) -> SqsQueue:
        names, handler = self.names, self.spec.name
        queue = SqsQueue(
            self,
            "dlq",
            name=names.dead_letter_queue(handler),
            kms_master_key_id=ops_key_arn,
            kms_data_key_reuse_period_seconds=300,
            message_retention_seconds=DLQ_RETENTION_SECONDS,
        )
        SqsQueuePolicy(
            self,
            "dlq-policy",
            queue_url=queue.url,
            policy=render(dead_letter_queue_policy(names.dead_letter_queue_arn(handler), self._rule_arns())),
        )
        return queue

    def _rule_arns(self) -> list[str]:
        """The rules that invoke the function: its event rule and its schedule, as the table declares them."""
        names, handler = self.names, self.spec.name
        return [names.handler_rule_arn(handler)] * bool(self.spec.route) + [names.handler_schedule_rule_arn(handler)] * bool(
            self.spec.schedule
        )

    def _role(self, keys: Mapping[str, str], boundary_arn: str) -> tuple[IamRole, IamRolePolicy]:
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
        role = IamRole(
            self,
            "role",
            name=names.handler_role(handler),
            description=f"Execution role of the {handler} enforcement function",
            assume_role_policy=render(trust_service("lambda.amazonaws.com", names.account)),
            permissions_boundary=boundary_arn,
        )
        policy = IamRolePolicy(
            self, "role-policy", name=f"{handler}-permissions", role=role.name, policy=render(self.policy_document)
        )
        return role, policy

    def _function(
        self,
        *,
        code: TerraformAsset,
        layer_arns: Sequence[str],
        ops_key_arn: str,
        environment: Mapping[str, str],
        reserved_concurrency: int,
        depends_on: list[Any],
    ) -> LambdaFunction:
        function = LambdaFunction(
            self,
            "function",
            function_name=self.function_name,
            description=self.spec.description,
            role=self.role.arn,
            runtime=LAMBDA_RUNTIME,
            architectures=[LAMBDA_ARCHITECTURE],
            handler=self.spec.entrypoint,
            filename=code.path,
            source_code_hash=Fn.filebase64sha256(code.path),
            layers=list(layer_arns),
            memory_size=self.spec.memory_mb,
            timeout=self.spec.timeout_seconds,
            reserved_concurrent_executions=reserved_concurrency,
            kms_key_arn=ops_key_arn,
            tracing_config=LambdaFunctionTracingConfig(mode="Active"),
            dead_letter_config=LambdaFunctionDeadLetterConfig(target_arn=self.dead_letter_queue.arn),
            environment=LambdaFunctionEnvironment(variables=dict(environment)),
            depends_on=depends_on,
        )
        LambdaFunctionEventInvokeConfig(
            self,
            "async-retries",
            function_name=function.function_name,
            maximum_retry_attempts=ASYNC_RETRY_ATTEMPTS,
            maximum_event_age_in_seconds=EVENT_MAX_AGE_SECONDS,
        )
        return function

    def _trigger(self, pattern: Mapping[str, Any] | None, *, name: str, schedule: str | None = None) -> CloudwatchEventRule:
        """A rule (an event pattern or a schedule), its target with retries and a DLQ, and the permission to invoke."""
        handler = self.spec.name
        suffix = "" if schedule is None else "-schedule"
        rule = CloudwatchEventRule(
            self,
            f"rule{suffix}",
            name=name,
            description=self.spec.description,
            event_pattern=json.dumps(pattern) if pattern is not None else None,
            schedule_expression=schedule,
        )
        CloudwatchEventTarget(
            self,
            f"target{suffix}",
            rule=rule.name,
            target_id=handler,
            arn=self.function.arn,
            retry_policy=CloudwatchEventTargetRetryPolicy(
                maximum_event_age_in_seconds=EVENT_MAX_AGE_SECONDS, maximum_retry_attempts=TARGET_RETRY_ATTEMPTS
            ),
            dead_letter_config=CloudwatchEventTargetDeadLetterConfig(arn=self.dead_letter_queue.arn),
        )
        LambdaPermission(
            self,
            f"invoke-permission{suffix}",
            statement_id="AllowGovernanceRule" + ("Schedule" if schedule else ""),
            action="lambda:InvokeFunction",
            function_name=self.function.function_name,
            principal="events.amazonaws.com",
            source_arn=rule.arn,
        )
        return rule

    def _alarms(self) -> None:
        handler, alerts = self.spec.name, [self.names.alerts_topic_arn]
        queue_name = self.names.dead_letter_queue(handler)
        alarm_on_first(
            self,
            "dlq-alarm",
            name=f"{queue_name}-not-empty",
            description=f"Events the {handler} could not handle are waiting in {queue_name}",
            namespace="AWS/SQS",
            metric="ApproximateNumberOfMessagesVisible",
            dimensions={"QueueName": queue_name},
            statistic="Maximum",
            alarm_actions=alerts,
            ok_actions=alerts,
        )
        alarm_on_first(
            self,
            "errors-alarm",
            name=f"{self.function_name}-errors",
            description=f"The {handler} failed on an event (it is retried, then sent to {queue_name})",
            namespace="AWS/Lambda",
            metric="Errors",
            dimensions={"FunctionName": self.function_name},
            alarm_actions=alerts,
        )
