"""The governance hub's own stacks (besides foundation, identity, audit trail and enforcement, reused as they are).

- ``hub-registry``: one model package group per project with its one resource policy (approvers only change
  approval status; the entry stages' pipelines register; the stages' deploy roles describe versions), the
  model artifact store (a bucket and one KMS key per project whose key policy names the roles that may use it).
- ``hub-cross-account``: the default bus's policy (the workload accounts' forwarding roles, inside the
  organization), the clearance reader the stages' deployers assume, and the hub handlers' permission to assume
  their namesakes in the workload accounts.

Both name roles of the workload accounts, which IAM and KMS check exist: they are deployed after the
workload accounts' stacks (``infra.multi_account.deploy_waves``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from constructs import Construct

from iam.cross_account import (
    artifact_key_policy,
    artifacts_bucket_statements,
    assume_workload_roles_policy,
    clearance_reader_policy,
    hub_bus_policy,
    hub_model_package_group_policy,
    trust_roles,
    unique,
)
from iam.documents import render
from iam.resource_policies import bucket_policy
from infra.plain_resources import PlainResources
from infra.stacks.base import BackendSettings, GovernanceStack
from infra.stacks.registry import add_model_package_group, group_description
from lambdas.shared.clearance import CLEARED
from lambdas.table import HANDLERS
from policies.naming import PROMOTED, Names

if TYPE_CHECKING:
    from policies.model import GovernancePolicy, Project


class HubStack(GovernanceStack):
    """A stack of the hub account: names in the hub's literal account, and the workload accounts' names."""

    def __init__(self, scope: Construct, stack_name: str, *, policy: GovernancePolicy, backend: BackendSettings) -> None:
        super().__init__(scope, stack_name, policy=policy, backend=backend)
        assert policy.accounts is not None, "hub stacks need the policy's accounts section"
        self.accounts = policy.accounts
        self.hub = Names(policy, account=self.accounts.hub, partition=self.names.partition)

    def workload(self, account: str) -> Names:
        return Names(self.policy, account=account, partition=self.names.partition)

    def registrants(self, project: Project) -> list[str]:
        """Execution roles of ``project`` in its entry stages: they register versions and write artifacts."""
        accounts = self.accounts
        entry = [s for s in accounts.stages_of(project.name) if s in accounts.entry_stages]
        return unique([self.workload(accounts.account_of(s)).role_arn(self.hub.execution_role(project)) for s in entry])

    def deployers(self, project: Project) -> list[str]:
        """The deployer role of every stage ``project`` runs in."""
        accounts = self.accounts
        return unique(
            [self.workload(accounts.account_of(s)).role_arn(self.hub.deployer_role) for s in accounts.stages_of(project.name)]
        )

    def serving_roles(self, project: Project) -> list[str]:
        """The roles ``project``'s stages deploy its versions with: the execution role the stage's deployer passes to
        CreateModel, which SageMaker loads the model artifacts with (the deployer itself only reads their object versions,
        without the project's key, to check them against the clearance's pins)."""
        accounts = self.accounts
        return unique(
            [
                self.workload(accounts.account_of(s)).role_arn(self.hub.execution_role(project))
                for s in accounts.stages_of(project.name)
            ]
        )


class HubRegistryStack(HubStack):
    def __init__(self, scope: Construct, stack_name: str, *, policy: GovernancePolicy, backend: BackendSettings) -> None:
        super().__init__(scope, stack_name, policy=policy, backend=backend)
        hub, organization = self.hub, self.accounts.organization_id
        bucket_statements = []
        with self.plain_resources() as plain:  # per project: no binding object each (infra/plain_resources.py)
            for project in policy.projects:
                entries = ", ".join(s for s in self.accounts.stages_of(project.name) if s in self.accounts.entry_stages)
                add_model_package_group(
                    plain,
                    project,
                    group_name=hub.model_package_group(project),
                    description=f"{group_description(project)}; registered from {entries}",
                    tags=policy.project_tags(project),
                    resource_policy=render(
                        hub_model_package_group_policy(
                            hub,
                            project,
                            registrants=self.registrants(project),
                            deployers=self.deployers(project),
                            organization_id=organization,
                        )
                    ),
                )
                key = plain.add(
                    "aws_kms_key",
                    (f"artifact-key-{project.name}",),
                    {
                        "description": f"Model artifacts of {project.name}: encrypted by its entry stages' pipelines, decrypted by the roles its stages serve it with",
                        "enable_key_rotation": True,
                        "rotation_period_in_days": 365,
                        "deletion_window_in_days": 30,
                        "policy": render(
                            artifact_key_policy(hub, writers=self.registrants(project), readers=self.serving_roles(project))
                        ),
                        "tags": policy.project_tags(project),
                    },
                )
                plain.add(
                    "aws_kms_alias",
                    (f"artifact-key-{project.name}-alias",),
                    {"name": hub.artifact_key_alias(project.name), "target_key_id": key.ref("key_id")},
                )
                bucket_statements += artifacts_bucket_statements(
                    hub,
                    project.name,
                    key_arn=key.ref("arn"),
                    writers=self.registrants(project),
                    readers=unique([*self.serving_roles(project), *self.deployers(project)]),
                )
                self.plain.add_output(hub.artifact_key_output(project.name), value=key.ref("arn"))  # the pipelines' KmsKeyId
            self._artifact_store(plain, bucket_statements)

    def _artifact_store(self, plain: PlainResources, statements: list[dict[str, object]]) -> None:
        """Private, versioned, bucket-owner-enforced; every upload names its project's key (the bucket policy)."""
        hub = self.hub
        bucket = plain.add("aws_s3_bucket", ("artifacts",), {"bucket": hub.artifacts_bucket})
        bucket_id = bucket.ref("id")
        plain.add(
            "aws_s3_bucket_ownership_controls",
            ("artifacts-ownership",),
            {"bucket": bucket_id, "rule": {"object_ownership": "BucketOwnerEnforced"}},
        )
        block = plain.add(
            "aws_s3_bucket_public_access_block",
            ("artifacts-public-access-block",),
            {
                "bucket": bucket_id,
                "block_public_acls": True,
                "block_public_policy": True,
                "ignore_public_acls": True,
                "restrict_public_buckets": True,
            },
        )
        plain.add(
            "aws_s3_bucket_versioning",
            ("artifacts-versioning",),
            {"bucket": bucket_id, "versioning_configuration": {"status": "Enabled"}},
        )
        plain.add(
            "aws_s3_bucket_server_side_encryption_configuration",
            ("artifacts-encryption",),
            {
                "bucket": bucket_id,
                "rule": [{"apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms"}, "bucket_key_enabled": True}],
            },
        )
        # writes reach the deployment guard (routing.model_artifact_writes): an approved artifact overwritten
        plain.add("aws_s3_bucket_notification", ("artifacts-events",), {"bucket": bucket_id, "eventbridge": True})
        plain.add(
            "aws_s3_bucket_policy",
            ("artifacts-policy",),
            {
                "bucket": bucket_id,
                "policy": render(bucket_policy(hub.bucket_arn(hub.artifacts_bucket), None, statements)),
                "depends_on": [block.address],
            },
        )
        self.plain.add_output("artifacts-bucket", value=bucket.ref("bucket"))


class HubCrossAccountStack(HubStack):
    def __init__(self, scope: Construct, stack_name: str, *, policy: GovernancePolicy, backend: BackendSettings) -> None:
        super().__init__(scope, stack_name, policy=policy, backend=backend)
        hub, accounts = self.hub, self.accounts
        workloads = [self.workload(account) for account in accounts.workload_accounts]
        keys = self.key_arns()
        with self.plain_resources() as plain:  # no binding object each (infra/plain_resources.py)
            plain.add(
                "aws_cloudwatch_event_bus_policy",
                ("bus-policy",),
                {
                    "event_bus_name": "default",
                    "policy": render(
                        hub_bus_policy(hub, [w.role_arn(w.event_forwarding_role) for w in workloads], accounts.organization_id)
                    ),
                },
            )
            reader = plain.add(
                "aws_iam_role",
                ("clearance-reader",),
                {
                    "name": hub.clearance_reader_role,
                    "description": "Assumed by the stages' deployers to read the approval gate's clearances and promotion records",
                    "assume_role_policy": render(
                        trust_roles(
                            "AssumedByStageDeployers", [w.role_arn(w.deployer_role) for w in workloads], accounts.organization_id
                        )
                    ),
                    "permissions_boundary": hub.boundary_policy_arn,
                    "max_session_duration": 3600,
                },
            )
            plain.add(
                "aws_iam_role_policy",
                ("clearance-reader-policy",),
                {
                    "name": "read-clearances",
                    "role": reader.ref("name"),
                    "policy": render(
                        clearance_reader_policy(hub.idempotency_table_arn, keys["ops"], (CLEARED, PROMOTED), hub.region)
                    ),
                },
            )
            for spec in HANDLERS:
                if spec.region_bound:
                    continue  # the deployer runs in each workload account itself
                plain.add(
                    "aws_iam_role_policy",
                    (f"{spec.name}-act-in-workload-accounts",),
                    {
                        "name": "act-in-workload-accounts",
                        "role": hub.handler_role(spec.name),
                        "policy": render(
                            assume_workload_roles_policy([w.role_arn(w.handler_role(spec.name)) for w in workloads])
                        ),
                    },
                )
        self.plain.add_output("clearance-reader-arn", value=reader.ref("arn"))
