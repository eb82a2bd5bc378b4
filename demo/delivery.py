"""Deliver events as the deployed EventBridge would: match the deployed rules' patterns, call the target function's
real handler code with the deployed function's environment, retry on failure, then count it as dead-lettered.

The patterns, targets, handlers and environments are read back from the embedded AWS (what Terraform
applied), not from Python: a rule that was not deployed delivers nothing.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO
from unittest.mock import patch

from infra.embedded_aws import EmbeddedAws

RETRIES = 3


@dataclass(frozen=True)
class DeployedRule:
    name: str
    pattern: Any  # moto.events.models.EventPattern
    function: str
    handler: str
    environment: Mapping[str, str]


@dataclass
class Delivery:
    event_id: str
    detail_type: str
    results: list[tuple[str, dict[str, Any] | str]] = field(default_factory=list)
    dead_lettered: list[str] = field(default_factory=list)


@dataclass
class LambdaContext:
    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int = 512
    aws_request_id: str = "demo"

    def get_remaining_time_in_millis(self) -> int:
        return 1  # retries come a minute or more later in AWS: an in-progress lock has expired by then


def deployed_rules(aws: EmbeddedAws, *, prefix: str, region: str | None = None) -> list[DeployedRule]:
    """The rules named ``prefix*`` in ``region`` (default: home) whose target is a Lambda function."""
    from moto.events.models import EventPattern

    events, functions = aws.client("events", region), aws.client("lambda", region)
    found = []
    # By name: the rules come back in the order Terraform happened to create them; the demo delivers in a fixed one.
    for rule in sorted(events.list_rules(NamePrefix=prefix)["Rules"], key=lambda r: str(r["Name"])):
        if "EventPattern" not in rule:
            continue
        for target in events.list_targets_by_rule(Rule=rule["Name"])["Targets"]:
            if ":lambda:" not in target["Arn"]:
                continue
            config = functions.get_function_configuration(FunctionName=target["Arn"].rsplit(":", 1)[-1])
            found.append(
                DeployedRule(
                    name=rule["Name"],
                    pattern=EventPattern.load(rule["EventPattern"]),
                    function=config["FunctionName"],
                    handler=config["Handler"],
                    environment=config.get("Environment", {}).get("Variables", {}),
                )
            )
    return found


def forwarding_patterns(aws: EmbeddedAws, region: str, prefix: str) -> list[Any]:
    """The forwarding rules deployed in another watched Region (they send matching events to the home bus)."""
    from moto.events.models import EventPattern

    rules = aws.client("events", region).list_rules(NamePrefix=prefix)["Rules"]
    return [EventPattern.load(r["EventPattern"]) for r in rules if "EventPattern" in r]


class Bus:
    """The home Region's default bus with its deployed rules, and the forwarding from every other watched Region."""

    def __init__(
        self,
        aws: EmbeddedAws,
        *,
        rule_prefix: str,
        forwarding_prefix: str,
        regions: Sequence[str],
        policy_file: Path,
        log: TextIO | None = None,
    ):
        self.aws, self.home, self.log = aws, aws.region, log
        self.rules = deployed_rules(aws, prefix=rule_prefix)
        self.forwarding = {r: forwarding_patterns(aws, r, forwarding_prefix) for r in regions if r != aws.region}
        self.policy_file = policy_file
        self.deliveries: list[Delivery] = []

    def put(self, event: dict[str, Any]) -> Delivery:
        """An event as it reaches EventBridge in its Region."""
        delivery = Delivery(str(event["id"]), str(event["detail-type"]))
        self.deliveries.append(delivery)
        body = json.loads(json.dumps(event))
        region = str(event.get("region", self.home))
        if region != self.home and not any(p.matches_event(body) for p in self.forwarding.get(region, [])):
            return delivery  # not forwarded home: nothing acts on it
        for rule in self.rules:
            if rule.pattern.matches_event(body):
                self._invoke(rule, body, delivery)
        return delivery

    def invoke(self, function: str, payload: dict[str, Any]) -> dict[str, Any]:
        """A direct invocation (the deployer), with the deployed function's environment."""
        config = self.aws.client("lambda").get_function_configuration(FunctionName=function)
        rule = DeployedRule("direct", None, function, config["Handler"], config.get("Environment", {}).get("Variables", {}))
        result: dict[str, Any] = self._call(rule, payload)
        return result

    def _invoke(self, rule: DeployedRule, event: dict[str, Any], delivery: Delivery) -> None:
        for attempt in range(RETRIES):
            try:
                delivery.results.append((rule.function, self._call(rule, json.loads(json.dumps(event)))))
                return
            except Exception as exc:  # noqa: BLE001 - EventBridge retries, then dead-letters
                if attempt == RETRIES - 1:
                    delivery.results.append((rule.function, f"failed: {type(exc).__name__}: {exc}"))
                    delivery.dead_lettered.append(rule.function)

    def _call(self, rule: DeployedRule, event: dict[str, Any]) -> Any:
        from lambdas.shared import aws
        from lambdas.shared import policy as packaged
        from lambdas.shared.policy import POLICY_FILE_ENV
        from lambdas.shared.settings import settings

        environment = {**rule.environment, POLICY_FILE_ENV: str(self.policy_file), "POWERTOOLS_TRACE_DISABLED": "true"}
        with patch.dict(os.environ, environment):  # the next function has its own environment, the caller keeps its own
            aws.reset()
            packaged.reset()
            settings.cache_clear()
            module, name = rule.handler.rsplit(".", 1)
            arn = f"arn:aws:lambda:{self.home}:{self.aws_account()}:function:{rule.function}"
            # The functions' logs and metrics (what CloudWatch would receive) go to the log, not the terminal;
            # Powertools binds its log stream when a handler module is first imported, so the import is inside too.
            with contextlib.redirect_stdout(self.log) if self.log else contextlib.nullcontext():
                handler = getattr(importlib.import_module(module), name)
                return handler(event, LambdaContext(function_name=rule.function, invoked_function_arn=arn))

    def aws_account(self) -> str:
        from infra.embedded_aws import MOTO_ACCOUNT_ID

        return MOTO_ACCOUNT_ID
