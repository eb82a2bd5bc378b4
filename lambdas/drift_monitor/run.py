"""What starts a drift run: one EventBridge Scheduler schedule per drift-job endpoint (the monitoring stack creates
them, ``infra/constructs/drift_schedule.py``) invokes the function with an EventBridge-shaped event naming the
endpoint; Scheduler fills in the scheduled time and its execution id::

    {"version": "0", "id": "<execution id>", "detail-type": "Scheduled Event", "source": "aws.scheduler",
     "account": "123456789012", "time": "2026-11-20T10:00:00Z", "region": "eu-west-1",
     "resources": ["arn:aws:scheduler:eu-west-1:123456789012:schedule/acme-drift-monitor/credit-risk-scoring"],
     "detail": {"project": "credit-risk", "endpoint": "credit-risk-scoring"}}

A person may invoke the function with the same shape (any ``source`` and ``id``) to run a window again. The run
is identified by the endpoint and the scheduled time, not by the delivery: Scheduler gives every attempt its own
execution id, and a retry or a second delivery of the same run must not make a second decision.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from lambdas.shared.events import MalformedEvent
from policies.naming import Names
from policies.rules.drift import DriftTarget, drift_target
from policies.terms import ENDPOINT_NAME

if TYPE_CHECKING:
    from policies.model import GovernancePolicy

DETAIL_TYPE = "Scheduled Event"
SOURCE = "aws.scheduler"
# Context attributes EventBridge Scheduler replaces in a target's input (EventBridge Scheduler user guide,
# "Adding context attributes").
SCHEDULED_TIME = "<aws.scheduler.scheduled-time>"
EXECUTION_ID = "<aws.scheduler.execution-id>"
ATTEMPT = "<aws.scheduler.attempt-number>"


def scheduler_input(names: Names, project: str, endpoint: str) -> dict[str, Any]:
    """The input of the endpoint's schedule (a constant but for the context attributes Scheduler fills in)."""
    return {
        "version": "0",
        "id": EXECUTION_ID,
        "detail-type": DETAIL_TYPE,
        "source": SOURCE,
        "account": names.account,
        "time": SCHEDULED_TIME,
        "region": names.region,
        "resources": [names.drift_schedule_arn(endpoint)],
        "detail": {"project": project, "endpoint": endpoint, "attempt": ATTEMPT},
    }


@dataclass(frozen=True)
class DriftRun:
    target: DriftTarget
    time: datetime
    """The scheduled time: the window is the ``window_hours`` before it."""
    delivery: dict[str, Any]
    """The event as delivered (id, source, detail-type, account, region)."""

    @property
    def endpoint(self) -> str:
        return self.target.endpoint.name

    @property
    def project(self) -> str:
        return self.target.project.name

    @property
    def label(self) -> str:
        """The run's time as it appears in keys: 20261120T100000Z."""
        return self.time.strftime("%Y%m%dT%H%M%SZ")

    @property
    def id(self) -> str:
        return f"drift-{self.endpoint}-{self.label}"

    @property
    def event(self) -> dict[str, Any]:
        """The event the run is recorded under: the delivery with the run's id (idempotency and audit key)."""
        return {
            **self.delivery,
            "id": self.id,
            "time": self.time.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "detail": {"project": self.project, "endpoint": self.endpoint},
        }


def _time(raw: Any) -> datetime:
    if not isinstance(raw, str) or not raw:
        raise MalformedEvent("the run names no scheduled time ('time')")
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise MalformedEvent(f"the run's time {raw!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise MalformedEvent(f"the run's time {raw!r} has no time zone")
    return moment.astimezone(UTC).replace(microsecond=0)


def parse_run(event: Any, policy: GovernancePolicy) -> DriftRun:
    """The run an event asks for; MalformedEvent when it names no drift-job endpoint of the policy or no time."""
    if not isinstance(event, dict):
        raise MalformedEvent("a drift run is a JSON object")
    detail = event.get("detail")
    if not isinstance(detail, dict):
        raise MalformedEvent("the run has no detail object")
    endpoint = detail.get("endpoint")
    if not isinstance(endpoint, str) or not re.fullmatch(ENDPOINT_NAME, endpoint):
        raise MalformedEvent("the run names no endpoint (detail.endpoint)")
    target = drift_target(policy, endpoint)
    if target is None:
        raise MalformedEvent(f"endpoint {endpoint} is not watched by the drift job (no drift-job endpoint of that name)")
    project = detail.get("project")
    if project is not None and project != target.project.name:
        raise MalformedEvent(f"endpoint {endpoint} belongs to project {target.project.name}, not {project}")
    delivery = {key: event.get(key) for key in ("source", "detail-type", "account", "region")}
    return DriftRun(target=target, time=_time(event.get("time")), delivery=delivery)
