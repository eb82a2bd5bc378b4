"""A deliberately non-compliant stack, synthesized with CDK Terrain, for the custom checks to fail on.

Every resource here breaks exactly one organization rule; its construct id says which.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from policies.model import GovernancePolicy

BAD_STACK = "non-compliant"


def synth_bad_stack(policy: GovernancePolicy, outdir: Path) -> dict[str, Any]:
    import infra.node  # noqa: F401, I001  (the bundled Node.js must be chosen before cdktn loads)
    from cdktn import App, TerraformStack
    from cdktn_provider_aws.iam_policy import IamPolicy
    from cdktn_provider_aws.iam_role import IamRole
    from cdktn_provider_aws.provider import AwsProvider
    from cdktn_provider_aws.s3_bucket import S3Bucket
    from cdktn_provider_aws.s3_bucket_object_lock_configuration import (
        S3BucketObjectLockConfigurationA,
        S3BucketObjectLockConfigurationRuleA,
        S3BucketObjectLockConfigurationRuleDefaultRetentionA,
    )
    from cdktn_provider_aws.s3_bucket_server_side_encryption_configuration import (
        S3BucketServerSideEncryptionConfigurationA,
        S3BucketServerSideEncryptionConfigurationRuleA,
        S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA,
    )
    from cdktn_provider_aws.sagemaker_model_package_group import SagemakerModelPackageGroup

    app = App(outdir=str(outdir))
    stack = TerraformStack(app, BAD_STACK)
    AwsProvider(stack, "aws", region=policy.regions.home)
    elsewhere = AwsProvider(stack, "aws-ap-east-1", alias="ap-east-1", region="ap-east-1")
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
        }
    )

    IamRole(stack, "role-without-boundary", name="acme-unbounded", assume_role_policy=trust)
    IamRole(
        stack,
        "role-with-another-boundary",
        name="acme-other",
        assume_role_policy=trust,
        permissions_boundary="arn:aws:iam::123456789012:policy/lenient",
    )
    IamPolicy(
        stack,
        "policy-with-star-action",
        name="acme-admin",
        policy=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Sid": "Everything", "Effect": "Allow", "Action": "*", "Resource": "*"}]}
        ),
    )
    IamPolicy(
        stack,
        "policy-passing-any-role",
        name="acme-pass-anything",
        policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Sid": "PassAny", "Effect": "Allow", "Action": ["iam:PassRole"], "Resource": "*"}],
            }
        ),
    )
    for name, algorithm, key in (("bucket-sse-s3", "AES256", None), ("bucket-aws-managed-key", "aws:kms", "alias/aws/s3")):
        bucket = S3Bucket(stack, name, bucket=f"acme-{name}")
        S3BucketServerSideEncryptionConfigurationA(
            stack,
            f"{name}-encryption",
            bucket=bucket.id,
            rule=[
                S3BucketServerSideEncryptionConfigurationRuleA(
                    apply_server_side_encryption_by_default=S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                        sse_algorithm=algorithm, kms_master_key_id=key
                    )
                )
            ],
        )
    SagemakerModelPackageGroup(
        stack, "group-without-classification", model_package_group_name="untagged", tags={"ml-project": "credit-risk"}
    )
    SagemakerModelPackageGroup(
        stack,
        "group-below-project-level",
        model_package_group_name="credit-risk-shadow",
        tags={"ml-project": "credit-risk", policy.classification.tag_key: "public"},
    )
    S3Bucket(stack, "bucket-in-another-region", bucket="acme-elsewhere", provider=elsewhere)
    audit = S3Bucket(stack, "audit-bucket-without-lock", bucket="acme-ml-audit-123456789012-eu-west-1")
    S3BucketObjectLockConfigurationA(
        stack,
        "lock-too-short",
        bucket=audit.id,
        rule=S3BucketObjectLockConfigurationRuleA(
            default_retention=S3BucketObjectLockConfigurationRuleDefaultRetentionA(mode="GOVERNANCE", years=1)
        ),
    )
    app.synth()
    config: dict[str, Any] = json.loads((outdir / "stacks" / BAD_STACK / "cdk.tf.json").read_text())
    return config
