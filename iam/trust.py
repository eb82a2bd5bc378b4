"""Who may assume a role: trust policies."""

from __future__ import annotations

from iam.documents import Document, document
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


def trust_account_with_mfa(names: Names) -> Document:
    """Persona roles: principals of the account that signed in with MFA. Replace with your identity provider's federation."""
    return document(
        {
            "Sid": "AssumedByAccountPrincipalsWithMfa",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:{names.partition}:iam::{names.account}:root"},
            "Action": "sts:AssumeRole",
            "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
        }
    )
