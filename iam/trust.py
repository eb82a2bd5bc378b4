"""Who may assume a role: trust policies."""

from __future__ import annotations

from typing import Any

from iam.documents import Document, document
from policies.model import PROJECT_TAG_KEY
from policies.naming import Names


def trust_service(service: str, account: str) -> Document:
    return document(
        {
            "Sid": "AssumedByService",
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": account}},
        }
    )


def trust_people(names: Names, *, project_scoped: bool) -> Document:
    """Persona roles: principals of the account signed in with MFA, each session naming its person.

    ``sts:SourceIdentity`` is required and persists across role chaining: separation of duties
    compares people, not role sessions. A project-scoped persona's session must carry the
    ``ml-project`` tag with a governed project. Replace the account principal with your identity
    provider's federation; it must pass the source identity (and the project tag) on sign-in.
    """
    account_root = {"AWS": f"arn:{names.partition}:iam::{names.account}:root"}
    statements: list[dict[str, Any]] = [
        {
            "Sid": "AssumedByPeopleWithMfaAndSourceIdentity",
            "Effect": "Allow",
            "Principal": account_root,
            "Action": ["sts:AssumeRole", "sts:SetSourceIdentity"],
            "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}, "Null": {"sts:SourceIdentity": "false"}},
        }
    ]
    if project_scoped:
        statements.append(
            {
                "Sid": "SessionNamesAGovernedProject",
                "Effect": "Allow",
                "Principal": account_root,
                "Action": "sts:TagSession",
                "Condition": {
                    "StringEquals": {f"aws:RequestTag/{PROJECT_TAG_KEY}": [p.name for p in names.policy.projects]},
                    "ForAllValues:StringEquals": {"aws:TagKeys": [PROJECT_TAG_KEY]},
                },
            }
        )
    return document(*statements)
