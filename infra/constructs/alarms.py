"""Alarms that fire on the first occurrence of something that should never happen."""

from __future__ import annotations

from typing import Any


def first_occurrence_alarm(
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
) -> dict[str, Any]:
    """An ``aws_cloudwatch_metric_alarm``'s arguments (the binding's keyword arguments too): alarm when the metric
    reaches 1 within five minutes; no data means nothing happened."""
    return {
        "alarm_name": name,
        "alarm_description": description,
        "namespace": namespace,
        "metric_name": metric,
        "dimensions": dimensions,
        "statistic": statistic,
        "period": 300,
        "evaluation_periods": 1,
        "threshold": 1,
        "comparison_operator": "GreaterThanOrEqualToThreshold",
        "treat_missing_data": "notBreaching",
        "alarm_actions": alarm_actions,
        "ok_actions": ok_actions,
        "tags": tags,
    }
