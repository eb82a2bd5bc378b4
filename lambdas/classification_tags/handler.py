"""Data-classification tags: on SageMaker create calls (CloudTrail via EventBridge), check the classification tag.

Missing, unknown, or lower than the project's level is a violation. In enforce mode the
resource gets the required level as a tag, or a violating job is stopped when the policy's
classification.remediation is 'stop'; in report mode the violation is recorded and notified.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths

from lambdas.shared import aws
from lambdas.shared.api_call_handler import handle_api_call_event, handle_create_call
from lambdas.shared.runtime import METRICS_NAMESPACE
from lambdas.shared.sagemaker_resources import add_tags, stop_job
from policies.rules.classification import decide_classification
from policies.rules.outcome import Action, Decision
from policies.rules.resources import ResourceFacts

SERVICE = "classification-tags"
logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE)


def act(decision: Decision, resource: ResourceFacts) -> str:
    if decision.action is Action.NONE:
        return "none: compliant"
    if decision.action is Action.REPORT_ONLY:
        return "none: report mode, recorded and notified only"
    if decision.action is Action.TAG_RESOURCE:
        return add_tags(resource, dict(decision.remediation))
    if decision.action is Action.STOP_JOB:
        try:
            return stop_job(resource)
        except Exception as exc:
            if aws.error_code(exc) != "ValidationException":
                raise
            return f"job already finished ({exc}); " + add_tags(resource, dict(decision.remediation))
    raise ValueError(f"data-classification enforcement cannot perform {decision.action}")


def check(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle_create_call(event, context, decide=decide_classification, act=act, logger=logger, metrics=metrics)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.EVENT_BRIDGE, clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle_api_call_event(event, context, process=check, logger=logger)
