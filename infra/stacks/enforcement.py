"""Enforcement: every run-time handler of lambdas/table.py with its rules, schedule and dead-letter queue, the
dependency layers, the idempotency table, and forwarding rules that bring events from every other watched Region home."""

from __future__ import annotations

from typing import TYPE_CHECKING

from constructs import Construct

from iam.documents import render
from iam.roles import event_forwarding_policy
from iam.trust import trust_service
from infra.constructs.dependency_layer import dependency_layer
from infra.constructs.event_forwarding import forward_region, region_provider
from infra.constructs.governed_function import GovernedFunction
from infra.constructs.role import role_with_policy
from infra.constructs.staged_asset import lambda_archive
from infra.lambda_packaging import (
    stage_code,
    stage_dependencies,
    stage_numeric_dependencies,
)
from infra.plain_resources import PlainResources
from infra.stacks.base import BackendSettings, GovernanceStack
from lambdas.shared.settings import handler_environment
from lambdas.table import HANDLERS
from policies.naming import STACK_TAG_KEY

if TYPE_CHECKING:
    from policies.model import GovernancePolicy

RESERVED_CONCURRENCY = 10


class EnforcementStack(GovernanceStack):
    """Every resource but the stack's provider, backend and lookups is plain Terraform JSON (infra/plain_resources.py)."""

    def __init__(self, scope: Construct, stack_name: str, *, policy: GovernancePolicy, backend: BackendSettings) -> None:
        super().__init__(scope, stack_name, policy=policy, backend=backend)
        keys = self.key_arns()
        with self.plain_resources() as plain:
            self._build(plain, policy, keys)

    def _build(self, plain: PlainResources, policy: GovernancePolicy, keys: dict[str, str]) -> None:
        names = self.names
        layer = dependency_layer(
            self,
            plain,
            "dependencies",
            staged=stage_dependencies(),
            layer_name=f"{names.org}-governance-dependencies",
            description="aws-lambda-powertools, pydantic and the X-Ray SDK, at the versions in uv.lock",
        )
        numeric_layer = dependency_layer(
            self,
            plain,
            "numeric-dependencies",
            staged=stage_numeric_dependencies(),
            layer_name=f"{names.org}-governance-numeric",
            description="numpy for the drift monitor (manylinux2014 wheels for the python3.11 runtime)",
        )
        idempotency = plain.add(
            "aws_dynamodb_table",
            ("idempotency",),
            {
                "name": names.idempotency_table,
                "billing_mode": "PAY_PER_REQUEST",
                "hash_key": "id",
                "attribute": [{"name": "id", "type": "S"}],
                "ttl": {"attribute_name": "expiration", "enabled": True},
                "server_side_encryption": {"enabled": True, "kms_key_arn": keys["ops"]},
                "point_in_time_recovery": {"enabled": True},
                "deletion_protection_enabled": True,
            },
        )
        code = lambda_archive(self, "handler-code", stage_code(policy))
        self.functions: dict[str, GovernedFunction] = {}
        for spec in HANDLERS:
            self.functions[spec.name] = GovernedFunction(
                plain,
                spec.name,
                names=names,
                spec=spec,
                code=code,
                layer_arns=[layer.ref("arn"), *([numeric_layer.ref("arn")] if spec.numeric else [])],
                pattern=spec.route(policy) if spec.route else None,
                schedule=spec.schedule(policy) if spec.schedule else None,
                keys=keys,
                boundary_arn=names.boundary_policy_arn if spec.region_bound else names.enforcement_boundary_policy_arn,
                environment=handler_environment(names, spec.name, acts_in_workload_accounts=not spec.region_bound),
                reserved_concurrency=RESERVED_CONCURRENCY,
                depends_on=[idempotency],
            )
            self.plain.add_output(f"{spec.name}-function", value=self.functions[spec.name].function.ref("arn"))
        self._forward_other_regions(plain, policy)

    def _forward_other_regions(self, plain: PlainResources, policy: GovernancePolicy) -> None:
        names = self.names
        role, _ = role_with_policy(
            plain,
            ("event-forwarding-role",),
            ("event-forwarding-policy",),
            name=names.event_forwarding_role,
            description="Lets EventBridge in other Regions forward SageMaker events to the home Region's default bus",
            trust=render(trust_service("events.amazonaws.com", names.account)),
            boundary_arn=names.boundary_policy_arn,
            policy_name="forward-to-home-bus",
            policy=render(event_forwarding_policy(names)),
        )
        tags = {**policy.standard_tags(), STACK_TAG_KEY: "enforcement"}
        for region in policy.regions.forwarded:  # per Region: a provider configuration, two rules and two targets
            forward_region(
                plain,
                region=region,
                provider=region_provider(plain, region, tags),
                rule_name=names.forwarding_rule,
                destination=f"{names.region} for enforcement",
                bus_arn=names.home_event_bus_arn,
                role_arn=role.ref("arn"),
                target_id="home-region-bus",
            )
