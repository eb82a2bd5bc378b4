"""A governed Lambda: least-privilege role with the boundary, encrypted environment and logs,
X-Ray tracing, reserved concurrency, an EventBridge rule with retries, a dead-letter queue and alarms."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from cdktn import AssetType, Fn, TerraformAsset
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

from infra.constructs.alarms import alarm_on_first
from infra.lambda_packaging import LAMBDA_ARCHITECTURE, LAMBDA_RUNTIME, handler_entrypoint
from lambdas.shared.permissions import HandlerResources
from policies.iam import trust_service
from policies.naming import Names

LOG_RETENTION_DAYS = 365
EVENT_MAX_AGE_SECONDS = 3600
TARGET_RETRY_ATTEMPTS = 8
ASYNC_RETRY_ATTEMPTS = 2
DLQ_RETENTION_SECONDS = 14 * 24 * 3600


class GovernedFunction(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        names: Names,
        handler: str,
        code_dir: str,
        layer_arn: str,
        pattern: Mapping[str, Any],
        statements_for: Any,
        keys: Mapping[str, str],
        boundary_arn: str,
        idempotency_table_arn: str,
        environment: Mapping[str, str],
        reserved_concurrency: int,
        description: str,
        depends_on: Sequence[Any] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        function_name = names.handler_function(handler)
        self.function_name = function_name
        region, account, partition = names.region, names.account, names.partition
        rule_name = f"{names.org}-{handler}"
        rule_arn = f"arn:{partition}:events:{region}:{account}:rule/{rule_name}"
        queue_name = names.dead_letter_queue(handler)
        queue_arn = f"arn:{partition}:sqs:{region}:{account}:{queue_name}"
        log_group_name = f"/aws/lambda/{function_name}"
        log_group_arn = f"arn:{partition}:logs:{region}:{account}:log-group:{log_group_name}"

        self.log_group = CloudwatchLogGroup(
            self, "logs", name=log_group_name, retention_in_days=LOG_RETENTION_DAYS, kms_key_id=keys["ops"]
        )
        self.dead_letter_queue = SqsQueue(
            self,
            "dlq",
            name=queue_name,
            kms_master_key_id=keys["ops"],
            kms_data_key_reuse_period_seconds=300,
            message_retention_seconds=DLQ_RETENTION_SECONDS,
        )
        SqsQueuePolicy(
            self,
            "dlq-policy",
            queue_url=self.dead_letter_queue.url,
            policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "RuleDeliversUndeliverableEvents",
                            "Effect": "Allow",
                            "Principal": {"Service": "events.amazonaws.com"},
                            "Action": "sqs:SendMessage",
                            "Resource": queue_arn,
                            "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
                        },
                        {
                            "Sid": "DenyInsecureTransport",
                            "Effect": "Deny",
                            "Principal": {"AWS": "*"},
                            "Action": "sqs:*",
                            "Resource": queue_arn,
                            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                        },
                    ],
                }
            ),
        )

        resources = HandlerResources(
            names=names,
            data_key_arn=keys["data"],
            audit_key_arn=keys["audit"],
            ops_key_arn=keys["ops"],
            dead_letter_queue_arn=queue_arn,
            log_group_arn=log_group_arn,
            idempotency_table_arn=idempotency_table_arn,
        )
        self.statements: list[dict[str, Any]] = statements_for(resources)
        self.role = IamRole(
            self,
            "role",
            name=names.handler_role(handler),
            description=f"Execution role of the {handler} enforcement function",
            assume_role_policy=json.dumps(trust_service("lambda.amazonaws.com", account)),
            permissions_boundary=boundary_arn,
        )
        role_policy = IamRolePolicy(
            self,
            "role-policy",
            name=f"{handler}-permissions",
            role=self.role.name,
            policy=json.dumps({"Version": "2012-10-17", "Statement": self.statements}),
        )

        code = TerraformAsset(self, "code", path=code_dir, type=AssetType.ARCHIVE)
        self.function = LambdaFunction(
            self,
            "function",
            function_name=function_name,
            description=description,
            role=self.role.arn,
            runtime=LAMBDA_RUNTIME,
            architectures=[LAMBDA_ARCHITECTURE],
            handler=handler_entrypoint(handler),
            filename=code.path,
            source_code_hash=Fn.filebase64sha256(code.path),
            layers=[layer_arn],
            memory_size=512,
            timeout=60,
            reserved_concurrent_executions=reserved_concurrency,
            kms_key_arn=keys["ops"],
            tracing_config=LambdaFunctionTracingConfig(mode="Active"),
            dead_letter_config=LambdaFunctionDeadLetterConfig(target_arn=self.dead_letter_queue.arn),
            environment=LambdaFunctionEnvironment(variables=dict(environment)),
            depends_on=[self.log_group, role_policy, *depends_on],
        )
        LambdaFunctionEventInvokeConfig(
            self,
            "async-retries",
            function_name=self.function.function_name,
            maximum_retry_attempts=ASYNC_RETRY_ATTEMPTS,
            maximum_event_age_in_seconds=EVENT_MAX_AGE_SECONDS,
        )

        self.rule = CloudwatchEventRule(
            self,
            "rule",
            name=rule_name,
            description=description,
            event_pattern=json.dumps(pattern),
        )
        CloudwatchEventTarget(
            self,
            "target",
            rule=self.rule.name,
            target_id=handler,
            arn=self.function.arn,
            retry_policy=CloudwatchEventTargetRetryPolicy(
                maximum_event_age_in_seconds=EVENT_MAX_AGE_SECONDS, maximum_retry_attempts=TARGET_RETRY_ATTEMPTS
            ),
            dead_letter_config=CloudwatchEventTargetDeadLetterConfig(arn=self.dead_letter_queue.arn),
        )
        LambdaPermission(
            self,
            "invoke-permission",
            statement_id="AllowGovernanceRule",
            action="lambda:InvokeFunction",
            function_name=self.function.function_name,
            principal="events.amazonaws.com",
            source_arn=self.rule.arn,
        )

        alerts = [names.alerts_topic_arn]
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
            name=f"{function_name}-errors",
            description=f"The {handler} failed on an event (it is retried, then sent to {queue_name})",
            namespace="AWS/Lambda",
            metric="Errors",
            dimensions={"FunctionName": function_name},
            alarm_actions=alerts,
        )
