"""Assertions on the synthesized enforcement stack."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from infra.lambda_packaging import AUTHORING_ONLY, LAMBDA_RUNTIME
from lambdas.routing import forwarded_patterns
from lambdas.table import HANDLERS as TABLE
from lambdas.table import handler_spec
from policies.model import GovernancePolicy
from tests.conftest import Synthesized

HANDLERS = tuple(spec.name for spec in TABLE)
# Actions with no resource-level permission in AWS: the only ones a handler role may grant on "*".
NO_RESOURCE_LEVEL = {
    "xray:PutTelemetryRecords",
    "xray:PutTraceSegments",
    "kms:ListAliases",
    "sagemaker:ListEndpoints",
    "sagemaker:ListInferenceComponents",
}


def functions(synthesized: Synthesized) -> dict[str, dict]:  # type: ignore[type-arg]
    return {
        f["function_name"].removeprefix("acme-"): f for f in synthesized.resources("aws_lambda_function", "enforcement").values()
    }


def test_each_handler_is_a_governed_function(synthesized: Synthesized) -> None:
    found = functions(synthesized)
    assert sorted(found) == sorted(HANDLERS)
    for handler, function in found.items():
        assert function["runtime"] == LAMBDA_RUNTIME
        assert function["handler"] == f"lambdas.{handler.replace('-', '_')}.handler.handler"
        assert function["tracing_config"] == {"mode": "Active"}
        assert function["reserved_concurrent_executions"] == 10
        assert function["kms_key_arn"] == "${data.aws_kms_alias.key-ops.target_key_arn}"
        assert function["dead_letter_config"]["target_arn"].startswith(f"${{aws_sqs_queue.{handler}_dlq_")
        assert function["source_code_hash"].startswith("${filebase64sha256(")
        numeric = ["${aws_lambda_layer_version.numeric-dependencies-layer.arn}"] if handler_spec(handler).numeric else []
        assert function["layers"] == ["${aws_lambda_layer_version.dependencies-layer.arn}", *numeric]
        assert (function["memory_size"], function["timeout"]) == (
            handler_spec(handler).memory_mb,
            handler_spec(handler).timeout_seconds,
        )
        env = function["environment"]["variables"]
        assert env["GOVERNANCE_AUDIT_BUCKET"] == "acme-ml-audit-${data.aws_caller_identity.current.account_id}-eu-west-1"
        assert env["GOVERNANCE_IDEMPOTENCY_TABLE"] == "acme-governance-idempotency"
        assert env["POWERTOOLS_SERVICE_NAME"] == handler


def test_roles_carry_the_boundary_and_grant_no_wildcards_where_an_arn_is_known(synthesized: Synthesized) -> None:
    roles = {r["name"]: r for r in synthesized.resources("aws_iam_role", "enforcement").values()}
    assert set(roles) == {f"acme-{h}" for h in HANDLERS} | {"acme-governance-event-forwarding"}
    for spec in TABLE:
        boundary = "ml" if spec.region_bound else "enforcement"
        assert roles[f"acme-{spec.name}"]["permissions_boundary"].endswith(f":policy/acme-{boundary}-permissions-boundary")
    assert roles["acme-governance-event-forwarding"]["permissions_boundary"].endswith(":policy/acme-ml-permissions-boundary")
    for policy in synthesized.resources("aws_iam_role_policy", "enforcement").values():
        for statement in json.loads(policy["policy"])["Statement"]:
            assert "*" not in statement["Action"]
            if statement["Resource"] == "*":
                assert set(statement["Action"]) <= NO_RESOURCE_LEVEL, statement


def test_targets_retry_then_dead_letter_and_queues_alarm(synthesized: Synthesized) -> None:
    targets = [t for t in synthesized.resources("aws_cloudwatch_event_target", "enforcement").values() if "provider" not in t]
    assert len(targets) == sum(spec.route is not None for spec in TABLE) + sum(spec.schedule is not None for spec in TABLE)
    for target in targets:
        assert target["retry_policy"] == {"maximum_event_age_in_seconds": 3600, "maximum_retry_attempts": 8}
        assert target["dead_letter_config"]["arn"].startswith("${aws_sqs_queue.")
    for queue in synthesized.resources("aws_sqs_queue", "enforcement").values():
        assert queue["kms_master_key_id"] == "${data.aws_kms_alias.key-ops.target_key_arn}"
    invoke = synthesized.resources("aws_lambda_function_event_invoke_config", "enforcement").values()
    assert [(c["maximum_retry_attempts"], c["maximum_event_age_in_seconds"]) for c in invoke] == [(2, 3600)] * len(HANDLERS)
    alarms = {a["alarm_name"]: a for a in synthesized.resources("aws_cloudwatch_metric_alarm", "enforcement").values()}
    for handler in HANDLERS:
        dlq = alarms[f"acme-{handler}-dlq-not-empty"]
        assert (dlq["metric_name"], dlq["threshold"]) == ("ApproximateNumberOfMessagesVisible", 1)
        assert dlq["alarm_actions"][0].endswith(":acme-governance-alerts")
        assert alarms[f"acme-{handler}-errors"]["metric_name"] == "Errors"


def test_idempotency_table_is_encrypted_with_ttl(synthesized: Synthesized) -> None:
    table = synthesized.one("aws_dynamodb_table", "enforcement")
    assert table["hash_key"] == "id"
    assert table["attribute"] == [{"name": "id", "type": "S"}]
    assert table["ttl"] == {"attribute_name": "expiration", "enabled": True}
    assert table["server_side_encryption"] == {"enabled": True, "kms_key_arn": "${data.aws_kms_alias.key-ops.target_key_arn}"}
    assert table["point_in_time_recovery"] == {"enabled": True}


def test_forwarding_rules_in_every_other_watched_region(synthesized: Synthesized, policy: GovernancePolicy) -> None:
    config = synthesized.stacks["enforcement"]
    aliases = sorted(p["alias"] for p in config["provider"]["aws"] if "alias" in p)
    assert aliases == sorted(policy.regions.forwarded)
    assert all(p["region"] == p["alias"] for p in config["provider"]["aws"] if "alias" in p)
    forwarding = [t for t in synthesized.resources("aws_cloudwatch_event_target", "enforcement").values() if "provider" in t]
    assert len(forwarding) == len(forwarded_patterns()) * len(policy.regions.forwarded)
    for target in forwarding:
        assert target["arn"].endswith(":event-bus/default")
        assert ":events:eu-west-1:" in target["arn"]
        assert target["role_arn"] == "${aws_iam_role.event-forwarding-role.arn}"


def test_each_function_package_carries_the_policy_it_enforces(synthesized: Synthesized, policy: GovernancePolicy) -> None:
    stack_dir = synthesized.outdir / "stacks" / "enforcement"
    for handler, function in functions(synthesized).items():
        archive = stack_dir / function["filename"]
        with zipfile.ZipFile(archive) as zipped:
            names = set(zipped.namelist())
            packaged = GovernancePolicy.model_validate_json(zipped.read("policy.json"))
        assert packaged == policy
        assert packaged.version == policy.version
        assert f"lambdas/{handler.replace('-', '_')}/handler.py" in names
        assert "policies/rules/approval.py" in names
        authoring = {f"policies/{m}" for m in AUTHORING_ONLY}
        assert {"policies/loader.py", "policies/descriptions.py"} <= authoring
        assert not authoring & names, "the YAML loader and the field descriptions stay out of the Lambda package"
        assert not any(Path(n).parts[0] in {"pydantic", "aws_lambda_powertools"} for n in names), (
            "third-party code lives in the layer"
        )
