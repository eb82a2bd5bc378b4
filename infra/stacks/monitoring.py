"""Monitoring of every endpoint a project declares, by its engine.

- ``drift-job`` (the default): an EventBridge Scheduler schedule per endpoint runs the drift monitor (a governed
  function of the enforcement stack) on the endpoint's schedule; no Model Monitor resource (docs/drift.md).
- ``model-monitor``: a SageMaker Model Monitor data-quality job definition and schedule, with alarms on violations
  and failed runs (for accounts that still have Model Monitor).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from constructs import Construct

from infra.constructs.drift_schedule import DriftScheduler
from infra.sagemaker_images import model_monitor_image
from infra.stacks.base import BackendSettings, GovernanceStack
from policies.errors import PolicyError, PolicyIssue
from policies.rules.drift import drift_targets
from policies.terms import MonitoringEngine

if TYPE_CHECKING:
    from infra.constructs.monitored_endpoint import MonitoredEndpointConstruct
    from policies.model import GovernancePolicy


class MonitoringStack(GovernanceStack):
    def __init__(self, scope: Construct, stack_name: str, *, policy: GovernancePolicy, backend: BackendSettings) -> None:
        super().__init__(scope, stack_name, policy=policy, backend=backend)
        names = self.names
        model_monitor = [
            (project, endpoint)
            for project in policy.projects
            for endpoint in project.endpoints
            if endpoint.engine is MonitoringEngine.MODEL_MONITOR
        ]
        drift_job = drift_targets(policy)
        image = model_monitor_image(policy.regions.home) if model_monitor else None
        if model_monitor and image is None:
            listed = ", ".join(endpoint.name for _, endpoint in model_monitor)
            raise PolicyError(
                [
                    PolicyIssue(
                        ("regions", "home"),
                        f"SageMaker Model Monitor has no analyzer image in {policy.regions.home}; monitor endpoints from a "
                        f"Region that has one, or give {listed} the drift-job engine",
                    )
                ]
            )
        keys = self.key_arns() if model_monitor or drift_job else {}
        self.endpoints: list[MonitoredEndpointConstruct] = []
        if model_monitor:  # bindings (Model Monitor's nested blocks run four deep), imported only when an endpoint uses it
            from infra.constructs.monitored_endpoint import MonitoredEndpointConstruct

            self.provider_binding()
            self.endpoints = [
                MonitoredEndpointConstruct(
                    self,
                    f"endpoint-{endpoint.name}",
                    names=names,
                    project=project,
                    endpoint=endpoint,
                    image_uri=image or "",
                    data_key_arn=keys.get("data", ""),
                    alerts_topic_arn=names.alerts_topic_arn,
                    tags=policy.project_tags(project),
                )
                for project, endpoint in model_monitor
            ]
        if drift_job:
            with self.plain_resources() as plain:  # no binding object each (infra/plain_resources.py)
                scheduler = DriftScheduler(plain, "drift-scheduler", names=names, ops_key_arn=keys["ops"])
                for target in drift_job:
                    scheduler.schedule(plain, target.project, target.endpoint)
