"""Alarms that fire on the first occurrence of something that should never happen."""

from __future__ import annotations

from cdktn_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from constructs import Construct


def alarm_on_first(
    scope: Construct,
    construct_id: str,
    *,
    name: str,
    description: str,
    namespace: str,
    metric: str,
    alarm_actions: list[str],
    dimensions: dict[str, str] | None = None,
    statistic: str = "Sum",
    ok_actions: list[str] | None = None,
    tags: dict[str, str] | None = None,
) -> CloudwatchMetricAlarm:
    """Alarm when the metric reaches 1 within five minutes; no data means nothing happened."""
    return CloudwatchMetricAlarm(
        scope,
        construct_id,
        alarm_name=name,
        alarm_description=description,
        namespace=namespace,
        metric_name=metric,
        dimensions=dimensions,
        statistic=statistic,
        period=300,
        evaluation_periods=1,
        threshold=1,
        comparison_operator="GreaterThanOrEqualToThreshold",
        treat_missing_data="notBreaching",
        alarm_actions=alarm_actions,
        ok_actions=ok_actions,
        tags=tags,
    )
