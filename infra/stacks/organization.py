"""Organization guardrails: the boundary's guardrails as service control policies on the stages' OUs (and the hub's).

Deployed in ``accounts.organization_admin``: the management account, or a delegated administrator for
Organizations policies. ``iam.organizations`` builds the statements and packs them into SCPs under the
5,120-character limit; each is attached to every target OU (``Accounts.scp_targets``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from constructs import Construct

from iam.documents import Document
from iam.organizations import minified, service_control_policies
from infra.constructs.account_provider import PARTITION
from infra.plain_resources import PlainResources
from infra.stacks.base import BackendSettings, GovernanceStack
from lambdas.table import HANDLERS

if TYPE_CHECKING:
    from policies.model import GovernancePolicy


class OrganizationStack(GovernanceStack):
    def __init__(self, scope: Construct, stack_name: str, *, policy: GovernancePolicy, backend: BackendSettings) -> None:
        super().__init__(scope, stack_name, policy=policy, backend=backend)
        accounts = policy.accounts
        assert accounts is not None, "the organization stack needs the policy's accounts section"
        documents = service_control_policies(
            policy,
            [spec.name for spec in HANDLERS],
            [spec.name for spec in HANDLERS if not spec.region_bound],
            partition=PARTITION,
        )
        with self.plain_resources() as plain:  # no binding object each (infra/plain_resources.py)
            self._guardrails(plain, documents)

    def _guardrails(self, plain: PlainResources, documents: list[Document]) -> None:
        """Each SCP, attached to every target OU."""
        policy, accounts = self.policy, self.policy.accounts
        assert accounts is not None
        for index, doc in enumerate(documents, start=1):
            content = minified(doc)
            assert "${" not in content, "an SCP must not hold Terraform interpolations or IAM policy variables"
            scp = plain.add(
                "aws_organizations_policy",
                (f"guardrails-{index}",),
                {
                    "name": self.names.guardrail_policy(index),
                    "description": (
                        f"ML governance guardrails {index}/{len(documents)} (policy {policy.version}): allowed Regions, "
                        "enforcement only changed by the deployment role"
                    ),
                    "type": "SERVICE_CONTROL_POLICY",
                    "content": content,
                },
            )
            for target in accounts.scp_targets:
                plain.add(
                    "aws_organizations_policy_attachment",
                    (f"guardrails-{index}-{target}",),
                    {"policy_id": scp.ref("id"), "target_id": target},
                )
            self.plain.add_output(f"guardrails-{index}-id", value=scp.ref("id"))
