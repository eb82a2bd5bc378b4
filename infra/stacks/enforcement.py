"""Enforcement: the three run-time handlers, their EventBridge rules, the idempotency table,
and forwarding rules that bring SageMaker events from every other watched Region home."""

from __future__ import annotations

import json
from importlib import import_module

from cdktn import AssetType, Fn, TerraformAsset, TerraformOutput
from cdktn_provider_aws.cloudwatch_event_rule import CloudwatchEventRule
from cdktn_provider_aws.cloudwatch_event_target import CloudwatchEventTarget, CloudwatchEventTargetRetryPolicy
from cdktn_provider_aws.dynamodb_table import (
    DynamodbTable,
    DynamodbTableAttribute,
    DynamodbTablePointInTimeRecovery,
    DynamodbTableServerSideEncryption,
    DynamodbTableTtl,
)
from cdktn_provider_aws.iam_role import IamRole
from cdktn_provider_aws.iam_role_policy import IamRolePolicy
from cdktn_provider_aws.lambda_layer_version import LambdaLayerVersion
from cdktn_provider_aws.provider import AwsProvider, AwsProviderDefaultTags
from constructs import Construct

from infra.constructs.governed_function import GovernedFunction
from infra.event_patterns import forwarded_patterns, rule_patterns
from infra.lambda_packaging import HANDLER_PACKAGES, LAMBDA_ARCHITECTURE, LAMBDA_RUNTIME, stage_dependencies, stage_handler
from infra.stacks.base import BackendSettings, GovernanceStack
from policies import iam
from policies.model import GovernancePolicy
from policies.naming import ENFORCEMENT_HANDLERS

DESCRIPTIONS = {
    "approval-gate": "Rejects model versions approved against the governance policy",
    "classification-tags": "Keeps data-classification tags on SageMaker resources at their project's level",
    "region-guard": "Stops or deletes SageMaker work created outside the allowed Regions",
}
RESERVED_CONCURRENCY = 10


class EnforcementStack(GovernanceStack):
    def __init__(self, scope: Construct, stack_name: str, *, policy: GovernancePolicy, backend: BackendSettings) -> None:
        super().__init__(scope, stack_name, policy=policy, backend=backend)
        names = self.names
        keys = self.key_arns()
        boundary_arn = names.boundary_policy_arn

        layer_code = TerraformAsset(self, "dependencies", path=str(stage_dependencies()), type=AssetType.ARCHIVE)
        self.layer = LambdaLayerVersion(
            self,
            "dependencies-layer",
            layer_name=f"{names.org}-governance-dependencies",
            description="aws-lambda-powertools, pydantic and the X-Ray SDK, at the versions in uv.lock",
            filename=layer_code.path,
            source_code_hash=Fn.filebase64sha256(layer_code.path),
            compatible_runtimes=[LAMBDA_RUNTIME],
            compatible_architectures=[LAMBDA_ARCHITECTURE],
        )

        self.idempotency = DynamodbTable(
            self,
            "idempotency",
            name=names.idempotency_table,
            billing_mode="PAY_PER_REQUEST",
            hash_key="id",
            attribute=[DynamodbTableAttribute(name="id", type="S")],
            ttl=DynamodbTableTtl(attribute_name="expiration", enabled=True),
            server_side_encryption=DynamodbTableServerSideEncryption(enabled=True, kms_key_arn=keys["ops"]),
            point_in_time_recovery=DynamodbTablePointInTimeRecovery(enabled=True),
            deletion_protection_enabled=True,
        )
        table_arn = f"arn:{names.partition}:dynamodb:{names.region}:{names.account}:table/{names.idempotency_table}"

        environment = {
            "GOVERNANCE_AUDIT_BUCKET": names.audit_bucket,
            "GOVERNANCE_LINEAGE_BUCKET": names.lineage_bucket,
            "GOVERNANCE_ALERTS_TOPIC_ARN": names.alerts_topic_arn,
            "GOVERNANCE_IDEMPOTENCY_TABLE": names.idempotency_table,
            "POWERTOOLS_METRICS_NAMESPACE": "MLGovernance",
            "POWERTOOLS_LOG_LEVEL": "INFO",
        }
        patterns = rule_patterns(policy)
        self.functions: dict[str, GovernedFunction] = {}
        for handler in ENFORCEMENT_HANDLERS:
            permissions = import_module(f"lambdas.{HANDLER_PACKAGES[handler]}.permissions")
            self.functions[handler] = GovernedFunction(
                self,
                handler,
                names=names,
                handler=handler,
                code_dir=str(stage_handler(handler, policy)),
                layer_arn=self.layer.arn,
                pattern=patterns[handler],
                statements_for=permissions.statements,
                keys=keys,
                boundary_arn=boundary_arn,
                idempotency_table_arn=table_arn,
                environment={**environment, "POWERTOOLS_SERVICE_NAME": handler},
                reserved_concurrency=RESERVED_CONCURRENCY,
                description=DESCRIPTIONS[handler],
                depends_on=[self.idempotency],
            )
            TerraformOutput(self, f"{handler}-function", value=self.functions[handler].function.arn)

        self._forward_other_regions(policy)

    def _forward_other_regions(self, policy: GovernancePolicy) -> None:
        names = self.names
        home_bus = f"arn:{names.partition}:events:{names.region}:{names.account}:event-bus/default"
        role = IamRole(
            self,
            "event-forwarding-role",
            name=names.event_forwarding_role,
            description="Lets EventBridge in other Regions forward SageMaker events to the home Region's default bus",
            assume_role_policy=json.dumps(iam.trust_service("events.amazonaws.com", names.account)),
            permissions_boundary=names.boundary_policy_arn,
        )
        IamRolePolicy(
            self,
            "event-forwarding-policy",
            name="forward-to-home-bus",
            role=role.name,
            policy=json.dumps(iam.document(iam.statement("PutEventsOnHomeBus", ["events:PutEvents"], [home_bus]))),
        )
        tags = {**policy.standard_tags(), "governance-stack": "enforcement"}
        for region in policy.regions.forwarded:
            provider = AwsProvider(
                self, f"aws-{region}", alias=region, region=region, default_tags=[AwsProviderDefaultTags(tags=tags)]
            )
            for purpose, pattern in forwarded_patterns().items():
                rule = CloudwatchEventRule(
                    self,
                    f"forward-{region}-{purpose}",
                    provider=provider,
                    name=f"{names.org}-forward-{purpose}",
                    description=f"Forwards SageMaker {purpose.replace('-', ' ')} in {region} to {names.region} for enforcement",
                    event_pattern=json.dumps(pattern),
                )
                CloudwatchEventTarget(
                    self,
                    f"forward-{region}-{purpose}-target",
                    provider=provider,
                    rule=rule.name,
                    target_id="home-region-bus",
                    arn=home_bus,
                    role_arn=role.arn,
                    retry_policy=CloudwatchEventTargetRetryPolicy(maximum_event_age_in_seconds=3600, maximum_retry_attempts=8),
                )
