"""What a handler reads about a SageMaker resource, in the resource's own Region (remedies are in lambdas/actions.py)."""

from __future__ import annotations

from iam.grants import WATCHED, Grant
from lambdas.shared import aws
from policies.rules.resources import ResourceFacts

READ_TAGS = Grant("ReadTags", ("sagemaker:ListTags",), WATCHED)


def current_tags(resource: ResourceFacts) -> dict[str, str] | None:
    """The resource's tags now; None when the resource no longer exists."""
    sagemaker = aws.client_for("sagemaker", resource.arn, resource.region)
    tags: dict[str, str] = {}
    token = None
    while True:
        try:
            page = sagemaker.list_tags(ResourceArn=resource.arn, **({"NextToken": token} if token else {}))
        except Exception as exc:
            if aws.error_code(exc) in aws.SAGEMAKER_NOT_FOUND:
                return None
            raise
        tags.update({t["Key"]: t["Value"] for t in page.get("Tags", [])})
        token = page.get("NextToken")
        if not token:
            return tags
