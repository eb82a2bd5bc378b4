"""A customer-managed KMS key with rotation, an explicit key policy and an alias."""

from __future__ import annotations

from iam.documents import render
from iam.resource_policies import key_policy
from infra.plain_resources import PlainResources
from policies.naming import Names


class ManagedKey:
    """The key and its alias: plain Terraform JSON (infra/plain_resources.py) at ``<id>/key`` and ``<id>/alias``."""

    def __init__(self, plain: PlainResources, construct_id: str, *, names: Names, purpose: str, description: str) -> None:
        self.key = plain.add(
            "aws_kms_key",
            (construct_id, "key"),
            {
                "description": description,
                "enable_key_rotation": True,
                "rotation_period_in_days": 365,
                "deletion_window_in_days": 30,
                "policy": render(key_policy(names, purpose)),
            },
        )
        self.alias = plain.add(
            "aws_kms_alias", (construct_id, "alias"), {"name": names.key_alias(purpose), "target_key_id": self.key.ref("key_id")}
        )

    @property
    def arn(self) -> str:
        return self.key.ref("arn")
