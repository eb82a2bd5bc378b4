"""A workload account's link to the hub (``spoke-<stages>-workload``), besides its foundation, identity and trail.

- **forwarding**: a rule per event kind in every watched Region (home included) sends SageMaker events to the
  hub's default bus, with a role that may only put events there;
- **enforcement roles**: one role per enforcement handler that acts everywhere, with the handler's name, its
  table grants (what it reads and remedies, in this account) under the enforcement boundary, assumable only by
  the hub's role of that name with the hub's external id;
- **the stage's deployer**: the model-deployer function (ML boundary), which may also describe the hub's
  versions of the account's projects and assume the hub's clearance reader;
- **the projects' execution roles** may register in the hub's groups and write artifacts (entry stages), and
  read their project's artifacts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from constructs import Construct

from iam.cross_account import forward_to_hub_policy, stage_deployer_policy, stage_pipeline_policy, workload_enforcement_trust
from iam.documents import render
from iam.roles import grant_arns, handler_role_policy
from iam.trust import trust_service
from infra.constructs.dependency_layer import dependency_layer
from infra.constructs.event_forwarding import forward_region, region_provider
from infra.constructs.governed_function import GovernedFunction
from infra.constructs.role import role_with_policy
from infra.constructs.staged_asset import lambda_archive
from infra.lambda_packaging import stage_code, stage_dependencies
from infra.plain_resources import PlainResource, PlainResources
from infra.stacks.base import BackendSettings, GovernanceStack
from lambdas.shared.settings import handler_environment
from lambdas.table import HANDLERS, HandlerSpec, handler_spec
from policies.naming import MODEL_DEPLOYER, STACK_TAG_KEY, Names

if TYPE_CHECKING:
    from policies.model import GovernancePolicy

RESERVED_CONCURRENCY = 10


def acting_grants(spec: HandlerSpec) -> tuple:  # type: ignore[type-arg]
    """What a handler does in a workload account: what it reads and its remedies (its runtime stays in the hub)."""
    return (*spec.reads, *(grant for remedy in spec.remedies for grant in remedy.grants()))


class WorkloadAccountStack(GovernanceStack):
    def __init__(
        self,
        scope: Construct,
        stack_name: str,
        *,
        policy: GovernancePolicy,
        backend: BackendSettings,
        account: str,
    ) -> None:
        super().__init__(scope, stack_name, policy=policy, backend=backend)
        accounts = policy.accounts
        assert accounts is not None, "workload account stacks need the policy's accounts section"
        self.account = account
        self.stages = accounts.workload_accounts[account]
        self.local = Names(policy, account=account, partition=self.names.partition)
        self.hub = Names(policy, account=accounts.hub, partition=self.names.partition)
        self.projects = [p for p in policy.projects if set(accounts.stages_of(p.name)) & set(self.stages)]
        keys = self.key_arns()
        entry = set(accounts.entry_stages)
        with self.plain_resources() as plain:  # per Region and per project: no binding object each (infra/plain_resources.py)
            self._forward_to_hub(policy, plain)
            self._enforcement_roles(plain, keys)
            self._deployer(plain, policy, keys)
            for project in self.projects:
                registers = bool(entry & set(self.stages) & set(accounts.stages_of(project.name)))
                plain.add(
                    "aws_iam_role_policy",
                    (f"execution-{project.name}-hub",),
                    {
                        "name": "hub-registry-and-artifacts",
                        "role": self.local.execution_role(project),
                        "policy": render(stage_pipeline_policy(self.hub, project, registers=registers)),
                    },
                )

    def _forward_to_hub(self, policy: GovernancePolicy, plain: PlainResources) -> None:
        local, hub = self.local, self.hub
        role, _ = role_with_policy(
            plain,
            ("event-forwarding-role",),
            ("event-forwarding-policy",),
            name=local.event_forwarding_role,
            description="Lets EventBridge in every watched Region forward SageMaker events to the governance hub's bus",
            trust=render(trust_service("events.amazonaws.com", self.account)),
            boundary_arn=local.boundary_policy_arn,
            policy_name="forward-to-hub-bus",
            policy=render(forward_to_hub_policy(hub)),
        )
        tags = {**policy.standard_tags(), STACK_TAG_KEY: self.stack_name}
        role_arn = role.ref("arn")
        for region in policy.regions.watched:
            forward_region(
                plain,
                region=region,
                provider="aws" if region == policy.regions.home else region_provider(plain, region, tags),
                rule_name=local.forwarding_rule,
                destination=f"the governance hub {hub.account}",
                bus_arn=hub.event_bus_arn(hub.account),
                role_arn=role_arn,
                target_id="governance-hub-bus",
            )

    def _enforcement_roles(self, plain: PlainResources, keys: dict[str, str]) -> None:
        local, accounts = self.local, self.policy.accounts
        assert accounts is not None
        self.enforcement_roles: dict[str, PlainResource] = {}
        for spec in HANDLERS:
            if spec.region_bound:
                continue
            arns = grant_arns(
                local,
                keys,
                dead_letter_queue_arn=local.dead_letter_queue_arn(spec.name),
                log_group_arn=local.handler_log_group_arn(spec.name),
                idempotency_table_arn=local.idempotency_table_arn,
            )
            role = plain.add(
                "aws_iam_role",
                (f"enforcement-{spec.name}",),
                {
                    "name": local.handler_role(spec.name),
                    "description": f"Assumed by the governance hub's {spec.name} to act in this account",
                    "assume_role_policy": render(workload_enforcement_trust(self.hub, spec.name, accounts.organization_id)),
                    "permissions_boundary": local.enforcement_boundary_policy_arn,
                    "max_session_duration": 3600,
                },
            )
            grants = acting_grants(spec)
            if grants:
                plain.add(
                    "aws_iam_role_policy",
                    (f"enforcement-{spec.name}-policy",),
                    {
                        "name": f"{spec.name}-in-workload-account",
                        "role": role.ref("name"),
                        "policy": render(handler_role_policy(grants, arns)),
                    },
                )
            self.enforcement_roles[spec.name] = role

    def _deployer(self, plain: PlainResources, policy: GovernancePolicy, keys: dict[str, str]) -> None:
        local = self.local
        spec = handler_spec(MODEL_DEPLOYER)
        layer = dependency_layer(
            self,
            plain,
            "dependencies",
            staged=stage_dependencies(),
            layer_name=f"{local.org}-governance-dependencies",
            description="aws-lambda-powertools, pydantic and the X-Ray SDK, at the versions in uv.lock",
        )
        code = lambda_archive(self, "handler-code", stage_code(policy))
        self.deployer = GovernedFunction(
            plain,
            spec.name,
            names=local,
            spec=spec,
            code=code,
            layer_arns=[layer.ref("arn")],
            pattern=None,
            keys=keys,
            boundary_arn=local.boundary_policy_arn,
            environment=handler_environment(local, spec.name),
            reserved_concurrency=RESERVED_CONCURRENCY,
        )
        plain.add(
            "aws_iam_role_policy",
            ("deployer-hub",),
            {
                "name": "hub-registry-and-clearances",
                "role": self.deployer.role.ref("name"),
                "policy": render(stage_deployer_policy(self.hub, self.projects)),
            },
        )
        self.plain.add_output("deployer-function", value=self.deployer.function.ref("arn"))
