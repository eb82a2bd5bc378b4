"""The organization's infrastructure rules, run directly on synthesized stacks (the checkov checks wrap them)."""

from __future__ import annotations

from typing import Any

from policies.model import GovernancePolicy
from policies.rules.infrastructure import RESOURCE_RULES, Outcome, provider_region, resource_region
from tests.conftest import Synthesized

# The one place the blueprint deliberately departs from a rule (justified in review/checkov_suppressions.yaml).
KNOWN_EXCEPTIONS = {("customer-managed-keys", "aws_s3_bucket_server_side_encryption_configuration", "access-logs_encryption")}


def regions_by_alias(config: dict[str, Any]) -> dict[str, str]:
    return {p["alias"]: p["region"] for p in config.get("provider", {}).get("aws", []) if "alias" in p}


def run_rules(policy: GovernancePolicy, config: dict[str, Any]) -> dict[str, dict[str, Outcome]]:
    """Rule -> resource address -> outcome, for every applicable resource."""
    results: dict[str, dict[str, Outcome]] = {rule: {} for rule in [*RESOURCE_RULES, "resource-region"]}
    aliases = regions_by_alias(config)
    for rtype, items in config.get("resource", {}).items():
        for name, body in items.items():
            address = f"{rtype}.{name.rsplit('_', 1)[0]}"
            for rule_name, rule in RESOURCE_RULES.items():
                finding = rule(policy, rtype, body)
                if finding.outcome is not Outcome.NOT_APPLICABLE:
                    results[rule_name][address] = finding.outcome
            results["resource-region"][address] = resource_region(policy, rtype, body, aliases).outcome
    return results


def test_the_blueprint_passes_every_rule(synthesized: Synthesized, policy: GovernancePolicy) -> None:
    failures = set()
    for config in synthesized.stacks.values():
        for provider in config["provider"]["aws"]:
            assert provider_region(policy, provider).outcome is Outcome.PASSED, provider
        for rule, outcomes in run_rules(policy, config).items():
            for address, outcome in outcomes.items():
                if outcome is Outcome.FAILED:
                    rtype, name = address.split(".", 1)
                    failures.add((rule, rtype, name))
    assert failures == KNOWN_EXCEPTIONS


def failed_addresses(results: dict[str, dict[str, Outcome]], rule: str) -> set[str]:
    return {address for address, outcome in results[rule].items() if outcome is Outcome.FAILED}


def test_each_rule_fails_on_exactly_the_bad_resources(bad_stack: dict[str, Any], policy: GovernancePolicy) -> None:
    results = run_rules(policy, bad_stack)
    assert failed_addresses(results, "permissions-boundary") == {
        "aws_iam_role.role-without-boundary",
        "aws_iam_role.role-with-another-boundary",
    }
    assert failed_addresses(results, "no-wildcard-grants") == {
        "aws_iam_policy.policy-with-star-action",
        "aws_iam_policy.policy-passing-any-role",
    }
    assert failed_addresses(results, "customer-managed-keys") == {
        "aws_s3_bucket_server_side_encryption_configuration.bucket-sse-s3-encryption",
        "aws_s3_bucket_server_side_encryption_configuration.bucket-aws-managed-key-encryption",
    }
    assert failed_addresses(results, "classification-tag") == {
        "aws_sagemaker_model_package_group.group-without-classification",
        "aws_sagemaker_model_package_group.group-below-project-level",
    }
    assert failed_addresses(results, "resource-region") == {"aws_s3_bucket.bucket-in-another-region"}
    assert failed_addresses(results, "audit-object-lock") == {
        "aws_s3_bucket.audit-bucket-without-lock",
        "aws_s3_bucket_object_lock_configuration.lock-too-short",
    }
    providers = {p.get("alias", "default"): provider_region(policy, p).outcome for p in bad_stack["provider"]["aws"]}
    assert providers == {"default": Outcome.PASSED, "ap-east-1": Outcome.FAILED}


def test_rules_read_the_policy(bad_stack: dict[str, Any], policy: GovernancePolicy) -> None:
    """The same stack judged under another policy: the rules follow the policy, not constants."""
    from tests.conftest import policy_variant

    lenient = policy_variant(
        policy,
        regions={"allowed": ["eu-west-1", "eu-central-1", "ap-east-1"], "watched": [*policy.regions.watched, "ap-east-1"]},
        audit={"retention_years": 1, "object_lock_mode": "GOVERNANCE"},
    )
    results = run_rules(lenient, bad_stack)
    assert failed_addresses(results, "resource-region") == set()
    assert failed_addresses(results, "audit-object-lock") == {"aws_s3_bucket.audit-bucket-without-lock"}
