"""Drift monitor: on each drift-job endpoint's schedule, compare its captured traffic with the version's baseline.

parse the run (lambdas/drift_monitor/run.py) -> gather (gather.py: the served versions, their baselines checked
against the registered SHA-256, the window's capture; the report written to the lineage bucket), remembered for the
run -> decide (policies.rules.drift) -> act (send drifting versions back to PendingManualApproval when the policy
says quarantine) -> one record and, for anything but no drift, one alert (conclude) -> CloudWatch metrics per
endpoint, variant and feature (embedded metric format).

A run is identified by its endpoint and scheduled time: a retry or a second delivery decides on the facts the first
attempt gathered and reaches the same record. A malformed run is recorded as undecidable and raised (retried, then
dead-lettered with an alarm); an AWS error is raised the same way.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

from lambdas.actions import QuarantineDriftingVersion
from lambdas.drift_monitor.gather import Run, write_report
from lambdas.drift_monitor.run import DriftRun, parse_run
from lambdas.shared import aws, ledger
from lambdas.shared.api_call_handler import record_malformed
from lambdas.shared.events import MalformedEvent
from lambdas.shared.idempotency import once_per_event
from lambdas.shared.policy import governance_policy
from lambdas.shared.runtime import METRICS_NAMESPACE, conclude
from lambdas.shared.settings import TRACED_MODULES, settings
from lambdas.table import handler_spec
from policies.naming import DRIFT_MONITOR, Names
from policies.rules.drift import DriftRunFacts, decide_drift
from policies.rules.outcome import Action, Decision, RuleSet, Verdict
from policies.rules.resources import ResourceFacts, ResourceKind
from policies.terms import DriftOnBreach, Mode

SPEC = handler_spec(DRIFT_MONITOR)
logger = Logger(service=SPEC.name)
tracer = Tracer(service=SPEC.name, patch_modules=TRACED_MODULES)
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SPEC.name)
FACTS = "drift-facts"


def gather(run: DriftRun, account: str, region: str) -> DriftRunFacts:
    """The run's facts, gathered (and its report written) by the first attempt; every retry reuses them."""

    def first_look() -> dict[str, Any]:
        names = Names(governance_policy(), account=account)
        lineage = settings().lineage_bucket
        found, doc = Run(names, run.project, run.target.endpoint, run.time, lineage, region).facts()
        uri = write_report(lineage, names.lineage_drift_report(run.project, run.endpoint, run.label), doc)
        return replace(found, report_uri=uri).to_dict()

    return DriftRunFacts.from_dict(ledger.remembered(FACTS, run.id, first_look))


def act(decision: Decision, region: str) -> str:
    """Send each drifting version back, unless it already left Approved; say why nothing was done otherwise."""
    if decision.action is Action.NONE:
        return "none: no drift"
    if decision.action is Action.REPORT_ONLY:
        if decision.verdict is not Verdict.DENY:
            return "none: a run that cannot judge the traffic changes nothing; recorded and notified"
        if decision.mode is Mode.REPORT:
            return "none: report mode, recorded and notified only"
        return f"none: on_breach is {DriftOnBreach.NOTIFY.value}, recorded and notified only"
    results = []
    sagemaker = aws.client("sagemaker", region)
    for arn in str(decision.remediation.get("model_packages", "")).split(","):
        if not arn:
            continue
        status = str(sagemaker.describe_model_package(ModelPackageName=arn).get("ModelApprovalStatus"))
        if status == "Approved":
            target = ResourceFacts(kind=ResourceKind.MODEL_PACKAGE, name=arn, arn=arn, region=arn.split(":")[3])
            results.append(f"{arn}: {QuarantineDriftingVersion.perform(decision, target)}")
        else:
            results.append(f"{arn}: none, already {status}")
    return "; ".join(results)


def _metrics(**dimensions: str) -> EphemeralMetrics:
    """Metrics with one dimension set: the handler's service and ``dimensions``."""
    found = EphemeralMetrics(namespace=METRICS_NAMESPACE, service=SPEC.name)
    for name, value in dimensions.items():
        found.add_dimension(name=name, value=value)
    return found


def publish_metrics(facts: DriftRunFacts) -> None:
    """Per endpoint and variant: rows in the window and drifting features; per feature: PSI, the test's p-value and
    the share of missing values."""
    for variant in facts.variants:
        if variant.status == "undecidable":
            continue
        summary = _metrics(Endpoint=facts.endpoint, Variant=variant.variant)
        summary.add_metric(name="WindowRows", unit=MetricUnit.Count, value=variant.rows)
        summary.add_metric(name="DriftedFeatures", unit=MetricUnit.Count, value=len(variant.breached))
        summary.flush_metrics()
        for feature in variant.features:
            values = {c.statistic: c for c in feature.checks}
            per_feature = _metrics(Endpoint=facts.endpoint, Variant=variant.variant, Feature=feature.name)
            psi = values.get("psi")
            test = values.get("ks") or values.get("chi2")
            if psi is not None and psi.value is not None:
                per_feature.add_metric(name="PSI", unit=MetricUnit.NoUnit, value=psi.value)
            if test is not None and test.p_value is not None:
                per_feature.add_metric(name="PValue", unit=MetricUnit.NoUnit, value=test.p_value)
            missing = values.get("missing")
            if missing is not None and missing.value is not None:
                per_feature.add_metric(name="MissingShare", unit=MetricUnit.NoUnit, value=missing.value)
            per_feature.flush_metrics(raise_on_empty_metrics=False)


def monitor(event: dict[str, Any], context: Any) -> dict[str, Any]:
    policy = governance_policy()
    run = parse_run(event, policy)
    region = str(event.get("region") or policy.regions.home)
    account = str(event.get("account") or getattr(context, "invoked_function_arn", "::::").split(":")[4])
    facts = gather(run, account, region)
    decision = decide_drift(policy, facts)
    outcome = conclude(
        decision,
        event=event,
        event_time=run.time,
        actor=None,
        action_result=ledger.acted_once(f"{SPEC.name}:{run.id}", decision, lambda: act(decision, region)),
        context=context,
        logger=logger,
        metrics=metrics,
    )
    publish_metrics(facts)
    return outcome | {"report": facts.report_uri}


@logger.inject_lambda_context(correlation_id_path=correlation_paths.EVENT_BRIDGE, clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        run = parse_run(event, governance_policy())
    except MalformedEvent as exc:
        logger.error("rejected a malformed drift run", extra={"reason": str(exc)})
        record_malformed(event, str(exc), rule_set=RuleSet.DATA_DRIFT, context=context, logger=logger, metrics=metrics)
        raise
    logger.info("drift run", extra={"endpoint": run.endpoint, "run": run.id, "delivery": event.get("id")})
    return once_per_event(monitor, run.event, context)
