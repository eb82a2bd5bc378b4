"""AWS commercial-partition Regions known to the policy model.

Kept as data (no botocore import) so the Lambdas and the checkov checks can load it
cheaply; ``tests/policies/test_regions.py`` compares it with botocore's endpoint data.
"""

from __future__ import annotations

import re

# Regions enabled by default in every account (no opt-in needed).
DEFAULT_ENABLED_REGIONS: tuple[str, ...] = (
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ca-central-1",
    "eu-central-1",
    "eu-north-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
)

# Regions an account administrator must opt in to.
OPT_IN_REGIONS: tuple[str, ...] = (
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-south-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-west-1",
    "eu-central-2",
    "eu-south-1",
    "eu-south-2",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
)

AWS_REGIONS: frozenset[str] = frozenset(DEFAULT_ENABLED_REGIONS + OPT_IN_REGIONS)

# Services whose API calls are served from a single global endpoint (mostly us-east-1).
# A region-restriction deny must exempt them, or IAM, STS and Organizations stop working.
# See "AWS: Denies access to AWS based on the requested Region" in the IAM User Guide.
DEFAULT_GLOBAL_SERVICE_ACTIONS: tuple[str, ...] = (
    "account:*",
    "budgets:*",
    "ce:*",
    "cloudfront:*",
    "globalaccelerator:*",
    "health:*",
    "iam:*",
    "organizations:*",
    "route53:*",
    "sts:*",
    "support:*",
    "waf:*",
)

# Services the blueprint governs. The permissions boundary exempts regions.global_service_actions
# from its Region deny, so none of these may appear there (directly or through a wildcard).
GOVERNED_SERVICES: tuple[str, ...] = ("sagemaker", "s3", "kms", "events", "lambda", "cloudtrail", "logs")


def check_region(value: str) -> str:
    """``value`` if it names a commercial-partition Region; else a ValueError that lists similar names."""
    if value not in AWS_REGIONS:
        close = sorted(r for r in AWS_REGIONS if r.split("-")[0] == value.split("-", maxsplit=1)[0])
        hint = f"; Regions with that prefix: {', '.join(close)}" if close else ""
        raise ValueError(f"{value!r} is not an AWS Region name (commercial partition){hint}")
    return value


def check_global_action(value: str) -> str:
    """``value`` if it may be exempt from the Region deny: an action pattern of a service the blueprint does not govern."""
    if value.strip() == "*":
        raise ValueError(
            "'*' would exempt every service from the Region restriction; list global services one by one, e.g. 'iam:*'"
        )
    service = value.split(":", 1)[0].lower()
    if service in GOVERNED_SERVICES:
        raise ValueError(
            f"{value!r} would exempt {service}, a service the blueprint governs, from the Region restriction of the "
            f"permissions boundary; remove it (governed: {', '.join(GOVERNED_SERVICES)})"
        )
    if not re.match(r"^[a-z0-9-]+:[A-Za-z0-9*]+$", value):
        raise ValueError(f"{value!r} is not an IAM action pattern like 'iam:*'")
    return value
