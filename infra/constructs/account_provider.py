"""Point every AWS provider of a stack at one account: assume the deployment role there, refuse any other account."""

from __future__ import annotations

from typing import TYPE_CHECKING

from infra.multi_account import PARTITION, deployment_role_arn
from infra.stacks.base import GovernanceStack

if TYPE_CHECKING:
    from policies.model import GovernancePolicy

__all__ = ["PARTITION", "assume_account", "deployment_role_arn"]


def assume_account(stack: GovernanceStack, policy: GovernancePolicy, account: str) -> None:
    """Every provider of ``stack`` (the default one and each Region alias, plain configurations and the default's
    binding if the stack has one) assumes the deployment role in ``account`` and refuses credentials of any other
    account (``allowed_account_ids``). Call it once the stack is built."""
    role_arn, session_name = deployment_role_arn(policy, account), f"{policy.organization.name}-governance-deploy"
    if (binding := stack.existing_provider_binding) is not None:
        from cdktn_provider_aws.provider import AwsProviderAssumeRole

        binding.assume_role = [AwsProviderAssumeRole(role_arn=role_arn, session_name=session_name)]
        binding.allowed_account_ids = [account]
    with stack.plain_resources() as plain:
        plain.configure_providers(
            "aws", {"assume_role": [{"role_arn": role_arn, "session_name": session_name}], "allowed_account_ids": [account]}
        )
