"""What every governance stack shares: the provider, its version constraint, the backend, names."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cdktn import App, LocalBackend, S3Backend, TerraformStack
from constructs import Construct

from infra.plain_resources import PlainResources, merge_into_synthesized, remove_synthesized
from policies.naming import KEY_PURPOSES, STACK_TAG_KEY, Names

if TYPE_CHECKING:
    from cdktn_provider_aws.provider import AwsProvider

    from policies.model import GovernancePolicy

# The prebuilt bindings pin hashicorp/aws 6.x exactly. The offline tests validate and
# deploy against 5.100.0 (the provider in this machine's mirror); users get 6.x.
CDKTF_JSON = Path(__file__).resolve().parents[2] / "cdktf.json"
AWS_PROVIDER_SOURCE = "hashicorp/aws"
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


def declared_targets() -> dict[str, str] | None:
    """The Terraform versions the stacks are written for, as cdktf.json declares them to the cdktn CLI (cdktn's
    ``targetVersions``), for ``python -m infra.app`` to declare the same: cdktn refuses the S3 backend's native lock
    file for a target below Terraform 1.10 (infra/terraform_cli.MIN_TERRAFORM)."""
    found: dict[str, str] | None = json.loads(CDKTF_JSON.read_text(encoding="utf-8")).get("targetVersions")
    return found


class GovernanceApp(App):
    """The app the governance stacks synthesize in (``infra.app``): once cdktn has written each stack's JSON, adds
    the stack's plain blocks to it in Python (infra/plain_resources.py), where handing them to the kernel cost a
    1,000-project synth 0.9 s of conversions. Its stacks' ``to_terraform`` and cdktn's ``Testing.synth`` do not hold
    them; a stack in any other app hands them to the kernel instead."""

    def __init__(self, *, outdir: str | None = None) -> None:
        targets = declared_targets()
        super().__init__(outdir=outdir, context={"targetVersions": targets} if targets else None)
        self._stacks: list[GovernanceStack] = []
        self._context: dict[str, Any] = {}

    def context_value(self, key: str) -> Any:
        """The app's context ``key`` (``node.try_get_context``), read from the kernel once."""
        if key not in self._context:
            self._context[key] = self.node.try_get_context(key)
        return self._context[key]

    def adopt(self, stack: GovernanceStack) -> None:
        self._stacks.append(stack)

    def synth(self) -> None:
        outdir = Path(self.outdir)
        try:
            super().synth()
        except BaseException:  # cdktn may have written some stacks: none is left without its plain blocks
            remove_synthesized([outdir / "stacks" / s.stack_name / "cdk.tf.json" for s in self._stacks if s.plain.has_blocks])
            raise
        written = json.loads((outdir / "manifest.json").read_text(encoding="utf-8"))["stacks"]
        merge_into_synthesized(
            {outdir / written[stack.stack_name]["synthesizedStackPath"]: stack.plain for stack in self._stacks}
        )


class GovernanceStack(TerraformStack):
    """A stack pinned to the policy's home Region, tagged with the organization's standard tags."""

    def __init__(self, scope: Construct, stack_name: str, *, policy: GovernancePolicy, backend: BackendSettings) -> None:
        super().__init__(scope, stack_name)
        self.policy = policy
        backend.apply(self, stack_name, policy.regions.home)
        self.stack_name = stack_name
        self.governance_app = scope if isinstance(scope, GovernanceApp) else None
        self._plain = PlainResources(self, stack_name, merged_after_synth=self.governance_app is not None)
        # The default AWS provider, plain as every resource: the provider's bindings (and its 80 ms jsii assembly) load
        # only for a stack whose bindings need one (``provider_binding``: Model Monitor's).
        tags = {**policy.standard_tags(), STACK_TAG_KEY: stack_name}
        self._plain.set_default_provider("aws", {"region": policy.regions.home, "default_tags": [{"tags": tags}]})
        self._plain.set_terraform(
            ("required_providers", "aws"), {"source": AWS_PROVIDER_SOURCE, "version": AWS_PROVIDER_CONSTRAINT}
        )
        self.existing_provider_binding: AwsProvider | None = None
        if self.governance_app is not None:
            self.governance_app.adopt(self)
        with self.plain_resources() as plain:  # the account and partition the stack is applied in
            account = plain.add_data("aws_caller_identity", ("current",), {}).ref("account_id")
            partition = plain.add_data("aws_partition", ("partition",), {}).ref("partition")
        self.names = Names(policy, account=account, partition=partition)

    @contextmanager
    def plain_resources(self) -> Iterator[PlainResources]:
        """Per-project and per-Region resources and provider configurations as Terraform JSON (infra/plain_resources.py),
        handed to the kernel when the block ends, or, in a GovernanceApp, added to the stack's JSON after synth."""
        yield self._plain
        self._plain.write()

    def provider_binding(self) -> AwsProvider:
        """The stack's default AWS provider as a binding, in place of its plain configuration and with everything
        that configuration holds (what ``assume_account`` set too): what a stack holding provider bindings needs
        (cdktn refuses a binding without its provider's). Created once."""
        if self.existing_provider_binding is None:
            from cdktn_provider_aws.provider import AwsProvider, AwsProviderAssumeRole, AwsProviderDefaultTags

            arguments = self._plain.drop_default_provider("aws")
            for block, struct in (("default_tags", AwsProviderDefaultTags), ("assume_role", AwsProviderAssumeRole)):
                if block in arguments:
                    arguments[block] = [struct(**item) for item in arguments[block]]
            self.existing_provider_binding = AwsProvider(self, "aws", **arguments)
            self._plain.write()
        return self.existing_provider_binding

    @property
    def plain(self) -> PlainResources:
        """What ``plain_resources()`` added (read by GovernanceApp's synth and the equivalence test)."""
        return self._plain

    def key_arns(self) -> dict[str, str]:
        """ARNs of the foundation's keys, looked up by alias (the foundation stack is applied first)."""
        with self.plain_resources() as plain:
            return {
                purpose: plain.add_data("aws_kms_alias", (f"key-{purpose}",), {"name": self.names.key_alias(purpose)}).ref(
                    "target_key_arn"
                )
                for purpose in KEY_PURPOSES
            }
