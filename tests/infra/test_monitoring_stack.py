"""The monitoring stack follows each endpoint's engine: drift-job endpoints get a Scheduler schedule that runs the
drift monitor, model-monitor endpoints get today's Model Monitor resources, and neither gets the other's."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from lambdas.drift_monitor.run import parse_run
from policies.errors import PolicyError
from policies.model import GovernancePolicy
from tests.conftest import Synthesized, SynthesizeFn, policy_variant, with_engines

MODEL_MONITOR_TYPES = (
    "aws_sagemaker_monitoring_schedule",
    "aws_sagemaker_data_quality_job_definition",
    "aws_cloudwatch_event_rule",
    "aws_cloudwatch_metric_alarm",
)
ACCOUNT = "${data.aws_caller_identity.current.account_id}"
PARTITION = "${data.aws_partition.partition.partition}"
OPS_KEY = "${data.aws_kms_alias.key-ops.target_key_arn}"


@pytest.fixture(scope="module")
def mixed(synthesize: SynthesizeFn, policy: GovernancePolicy) -> Synthesized:
    return synthesize(with_engines(policy, {"credit-risk-scoring": "model-monitor"}))


def schedules(out: Synthesized) -> dict[str, dict[str, Any]]:
    return {s["name"]: s for s in out.resources("aws_scheduler_schedule", "monitoring").values()}


def test_drift_job_endpoints_get_no_model_monitor_resource(synthesized: Synthesized, policy: GovernancePolicy) -> None:
    assert {e.engine.value for p in policy.projects for e in p.endpoints} == {"drift-job"}  # the default engine
    for rtype in MODEL_MONITOR_TYPES:
        assert synthesized.resources(rtype, "monitoring") == {}, rtype
    declared = {e.name: (p.name, e) for p in policy.projects for e in p.endpoints}
    found = schedules(synthesized)
    assert sorted(found) == sorted(declared)
    for name, (project, endpoint) in declared.items():
        schedule = found[name]
        assert re.fullmatch(
            r"\$\{aws_scheduler_schedule_group\.drift-scheduler_group_[0-9A-F]{8}\.name\}", schedule["group_name"]
        )
        assert schedule["schedule_expression"] == endpoint.schedule
        assert schedule["schedule_expression_timezone"] == "UTC"
        assert schedule["flexible_time_window"] == {"mode": "OFF"}
        assert schedule["kms_key_arn"] == OPS_KEY
        target = schedule["target"]
        assert target["arn"] == f"arn:{PARTITION}:lambda:eu-west-1:{ACCOUNT}:function:acme-drift-monitor"
        assert target["dead_letter_config"] == {"arn": f"arn:{PARTITION}:sqs:eu-west-1:{ACCOUNT}:acme-drift-monitor-dlq"}
        assert target["retry_policy"] == {"maximum_event_age_in_seconds": 3600, "maximum_retry_attempts": 8}
        assert target["role_arn"].startswith("${aws_iam_role.drift-scheduler_role_")
        run = json.loads(target["input"])
        assert run["detail"] == {"project": project, "endpoint": name, "attempt": "<aws.scheduler.attempt-number>"}
        assert (run["detail-type"], run["time"]) == ("Scheduled Event", "<aws.scheduler.scheduled-time>")


def test_the_schedule_input_is_a_run_the_handler_accepts(synthesized: Synthesized, policy: GovernancePolicy) -> None:
    for name, schedule in schedules(synthesized).items():
        delivered = schedule["target"]["input"].replace("<aws.scheduler.scheduled-time>", "2026-11-20T10:00:00Z")
        run = parse_run(json.loads(delivered), policy)
        assert (run.endpoint, run.id) == (name, f"drift-{name}-20261120T100000Z")


def test_the_schedules_run_the_function_the_enforcement_stack_creates(synthesized: Synthesized) -> None:
    functions = {f["function_name"]: f for f in synthesized.resources("aws_lambda_function", "enforcement").values()}
    drift = functions["acme-drift-monitor"]
    assert drift["handler"] == "lambdas.drift_monitor.handler.handler"
    queues = {q["name"] for q in synthesized.resources("aws_sqs_queue", "enforcement").values()}
    assert "acme-drift-monitor-dlq" in queues
    # No rule invokes it: the schedules are its only trigger, and they need no resource-based permission.
    permissions = synthesized.resources("aws_lambda_permission", "enforcement").values()
    assert not [p for p in permissions if "drift-monitor" in p["function_name"]]


def test_the_scheduler_role_may_only_run_the_drift_monitor(synthesized: Synthesized) -> None:
    role = synthesized.one("aws_iam_role", "monitoring")
    assert role["name"] == "acme-drift-monitor-scheduler"
    assert role["permissions_boundary"] == f"arn:{PARTITION}:iam::{ACCOUNT}:policy/acme-ml-permissions-boundary"
    (trust,) = json.loads(role["assume_role_policy"])["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert trust["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
        "ArnEquals": {"aws:SourceArn": f"arn:{PARTITION}:scheduler:eu-west-1:{ACCOUNT}:schedule-group/acme-drift-monitor"},
    }
    statements = {s["Sid"]: s for s in json.loads(synthesized.one("aws_iam_role_policy", "monitoring")["policy"])["Statement"]}
    assert {sid: (s["Action"], s["Resource"]) for sid, s in statements.items()} == {
        "InvokeDriftMonitor": (
            ["lambda:InvokeFunction"],
            [f"arn:{PARTITION}:lambda:eu-west-1:{ACCOUNT}:function:acme-drift-monitor"],
        ),
        "DeadLetterUndeliveredRuns": (["sqs:SendMessage"], [f"arn:{PARTITION}:sqs:eu-west-1:{ACCOUNT}:acme-drift-monitor-dlq"]),
        "UseOpsKey": (["kms:Decrypt", "kms:GenerateDataKey"], [OPS_KEY]),
    }
    group = synthesized.one("aws_scheduler_schedule_group", "monitoring")
    assert group["name"] == "acme-drift-monitor"


def test_model_monitor_endpoints_keep_todays_resources(mixed: Synthesized) -> None:
    (schedule,) = mixed.resources("aws_sagemaker_monitoring_schedule", "monitoring").values()
    assert schedule["name"] == "credit-risk-scoring-data-quality"
    assert schedule["monitoring_schedule_config"]["schedule_config"]["schedule_expression"] == "cron(0 * ? * * *)"
    assert schedule["monitoring_schedule_config"]["monitoring_type"] == "DataQuality"
    (definition,) = mixed.resources("aws_sagemaker_data_quality_job_definition", "monitoring").values()
    assert definition["data_quality_job_input"]["endpoint_input"]["endpoint_name"] == "credit-risk-scoring"
    output = definition["data_quality_job_output_config"]["monitoring_outputs"]["s3_output"]["s3_uri"]
    assert output == f"s3://acme-ml-lineage-{ACCOUNT}-eu-west-1/projects/credit-risk/monitoring/credit-risk-scoring/data-quality"
    assert definition["data_quality_job_output_config"]["kms_key_id"] == "${data.aws_kms_alias.key-data.target_key_arn}"
    assert definition["network_config"] == {"enable_inter_container_traffic_encryption": True, "enable_network_isolation": True}
    alarms = mixed.resources("aws_cloudwatch_metric_alarm", "monitoring")
    assert len(alarms) == 2
    assert all(a["alarm_actions"] == [f"arn:{PARTITION}:sns:eu-west-1:{ACCOUNT}:acme-governance-alerts"] for a in alarms.values())
    assert len(mixed.resources("aws_cloudwatch_event_rule", "monitoring")) == 2
    assert sorted(schedules(mixed)) == ["churn-forecast-live"]


def test_only_model_monitor_endpoints_need_no_scheduler(synthesize: SynthesizeFn, policy: GovernancePolicy) -> None:
    out = synthesize(with_engines(policy, {"credit-risk-scoring": "model-monitor", "churn-forecast-live": "model-monitor"}))
    assert len(out.resources("aws_sagemaker_monitoring_schedule", "monitoring")) == 2
    for rtype in ("aws_scheduler_schedule", "aws_scheduler_schedule_group", "aws_iam_role", "aws_iam_role_policy"):
        assert out.resources(rtype, "monitoring") == {}, rtype


def _build(policy: GovernancePolicy, tmp_path: Path) -> Any:
    from cdktn import Testing

    import infra.node  # noqa: F401
    from infra.app import build

    return build(Testing.app(outdir=str(tmp_path)), policy)


def test_a_region_without_model_monitor_only_refuses_model_monitor_endpoints(policy: GovernancePolicy, tmp_path: Path) -> None:
    regions = {"home": "ap-southeast-7", "allowed": ["ap-southeast-7"], "watched": [*policy.regions.watched, "ap-southeast-7"]}
    stacks = _build(policy_variant(policy, regions=regions), tmp_path / "drift")
    assert "monitoring" in stacks
    with pytest.raises(
        PolicyError, match=r"no analyzer image in ap-southeast-7; .* or give credit-risk-scoring the drift-job engine"
    ):
        _build(with_engines(policy_variant(policy, regions=regions), {"credit-risk-scoring": "model-monitor"}), tmp_path / "mm")
