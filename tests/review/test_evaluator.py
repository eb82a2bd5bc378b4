"""The offline IAM evaluator against AWS's documented evaluation examples.

Each row names the page it comes from (IAM User Guide unless said otherwise); "Policy evaluation logic"
includes its section "Determining whether a request is allowed or denied within an account".
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import FrozenInstanceError, dataclass, field
from typing import Any

import pytest

from review.access.evaluator import (
    ContextValue,
    LabelledPolicy,
    Principal,
    Request,
    ScpLevel,
    UnsupportedPolicyElement,
    evaluate,
)

ACCOUNT = "123456789012"
OTHER = "210987654321"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/acme-data-scientist"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/acme-data-scientist/alice"
OTHER_SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/acme-data-scientist/bob"
APPROVER = f"arn:aws:iam::{ACCOUNT}:role/acme-model-approver"
APPROVER_SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/acme-model-approver/carol"
GATE = f"arn:aws:iam::{ACCOUNT}:role/acme-approval-gate"
DEPLOYER = f"arn:aws:iam::{OTHER}:role/acme-deployer"
BUCKET = "arn:aws:s3:::acme-ml-data"
OBJECT = f"{BUCKET}/train/part-0.csv"
KEY = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
PACKAGE = f"arn:aws:sagemaker:eu-west-1:{ACCOUNT}:model-package/acme-churn/1"
MODEL = f"arn:aws:sagemaker:eu-west-1:{ACCOUNT}:model/acme-churn"
TOPIC = f"arn:aws:sns:eu-west-1:{ACCOUNT}:acme-approvals"
RULE = f"arn:aws:events:eu-west-1:{ACCOUNT}:rule/acme-approvals"
EU = {"aws:RequestedRegion": "eu-west-1"}

EVALUATION_LOGIC = "Policy evaluation logic"
CROSS_ACCOUNT = "Cross-account policy evaluation logic"
BOUNDARIES = "Permissions boundaries for IAM entities"
OPERATORS = "IAM JSON policy elements: Condition operators"
MULTI_VALUE = "Creating a condition with multiple keys or values"
VARIABLES = "IAM policy elements: Variables and tags"
KMS_KEY_POLICIES = "KMS Developer Guide: Key policies in AWS KMS / Default key policy"
SCP_EXAMPLES = "Organizations User Guide: SCP general examples (Deny access to AWS based on the requested AWS Region)"
ROLES = "How IAM roles differ from resource-based policies"
NOT_PRINCIPAL = "AWS JSON policy elements: NotPrincipal"
ACTION_RESOURCE = "IAM JSON policy elements: Action / Resource / NotAction / NotResource"


def stmt(
    sid: str | None, effect: str, action: str | list[str] | None = None, resource: Any = "*", **extra: Any
) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": effect}
    if sid is not None:
        statement["Sid"] = sid
    if action is not None:
        statement["Action"] = action
    if resource is not None:
        statement["Resource"] = resource
    statement.update(extra)
    return statement


def policy(label: str, *statements: dict[str, Any], version: str | None = "2012-10-17") -> LabelledPolicy:
    document: dict[str, Any] = {"Statement": list(statements)}
    if version:
        document["Version"] = version
    return LabelledPolicy(label, document)


def identity(*statements: dict[str, Any], version: str | None = "2012-10-17") -> LabelledPolicy:
    return policy("aws_iam_role_policy.ds", *statements, version=version)


def boundary(*statements: dict[str, Any]) -> LabelledPolicy:
    return policy("aws_iam_policy.boundary", *statements)


def bucket(*statements: dict[str, Any]) -> LabelledPolicy:
    return policy("aws_s3_bucket_policy.data", *statements)


def key_policy(*statements: dict[str, Any]) -> LabelledPolicy:
    return policy("aws_kms_key.models", *statements)


def trust(*statements: dict[str, Any]) -> LabelledPolicy:
    return policy("aws_iam_role.approver.assume_role_policy", *statements)


ALLOW_ALL = stmt("AllowAll", "Allow", "*")
SHIRLEY_BOUNDARY = boundary(stmt("ServiceBoundaries", "Allow", ["s3:*", "cloudwatch:*", "ec2:*"]))
CARLOS = identity(
    stmt("AllowS3ListRead", "Allow", ["s3:GetBucketLocation", "s3:ListAllMyBuckets"], "arn:aws:s3:::*"),
    stmt("AllowS3Self", "Allow", "s3:*", ["arn:aws:s3:::carlossalazar/*", "arn:aws:s3:::carlossalazar"]),
    stmt("DenyS3Logs", "Deny", "s3:*", "arn:aws:s3:::*log*"),
)
READ_DATA = identity(stmt("ReadTrainingData", "Allow", ["s3:GetObject", "s3:ListBucket"], [BUCKET, f"{BUCKET}/*"]))
SAGEMAKER_ONLY_BOUNDARY = boundary(stmt("SageMakerOnly", "Allow", "sagemaker:*"))
REGION_BOUNDARY = boundary(
    ALLOW_ALL,
    stmt("DenyOutsideAllowedRegions", "Deny", "*", Condition={"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1"]}}),
)
ENABLE_IAM = stmt("Enable IAM User Permissions", "Allow", "kms:*", Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"})
FULL_AWS_ACCESS = stmt("FullAWSAccess", "Allow", "*")
REGION_SCP = policy(
    "aws_organizations_policy.region",
    stmt(
        "DenyAllOutsideEU",
        "Deny",
        None,
        NotAction=["cloudfront:*", "iam:*", "organizations:*", "route53:*", "support:*", "sts:*", "s3:ListAllMyBuckets"],
        Condition={
            "StringNotEquals": {"aws:RequestedRegion": ["eu-central-1", "eu-west-1"]},
            "ArnNotLike": {"aws:PrincipalARN": ["arn:aws:iam::*:role/Role1AllowedToBypassThisSCP"]},
        },
    ),
)


def scp_levels(*extra_account_level: dict[str, Any], ou: LabelledPolicy | None = None) -> tuple[ScpLevel, ...]:
    full = policy("p-FullAWSAccess", FULL_AWS_ACCESS)
    return (
        ScpLevel("root", (full, REGION_SCP)),
        ScpLevel("ou-workloads", (ou or full,)),
        ScpLevel("account", (full, *([policy("scp-account", *extra_account_level)] if extra_account_level else []))),
    )


def role(arn: str = ROLE, *policies: LabelledPolicy, bound: LabelledPolicy | None = None, **kw: Any) -> Principal:
    return Principal(arn, identity_policies=policies, boundary=bound, **kw)


@dataclass(frozen=True)
class Case:
    page: str
    principal: Principal
    action: str
    resource: str
    decision: str
    deciding: tuple[str, ...] = ()
    reason: str | None = None
    context: Mapping[str, ContextValue] = field(default_factory=dict)
    resource_policy: LabelledPolicy | None = None
    resource_account: str | None = None


def case(id: str, page: str, principal: Principal, action: str, resource: str, decision: str, *deciding: str, **kw: Any) -> Any:
    return pytest.param(Case(page, principal, action, resource, decision, deciding, **kw), id=id)


def check(c: Case) -> None:
    result = evaluate(
        Request(c.principal, c.action, c.resource, c.context),
        resource_policy=c.resource_policy,
        resource_account=c.resource_account,
    )
    assert (result.decision, [str(ref) for ref in result.deciding]) == (c.decision, list(c.deciding)), (c.page, result.reason)
    assert result.allowed == (c.decision == "allow")
    if c.reason is not None:
        assert result.reason == c.reason
    if c.decision == "explicit-deny":
        assert all(ref.effect == "Deny" for ref in result.deciding)


DS_BUCKET = "aws_s3_bucket_policy.data"
GRANT_ROLE = bucket(stmt("GrantRole", "Allow", "s3:GetObject", f"{BUCKET}/*", Principal={"AWS": ROLE}))
GRANT_SESSION = bucket(stmt("GrantSession", "Allow", "s3:GetObject", f"{BUCKET}/*", Principal={"AWS": SESSION}))
GRANT_ACCOUNT = bucket(stmt("GrantAccount", "Allow", "s3:GetObject", f"{BUCKET}/*", Principal={"AWS": ACCOUNT}))
S3_BOUNDARY = boundary(stmt("S3Only", "Allow", "s3:*"))

DECISIONS = [
    # --- identity policies and permissions boundaries ---
    case("boundary-caps-identity", BOUNDARIES, role(ROLE, identity(stmt("CreateUser", "Allow", "iam:CreateUser")), bound=SHIRLEY_BOUNDARY),
         "iam:CreateUser", f"arn:aws:iam::{ACCOUNT}:user/new", "implicit-deny", reason="the permissions boundary does not allow it"),
    case("boundary-alone-grants-nothing", BOUNDARIES, role(ROLE, bound=SHIRLEY_BOUNDARY), "s3:GetObject", OBJECT, "implicit-deny",
         reason="no identity or resource policy allows it"),
    case("identity-within-boundary", BOUNDARIES, role(ROLE, READ_DATA, bound=SHIRLEY_BOUNDARY), "s3:GetObject", OBJECT, "allow",
         "aws_iam_role_policy.ds/ReadTrainingData", "aws_iam_policy.boundary/ServiceBoundaries", reason="allowed by aws_iam_role_policy.ds/ReadTrainingData, aws_iam_policy.boundary/ServiceBoundaries"),
    case("no-policy-at-all", EVALUATION_LOGIC, role(), "s3:GetObject", OBJECT, "implicit-deny", reason="no identity or resource policy allows it"),
    # --- explicit deny wins, whichever policy holds it ---
    case("deny-in-identity-carlos-logs", EVALUATION_LOGIC, role(ROLE, CARLOS), "s3:PutObject", "arn:aws:s3:::carlossalazar-logs/f.txt",
         "explicit-deny", "aws_iam_role_policy.ds/DenyS3Logs", reason="explicitly denied by aws_iam_role_policy.ds/DenyS3Logs"),
    case("carlos-own-bucket-both-allow", EVALUATION_LOGIC, role(ROLE, CARLOS), "s3:PutObject", "arn:aws:s3:::carlossalazar/f.txt", "allow",
         "aws_iam_role_policy.ds/AllowS3Self", f"{DS_BUCKET}/CarlosOnly",
         resource_policy=bucket(stmt("CarlosOnly", "Allow", "s3:*", ["arn:aws:s3:::carlossalazar/*"], Principal={"AWS": ROLE}))),
    case("deny-in-boundary", BOUNDARIES, role(ROLE, identity(ALLOW_ALL), bound=REGION_BOUNDARY), "sagemaker:CreateModel", MODEL.replace("eu-west-1", "us-east-1"),
         "explicit-deny", "aws_iam_policy.boundary/DenyOutsideAllowedRegions",
         reason="explicitly denied by aws_iam_policy.boundary/DenyOutsideAllowedRegions"),
    case("deny-in-resource-policy", EVALUATION_LOGIC, role(ROLE, READ_DATA), "s3:GetObject", OBJECT, "explicit-deny", f"{DS_BUCKET}/DenyInsecureTransport",
         context={"aws:SecureTransport": False},
         resource_policy=bucket(stmt("DenyInsecureTransport", "Deny", "s3:*", [BUCKET, f"{BUCKET}/*"], Principal="*",
                                     Condition={"Bool": {"aws:SecureTransport": "false"}}))),
    case("deny-in-scp", SCP_EXAMPLES, role(ROLE, identity(ALLOW_ALL), scp_levels=scp_levels()), "sagemaker:CreateModel", MODEL,
         "explicit-deny", "aws_organizations_policy.region/DenyAllOutsideEU", context={"aws:RequestedRegion": "us-east-1"}),
    case("deny-beats-resource-grant-to-session", EVALUATION_LOGIC, role(SESSION, identity(stmt("NoS3", "Deny", "s3:GetObject"))), "s3:GetObject", OBJECT,
         "explicit-deny", "aws_iam_role_policy.ds/NoS3", resource_policy=GRANT_SESSION),
    # --- same-account resource policies, and the role-vs-session nuance ---
    case("bucket-policy-names-role-no-identity", EVALUATION_LOGIC, role(), "s3:GetObject", OBJECT, "allow", f"{DS_BUCKET}/GrantRole", resource_policy=GRANT_ROLE),
    case("role-arn-grant-capped-by-boundary", EVALUATION_LOGIC, role(ROLE, bound=SAGEMAKER_ONLY_BOUNDARY), "s3:GetObject", OBJECT, "implicit-deny",
         reason="the permissions boundary does not allow it", resource_policy=GRANT_ROLE),
    case("role-arn-grant-capped-for-its-sessions", BOUNDARIES, role(SESSION, bound=SAGEMAKER_ONLY_BOUNDARY), "s3:GetObject", OBJECT, "implicit-deny",
         reason="the permissions boundary does not allow it", resource_policy=GRANT_ROLE),
    case("session-arn-grant-bypasses-boundary", BOUNDARIES, role(SESSION, bound=SAGEMAKER_ONLY_BOUNDARY), "s3:GetObject", OBJECT, "allow",
         f"{DS_BUCKET}/GrantSession", resource_policy=GRANT_SESSION),
    case("session-arn-grant-is-for-that-session-only", BOUNDARIES, role(OTHER_SESSION), "s3:GetObject", OBJECT, "implicit-deny",
         reason="no identity or resource policy allows it", resource_policy=GRANT_SESSION),
    case("role-arn-grant-within-boundary", BOUNDARIES, role(SESSION, bound=S3_BOUNDARY), "s3:GetObject", OBJECT, "allow",
         "aws_iam_policy.boundary/S3Only", f"{DS_BUCKET}/GrantRole", resource_policy=GRANT_ROLE),
    case("identity-allow-outside-boundary-with-role-grant", BOUNDARIES, role(ROLE, READ_DATA, bound=SAGEMAKER_ONLY_BOUNDARY), "s3:GetObject", OBJECT,
         "implicit-deny", reason="the permissions boundary does not allow it", resource_policy=GRANT_ROLE),
    case("account-grant-only-delegates", EVALUATION_LOGIC, role(), "s3:GetObject", OBJECT, "implicit-deny",
         reason="the resource policy delegates to the account, but no identity policy allows it", resource_policy=GRANT_ACCOUNT),
    case("account-grant-plus-identity", EVALUATION_LOGIC, role(ROLE, READ_DATA), "s3:GetObject", OBJECT, "allow",
         "aws_iam_role_policy.ds/ReadTrainingData", f"{DS_BUCKET}/GrantAccount", resource_policy=GRANT_ACCOUNT),
    case("bucket-policy-for-someone-else", EVALUATION_LOGIC, role(), "s3:GetObject", OBJECT, "implicit-deny",
         resource_policy=bucket(stmt("GrantApprover", "Allow", "s3:GetObject", f"{BUCKET}/*", Principal={"AWS": APPROVER}))),
    # --- KMS key policies ---
    case("kms-identity-alone-not-enough", KMS_KEY_POLICIES, role(ROLE, identity(stmt("UseKey", "Allow", "kms:Decrypt", KEY))), "kms:Decrypt", KEY,
         "implicit-deny", reason="the KMS key policy does not allow it",
         resource_policy=key_policy(stmt("KeyAdmins", "Allow", "kms:*", Principal={"AWS": APPROVER}))),
    case("kms-key-policy-enables-iam", KMS_KEY_POLICIES, role(ROLE, identity(stmt("UseKey", "Allow", "kms:Decrypt", KEY))), "kms:Decrypt", KEY,
         "allow", "aws_iam_role_policy.ds/UseKey", "aws_kms_key.models/Enable IAM User Permissions", resource_policy=key_policy(ENABLE_IAM)),
    case("kms-key-policy-enables-iam-but-no-identity", KMS_KEY_POLICIES, role(), "kms:Decrypt", KEY, "implicit-deny",
         reason="the resource policy delegates to the account, but no identity policy allows it", resource_policy=key_policy(ENABLE_IAM)),
    case("kms-enabled-iam-but-boundary-excludes", KMS_KEY_POLICIES, role(ROLE, identity(ALLOW_ALL), bound=S3_BOUNDARY), "kms:Decrypt", KEY,
         "implicit-deny", reason="the permissions boundary does not allow it", resource_policy=key_policy(ENABLE_IAM)),
    case("kms-key-policy-names-role", KMS_KEY_POLICIES, role(), "kms:Decrypt", KEY, "allow", "aws_kms_key.models/KeyUsers",
         resource_policy=key_policy(stmt("KeyUsers", "Allow", ["kms:Decrypt", "kms:GenerateDataKey*"], Principal={"AWS": ROLE}))),
    case("kms-action-without-key-needs-no-key-policy", KMS_KEY_POLICIES, role(ROLE, identity(stmt("List", "Allow", "kms:ListKeys"))), "kms:ListKeys", "*",
         "allow", "aws_iam_role_policy.ds/List"),
    # --- role trust policies ---
    case("trust-names-caller-role", ROLES, role(), "sts:AssumeRole", APPROVER, "allow", "aws_iam_role.approver.assume_role_policy/AllowDataScientist",
         resource_policy=trust(stmt("AllowDataScientist", "Allow", "sts:AssumeRole", None, Principal={"AWS": ROLE}))),
    case("trust-does-not-name-caller", ROLES, role(ROLE, identity(stmt("Assume", "Allow", "sts:AssumeRole", APPROVER))), "sts:AssumeRole", APPROVER,
         "implicit-deny", reason="the role trust policy does not allow it",
         resource_policy=trust(stmt("AllowGate", "Allow", "sts:AssumeRole", None, Principal={"AWS": GATE}))),
    case("trust-delegates-to-account-identity-allows", ROLES, role(ROLE, identity(stmt("Assume", "Allow", "sts:AssumeRole", APPROVER))),
         "sts:AssumeRole", APPROVER, "allow", "aws_iam_role_policy.ds/Assume", "aws_iam_role.approver.assume_role_policy/Account",
         resource_policy=trust(stmt("Account", "Allow", "sts:AssumeRole", None, Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"}))),
    case("trust-allows-service", ROLES, Principal("sagemaker.amazonaws.com"), "sts:AssumeRole", APPROVER, "allow",
         "aws_iam_role.approver.assume_role_policy/SageMaker",
         resource_policy=trust(stmt("SageMaker", "Allow", "sts:AssumeRole", None, Principal={"Service": "sagemaker.amazonaws.com"}))),
    case("trust-refuses-other-service", ROLES, Principal("events.amazonaws.com"), "sts:AssumeRole", APPROVER, "implicit-deny",
         reason="no resource policy allows the service principal events.amazonaws.com",
         resource_policy=trust(stmt("SageMaker", "Allow", "sts:AssumeRole", None, Principal={"Service": "sagemaker.amazonaws.com"}))),
    # --- cross-account ---
    case("cross-account-both-allow", CROSS_ACCOUNT, role(DEPLOYER, READ_DATA), "s3:GetObject", OBJECT, "allow",
         "aws_iam_role_policy.ds/ReadTrainingData", f"{DS_BUCKET}/Deployers", resource_account=ACCOUNT,
         resource_policy=bucket(stmt("Deployers", "Allow", "s3:GetObject", f"{BUCKET}/*", Principal={"AWS": f"arn:aws:iam::{OTHER}:root"}))),
    case("cross-account-identity-only", CROSS_ACCOUNT, role(DEPLOYER, READ_DATA), "s3:GetObject", OBJECT, "implicit-deny",
         reason=f"cross-account: no resource policy in account {ACCOUNT} allows it", resource_account=ACCOUNT),
    case("cross-account-resource-only", CROSS_ACCOUNT, role(DEPLOYER), "s3:GetObject", OBJECT, "implicit-deny", reason="no identity policy allows it",
         resource_account=ACCOUNT, resource_policy=bucket(stmt("Deployer", "Allow", "s3:GetObject", f"{BUCKET}/*", Principal={"AWS": DEPLOYER}))),
    case("cross-account-boundary-excludes", CROSS_ACCOUNT, role(DEPLOYER, READ_DATA, bound=SAGEMAKER_ONLY_BOUNDARY), "s3:GetObject", OBJECT,
         "implicit-deny", reason="the permissions boundary does not allow it", resource_account=ACCOUNT,
         resource_policy=bucket(stmt("Deployer", "Allow", "s3:GetObject", f"{BUCKET}/*", Principal={"AWS": DEPLOYER}))),
    case("cross-account-carlos-production-logs", CROSS_ACCOUNT, role(DEPLOYER, CARLOS), "s3:PutObject", "arn:aws:s3:::Production-logs/f.txt",
         "explicit-deny", "aws_iam_role_policy.ds/DenyS3Logs", resource_account=ACCOUNT),
    case("cross-account-kms-key", KMS_KEY_POLICIES, role(DEPLOYER, identity(stmt("UseKey", "Allow", "kms:Decrypt", KEY))), "kms:Decrypt", KEY, "allow",
         "aws_iam_role_policy.ds/UseKey", "aws_kms_key.models/Other",
         resource_policy=key_policy(ENABLE_IAM, stmt("Other", "Allow", "kms:Decrypt", Principal={"AWS": OTHER}))),
    # --- SCP levels ---
    case("scp-every-level-allows", SCP_EXAMPLES, role(ROLE, identity(ALLOW_ALL), scp_levels=scp_levels()), "sagemaker:CreateModel", MODEL, "allow",
         "p-FullAWSAccess/FullAWSAccess", "p-FullAWSAccess/FullAWSAccess", "p-FullAWSAccess/FullAWSAccess", "aws_iam_role_policy.ds/AllowAll", context=EU),
    case("scp-ou-level-does-not-allow", EVALUATION_LOGIC, role(ROLE, identity(ALLOW_ALL), scp_levels=scp_levels(ou=policy("scp-ou", stmt("S3", "Allow", "s3:*")))),
         "sagemaker:CreateModel", MODEL, "implicit-deny", reason="SCP level 'ou-workloads' does not allow it", context=EU),
    case("scp-allows-but-identity-does-not", EVALUATION_LOGIC, role(ROLE, scp_levels=scp_levels()), "sagemaker:CreateModel", MODEL, "implicit-deny",
         reason="no identity or resource policy allows it", context=EU),
    case("scp-region-deny-exempts-global-service", SCP_EXAMPLES, role(ROLE, identity(ALLOW_ALL), scp_levels=scp_levels()), "iam:GetRole", APPROVER,
         "allow", "p-FullAWSAccess/FullAWSAccess", "p-FullAWSAccess/FullAWSAccess", "p-FullAWSAccess/FullAWSAccess", "aws_iam_role_policy.ds/AllowAll",
         context={"aws:RequestedRegion": "us-east-1"}),
    case("scp-region-deny-exempts-bypass-role", SCP_EXAMPLES,
         role(f"arn:aws:sts::{ACCOUNT}:assumed-role/Role1AllowedToBypassThisSCP/ops", identity(ALLOW_ALL), scp_levels=scp_levels()),
         "sagemaker:CreateModel", MODEL, "allow", "p-FullAWSAccess/FullAWSAccess", "p-FullAWSAccess/FullAWSAccess", "p-FullAWSAccess/FullAWSAccess",
         "aws_iam_role_policy.ds/AllowAll", context={"aws:RequestedRegion": "us-east-1"}),
    case("scp-region-from-resource-arn", SCP_EXAMPLES, role(ROLE, identity(ALLOW_ALL), scp_levels=scp_levels()), "sagemaker:CreateModel",
         MODEL.replace("eu-west-1", "ap-south-1"), "explicit-deny", "aws_organizations_policy.region/DenyAllOutsideEU"),
    case("scp-region-filled-from-resource-arn-allows", SCP_EXAMPLES, role(ROLE, identity(ALLOW_ALL), scp_levels=scp_levels()), "sagemaker:CreateModel",
         MODEL, "allow", "p-FullAWSAccess/FullAWSAccess", "p-FullAWSAccess/FullAWSAccess", "p-FullAWSAccess/FullAWSAccess", "aws_iam_role_policy.ds/AllowAll"),
    case("scp-region-given-wins-over-resource-arn", SCP_EXAMPLES, role(ROLE, identity(ALLOW_ALL), scp_levels=scp_levels()), "sagemaker:CreateModel",
         MODEL, "explicit-deny", "aws_organizations_policy.region/DenyAllOutsideEU", context={"aws:RequestedRegion": "us-west-2"}),
    case("scp-deny-at-account-level", SCP_EXAMPLES, role(ROLE, identity(ALLOW_ALL), scp_levels=scp_levels(stmt("NoLeave", "Deny", "organizations:LeaveOrganization"))),
         "organizations:LeaveOrganization", "*", "explicit-deny", "scp-account/NoLeave", context=EU),
    # --- service principals ---
    case("service-principal-with-source-arn", OPERATORS, Principal("events.amazonaws.com"), "sns:Publish", TOPIC, "allow", "aws_sns_topic_policy.approvals/Events",
         context={"aws:SourceArn": RULE},
         resource_policy=policy("aws_sns_topic_policy.approvals", stmt("Events", "Allow", "sns:Publish", TOPIC, Principal={"Service": "events.amazonaws.com"},
                                                                    Condition={"ArnEquals": {"aws:SourceArn": RULE}}))),
    case("service-principal-wrong-source-arn", OPERATORS, Principal("events.amazonaws.com"), "sns:Publish", TOPIC, "implicit-deny",
         context={"aws:SourceArn": RULE + "-other"},
         resource_policy=policy("aws_sns_topic_policy.approvals", stmt("Events", "Allow", "sns:Publish", TOPIC, Principal={"Service": "events.amazonaws.com"},
                                                                    Condition={"ArnEquals": {"aws:SourceArn": RULE}}))),
    case("service-principal-and-aws-wildcard", "AWS JSON policy elements: Principal (All principals)", Principal("s3.amazonaws.com"), "sns:Publish",
         TOPIC, "allow", "aws_sns_topic_policy.approvals/Everyone", context={"aws:SourceArn": BUCKET},
         resource_policy=policy("aws_sns_topic_policy.approvals", stmt("Everyone", "Allow", "sns:Publish", TOPIC, Principal={"AWS": "*"},
                                                                    Condition={"ArnLike": {"aws:SourceArn": "arn:aws:s3:*:*:acme-ml-data"}}))),
    case("wildcard-principal-is-a-direct-grant", "AWS JSON policy elements: Principal (All principals)", role(SESSION, bound=SAGEMAKER_ONLY_BOUNDARY),
         "s3:GetObject", OBJECT, "allow", f"{DS_BUCKET}/Public",
         resource_policy=bucket(stmt("Public", "Allow", "s3:GetObject", f"{BUCKET}/*", Principal="*"))),
    # --- NotPrincipal ---
    case("notprincipal-deny-hits-others", NOT_PRINCIPAL, role(ROLE, READ_DATA), "s3:GetObject", OBJECT, "explicit-deny", f"{DS_BUCKET}/OnlyApprover",
         resource_policy=bucket(stmt("OnlyApprover", "Deny", "s3:*", NotPrincipal={"AWS": [APPROVER, f"arn:aws:iam::{ACCOUNT}:root"]}))),
    case("notprincipal-deny-exempts-listed-session", NOT_PRINCIPAL, role(APPROVER_SESSION, READ_DATA), "s3:GetObject", OBJECT, "allow",
         "aws_iam_role_policy.ds/ReadTrainingData",
         resource_policy=bucket(stmt("OnlyApprover", "Deny", "s3:*", NotPrincipal={"AWS": [APPROVER_SESSION, APPROVER, f"arn:aws:iam::{ACCOUNT}:root"]}))),
    case("notprincipal-without-session-still-denies-it", NOT_PRINCIPAL, role(APPROVER_SESSION, READ_DATA), "s3:GetObject", OBJECT, "explicit-deny",
         f"{DS_BUCKET}/OnlyApprover",
         resource_policy=bucket(stmt("OnlyApprover", "Deny", "s3:*", NotPrincipal={"AWS": [APPROVER, f"arn:aws:iam::{ACCOUNT}:root"]}))),
    case("notprincipal-deny-always-denies-a-principal-with-a-boundary", BOUNDARIES, role(APPROVER_SESSION, READ_DATA, bound=S3_BOUNDARY),
         "s3:GetObject", OBJECT, "explicit-deny", f"{DS_BUCKET}/OnlyApprover",
         resource_policy=bucket(stmt("OnlyApprover", "Deny", "s3:*", NotPrincipal={"AWS": [APPROVER_SESSION, APPROVER, f"arn:aws:iam::{ACCOUNT}:root"]}))),
    case("notprincipal-wildcard-exempts-everyone", NOT_PRINCIPAL, role(ROLE, READ_DATA), "s3:GetObject", OBJECT, "allow",
         "aws_iam_role_policy.ds/ReadTrainingData", resource_policy=bucket(stmt("NoOne", "Deny", "s3:*", NotPrincipal={"AWS": "*"}))),
    case("notprincipal-allow-is-a-direct-grant", NOT_PRINCIPAL, role(SESSION, bound=SAGEMAKER_ONLY_BOUNDARY), "s3:GetObject", OBJECT, "allow",
         f"{DS_BUCKET}/AllButApprover", resource_policy=bucket(stmt("AllButApprover", "Allow", "s3:GetObject", NotPrincipal={"AWS": APPROVER}))),
]  # fmt: skip


@pytest.mark.parametrize("c", DECISIONS)
def test_documented_decisions(c: Case) -> None:
    check(c)


def only(*statements: dict[str, Any], version: str | None = "2012-10-17", **kw: Any) -> Principal:
    """A role whose one identity policy has these statements."""
    return role(ROLE, identity(*statements, version=version), **kw)


def allow_if(condition: dict[str, Any], action: str = "sagemaker:CreateModel") -> Principal:
    return only(stmt("Conditional", "Allow", action, Condition=condition))


def deny_if(condition: dict[str, Any], action: str = "s3:PutObject") -> Principal:
    return only(ALLOW_ALL, stmt("Guard", "Deny", action, Condition=condition))


ALLOWED_BY_ALL = ("aws_iam_role_policy.ds/AllowAll",)
CONDITIONAL = ("aws_iam_role_policy.ds/Conditional",)
GUARD = ("aws_iam_role_policy.ds/Guard",)
NO_SSE = {"StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption": "aws:kms"}}
TAG_KEYS_ACME = {"ForAnyValue:StringLike": {"aws:TagKeys": ["acme:*"]}}
TAG_KEYS_ALLOWED = {"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "project"]}}
NOT_APPROVERS = {"ArnNotEquals": {"aws:PrincipalArn": [APPROVER, GATE]}}
OLD_TLS = {"NumericLessThan": {"s3:TlsVersion": 1.2}}
DOC_ARN = "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt"


def cond(
    id: str,
    page: str,
    principal: Principal,
    action: str,
    decision: str,
    deciding: tuple[str, ...],
    context: Mapping[str, ContextValue],
    resource: str = OBJECT,
) -> Any:
    return case(id, page, principal, action, resource, decision, *deciding, context=context)


CONDITIONS = [
    # NotAction / NotResource
    cond("notaction-deny-outside-list", ACTION_RESOURCE, only(ALLOW_ALL, stmt("DenyElse", "Deny", None, NotAction=["s3:*", "sagemaker:*"])),
         "iam:CreateRole", "explicit-deny", ("aws_iam_role_policy.ds/DenyElse",), {}, resource=APPROVER),
    cond("notaction-deny-spares-listed", ACTION_RESOURCE, only(ALLOW_ALL, stmt("DenyElse", "Deny", None, NotAction=["s3:*", "sagemaker:*"])),
         "s3:GetObject", "allow", ALLOWED_BY_ALL, {}),
    cond("notresource-excludes", ACTION_RESOURCE, only(stmt("Data", "Allow", "s3:GetObject", None, NotResource=f"{BUCKET}/restricted/*")),
         "s3:GetObject", "implicit-deny", (), {}, resource=f"{BUCKET}/restricted/pii.csv"),
    cond("notresource-includes-the-rest", ACTION_RESOURCE, only(stmt("Data", "Allow", "s3:GetObject", None, NotResource=f"{BUCKET}/restricted/*")),
         "s3:GetObject", "allow", ("aws_iam_role_policy.ds/Data",), {}),
    # ...IfExists
    # "If you are using an Effect: Deny element with a negated condition operator like StringNotEqualsIfExists,
    # the request is still denied even if the tag is missing."
    cond("ifexists-negated-missing-key-still-denied", OPERATORS, deny_if(NO_SSE), "s3:PutObject", "explicit-deny", GUARD, {}),
    cond("ifexists-wrong-value-denied", OPERATORS, deny_if(NO_SSE), "s3:PutObject", "explicit-deny", GUARD, {"s3:x-amz-server-side-encryption": "AES256"}),
    cond("ifexists-right-value", OPERATORS, deny_if(NO_SSE), "s3:PutObject", "allow", ALLOWED_BY_ALL, {"s3:x-amz-server-side-encryption": "aws:kms"}),
    cond("ifexists-positive-missing-key-true", OPERATORS, allow_if({"StringEqualsIfExists": {"sagemaker:ModelApprovalStatus": "Approved"}}),
         "sagemaker:CreateModel", "allow", CONDITIONAL, {}),
    cond("negated-missing-key-true", OPERATORS, deny_if({"StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}}), "s3:PutObject",
         "explicit-deny", GUARD, {}),
    cond("positive-missing-key-false", OPERATORS, allow_if({"StringEquals": {"sagemaker:ModelApprovalStatus": "Approved"}}), "sagemaker:CreateModel",
         "implicit-deny", (), {}),
    # Null
    cond("null-true-key-missing", OPERATORS, deny_if({"Null": {"aws:RequestTag/team": "true"}}, "sagemaker:CreateModel"), "sagemaker:CreateModel",
         "explicit-deny", GUARD, {}),
    cond("null-true-key-present", OPERATORS, deny_if({"Null": {"aws:RequestTag/team": "true"}}, "sagemaker:CreateModel"), "sagemaker:CreateModel",
         "allow", ALLOWED_BY_ALL, {"aws:RequestTag/team": "risk"}),
    cond("null-empty-set-is-absent", MULTI_VALUE, deny_if({"Null": {"aws:TagKeys": "true"}}, "sagemaker:AddTags"), "sagemaker:AddTags",
         "explicit-deny", GUARD, {"aws:TagKeys": []}),
    cond("null-false-key-present", OPERATORS, allow_if({"Null": {"aws:RequestTag/team": False}}), "sagemaker:CreateModel", "allow", CONDITIONAL,
         {"aws:RequestTag/team": "risk"}),
    # set operators
    cond("foranyvalue-like-one-matches", MULTI_VALUE, deny_if(TAG_KEYS_ACME, "sagemaker:AddTags"), "sagemaker:AddTags", "explicit-deny", GUARD,
         {"aws:TagKeys": ["team", "acme:owner"]}),
    cond("foranyvalue-like-none-matches", MULTI_VALUE, deny_if(TAG_KEYS_ACME, "sagemaker:AddTags"), "sagemaker:AddTags", "allow", ALLOWED_BY_ALL,
         {"aws:TagKeys": ["team"]}),
    cond("foranyvalue-missing-key-false", MULTI_VALUE, deny_if(TAG_KEYS_ACME, "sagemaker:AddTags"), "sagemaker:AddTags", "allow", ALLOWED_BY_ALL, {}),
    cond("foranyvalue-ifexists-missing-key-true", OPERATORS, allow_if({"ForAnyValue:StringEqualsIfExists": {"aws:TagKeys": ["team"]}}, "sagemaker:AddTags"),
         "sagemaker:AddTags", "allow", CONDITIONAL, {}),
    cond("forallvalues-missing-key-true", MULTI_VALUE, allow_if(TAG_KEYS_ALLOWED, "sagemaker:AddTags"), "sagemaker:AddTags", "allow", CONDITIONAL, {}),
    cond("forallvalues-empty-set-true", MULTI_VALUE, allow_if(TAG_KEYS_ALLOWED, "sagemaker:AddTags"), "sagemaker:AddTags", "allow", CONDITIONAL,
         {"aws:TagKeys": []}),
    cond("forallvalues-subset", MULTI_VALUE, allow_if(TAG_KEYS_ALLOWED, "sagemaker:AddTags"), "sagemaker:AddTags", "allow", CONDITIONAL,
         {"aws:TagKeys": ["project", "team"]}),
    cond("forallvalues-one-outside", MULTI_VALUE, allow_if(TAG_KEYS_ALLOWED, "sagemaker:AddTags"), "sagemaker:AddTags", "implicit-deny", (),
         {"aws:TagKeys": ["team", "secret"]}),
    cond("forallvalues-negated-none-listed", MULTI_VALUE, deny_if({"ForAllValues:StringNotEquals": {"aws:CalledVia": ["athena.amazonaws.com"]}}),
         "s3:PutObject", "explicit-deny", GUARD, {"aws:CalledVia": ["cloudformation.amazonaws.com"]}),
    cond("forallvalues-negated-one-listed", MULTI_VALUE, deny_if({"ForAllValues:StringNotEquals": {"aws:CalledVia": ["athena.amazonaws.com"]}}),
         "s3:PutObject", "allow", ALLOWED_BY_ALL, {"aws:CalledVia": ["cloudformation.amazonaws.com", "athena.amazonaws.com"]}),
    # ARN operators and aws:PrincipalArn
    cond("arnnotequals-denies-data-scientist", OPERATORS, deny_if(NOT_APPROVERS, "sagemaker:UpdateModelPackage"), "sagemaker:UpdateModelPackage",
         "explicit-deny", GUARD, {}, resource=PACKAGE),
    case("arnnotequals-spares-approver-role", OPERATORS, role(APPROVER, identity(ALLOW_ALL, stmt("Guard", "Deny", "sagemaker:UpdateModelPackage", Condition=NOT_APPROVERS))),
         "sagemaker:UpdateModelPackage", PACKAGE, "allow", *ALLOWED_BY_ALL),
    case("arnnotequals-spares-approver-session", OPERATORS,
         role(APPROVER_SESSION, identity(ALLOW_ALL, stmt("Guard", "Deny", "sagemaker:UpdateModelPackage", Condition=NOT_APPROVERS))),
         "sagemaker:UpdateModelPackage", PACKAGE, "allow", *ALLOWED_BY_ALL),
    cond("arnlike-wildcard-stays-in-segment", OPERATORS, allow_if({"ArnLike": {"aws:SourceArn": "arn:aws:someservice:*:111122223333:finance/*"}}),
         "sagemaker:CreateModel", "implicit-deny", (), {"aws:SourceArn": DOC_ARN}),
    cond("stringlike-wildcard-crosses-colons", OPERATORS, allow_if({"StringLike": {"aws:SourceArn": "arn:aws:someservice:*:111122223333:finance/*"}}),
         "sagemaker:CreateModel", "allow", CONDITIONAL, {"aws:SourceArn": DOC_ARN}),
    # Bool, Numeric, Date, IP, string variants
    cond("bool-insecure-transport-denied", OPERATORS, deny_if({"Bool": {"aws:SecureTransport": "false"}}), "s3:PutObject", "explicit-deny", GUARD,
         {"aws:SecureTransport": False}),
    cond("bool-secure-transport-allowed", OPERATORS, deny_if({"Bool": {"aws:SecureTransport": False}}), "s3:PutObject", "allow", ALLOWED_BY_ALL,
         {"aws:SecureTransport": True}),
    cond("numeric-old-tls-denied", OPERATORS, deny_if(OLD_TLS), "s3:PutObject", "explicit-deny", GUARD, {"s3:TlsVersion": "1.0"}),
    cond("numeric-new-tls-allowed", OPERATORS, deny_if(OLD_TLS), "s3:PutObject", "allow", ALLOWED_BY_ALL, {"s3:TlsVersion": "1.3"}),
    cond("numeric-equal-is-not-less", OPERATORS, deny_if(OLD_TLS), "s3:PutObject", "allow", ALLOWED_BY_ALL, {"s3:TlsVersion": 1.2}),
    cond("numeric-missing-key-false", OPERATORS, deny_if(OLD_TLS), "s3:PutObject", "allow", ALLOWED_BY_ALL, {}),
    cond("date-before", OPERATORS, allow_if({"DateLessThan": {"aws:CurrentTime": "2027-01-01T00:00:00Z"}}), "sagemaker:CreateModel", "allow",
         CONDITIONAL, {"aws:CurrentTime": "2026-11-25T12:00:00Z"}),
    cond("date-after", OPERATORS, allow_if({"DateLessThan": {"aws:CurrentTime": "2027-01-01T00:00:00Z"}}), "sagemaker:CreateModel", "implicit-deny",
         (), {"aws:CurrentTime": "2027-02-01T00:00:00Z"}),
    cond("ip-inside-range", OPERATORS, allow_if({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}), "sagemaker:CreateModel", "allow", CONDITIONAL,
         {"aws:SourceIp": "203.0.113.7"}),
    cond("ip-outside-range", OPERATORS, allow_if({"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:DB8:1234:5678::/64"]}}),
         "sagemaker:CreateModel", "implicit-deny", (), {"aws:SourceIp": "198.51.100.1"}),
    cond("ip-v6-range", OPERATORS, allow_if({"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:DB8:1234:5678::/64"]}}),
         "sagemaker:CreateModel", "allow", CONDITIONAL, {"aws:SourceIp": "2001:db8:1234:5678::1"}),
    cond("stringequals-is-case-sensitive", OPERATORS, allow_if({"StringEquals": {"sagemaker:ModelApprovalStatus": "approved"}}),
         "sagemaker:CreateModel", "implicit-deny", (), {"sagemaker:ModelApprovalStatus": "Approved"}),
    cond("stringequalsignorecase", OPERATORS, allow_if({"StringEqualsIgnoreCase": {"sagemaker:ModelApprovalStatus": "approved"}}),
         "sagemaker:CreateModel", "allow", CONDITIONAL, {"sagemaker:ModelApprovalStatus": "Approved"}),
    cond("stringnotlike", OPERATORS, deny_if({"StringNotLike": {"s3:prefix": ["home/*", ""]}}, "s3:ListBucket"), "s3:ListBucket", "explicit-deny", GUARD,
         {"s3:prefix": "admin/"}, resource=BUCKET),
    cond("condition-key-names-are-case-insensitive", OPERATORS, allow_if({"StringEquals": {"SAGEMAKER:modelapprovalstatus": "Approved"}}),
         "sagemaker:CreateModel", "allow", CONDITIONAL, {"sagemaker:ModelApprovalStatus": "Approved"}),
    cond("kms-encryption-context-key", OPERATORS,
         allow_if({"ArnLike": {"kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/acme/*"}}, "kms:ListKeys"),
         "kms:ListKeys", "allow", CONDITIONAL, {"kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/acme/audit"},
         resource="*"),
    # AND across keys and operators, OR across values
    cond("values-are-ored", MULTI_VALUE, allow_if({"StringEquals": {"aws:RequestedRegion": ["eu-west-1", "eu-central-1"]}}), "sagemaker:CreateModel",
         "allow", CONDITIONAL, {"aws:RequestedRegion": "eu-central-1"}),
    cond("keys-are-anded", MULTI_VALUE,
         allow_if({"StringEquals": {"aws:PrincipalAccount": ACCOUNT, "aws:RequestedRegion": "eu-west-1"}, "Bool": {"aws:SecureTransport": "true"}}),
         "sagemaker:CreateModel", "implicit-deny", (), {"aws:RequestedRegion": "eu-west-1", "aws:SecureTransport": False}),
    cond("keys-are-anded-all-true", MULTI_VALUE,
         allow_if({"StringEquals": {"aws:PrincipalAccount": ACCOUNT, "aws:RequestedRegion": "eu-west-1"}, "Bool": {"aws:SecureTransport": "true"}}),
         "sagemaker:CreateModel", "allow", CONDITIONAL, {"aws:RequestedRegion": "eu-west-1", "aws:SecureTransport": True}),
    cond("negated-values-must-all-differ", MULTI_VALUE, deny_if({"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1", "eu-central-1"]}}),
         "s3:PutObject", "allow", ALLOWED_BY_ALL, {"aws:RequestedRegion": "eu-central-1"}),
    # wildcards and case in actions and resources
    cond("action-star-wildcard", ACTION_RESOURCE, only(stmt("Describe", "Allow", "sagemaker:Describe*")), "sagemaker:DescribeModelPackage", "allow",
         ("aws_iam_role_policy.ds/Describe",), {}, resource=PACKAGE),
    cond("action-question-wildcard", ACTION_RESOURCE, only(stmt("Get", "Allow", "s3:Get?bject")), "s3:GetObject", "allow",
         ("aws_iam_role_policy.ds/Get",), {}),
    cond("action-question-is-one-char", ACTION_RESOURCE, only(stmt("Get", "Allow", "s3:Get?bject")), "s3:GetObjectAcl", "implicit-deny", (), {}),
    cond("action-case-insensitive", ACTION_RESOURCE, only(stmt("Describe", "Allow", "SageMaker:describemodelpackage")),
         "sagemaker:DescribeModelPackage", "allow", ("aws_iam_role_policy.ds/Describe",), {}, resource=PACKAGE),
    cond("resource-question-wildcard", ACTION_RESOURCE, only(stmt("B", "Allow", "s3:ListBucket", "arn:aws:s3:::acme-ml-?")), "s3:ListBucket", "allow",
         ("aws_iam_role_policy.ds/B",), {}, resource="arn:aws:s3:::acme-ml-a"),
    cond("resource-question-is-one-char", ACTION_RESOURCE, only(stmt("B", "Allow", "s3:ListBucket", "arn:aws:s3:::acme-ml-?")), "s3:ListBucket",
         "implicit-deny", (), {}, resource="arn:aws:s3:::acme-ml-ab"),
    cond("resource-is-case-sensitive", ACTION_RESOURCE, only(stmt("B", "Allow", "s3:GetObject", "arn:aws:s3:::ACME-ML-DATA/*")), "s3:GetObject",
         "implicit-deny", (), {}),
    cond("resource-star-in-region-segment", ACTION_RESOURCE,
         only(stmt("Pkg", "Allow", "sagemaker:DescribeModelPackage", f"arn:aws:sagemaker:*:{ACCOUNT}:model-package/acme-*")),
         "sagemaker:DescribeModelPackage", "allow", ("aws_iam_role_policy.ds/Pkg",), {}, resource=PACKAGE),
    cond("resource-star-does-not-span-segments", ACTION_RESOURCE,
         only(stmt("Pkg", "Allow", "sagemaker:DescribeModelPackage", "arn:aws:sagemaker:*:model-package/*")),
         "sagemaker:DescribeModelPackage", "implicit-deny", (), {}, resource=PACKAGE),
]  # fmt: skip


@pytest.mark.parametrize("c", CONDITIONS)
def test_condition_operators_and_matching(c: Case) -> None:
    check(c)


TEAM_OBJECTS = only(stmt("TeamData", "Allow", "s3:GetObject", f"{BUCKET}/teams/${{aws:PrincipalTag/team}}/*"))
TEAM_OR_SHARED = only(stmt("TeamData", "Allow", "s3:GetObject", f"{BUCKET}/teams/${{aws:PrincipalTag/team, 'shared'}}/*"))
TEAM_DATA = ("aws_iam_role_policy.ds/TeamData",)


def tagged(p: Principal, **tags: str) -> Principal:
    return Principal(p.arn, identity_policies=p.identity_policies, tags=tags)


VARIABLE_CASES = [
    cond("principal-tag-in-resource", VARIABLES, tagged(TEAM_OBJECTS, team="risk"), "s3:GetObject", "allow", TEAM_DATA, {},
         resource=f"{BUCKET}/teams/risk/a.csv"),
    cond("principal-tag-other-team", VARIABLES, tagged(TEAM_OBJECTS, team="risk"), "s3:GetObject", "implicit-deny", (), {},
         resource=f"{BUCKET}/teams/fraud/a.csv"),
    cond("variable-without-value-matches-no-resource", VARIABLES, TEAM_OBJECTS, "s3:GetObject", "implicit-deny", (), {},
         resource=f"{BUCKET}/teams//a.csv"),
    cond("variable-default-when-missing", VARIABLES, TEAM_OR_SHARED, "s3:GetObject", "allow", TEAM_DATA, {}, resource=f"{BUCKET}/teams/shared/a.csv"),
    cond("variable-default-unused-when-present", VARIABLES, tagged(TEAM_OR_SHARED, team="risk"), "s3:GetObject", "implicit-deny", (), {},
         resource=f"{BUCKET}/teams/shared/a.csv"),
    cond("variable-value-is-literal-not-wildcard", VARIABLES, tagged(TEAM_OBJECTS, team="*"), "s3:GetObject", "implicit-deny", (), {},
         resource=f"{BUCKET}/teams/risk/a.csv"),
    cond("username-absent-for-roles", VARIABLES, only(stmt("Home", "Allow", "s3:GetObject", f"{BUCKET}/home/${{aws:username}}/*")), "s3:GetObject",
         "implicit-deny", (), {}, resource=f"{BUCKET}/home/alice/a.csv"),
    cond("variable-without-value-negated-condition-true", VARIABLES, deny_if({"StringNotLike": {"s3:prefix": "home/${aws:username}/*"}}, "s3:ListBucket"),
         "s3:ListBucket", "explicit-deny", GUARD, {"s3:prefix": "home/alice/x"}, resource=BUCKET),
    cond("source-identity-in-resource", VARIABLES, only(stmt("Home", "Allow", "s3:GetObject", f"{BUCKET}/home/${{aws:SourceIdentity}}/*")),
         "s3:GetObject", "allow", ("aws_iam_role_policy.ds/Home",), {"aws:SourceIdentity": "alice"}, resource=f"{BUCKET}/home/alice/a.csv"),
    cond("principal-account-in-resource", VARIABLES,
         only(stmt("Queue", "Allow", "sqs:SendMessage", "arn:aws:sqs:eu-west-1:${aws:PrincipalAccount}:acme-*")), "sqs:SendMessage", "allow",
         ("aws_iam_role_policy.ds/Queue",), {}, resource=f"arn:aws:sqs:eu-west-1:{ACCOUNT}:acme-events"),
    cond("userid-in-condition", VARIABLES, allow_if({"StringLike": {"s3:prefix": "${aws:userid}/*"}}, "s3:ListBucket"), "s3:ListBucket", "allow",
         CONDITIONAL, {"aws:userid": "AROAEXAMPLE:alice", "s3:prefix": "AROAEXAMPLE:alice/data"}, resource=BUCKET),
    cond("principal-tag-in-condition", VARIABLES, tagged(allow_if({"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}}), team="risk"),
         "sagemaker:CreateModel", "allow", CONDITIONAL, {"aws:ResourceTag/team": "risk"}),
    cond("escape-star", VARIABLES, only(stmt("Lit", "Allow", "s3:GetObject", f"{BUCKET}/literal-${{*}}")), "s3:GetObject", "allow",
         ("aws_iam_role_policy.ds/Lit",), {}, resource=f"{BUCKET}/literal-*"),
    cond("escape-star-is-not-a-wildcard", VARIABLES, only(stmt("Lit", "Allow", "s3:GetObject", f"{BUCKET}/literal-${{*}}")), "s3:GetObject",
         "implicit-deny", (), {}, resource=f"{BUCKET}/literal-x"),
    cond("escape-question-and-dollar", VARIABLES, only(stmt("Lit", "Allow", "s3:GetObject", f"{BUCKET}/q${{?}}d${{$}}")), "s3:GetObject", "allow",
         ("aws_iam_role_policy.ds/Lit",), {}, resource=f"{BUCKET}/q?d$"),
    cond("old-version-compares-literally", VARIABLES,
         tagged(only(stmt("TeamData", "Allow", "s3:GetObject", f"{BUCKET}/teams/${{aws:PrincipalTag/team}}/*"), version=None), team="risk"),
         "s3:GetObject", "implicit-deny", (), {}, resource=f"{BUCKET}/teams/risk/a.csv"),
    cond("old-version-literal-match", VARIABLES,
         tagged(only(stmt("TeamData", "Allow", "s3:GetObject", f"{BUCKET}/teams/${{aws:PrincipalTag/team}}/*"), version=None), team="risk"),
         "s3:GetObject", "allow", TEAM_DATA, {}, resource=f"{BUCKET}/teams/${{aws:PrincipalTag/team}}/a.csv"),
]  # fmt: skip


@pytest.mark.parametrize("c", VARIABLE_CASES)
def test_policy_variables(c: Case) -> None:
    check(c)


def request_for(*statements: dict[str, Any], context: Mapping[str, ContextValue] | None = None) -> Request:
    return Request(role(ROLE, identity(*statements)), "s3:GetObject", OBJECT, context or {})


UNSUPPORTED = [
    pytest.param(stmt("BadOperator", "Allow", "s3:GetObject", Condition={"StringEqualz": {"s3:prefix": "a"}}), "BadOperator", "StringEqualz",
                 id="unknown-operator"),
    pytest.param(stmt("BadKey", "Allow", "s3:GetObject", Condition={"ArnEquals": {"aws:PrincipleArn": ROLE}}), "BadKey", "aws:PrincipleArn",
                 id="unknown-global-key"),
    pytest.param(stmt("TfResource", "Allow", "s3:GetObject", "${aws_s3_bucket.data.arn}/*"), "TfResource", "'${aws_s3_bucket.data.arn}' is not an IAM policy variable",
                 id="terraform-interpolation-in-resource"),
    pytest.param(stmt("TfCondition", "Allow", "s3:GetObject", Condition={"StringEquals": {"aws:PrincipalAccount": "${data.aws_caller_identity.current.account_id}"}}),
                 "TfCondition", "'${data.aws_caller_identity.current.account_id}' is not an IAM policy variable", id="terraform-interpolation-in-condition"),
    pytest.param(stmt("TfNumeric", "Allow", "s3:GetObject", Condition={"NumericLessThan": {"s3:TlsVersion": "${var.tls}"}}), "TfNumeric", "var.tls",
                 id="terraform-interpolation-in-numeric-condition"),
    pytest.param(stmt("Typo", "Allow", "s3:GetObject", Resources="*"), "Typo", "Resources", id="unknown-statement-element"),
    pytest.param(stmt("WithPrincipal", "Allow", "s3:GetObject", Principal="*"), "WithPrincipal", "Principal", id="principal-in-identity-policy"),
    pytest.param(stmt(None, "Allow", "s3:GetObject", Condition={"NullIfExists": {"aws:TagKeys": "true"}}), "#0", "NullIfExists", id="null-ifexists"),
    pytest.param(stmt("Binary", "Allow", "s3:GetObject", Condition={"BinaryEquals": {"s3:x": "QQ=="}}), "Binary", "BinaryEquals", id="binary-operator"),
    pytest.param(stmt("SetOp", "Allow", "s3:GetObject", Condition={"ForSomeValues:StringEquals": {"aws:TagKeys": "a"}}), "SetOp", "ForSomeValues",
                 id="unknown-set-operator"),
    pytest.param(stmt("VarNumeric", "Allow", "s3:GetObject", Condition={"NumericLessThan": {"s3:TlsVersion": "${aws:PrincipalTag/tls}"}}), "VarNumeric",
                 "policy variables cannot be used", id="variable-in-numeric-condition"),
    pytest.param(stmt("BadVariableKey", "Allow", "s3:GetObject", f"{BUCKET}/${{aws:PrincipalTagz/team}}/*"), "BadVariableKey", "aws:PrincipalTagz/team",
                 id="unknown-global-key-as-variable"),
    pytest.param(stmt("BadBool", "Deny", "s3:GetObject", Condition={"Bool": {"aws:SecureTransport": "no"}}), "BadBool", "'no'", id="bool-value"),
    pytest.param(stmt("Effect", "Permit", "s3:GetObject"), "Effect", "Permit", id="unknown-effect"),
    pytest.param(stmt("Unmatched", "Deny", "iam:CreateRole", Condition={"StringEqualz": {"s3:prefix": "a"}}), "Unmatched", "StringEqualz",
                 id="checked-even-when-the-action-does-not-match"),
]  # fmt: skip


@pytest.mark.parametrize(("statement", "sid", "named"), UNSUPPORTED)
def test_what_it_does_not_understand_raises(statement: dict[str, Any], sid: str, named: str) -> None:
    with pytest.raises(UnsupportedPolicyElement) as raised:
        evaluate(request_for(statement))
    assert raised.value.policy == "aws_iam_role_policy.ds"
    assert raised.value.statement == sid
    assert named in str(raised.value)
    assert str(raised.value).startswith(f"aws_iam_role_policy.ds/{sid}: ")


def test_terraform_interpolation_in_resource_policy_principal_raises() -> None:
    grant = bucket(stmt("Tf", "Allow", "s3:GetObject", f"{BUCKET}/*", Principal={"AWS": "${aws_iam_role.ds.arn}"}))
    with pytest.raises(UnsupportedPolicyElement, match=r"aws_s3_bucket_policy.data/Tf: .*aws_iam_role.ds.arn"):
        evaluate(Request(role(), "s3:GetObject", OBJECT), resource_policy=grant)


def test_plain_operator_on_multivalued_request_key_raises() -> None:
    with pytest.raises(UnsupportedPolicyElement, match=r"aws_iam_role_policy.ds/Tags: .*ForAnyValue/ForAllValues"):
        evaluate(request_for(stmt("Tags", "Allow", "s3:GetObject", Condition={"StringEquals": {"aws:TagKeys": "team"}}),
                             context={"aws:TagKeys": ["team", "project"]}))  # fmt: skip


def test_multivalued_key_cannot_be_a_policy_variable() -> None:
    """ "You can't use a multivalued condition key as a variable." (Variables and tags)"""
    tags = stmt("Tags", "Allow", "s3:GetObject", f"{BUCKET}/${{aws:TagKeys}}/*")
    with pytest.raises(UnsupportedPolicyElement, match=r"aws_iam_role_policy.ds/Tags: multivalued key 'aws:tagkeys'"):
        evaluate(request_for(tags, context={"aws:TagKeys": ["team", "project"]}))


def test_resource_policy_statement_needs_a_principal() -> None:
    with pytest.raises(UnsupportedPolicyElement, match=r"aws_s3_bucket_policy.data/NoPrincipal: .*Principal"):
        evaluate(Request(role(), "s3:GetObject", OBJECT), resource_policy=bucket(stmt("NoPrincipal", "Allow", "s3:GetObject")))


def test_document_level_errors_name_the_policy() -> None:
    bad = LabelledPolicy("aws_iam_policy.bad", {"Version": "2012-10-17", "Statements": []})
    with pytest.raises(UnsupportedPolicyElement, match=r"^aws_iam_policy.bad/-: "):
        evaluate(Request(Principal(ROLE, identity_policies=(bad,)), "s3:GetObject", OBJECT))


def test_kms_key_action_needs_the_key_policy() -> None:
    with pytest.raises(ValueError, match="KMS key policy"):
        evaluate(Request(role(), "kms:Decrypt", KEY))


def test_trust_policy_needed_for_assume_role() -> None:
    with pytest.raises(ValueError, match="role trust policy"):
        evaluate(Request(role(), "sts:AssumeRole", APPROVER))


@pytest.mark.parametrize(
    "arn",
    [f"arn:aws:iam::{ACCOUNT}:user/alice", f"arn:aws:iam::{ACCOUNT}:root", "${aws_iam_role.ds.arn}", "acme-data-scientist"],
    ids=["user", "root", "terraform", "bare-name"],
)
def test_principals_it_does_not_model_are_refused(arn: str) -> None:
    with pytest.raises(ValueError, match="neither a role"):
        Principal(arn)


def test_service_principal_has_no_identity_policies() -> None:
    with pytest.raises(ValueError, match="service principal"):
        Principal("events.amazonaws.com", identity_policies=(identity(ALLOW_ALL),))


def test_context_cannot_contradict_the_principal() -> None:
    with pytest.raises(ValueError, match="contradicts the principal"):
        evaluate(Request(role(), "s3:GetObject", OBJECT, {"aws:PrincipalArn": APPROVER}))


def test_unknown_global_key_in_the_request_context_raises() -> None:
    with pytest.raises(UnsupportedPolicyElement, match="aws:RequestRegion"):
        evaluate(Request(role(), "s3:GetObject", OBJECT, {"aws:RequestRegion": "eu-west-1"}))


@pytest.mark.parametrize("action", ["s3:Get*", "GetObject", "s3:Get Object"], ids=["wildcard", "no-service", "space"])
def test_request_action_must_be_one_operation(action: str) -> None:
    with pytest.raises(ValueError, match="service:Operation"):
        evaluate(Request(role(), action, OBJECT))


def test_principal_keys_are_filled_from_the_session() -> None:
    """aws:PrincipalArn is the role ARN for a session ("AWS global condition context keys")."""
    checks = only(
        stmt(
            "Keys",
            "Allow",
            "s3:GetObject",
            Condition={
                "StringEquals": {"aws:PrincipalArn": ROLE, "aws:PrincipalAccount": ACCOUNT, "aws:PrincipalType": "AssumedRole"},
                "Bool": {"aws:PrincipalIsAWSService": "false"},
            },
        )
    )
    result = evaluate(Request(Principal(SESSION, identity_policies=checks.identity_policies), "s3:GetObject", OBJECT))
    assert result.decision == "allow"
    assert [ref.statement for ref in result.deciding] == ["Keys"]


def test_statement_may_be_a_single_object_and_elements_single_strings() -> None:
    single = LabelledPolicy(
        "inline", {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": OBJECT}}
    )
    result = evaluate(Request(Principal(ROLE, identity_policies=(single,)), "s3:GetObject", OBJECT))
    assert (result.decision, [str(ref) for ref in result.deciding]) == ("allow", ["inline/#0"])


def test_evaluation_is_frozen() -> None:
    result = evaluate(Request(role(), "s3:GetObject", OBJECT))
    assert not result.allowed
    with pytest.raises(FrozenInstanceError):
        result.decision = "allow"  # type: ignore[misc]


def test_answers_are_kept_by_content_and_a_changed_document_is_evaluated_again() -> None:
    """A review asks the same requests again after a change; only an unchanged question may get the kept answer."""
    reads = stmt("Reads", "Allow", "s3:GetObject", OBJECT)
    denies = stmt("NoReads", "Deny", "s3:GetObject", OBJECT)
    tagged = stmt("Tagged", "Allow", "s3:GetObject", OBJECT, Condition={"StringEquals": {"aws:PrincipalTag/team": "risk"}})

    def ask(principal: Principal, resource_policy: LabelledPolicy | None = None, **context: ContextValue) -> str:
        request = Request(principal, "s3:GetObject", OBJECT, {**EU, **context})
        return evaluate(request, resource_policy=resource_policy).decision

    assert ask(Principal(ROLE, identity_policies=(identity(reads),))) == "allow"
    assert ask(Principal(ROLE, identity_policies=(identity(reads),))) == "allow"  # the same content, new objects
    assert ask(Principal(ROLE, identity_policies=(identity(reads, denies),))) == "explicit-deny"  # same label
    assert ask(Principal(ROLE, identity_policies=(identity(reads),), boundary=policy("boundary", denies))) == "explicit-deny"
    assert ask(Principal(ROLE, identity_policies=(identity(tagged),), tags={"team": "risk"})) == "allow"
    assert ask(Principal(ROLE, identity_policies=(identity(tagged),), tags={"team": "fraud"})) == "implicit-deny"
    bucket = policy("aws_s3_bucket_policy.data", {**denies, "Principal": "*"})
    assert ask(Principal(ROLE, identity_policies=(identity(reads),)), bucket) == "explicit-deny"
    on_condition = identity(stmt("Eu", "Allow", "s3:GetObject", OBJECT, Condition={"StringEquals": {"s3:prefix": "a"}}))
    assert ask(Principal(ROLE, identity_policies=(on_condition,)), **{"s3:prefix": "a"}) == "allow"
    assert ask(Principal(ROLE, identity_policies=(on_condition,)), **{"s3:prefix": "b"}) == "implicit-deny"
    one = identity(stmt("One", "Allow", "s3:GetObject", OBJECT, Condition={"StringEquals": {"s3:max-keys": "1"}}))
    assert ask(Principal(ROLE, identity_policies=(one,)), **{"s3:max-keys": 1}) == "allow"
    assert ask(Principal(ROLE, identity_policies=(one,)), **{"s3:max-keys": True}) == "implicit-deny"  # "true"
    scp = (ScpLevel("root", (policy("scp", stmt(None, "Allow", "*")),)),)
    assert ask(Principal(ROLE, identity_policies=(identity(reads),), scp_levels=scp)) == "allow"
    no_scp = (ScpLevel("root", (policy("scp", stmt(None, "Allow", "kms:*")),)),)
    assert ask(Principal(ROLE, identity_policies=(identity(reads),), scp_levels=no_scp)) == "implicit-deny"


def test_a_kept_answer_never_reaches_a_question_it_was_not_decided_on() -> None:
    """The ways a review's inputs can look alike without being alike (found by a review of the answer memo)."""
    reads = stmt("Reads", "Allow", "s3:GetObject", OBJECT)
    denies = stmt("NoReads", "Deny", "s3:GetObject", OBJECT)

    def decision(principal: Principal, **context: ContextValue) -> str:
        try:
            return evaluate(Request(principal, "s3:GetObject", OBJECT, {**EU, **context})).decision
        except UnsupportedPolicyElement:
            return "unsupported"

    # a tuple is not JSON's list: the evaluator refuses it, whatever a list with the same items was told
    listed = LabelledPolicy("p", {"Version": "2012-10-17", "Statement": [reads]})
    assert decision(Principal(ROLE, identity_policies=(listed,))) == "allow"
    as_tuple = LabelledPolicy("p", {"Version": "2012-10-17", "Statement": (reads,)})
    assert decision(Principal(ROLE, identity_policies=(as_tuple,))) == "unsupported"
    # context values are compared as the request sends them: 1, True and 1.0 are "1", "true" and "1.0"
    one = identity(stmt("One", "Allow", "s3:GetObject", OBJECT, Condition={"ForAnyValue:StringEquals": {"s3:max-keys": "1"}}))
    assert decision(Principal(ROLE, identity_policies=(one,)), **{"s3:max-keys": [1]}) == "allow"
    assert decision(Principal(ROLE, identity_policies=(one,)), **{"s3:max-keys": [True]}) == "implicit-deny"
    assert decision(Principal(ROLE, identity_policies=(one,)), **{"s3:max-keys": [1.0]}) == "implicit-deny"
    # a key spelled twice: the last spelling is the request's
    prefixed = identity(stmt("A", "Allow", "s3:GetObject", OBJECT, Condition={"StringEquals": {"s3:prefix": "a"}}))
    assert decision(Principal(ROLE, identity_policies=(prefixed,)), **{"S3:prefix": "b", "s3:prefix": "a"}) == "allow"
    assert decision(Principal(ROLE, identity_policies=(prefixed,)), **{"s3:prefix": "a", "S3:prefix": "b"}) == "implicit-deny"
    # a document changed in place after it was asked: other objects holding what it held keep their own answers
    edited = LabelledPolicy("q", {"Version": "2012-10-17", "Statement": [reads]})
    assert decision(Principal(ROLE, identity_policies=(edited,))) == "allow"
    edited.document["Statement"].append(denies)  # type: ignore[attr-defined]
    fresh = LabelledPolicy("q", {"Version": "2012-10-17", "Statement": [reads, denies]})
    assert decision(Principal(ROLE, identity_policies=(fresh,))) == "explicit-deny"
    broken = LabelledPolicy("r", {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject"}]})
    assert decision(Principal(ROLE, identity_policies=(broken,))) == "unsupported"  # no Resource
    broken.document["Statement"][0]["Resource"] = OBJECT  # type: ignore[index]
    still_broken = LabelledPolicy("r", {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject"}]})
    assert decision(Principal(ROLE, identity_policies=(still_broken,))) == "unsupported"
    # a principal's tags changed, or a copy of the principal with another policy
    tagged = identity(
        stmt("Tagged", "Allow", "s3:GetObject", OBJECT, Condition={"StringEquals": {"aws:PrincipalTag/team": "risk"}})
    )
    tags = {"team": "risk"}
    principal = Principal(ROLE, identity_policies=(tagged,), tags=tags)
    assert decision(principal) == "allow"
    tags["team"] = "fraud"
    assert decision(principal) == "implicit-deny"
    copied = copy.deepcopy(Principal(ROLE, identity_policies=(identity(reads),)))
    assert decision(copied) == "allow"
    copied.identity_policies[0].document["Statement"].append(denies)  # type: ignore[attr-defined]
    assert decision(copy.deepcopy(copied)) == "explicit-deny"


def test_what_a_principal_is_given_is_read_once_and_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    """A second review of the answer memo: lists and generators of policies, tags that are not text, and the tables
    emptied at their limit while a principal's numbers were read from them."""
    from review.access import evaluator

    reads = stmt("Reads", "Allow", "s3:GetObject", OBJECT)
    denies = stmt("NoReads", "Deny", "s3:GetObject", OBJECT)
    given = [identity(reads)]
    from_list = Principal(ROLE, identity_policies=given)  # type: ignore[arg-type]
    from_generator = Principal(ROLE, identity_policies=(lp for lp in [identity(reads)]))  # type: ignore[arg-type]
    for principal in (from_list, from_generator, from_generator):
        assert evaluate(Request(principal, "s3:GetObject", OBJECT, EU)).allowed
    given.append(identity(denies))  # the principal kept what it was given
    assert evaluate(Request(from_list, "s3:GetObject", OBJECT, EU)).allowed
    with pytest.raises(ValueError, match="tags map text to text"):
        Principal(ROLE, tags={"team": ["a", "b"]})  # type: ignore[dict-item]

    monkeypatch.setattr(evaluator, "_LIMIT", 3)  # the tables are emptied every few policies
    edited = LabelledPolicy("q", {"Version": "2012-10-17", "Statement": [reads]})
    principal = Principal(ROLE, identity_policies=(edited,))
    assert evaluate(Request(principal, "s3:GetObject", OBJECT, EU)).allowed
    edited.document["Statement"].append(denies)  # type: ignore[attr-defined]
    for i in range(5):  # other policies fill and empty the tables
        evaluate(Request(Principal(ROLE, identity_policies=(identity(reads),)), "s3:GetObject", f"{OBJECT}{i}", EU))
    another = {**EU, "s3:prefix": "another-question"}
    evaluate(Request(principal, "s3:GetObject", OBJECT, another))
    fresh = Principal(ROLE, identity_policies=(LabelledPolicy("q", {"Version": "2012-10-17", "Statement": [reads]}),))
    assert evaluate(Request(fresh, "s3:GetObject", OBJECT, another)).allowed  # never the edited document's answer
