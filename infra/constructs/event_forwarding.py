"""Forward the governed events of one Region to another bus: one rule and target per forwarded pattern.

Used by the enforcement stack (every watched Region to the home Region's default bus) and by a workload account
(every watched Region to the governance hub's bus). Per Region, so plain resources (infra/plain_resources.py) at
the stack's construct ids ``forward-<region>-<purpose>`` and ``...-target``, each other Region's provider
configuration too.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from infra.plain_resources import PlainResources
from lambdas.routing import FORWARDED, forwarded_patterns

FORWARD_MAX_EVENT_AGE_SECONDS = 3600
FORWARD_RETRY_ATTEMPTS = 8


def forward_region(
    plain: PlainResources,
    *,
    region: str,
    provider: str,
    rule_name: Callable[[str], str],
    destination: str,
    bus_arn: str,
    role_arn: str,
    target_id: str,
) -> None:
    """``provider`` names the configuration of ``region`` (``aws`` or ``aws.<alias>``); ``rule_name(purpose)`` names
    each rule; ``destination`` completes "Forwards <what> in <region> to"."""
    for purpose, pattern in forwarded_patterns().items():
        rule = plain.add(
            "aws_cloudwatch_event_rule",
            (f"forward-{region}-{purpose}",),
            {
                "provider": provider,
                "name": rule_name(purpose),
                "description": f"Forwards {FORWARDED[purpose]} in {region} to {destination}",
                "event_pattern": json.dumps(pattern),
            },
        )
        plain.add(
            "aws_cloudwatch_event_target",
            (f"forward-{region}-{purpose}-target",),
            {
                "provider": provider,
                "rule": rule.ref("name"),
                "target_id": target_id,
                "arn": bus_arn,
                "role_arn": role_arn,
                "retry_policy": {
                    "maximum_event_age_in_seconds": FORWARD_MAX_EVENT_AGE_SECONDS,
                    "maximum_retry_attempts": FORWARD_RETRY_ATTEMPTS,
                },
            },
        )


def region_provider(plain: PlainResources, region: str, tags: dict[str, str]) -> str:
    """The AWS provider configuration of ``region`` (aliased by its name), tagging as the stack's default does."""
    return plain.add_provider("aws", region, {"region": region, "default_tags": [{"tags": tags}]})
