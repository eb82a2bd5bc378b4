"""An IAM role under a permissions boundary with its one inline policy, as plain Terraform JSON (infra/plain_resources.py)."""

from __future__ import annotations

from infra.plain_resources import PlainResource, PlainResources


def role_with_policy(
    plain: PlainResources,
    role_path: tuple[str, ...],
    policy_path: tuple[str, ...],
    *,
    name: str,
    description: str,
    trust: str,
    boundary_arn: str,
    policy_name: str,
    policy: str,
    max_session_duration: int | None = None,
) -> tuple[PlainResource, PlainResource]:
    """The role at construct ``role_path`` (``trust``: its rendered trust policy) and its inline policy ``policy_name``
    at ``policy_path``; returns both."""
    role = plain.add(
        "aws_iam_role",
        role_path,
        {
            "name": name,
            "description": description,
            "assume_role_policy": trust,
            "permissions_boundary": boundary_arn,
            "max_session_duration": max_session_duration,
        },
    )
    inline = plain.add("aws_iam_role_policy", policy_path, {"name": policy_name, "role": role.ref("name"), "policy": policy})
    return role, inline
