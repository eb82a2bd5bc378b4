"""The common end of every handler: record the decision, notify on violations, count the outcome."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from lambdas.shared import ledger
from lambdas.shared.audit import audit_key, build_record, write_record
from lambdas.shared.notify import publish
from lambdas.shared.policy import governance_policy
from lambdas.shared.settings import METRICS_NAMESPACE, settings
from policies.rules.outcome import Decision, Verdict

__all__ = ["METRICS_NAMESPACE", "conclude", "policy_version"]
ALERTED = "alerted"


def _alerted(key: str, logger: Logger) -> bool:
    """Whether this record's alert went out; an unreadable ledger counts as not sent (a duplicate alert beats none)."""
    try:
        return ledger.seen(ALERTED, key)
    except Exception:  # noqa: BLE001 - at least once: alert again rather than stay silent
        logger.warning("alert ledger unreadable; alerting again", extra={"audit_record": key})
        return False


def event_time(event: dict[str, Any]) -> datetime:
    """The event's time, or now when it has none or an unreadable one."""
    raw = event.get("time")
    try:
        return datetime.fromisoformat(str(raw).replace("Z", "+00:00")) if raw else datetime.now(UTC)
    except ValueError:
        return datetime.now(UTC)


def policy_version() -> str:
    """The version of the packaged policy, or why it cannot be read (the record says so instead of failing)."""
    try:
        return governance_policy().version
    except Exception as exc:  # noqa: BLE001 - recorded as the reason, the decision already failed closed
        return f"unreadable: {type(exc).__name__}"


def conclude(
    decision: Decision,
    *,
    event: dict[str, Any],
    event_time: Any,
    actor: str | None,
    action_result: str,
    context: Any,
    logger: Logger,
    metrics: Metrics,
) -> dict[str, Any]:
    """Audit record (exactly one per decision), notification for anything but an allow, one metric per outcome.

    Safe to repeat: the record is written once (a redelivery finds it), and an alert that a failed
    attempt did not send is sent by the retry (the ledger marks each alert after it went out).
    """
    config = settings()
    record = build_record(
        decision,
        event=event,
        actor=actor,
        action_result=action_result,
        policy_version=policy_version(),
        function=getattr(context, "function_name", None),
        request_id=getattr(context, "aws_request_id", None),
    )
    key = audit_key(decision, str(event.get("id")), event_time)
    written = write_record(config.audit_bucket, key, record)
    if decision.verdict is not Verdict.ALLOW and not _alerted(key, logger):
        publish(
            config.alerts_topic_arn,
            f"[{decision.rule_set.value}] {decision.verdict.value}: {decision.subject.rsplit('/', 1)[-1]}",
            {**record, "audit_record": f"s3://{config.audit_bucket}/{key}"},
        )
        ledger.mark(ALERTED, key)
    metrics.add_dimension(name="RuleSet", value=decision.rule_set.value)
    metrics.add_metric(name=decision.verdict.value.capitalize(), unit=MetricUnit.Count, value=1)
    logger.info(
        "governance decision",
        extra={
            "rule_set": decision.rule_set.value,
            "subject": decision.subject,
            "decision": decision.verdict.value,
            "violations": [v.rule for v in decision.violations],
            "action": decision.action.value,
            "action_result": action_result,
            "audit_record": key,
            "first_record": written,
        },
    )
    return {
        "decision": decision.verdict.value,
        "subject": decision.subject,
        "action": decision.action.value,
        "action_result": action_result,
        "audit_record": key,
        "explanation": decision.explanation(),
    }
