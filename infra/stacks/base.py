"""What every governance stack shares: the provider, its version constraint, the backend, names."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from cdktn import LocalBackend, S3Backend, TerraformStack
from cdktn_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktn_provider_aws.data_aws_kms_alias import DataAwsKmsAlias
from cdktn_provider_aws.data_aws_partition import DataAwsPartition
from cdktn_provider_aws.provider import AwsProvider, AwsProviderDefaultTags
from constructs import Construct

from infra.plain_resources import PlainResources
from policies.model import GovernancePolicy
from policies.naming import KEY_PURPOSES, STACK_TAG_KEY, Names

# The prebuilt bindings pin hashicorp/aws 6.x exactly. The offline tests validate and
# deploy against 5.100.0 (the provider in this machine's mirror); users get 6.x.
AWS_PROVIDER_CONSTRAINT = ">= 5.100, < 7"


@dataclass(frozen=True)
class BackendSettings:
    """Where Terraform keeps state: an S3 bucket with native locking, or a local file beside the stack."""

    state_bucket: str | None = None
    state_region: str | None = None
    key_prefix: str = "ml-governance"

    @classmethod
    def from_env(cls) -> BackendSettings:
        return cls(
            state_bucket=os.environ.get("GOVERNANCE_STATE_BUCKET") or None,
            state_region=os.environ.get("GOVERNANCE_STATE_REGION") or None,
        )

    def apply(self, stack: TerraformStack, stack_name: str, home_region: str) -> None:
        if self.state_bucket:
            S3Backend(
                stack,
                bucket=self.state_bucket,
                key=f"{self.key_prefix}/{stack_name}.tfstate",
                region=self.state_region or home_region,
                encrypt=True,
                use_lockfile=True,
            )
        else:
            LocalBackend(stack, path=f"terraform.{stack_name}.tfstate")


class GovernanceStack(TerraformStack):
    """A stack pinned to the policy's home Region, tagged with the organization's standard tags."""

    def __init__(self, scope: Construct, stack_name: str, *, policy: GovernancePolicy, backend: BackendSettings) -> None:
        super().__init__(scope, stack_name)
        self.policy = policy
        self.provider = AwsProvider(
            self,
            "aws",
            region=policy.regions.home,
            default_tags=[AwsProviderDefaultTags(tags={**policy.standard_tags(), STACK_TAG_KEY: stack_name})],
        )
        self.add_override("terraform.required_providers.aws.version", AWS_PROVIDER_CONSTRAINT)
        backend.apply(self, stack_name, policy.regions.home)
        caller = DataAwsCallerIdentity(self, "current")
        partition = DataAwsPartition(self, "partition")
        self.names = Names(policy, account=caller.account_id, partition=partition.partition)
        self._plain = PlainResources(self, stack_name)

    @contextmanager
    def plain_resources(self) -> Iterator[PlainResources]:
        """Per-project and per-Region resources and provider configurations as Terraform JSON (infra/plain_resources.py),
        handed to the kernel when the block ends."""
        yield self._plain
        self._plain.write()

    @property
    def plain_blocks(self) -> Mapping[str, Mapping[str, Mapping[str, Any]]]:
        return self._plain.blocks

    @property
    def plain_providers(self) -> Mapping[str, list[dict[str, Any]]]:
        return self._plain.providers

    def key_arns(self) -> dict[str, str]:
        """ARNs of the foundation's keys, looked up by alias (the foundation stack is applied first)."""
        return {
            purpose: DataAwsKmsAlias(self, f"key-{purpose}", name=self.names.key_alias(purpose)).target_key_arn
            for purpose in KEY_PURPOSES
        }
