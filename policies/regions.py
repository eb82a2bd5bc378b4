"""AWS commercial-partition Regions known to the policy model.

Kept as data (no botocore import) so the Lambdas and the checkov checks can load it
cheaply; ``tests/policies/test_regions.py`` compares it with botocore's endpoint data.
"""

from __future__ import annotations

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
