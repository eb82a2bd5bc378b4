"""Assertions on the synthesized Terraform JSON of the default policy."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from iam.boundary import MANAGED_POLICY_MAX_CHARS, deployed_chars, enforcement_boundary, permissions_boundary
from infra.stacks.base import AWS_PROVIDER_CONSTRAINT
from lambdas.table import HANDLERS
from policies.loader import load_policy
from policies.model import GovernancePolicy
from policies.naming import Names
from tests.conftest import REPO, Synthesized, SynthesizeFn, policy_variant, with_engines

BOUNDARY_REF = "${aws_iam_policy.permissions-boundary.arn}"


def by_bucket(synthesized: Synthesized, rtype: str) -> dict[str, dict[str, Any]]:
    """Resources of ``rtype`` keyed by the bucket purpose they configure (lineage, audit, access-logs)."""
    out = {}
    for name, body in synthesized.resources(rtype, "foundation").items():
        out[name.split("_")[0]] = body
    return out


def test_stacks_are_pinned_to_home_region_with_standard_tags(synthesized: Synthesized, policy: GovernancePolicy) -> None:
    for name, config in synthesized.stacks.items():
        (provider,) = [p for p in config["provider"]["aws"] if "alias" not in p]
        assert provider["region"] == policy.regions.home
        tags = provider["default_tags"][0]["tags"]
        assert tags["data-classification"] == "restricted", name  # most sensitive governed project
        assert tags["cost-center"] == "ml-platform"
        assert tags["governance-stack"] == name
        assert config["terraform"]["required_providers"]["aws"] == {"source": "hashicorp/aws", "version": AWS_PROVIDER_CONSTRAINT}
        assert config["terraform"]["backend"] == {"local": {"path": f"terraform.{name}.tfstate"}}


def test_keys_rotate_and_have_explicit_policies(synthesized: Synthesized) -> None:
    keys = synthesized.resources("aws_kms_key", "foundation")
    assert len(keys) == 3
    for key in keys.values():
        assert key["enable_key_rotation"] is True
        statements = json.loads(key["policy"])["Statement"]
        assert statements[0]["Sid"] == "AccountAdministersKeyThroughIam"
        assert all(s["Principal"] != "*" and s["Principal"] != {"AWS": "*"} for s in statements)
    aliases = sorted(a["name"] for a in synthesized.resources("aws_kms_alias", "foundation").values())
    assert aliases == ["alias/acme-ml-audit", "alias/acme-ml-data", "alias/acme-ml-ops"]


def test_every_bucket_is_encrypted_versioned_private_and_tls_only(synthesized: Synthesized) -> None:
    buckets = by_bucket(synthesized, "aws_s3_bucket")
    assert set(buckets) == {"lineage", "audit", "access-logs"}
    encryption = by_bucket(synthesized, "aws_s3_bucket_server_side_encryption_configuration")
    for purpose, key in (("lineage", "data-key"), ("audit", "audit-key")):
        (rule,) = encryption[purpose]["rule"]
        assert rule["apply_server_side_encryption_by_default"]["sse_algorithm"] == "aws:kms"
        assert rule["apply_server_side_encryption_by_default"]["kms_master_key_id"].startswith(f"${{aws_kms_key.{key}_")
        assert rule["bucket_key_enabled"] is True
    # S3 server access logging cannot deliver to an SSE-KMS bucket: the log bucket uses SSE-S3.
    (log_rule,) = encryption["access-logs"]["rule"]
    assert log_rule["apply_server_side_encryption_by_default"] == {"sse_algorithm": "AES256"}

    for purpose in buckets:
        assert by_bucket(synthesized, "aws_s3_bucket_versioning")[purpose]["versioning_configuration"] == {"status": "Enabled"}
        block = by_bucket(synthesized, "aws_s3_bucket_public_access_block")[purpose]
        assert all(
            block[flag] is True
            for flag in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
        )
        ownership = by_bucket(synthesized, "aws_s3_bucket_ownership_controls")[purpose]
        assert ownership["rule"] == {"object_ownership": "BucketOwnerEnforced"}
        statements = {
            s["Sid"]: s for s in json.loads(by_bucket(synthesized, "aws_s3_bucket_policy")[purpose]["policy"])["Statement"]
        }
        assert statements["DenyInsecureTransport"]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        assert statements["DenyInsecureTransport"]["Effect"] == "Deny"
        (lifecycle,) = by_bucket(synthesized, "aws_s3_bucket_lifecycle_configuration")[purpose]["rule"]
        assert lifecycle["status"] == "Enabled"
        assert lifecycle["abort_incomplete_multipart_upload"] == [{"days_after_initiation": 7}]
        assert by_bucket(synthesized, "aws_s3_bucket_notification")[purpose]["eventbridge"] is True
    for purpose in ("lineage", "audit"):
        statements = {
            s["Sid"] for s in json.loads(by_bucket(synthesized, "aws_s3_bucket_policy")[purpose]["policy"])["Statement"]
        }
        assert {"DenyUploadsNotEncryptedWithKms", "DenyUploadsWithAnotherKmsKey"} <= statements
        logging = by_bucket(synthesized, "aws_s3_bucket_logging")[purpose]
        assert logging["target_bucket"] == "acme-ml-access-logs-${data.aws_caller_identity.current.account_id}-eu-west-1"


def test_audit_bucket_has_object_lock_from_the_policy(synthesized: Synthesized, policy: GovernancePolicy) -> None:
    assert by_bucket(synthesized, "aws_s3_bucket")["audit"]["object_lock_enabled"] is True
    assert by_bucket(synthesized, "aws_s3_bucket")["lineage"]["object_lock_enabled"] is False
    lock = synthesized.one("aws_s3_bucket_object_lock_configuration", "foundation")
    assert lock["rule"]["default_retention"] == {"mode": "COMPLIANCE", "years": policy.audit.retention_years}


def test_boundary_denies_exactly_the_regions_outside_the_policy(synthesized: Synthesized, policy: GovernancePolicy) -> None:
    boundary = synthesized.resources("aws_iam_policy", "identity")["permissions-boundary"]
    statements = {s["Sid"]: s for s in json.loads(boundary["policy"])["Statement"]}
    region_deny = statements["DenyOutsideAllowedRegions"]
    assert region_deny["Effect"] == "Deny"
    assert region_deny["Condition"] == {"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1", "eu-central-1"]}}
    assert region_deny["NotAction"] == sorted(policy.regions.global_service_actions)
    without_boundary = statements["DenyPrincipalsWithoutBoundary"]
    allowed_boundaries = without_boundary["Condition"]["StringNotEquals"]["iam:PermissionsBoundary"]
    assert [b.rsplit("/", 1)[1] for b in allowed_boundaries] == [
        "acme-ml-permissions-boundary",
        "acme-enforcement-permissions-boundary",
    ]
    assert set(statements["DenyBoundaryRemoval"]["Action"]) == {
        "iam:DeleteRolePermissionsBoundary",
        "iam:DeleteUserPermissionsBoundary",
    }
    approval = statements["DenyApprovalStatusChangeByNonApprovers"]
    assert approval["Action"] == ["sagemaker:UpdateModelPackage"]
    approvers = approval["Condition"]["ArnNotEquals"]["aws:PrincipalArn"]
    assert [a.rsplit("/", 1)[1] for a in approvers] == ["acme-model-approver", "acme-approval-gate", "acme-drift-monitor"]


def test_every_role_carries_the_boundary(synthesized: Synthesized, policy: GovernancePolicy) -> None:
    roles = {body["name"]: body for _, rtype, _, body in synthesized.all_resources() if rtype == "aws_iam_role"}
    expected = {"acme-data-scientist", "acme-ml-engineer", "acme-model-approver", "acme-auditor"}
    expected |= {f"acme-{p.name}-sagemaker-execution" for p in policy.projects}
    assert expected <= set(roles)
    for name, role in roles.items():
        assert role.get("permissions_boundary"), f"role {name} has no permissions boundary"
    identity_roles = synthesized.resources("aws_iam_role", "identity")
    assert all(role["permissions_boundary"] == BOUNDARY_REF for role in identity_roles.values())


def test_one_model_package_group_per_project_with_its_tags(synthesized: Synthesized, policy: GovernancePolicy) -> None:
    groups = {g["model_package_group_name"]: g for g in synthesized.resources("aws_sagemaker_model_package_group").values()}
    assert sorted(groups) == sorted(p.name for p in policy.projects)
    for project in policy.projects:
        tags = groups[project.name]["tags"]
        assert tags["data-classification"] == project.classification
        assert tags["owner-team"] == project.owner_team
        assert tags["ml-project"] == project.name
    policies = synthesized.resources("aws_sagemaker_model_package_group_policy")
    assert len(policies) == len(policy.projects)
    for body in policies.values():
        (statement,) = json.loads(body["resource_policy"])["Statement"]
        assert statement["Effect"] == "Deny" and statement["Action"] == "sagemaker:UpdateModelPackage"


def test_alerts_topic_and_trail_are_encrypted(synthesized: Synthesized) -> None:
    topic = synthesized.one("aws_sns_topic", "foundation")
    assert topic["kms_master_key_id"].startswith("${aws_kms_key.ops-key_")
    trail = synthesized.one("aws_cloudtrail", "audit-trail")
    assert trail["is_multi_region_trail"] is True
    assert trail["enable_log_file_validation"] is True
    assert trail["kms_key_id"] == "${data.aws_kms_alias.key-audit.target_key_arn}"
    assert trail["s3_bucket_name"] == "acme-ml-audit-${data.aws_caller_identity.current.account_id}-eu-west-1"
    assert trail["cloud_watch_logs_group_arn"].endswith(":*")
    assert trail["cloud_watch_logs_role_arn"] == "${aws_iam_role.trail-logs-role.arn}"


def test_trail_alarms_watch_exactly_what_the_boundary_denies(synthesized: Synthesized) -> None:
    boundary = json.loads(synthesized.resources("aws_iam_policy", "identity")["permissions-boundary"]["policy"])
    denied = {s["Sid"]: set(s["Action"]) for s in boundary["Statement"] if s["Effect"] == "Deny" and "Action" in s}
    filters = synthesized.resources("aws_cloudwatch_log_metric_filter", "audit-trail")
    watched = {}
    for body in filters.values():
        source = re.search(r'\$\.eventSource = "([a-z0-9-]+)\.amazonaws\.com"', body["pattern"])
        assert source, body["pattern"]
        watched[body["name"]] = {f"{source.group(1)}:{n}" for n in re.findall(r'\$\.eventName = "(\w+)"', body["pattern"])}
        assert body["log_group_name"] == "${aws_cloudwatch_log_group.trail-logs.name}"
    assert watched == {
        "acme-trail-tampering": denied["DenyAuditTrailTampering"],
        "acme-boundary-removal": denied["DenyBoundaryRemoval"],
    }
    alarms = synthesized.resources("aws_cloudwatch_metric_alarm", "audit-trail")
    assert sorted(a["alarm_name"] for a in alarms.values()) == sorted(watched)
    assert all(a["alarm_actions"][0].endswith(":acme-governance-alerts") for a in alarms.values())


def test_the_tamper_watch_knows_every_alarm_log_group_metric_filter_and_role_the_stacks_create(
    synthesize: SynthesizeFn, policy: GovernancePolicy
) -> None:
    """Its rule knows them by name (a team's own ``<org>-...`` alarm or role is not the blueprint's), so each one a
    stack creates must be one the rule names: the shipped policy's, and a Model Monitor endpoint's alarms (the
    multi-account example's roles: tests/multi_account/test_synth.py)."""
    from policies.rules.tampering import CallFacts, governed_target

    handlers = [spec.name for spec in HANDLERS]
    variant = with_engines(policy, {"credit-risk-scoring": "model-monitor"})
    for judged in (policy, variant):
        out = synthesize(judged)
        created = {
            ("monitoring.amazonaws.com", "DeleteAlarms"): [
                a["alarm_name"] for a in out.resources("aws_cloudwatch_metric_alarm").values()
            ],
            ("logs.amazonaws.com", "DeleteLogGroup"): [g["name"] for g in out.resources("aws_cloudwatch_log_group").values()],
            ("logs.amazonaws.com", "DeleteMetricFilter"): [
                f["name"] for f in out.resources("aws_cloudwatch_log_metric_filter").values()
            ],
            ("iam.amazonaws.com", "UpdateAssumeRolePolicy"): [r["name"] for r in out.resources("aws_iam_role").values()],
        }
        assert all(created.values())
        for (source, call), names in created.items():
            unknown = [n for n in names if not governed_target(judged, CallFacts(source, call, n, "eu-west-1"), handlers)]
            assert unknown == [], f"{call} of {unknown} would not be seen as tampering"
    monitored = {a["alarm_name"] for a in synthesize(variant).resources("aws_cloudwatch_metric_alarm", "monitoring").values()}
    assert monitored == {"acme-credit-risk-scoring-monitoring-violations", "acme-credit-risk-scoring-monitoring-failed"}


def test_tokens_do_not_capture_a_javascript_creation_stack(synthesized: Synthesized) -> None:
    """infra/node.py turns the capture off (it only ever showed the kernel's frames). It holds only if the kernel
    started after infra/node.py set its environment, with the bundled Node.js: this module imported a stack first."""
    from cdktn import App, TerraformStack, Tokenization
    from cdktn_provider_aws.sqs_queue import SqsQueue

    arn = SqsQueue(TerraformStack(App(), "probe"), "queue", name="queue").arn
    assert list(Tokenization.reverse_string(arn).tokens[0].creation_stack) == []


@pytest.mark.parametrize("partition", ["aws", "aws-us-gov"])
@pytest.mark.parametrize("variant", ["shipped", "multi-account example", "a 16-character organization name, 4 Regions allowed"])
def test_the_boundaries_fit_iams_managed_policy_quota_as_deployed(policy: GovernancePolicy, variant: str, partition: str) -> None:
    """IAM refuses a managed policy over 6,144 characters (whitespace not counted) at deploy; moto does not check it.
    The boundaries were 6,230 for the shipped policy before their resources were named in any account and partition.
    Each character of the organization's name adds about 40, each allowed Region about 16: synth refuses a policy
    over the quota (tests/test_commands.py)."""
    if variant == "multi-account example":
        policy = load_policy(REPO / "examples" / "multi-account" / "governance.yaml")
    elif variant != "shipped":
        regions = policy.regions.model_dump(mode="json")
        policy = policy_variant(
            policy,
            organization={**policy.organization.model_dump(mode="json"), "name": "a" * 16},
            regions={**regions, "allowed": [regions["home"], *[r for r in regions["watched"] if r != regions["home"]][:3]]},
        )
    names = Names(policy, account="123456789012", partition=partition)
    handlers = [spec.name for spec in HANDLERS]
    actions = [a for s in HANDLERS if not s.region_bound for g in s.grants for a in g.actions]
    for document in (permissions_boundary(names, handlers), enforcement_boundary(names, handlers, actions)):
        assert deployed_chars(document) <= MANAGED_POLICY_MAX_CHARS


INLINE_ROLE_POLICIES_MAX_CHARS = 10_240  # IAM: all inline policies of one role together, whitespace not counted
TRUST_POLICY_MAX_CHARS = 2_048  # IAM: a role trust policy, by default (adjustable to 4,096)
BUCKET_POLICY_MAX_BYTES = 20_480  # S3: a bucket policy
STAND_INS = {
    "${data.aws_caller_identity.current.account_id}": "123456789012",
    "${data.aws_partition.current.partition}": "aws-us-gov",  # the longest partition
}
REFERENCE = re.compile(r"\$\{[^}]+\}")


def as_deployed(document: str) -> str:
    """The document with the account and partition filled in and any other reference (a key's ARN...) given 100
    characters, more than any ARN the stacks reference."""
    for reference, value in STAND_INS.items():
        document = document.replace(reference, value)
    return REFERENCE.sub("x" * 100, document)


def test_hundreds_of_projects_deploy_within_iams_and_s3s_policy_quotas(
    synthesize: SynthesizeFn, policy: GovernancePolicy
) -> None:
    """The deployer's role policy named one execution role ARN per project: over IAM's 10,240 characters from
    about 100 projects (the lineage bucket policy, naming them twice, over S3's 20 KB too), and the project-scoped
    personas' trust listed every project's name (over IAM's 2,048 characters for a trust at about 80). AWS refuses
    each at apply; moto does not check. No policy grows with the number of projects now."""
    from tests.benchmarks.bench_synth import policy_with_projects

    stacks = synthesize(policy_with_projects(400)).stacks
    inline: dict[str, int] = {}
    buckets: dict[str, int] = {}
    trusts: dict[str, int] = {}
    for stack_name, stack in stacks.items():
        resources = stack.get("resource", {})
        for name, body in resources.get("aws_iam_role", {}).items():
            trusts[f"{stack_name}/{name}"] = deployed_chars(json.loads(as_deployed(body["assume_role_policy"])))
        for body in resources.get("aws_iam_role_policy", {}).values():
            role = f"{stack_name}/{body['role']}"
            inline[role] = inline.get(role, 0) + deployed_chars(json.loads(as_deployed(body["policy"])))
        for name, body in resources.get("aws_s3_bucket_policy", {}).items():
            buckets[f"{stack_name}/{name}"] = len(re.sub(r"\s", "", as_deployed(body["policy"])).encode())
    assert len(inline) > 20 and len(buckets) >= 3
    assert {role: size for role, size in inline.items() if size > INLINE_ROLE_POLICIES_MAX_CHARS} == {}
    assert {bucket: size for bucket, size in buckets.items() if size > BUCKET_POLICY_MAX_BYTES} == {}
    assert {role: size for role, size in trusts.items() if size > TRUST_POLICY_MAX_CHARS} == {}
