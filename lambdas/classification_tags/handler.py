"""Data-classification tags: on SageMaker create calls (CloudTrail via EventBridge), check the classification tag.

Missing, unknown, or lower than the project's level is a violation. In enforce mode the
resource gets the required level as a tag, or a violating job is stopped when the policy's
classification.remediation is 'stop'; in report mode the violation is recorded and notified.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths

from lambdas.shared.api_call_handler import handle_api_call_event, handle_create_call
from lambdas.shared.runtime import METRICS_NAMESPACE
from lambdas.shared.settings import TRACED_MODULES
from lambdas.table import handler_spec
from policies.naming import CLASSIFICATION_TAGS
from policies.rules.classification import decide_classification
from policies.rules.outcome import RuleSet

SPEC = handler_spec(CLASSIFICATION_TAGS)
logger = Logger(service=SPEC.name)
tracer = Tracer(service=SPEC.name, patch_modules=TRACED_MODULES)
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SPEC.name)


def check(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle_create_call(event, context, decide=decide_classification, act=SPEC.act, logger=logger, metrics=metrics)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.EVENT_BRIDGE, clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle_api_call_event(
        event, context, process=check, rule_set=RuleSet.DATA_CLASSIFICATION, logger=logger, metrics=metrics
    )
