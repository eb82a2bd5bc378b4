"""Forward the governed events of one Region to another bus: one rule and target per forwarded pattern.

Used by the enforcement stack (every watched Region to the home Region's default bus) and by a workload account
(every watched Region to the governance hub's bus). The resources are created in ``scope`` with the construct ids
``forward-<region>-<purpose>`` and ``...-target``.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from cdktn_provider_aws.cloudwatch_event_rule import CloudwatchEventRule
from cdktn_provider_aws.cloudwatch_event_target import CloudwatchEventTarget, CloudwatchEventTargetRetryPolicy
from cdktn_provider_aws.provider import AwsProvider
from constructs import Construct

from lambdas.routing import FORWARDED, forwarded_patterns

FORWARD_MAX_EVENT_AGE_SECONDS = 3600
FORWARD_RETRY_ATTEMPTS = 8


def forward_region(
    scope: Construct,
    *,
    region: str,
    provider: AwsProvider,
    rule_name: Callable[[str], str],
    destination: str,
    bus_arn: str,
    role_arn: str,
    target_id: str,
) -> None:
    """``rule_name(purpose)`` names each rule; ``destination`` completes "Forwards <what> in <region> to"."""
    for purpose, pattern in forwarded_patterns().items():
        rule = CloudwatchEventRule(
            scope,
            f"forward-{region}-{purpose}",
            provider=provider,
            name=rule_name(purpose),
            description=f"Forwards {FORWARDED[purpose]} in {region} to {destination}",
            event_pattern=json.dumps(pattern),
        )
        CloudwatchEventTarget(
            scope,
            f"forward-{region}-{purpose}-target",
            provider=provider,
            rule=rule.name,
            target_id=target_id,
            arn=bus_arn,
            role_arn=role_arn,
            retry_policy=CloudwatchEventTargetRetryPolicy(
                maximum_event_age_in_seconds=FORWARD_MAX_EVENT_AGE_SECONDS, maximum_retry_attempts=FORWARD_RETRY_ATTEMPTS
            ),
        )
