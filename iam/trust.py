"""Who may assume a role: trust policies."""

from __future__ import annotations

from typing import Any

from iam.documents import Document, document
from policies.naming import Names
from policies.terms import PROJECT_TAG_KEY


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
    compares people, not role sessions. A project-scoped persona's session may carry one tag, ``ml-project``
    (no other key: a session must not carry a role kind the bucket policies trust); its value is the identity
    provider's to set and is not listed here, where every project's name would outgrow IAM's 2,048 characters
    for a trust policy at about 80 projects. A value no project has gives access to nothing of a project.
    Replace the account principal with your identity provider's federation; it must pass the source identity
    (and the project tag) on sign-in.
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
                "Sid": "SessionNamesItsProject",
                "Effect": "Allow",
                "Principal": account_root,
                "Action": "sts:TagSession",
                "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": [PROJECT_TAG_KEY]}},
            }
        )
    return document(*statements)
