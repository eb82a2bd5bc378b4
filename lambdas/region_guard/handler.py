"""Region guard: on SageMaker create calls in a Region outside the policy's allowed list.

Events from other Regions reach the home Region through the EventBridge forwarding rules the
enforcement stack creates. In enforce mode training, processing and transform jobs are
stopped and endpoints deleted; other resources are recorded and notified. In report mode
every violation is recorded and notified only.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths

from lambdas.shared.api_call_handler import handle_api_call_event, handle_create_call
from lambdas.shared.runtime import METRICS_NAMESPACE
from lambdas.shared.settings import TRACED_MODULES
from lambdas.table import handler_spec
from policies.naming import REGION_GUARD
from policies.rules.outcome import RuleSet
from policies.rules.region import decide_region

SPEC = handler_spec(REGION_GUARD)
logger = Logger(service=SPEC.name)
tracer = Tracer(service=SPEC.name, patch_modules=TRACED_MODULES)
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SPEC.name)


def guard(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle_create_call(
        event, context, decide=decide_region, act=SPEC.act, logger=logger, metrics=metrics, tags_required=False
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.EVENT_BRIDGE, clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle_api_call_event(
        event, context, process=guard, rule_set=RuleSet.REGION_RESTRICTION, logger=logger, metrics=metrics
    )
