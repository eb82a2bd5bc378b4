"""A customer-managed KMS key with rotation, an explicit key policy and an alias."""

from __future__ import annotations

from cdktn_provider_aws.kms_alias import KmsAlias
from cdktn_provider_aws.kms_key import KmsKey
from constructs import Construct

from iam.documents import render
from iam.resource_policies import key_policy
from policies.naming import Names


class ManagedKey(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, names: Names, purpose: str, description: str) -> None:
        super().__init__(scope, construct_id)
        self.key = KmsKey(
            self,
            "key",
            description=description,
            enable_key_rotation=True,
            rotation_period_in_days=365,
            deletion_window_in_days=30,
            policy=render(key_policy(names, purpose)),
        )
        self.alias = KmsAlias(self, "alias", name=names.key_alias(purpose), target_key_id=self.key.key_id)

    @property
    def arn(self) -> str:
        return self.key.arn
